// --tp, --cp, --cp-strategy, --cp-state-strategy and --nodes: the multi-device layout of a query.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "cli/cli11_fwd.hpp"

#include "sim/parallel.hpp"

namespace cli {

struct ParallelOptions {
  std::optional<std::int64_t> tp, cp, nodes;
  std::optional<std::string> strategy;
  std::optional<std::string> state_strategy;  // --cp-state-strategy
};

// Most devices one layout may name: 2^16, far beyond the largest training clusters per model
// replica group (tens of thousands of GPUs).
inline constexpr std::int64_t kMaxParallelDegree = std::int64_t{1} << 16;

void add_parallel_options(CLI::App& command, ParallelOptions& options);

// sweep's layout axes: --tp, --cp and --cp-strategy as lists (parsed with the other axes),
// --cp-state-strategy and --nodes one value each.
struct LayoutAxisOptions {
  std::string tp, cp, cp_strategy, cp_state_strategy;
  std::int64_t nodes = 0;
  bool any() const {
    return !tp.empty() || !cp.empty() || !cp_strategy.empty() || !cp_state_strategy.empty() ||
           nodes > 0;
  }
};
void add_layout_axis_options(CLI::App& command, LayoutAxisOptions& options);

// The layout, or nothing when none of the flags was given (the single-device query, printed as
// before). Throws common::SpecError for an unknown strategy.
std::optional<sim::ParallelLayout> parallel_layout(const ParallelOptions& options);

// --cp-state-strategy's value: lasp2 or zeco; anything else throws common::SpecError naming them.
sim::CpStrategy parse_state_strategy(const std::string& name);

}  // namespace cli
