// pto_dsl_fa (sim/schedule_pto.cpp): the hand-written PTO-DSL flash attention of
// huawei-csl/pto-dsl PR #126 on Ascend: its grid, the bytes a single-buffered step moves through
// its core's GM path (a wait), and what it refuses.
#include <catch2/catch.hpp>

#include <string>

#include "common/errors.hpp"
#include "sim/engine.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::catalog;
using test_support::cost;
using test_support::make;
using test_support::one_head_fp16_fwd;
using test_support::workload;

namespace {

// The PR's shape: one head, d 128, 3072 query rows, fp16.
models::Workload pr_shape(std::int64_t keys, bool causal = false) {
  return one_head_fp16_fwd(3072, keys, causal);
}

sim::Launches lower_pto_forward(const models::Workload& w) {
  return test_support::lower_dense_forward("pto_dsl_fa",
                                           cost(make("mha", {{"heads", 1}, {"head_dim", 128}}), w),
                                           w, catalog().resolve("ascend-910b2"));
}

}  // namespace

TEST_CASE("pto_dsl_fa splits 32-row blocks over the core groups and walks 256-key tiles in turn",
          "[sim][ascend]") {
  const sim::Launches l = lower_pto_forward(pr_shape(8192));
  REQUIRE(l.size() == 1);
  // 3072 / 32 = 96 blocks over 24 core groups: 4 blocks each, 8192 / 256 = 32 tiles per block.
  CHECK(l[0].jobs.count == 24);
  CHECK(l[0].jobs.min_tiles == 4 * 32);
  CHECK(l[0].jobs.max_tiles == 4 * 32);
  CHECK(l[0].per_tile.tensor_flops == 2.0 * 32 * 256 * (128 + 128));
  // A step moves 256 KiB through its group's GM path: K^T and V (64 KiB each) and P (16 KiB) into
  // the cube, S (32 KiB) and P V (16 KiB) in fp32 out of it, the same 48 KiB into the vector
  // cores and P (16 KiB) out. At one core's share of HBM bandwidth (1600 GB/s x 0.9 x 0.05 =
  // 72 GB/s at 1.8 GHz: 40 B per cycle) that is 6553.6 cycles the step waits.
  CHECK(l[0].per_tile.latency_cycles == Approx(262144.0 / 40));
  CHECK(l[0].overhead_is_wait);
}

TEST_CASE("pto_dsl_fa's time grows with the key tiles, linear in S_kv as measured",
          "[sim][ascend]") {
  const hw::Profile& p = catalog().resolve("ascend-910b2");
  const models::AttentionSpec spec = make("mha", {{"heads", 1}, {"head_dim", 128}});
  auto time = [&](std::int64_t keys) {
    const models::Workload w = pr_shape(keys);
    return sim::predict_tile(cost(spec, w), w, p, "pto_dsl_fa").time_s;
  };
  // 128 more steps per core each time S_kv grows by 8192: equal increments.
  const double t8 = time(8192), t16 = time(16384), t32 = time(32768);
  CHECK(t32 - t16 == Approx(2 * (t16 - t8)).epsilon(1e-6));
}

TEST_CASE("pto_dsl_fa refuses causal and decode work, naming the kernel", "[sim][ascend]") {
  const hw::Profile& p = catalog().resolve("ascend-910b2");
  const models::AttentionSpec spec = make("mha", {{"heads", 1}, {"head_dim", 128}});
  for (const models::Workload& w :
       {pr_shape(8192, true), workload(models::Phase::decode, 1, 1, 8192)}) {
    CHECK_THROWS_WITH(sim::predict_tile(cost(spec, w), w, p, "pto_dsl_fa"),
                      Catch::Contains("pto_dsl_fa") && Catch::Contains("non-causal"));
  }
}
