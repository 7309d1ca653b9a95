#include "cli/parallel_flags.hpp"

#include "cli/flags.hpp"

namespace cli {

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
  command.add_option("--nodes", o.nodes, "nodes the tp x cp devices span (default 1)")
      ->transform(decimal_integer(1, kMaxParallelDegree));
}

std::optional<sim::ParallelLayout> parallel_layout(const ParallelOptions& o) {
  if (!o.tp && !o.cp && !o.nodes && !o.strategy) return std::nullopt;
  sim::ParallelLayout layout;
  layout.tp = static_cast<int>(o.tp.value_or(1));
  layout.cp = static_cast<int>(o.cp.value_or(1));
  layout.nodes = static_cast<int>(o.nodes.value_or(1));
  if (o.strategy) layout.strategy = sim::parse_cp_strategy(*o.strategy);
  return layout;
}

}  // namespace cli
