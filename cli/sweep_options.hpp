// attnsim sweep's flags, and the axes of the sweep they describe (profiles, variants or models,
// engines, phases, types, sizes, layouts), resolved and checked before any point runs.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cli/context.hpp"
#include "cli/parallel_flags.hpp"
#include "cli/sweep_points.hpp"

namespace cli {

struct SweepOptions {
  std::string variant = "mha", heads, kv_heads, head_dim;
  std::vector<std::string> params;
  std::string phase = "prefill", hw = "h100", dtype = "bf16", engine = "tile";
  std::string batch = "1", seq_len = "4096", q_len, kv_len;
  std::string kv_dtype, kernel = "auto", format = "csv", output, shard, progress = "auto";
  std::string caller = "direct";
  std::string plot, plot_x, plot_y = "time";  // --plot FILE.svg, --plot-x AXIS, --plot-y MEASURE
  std::int64_t layers = 1;
  bool causal = true;
  bool include_projections = false;
  unsigned threads = 0;
  std::string model, spec;              // --model LIST, --spec FILE
  std::vector<std::string> hf_configs;  // --hf-config FILE (repeatable)
  std::string variant_flag;             // the first variant-shape flag given, for the error
  LayoutAxisOptions layout;             // --tp, --cp, --cp-strategy, ... (cli/parallel_flags.hpp)
};

// Flags that describe one variant's shape: a model sweep takes them from the model instead.
inline constexpr const char* kVariantShapeFlags[] = {"--variant",  "--heads", "--kv-heads",
                                                     "--head-dim", "--param", "--layers"};

// The axes the flags name. Throws common::SpecError for bad input: an unknown name, a size below
// 1 or above the model's limits, a head flag or --param no variant has, every head combination
// rejected (some rejected: a warning on stderr), a profile id a sweep cannot print.
SweepAxes make_axes(const Context& ctx, const SweepOptions& o);

}  // namespace cli
