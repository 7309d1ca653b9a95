#include "cli/parallel_flags.hpp"

#include <fmt/format.h>

#include "cli/flags.hpp"
#include "common/errors.hpp"

namespace cli {

namespace {

constexpr const char* kStateStrategyHelp =
    "lasp2 | zeco: the strategy for layers that keep a recurrent state (a hybrid model's linear "
    "layers), --cp-strategy for the others";

}  // namespace

void add_parallel_options(CLI::App& command, ParallelOptions& o) {
  command.add_option("--tp", o.tp, "tensor-parallel devices: heads split over them (default 1)")
      ->transform(decimal_integer(1, kMaxParallelDegree));
  command
      .add_option("--cp", o.cp,
                  "context-parallel devices: the sequence (decode: the KV cache) split over "
                  "them; with --cp-strategy cad, the pool of attention servers")
      ->transform(decimal_integer(1, kMaxParallelDegree));
  command.add_option("--cp-strategy", o.strategy,
                     "ring | zigzag | ulysses | allgather | lasp2 | zeco | cad (default ring)");
  command.add_option("--cp-state-strategy", o.state_strategy, kStateStrategyHelp);
  command.add_option("--nodes", o.nodes, "nodes the tp x cp devices span (default 1)")
      ->transform(decimal_integer(1, kMaxParallelDegree));
}

void add_layout_axis_options(CLI::App& command, LayoutAxisOptions& o) {
  command.add_option("--tp", o.tp, "tensor-parallel devices (list or range, e.g. 1,2,4,8)");
  command.add_option("--cp", o.cp, "context-parallel devices (list or range)");
  command.add_option("--cp-strategy", o.cp_strategy,
                     "strategies, comma-separated: ring, zigzag, ulysses, allgather, lasp2, zeco, "
                     "cad (default ring)");
  command.add_option("--cp-state-strategy", o.cp_state_strategy, kStateStrategyHelp);
  command.add_option("--nodes", o.nodes, "nodes the devices span (default 1)")
      ->transform(decimal_integer(1, kMaxParallelDegree));
}

std::optional<sim::ParallelLayout> parallel_layout(const ParallelOptions& o) {
  if (!o.tp && !o.cp && !o.nodes && !o.strategy && !o.state_strategy) return std::nullopt;
  sim::ParallelLayout layout;
  layout.tp = static_cast<int>(o.tp.value_or(1));
  layout.cp = static_cast<int>(o.cp.value_or(1));
  layout.nodes = static_cast<int>(o.nodes.value_or(1));
  if (o.strategy) layout.strategy = sim::parse_cp_strategy(*o.strategy);
  layout.strategy_given = o.strategy.has_value();
  if (o.state_strategy) layout.state_strategy = parse_state_strategy(*o.state_strategy);
  return layout;
}

sim::CpStrategy parse_state_strategy(const std::string& name) {
  for (const sim::CpStrategy s : {sim::CpStrategy::lasp2, sim::CpStrategy::zeco}) {
    if (sim::to_string(s) == name) return s;
  }
  // Its own flag and values: parse_cp_strategy's error would name --cp-strategy and its seven.
  std::string why = "an unknown strategy";
  try {
    (void)sim::parse_cp_strategy(name);
    why = "not a strategy for a recurrent state (--cp-strategy takes it)";
  } catch (const common::SpecError&) {
  }
  throw common::SpecError(
      fmt::format("--cp-state-strategy '{}': {}; allowed: lasp2, zeco", name, why));
}

}  // namespace cli
