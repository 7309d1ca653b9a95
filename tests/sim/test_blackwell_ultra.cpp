// Blackwell Ultra (GB300, B300; sm_103): twice Blackwell's MUFU exp rate at the same tcgen05
// tensor cores, and FA4 computing every exp on MUFU there (no polynomial share).
#include <catch2/catch.hpp>

#include <string>

#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::catalog;
using test_support::mha_query;
using test_support::Query;

namespace {

sim::LaunchPrediction first_launch_on(const Query& q, const std::string& hw,
                                      const std::string& schedule) {
  const sim::Prediction p = sim::predict_tile(q.cost(), q.w, catalog().resolve(hw), schedule);
  REQUIRE(!p.launches.empty());
  return p.launches[0];
}

}  // namespace

TEST_CASE("blackwell ultra profiles have twice blackwell's exps per clock at the same tensor peak",
          "[sim][blackwell-ultra]") {
  const hw::Profile& gb200 = catalog().resolve("gb200");
  const hw::Profile& gb300 = catalog().resolve("gb300");
  const hw::Profile& b200 = catalog().resolve("b200");
  const hw::Profile& b300 = catalog().resolve("b300");
  CHECK(gb300.compute.exp_ops_per_clk_per_sm == 2 * gb200.compute.exp_ops_per_clk_per_sm);
  CHECK(b300.compute.exp_ops_per_clk_per_sm == 2 * b200.compute.exp_ops_per_clk_per_sm);
  // Datasheet dense BF16: 2.5 PF (GB300, as GB200) and 2.25 PF (B300, as B200).
  CHECK(gb300.tensor_peak_flops(hw::Precision::bf16) == Approx(2500e12));
  CHECK(b300.tensor_peak_flops(hw::Precision::bf16) == Approx(2250e12));
  CHECK(gb300.arch == "sm_103a");
  CHECK(b300.arch == "sm_103a");
}

TEST_CASE("fa4 computes every exp on MUFU on sm_103 and one in eight by polynomial on sm_100",
          "[sim][blackwell-ultra]") {
  const Query q = mha_query(models::Phase::fwd, 4, 8192, 32, 64);
  // 4 x 32 heads x 8192 x 8192 scores, each one exp.
  const double scores = 4.0 * 32 * 8192 * 8192;
  CHECK(first_launch_on(q, "gb300", "fa4").flops.exp == Approx(scores));
  CHECK(first_launch_on(q, "b300", "fa4").flops.exp == Approx(scores));
  // sm_100, d <= 128 without 2-CTA tiles: 1/8 of the exps by the polynomial (on the FP32 pipes).
  CHECK(first_launch_on(q, "gb200", "fa4").flops.exp == Approx(scores * 7 / 8));
  // cuDNN is priced with FA4's tiling on these devices, so it follows the same rule.
  CHECK(first_launch_on(q, "gb300", "cudnn").flops.exp == Approx(scores));
}

TEST_CASE("blackwell ultra's doubled exp rate speeds fa4 up more at hd 64 than at hd 128",
          "[sim][blackwell-ultra]") {
  const hw::Profile& gb200 = catalog().resolve("gb200");
  const hw::Profile& gb300 = catalog().resolve("gb300");
  // Twice the exps per SM-clock, at the same 152 SMs and tensor clock.
  CHECK(gb300.exp_peak_ops_per_s() / gb200.exp_peak_ops_per_s() == Approx(2.0));
  // GB300 as it would be with Blackwell's MUFU (and FA4's polynomial share back): everything else,
  // its calibration included, the same, so the difference is the exp rate alone.
  hw::Profile blackwell_exps = gb300;
  blackwell_exps.compute.exp_ops_per_clk_per_sm = 16;
  blackwell_exps.arch = "sm_100a";
  auto speedup = [&](std::int64_t d) {
    const Query q = mha_query(models::Phase::fwd, 4, 8192, 32, d);
    const double slow = sim::predict_tile(q.cost(), q.w, blackwell_exps, "fa4").time_s;
    const double fast = sim::predict_tile(q.cost(), q.w, gb300, "fa4").time_s;
    return slow / fast;
  };
  const double hd64 = speedup(64), hd128 = speedup(128);
  INFO("time with 16 exps a clock over 32: hd 64 " << hd64 << ", hd 128 " << hd128);
  // Not the whole exp time: GB300's fa4 entry has a dependency chain (calibration chain_cycles)
  // that the faster softmax only shortens by the exp time it saves, over two tiles in flight.
  CHECK(hd64 > 1.15);
  CHECK(hd128 > 1.0);
  CHECK(hd64 > hd128);
}
