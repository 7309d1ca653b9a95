#include <catch2/catch.hpp>

#include "models/projections.hpp"
#include "models/registry.hpp"

namespace {
models::AttentionSpec llama8b(bool include) {
  static const models::Registry registry;
  return registry.find("gqa").make_spec({{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}},
                                        {include, 4096});
}
}  // namespace

TEST_CASE("Llama-3.1-8B attention projections hold 41.9M parameters per layer", "[projections]") {
  // q 4096x4096 + k 4096x1024 + v 4096x1024 + o 4096x4096.
  CHECK(models::projection_parameters(llama8b(true).heads, {true, 4096}) == 41943040);
}

TEST_CASE("forward projections cost 2 FLOPs per parameter per token", "[projections]") {
  models::Workload w;
  w.batch = 2;
  w.q_len = 1000;
  w.kv_len = 1000;
  const auto s = llama8b(true);
  const auto with = s.variant->cost(s, w);
  const auto without = llama8b(false).variant->cost(llama8b(false), w);
  CHECK(with.total_flops().tensor - without.total_flops().tensor == 2.0 * 2000 * 41943040);
  CHECK(with.total_bytes().weights == 2.0 * 41943040);  // bf16 weights read once
  CHECK(with.parameters_per_layer == 41943040);
  CHECK(without.parameters_per_layer == 0);
  CHECK(without.ops.size() == 1);
  CHECK(with.ops.size() == 3);
}

TEST_CASE("projection backward costs twice the forward FLOPs", "[projections]") {
  models::Workload w;
  w.q_len = 512;
  w.kv_len = 512;
  const auto s = llama8b(true);
  w.phase = models::Phase::fwd;
  const auto fwd = s.variant->cost(s, w);
  w.phase = models::Phase::train;
  const auto train = s.variant->cost(s, w);
  double fwd_proj = 0, bwd_proj = 0;
  for (const auto& op : train.ops) {
    if (op.kind != models::OpKind::gemm) continue;
    (op.pass == models::Pass::forward ? fwd_proj : bwd_proj) += op.flops.tensor;
  }
  CHECK(bwd_proj == 2 * fwd_proj);
  CHECK(fwd_proj == 2.0 * 512 * 41943040);
  CHECK(train.ops.size() == 6);
  CHECK(fwd.ops.size() == 3);
}

TEST_CASE("hidden size defaults to heads x head_dim", "[projections]") {
  CHECK(models::hidden_size({32, 8, 128, 128}, {true, 0}) == 4096);
  CHECK(models::hidden_size({32, 8, 128, 128}, {true, 5120}) == 5120);
}
