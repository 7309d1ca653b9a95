// How the tile engine combines a tile's exp (MUFU) and FP32 softmax work: in turn for kernels that
// issue both from the same warps (FA2, FA3), side by side for FA4-class kernels that give them to
// different pipes and balance the two (Launch::exp_alu_concurrent).
#include <catch2/catch.hpp>

#include <algorithm>

#include "hwprofiles/catalog.hpp"
#include "models/workload.hpp"
#include "sim/engine.hpp"
#include "sim/price.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

namespace {

// One full wave of 100-tile CTAs doing only `work` per tile, no overlap with anything else and no
// fixed cycles: the launch's time above its launch cost.
double work_seconds(const hw::Profile& p, const sim::TileWork& work, bool concurrent = false) {
  static const hw::ScheduleCalibration cal{1.0, 0.0, 0.0, 0.0, std::nullopt};
  sim::Launch l = test_support::full_wave_launch(p, cal, "fa4");
  l.per_tile = work;
  l.exp_alu_concurrent = concurrent;
  models::Workload w;
  const sim::LaunchPrediction r = sim::price_launch(l, p, w, 1);
  return r.time_s - r.fixed_s;
}

}  // namespace

TEST_CASE("exps and FP32 softmax work add up unless the kernel runs them on concurrent pipes",
          "[sim][tile]") {
  const hw::Profile& b200 = test_support::catalog().resolve("b200");
  for (bool concurrent : {false, true}) {
    INFO("concurrent " << concurrent);
    const double exp_only = work_seconds(b200, {.exp_ops = 4096}, concurrent);
    const double alu_only = work_seconds(b200, {.alu_ops = 8192}, concurrent);
    REQUIRE(exp_only > 0);
    REQUIRE(alu_only > 0);
    const double both = work_seconds(b200, {.exp_ops = 4096, .alu_ops = 8192}, concurrent);
    const double expected = concurrent ? std::max(exp_only, alu_only) : exp_only + alu_only;
    CHECK(both == Approx(expected).epsilon(1e-9));
  }
}

TEST_CASE("fa4 prices its exps and softmax work on concurrent pipes, fa3 in turn", "[sim][tile]") {
  // hd 64 non-causal on B200: the exps bind FA4 (flash-attention PR #2605 measured 878 TFLOPS
  // there, above what the MUFU pipe plus the FP32 softmax in turn allow at these rates).
  const hw::Profile& b200 = test_support::catalog().resolve("b200");
  test_support::Query q{test_support::make("mha", {{"heads", 32}, {"head_dim", 64}}),
                        test_support::workload(models::Phase::fwd, 2, 16384, 16384, false)};
  q.w.dtype = q.w.kv_dtype = models::DType::bf16;
  const sim::LaunchPrediction fa4 = sim::predict_tile(q.cost(), q.w, b200, "fa4").launches[0];
  REQUIRE(fa4.exp_s > 0);
  REQUIRE(fa4.vector_s > 0);
  // The launch takes less than its exp and softmax-ALU times in turn would.
  CHECK(fa4.time_s < fa4.exp_s + fa4.vector_s);
  CHECK(fa4.time_s >= std::max(fa4.exp_s, fa4.vector_s));
  // FA3's tiling in turn on H100 (same shape): at least the sum.
  const hw::Profile& h100 = test_support::catalog().resolve("h100");
  const sim::LaunchPrediction fa3 = sim::predict_tile(q.cost(), q.w, h100, "fa3").launches[0];
  CHECK(fa3.time_s >= fa3.exp_s + fa3.vector_s);
}

TEST_CASE("only FA4-class launches declare concurrent exp and FP32 pipes", "[sim][tile]") {
  // cuDNN takes FA4's tiling (and the rule) where the device has tcgen05, FA3's elsewhere.
  const struct {
    const char* hw;
    const char* kernel;
    bool concurrent;
  } cases[] = {{"b200", "fa4", true},    {"b200", "cudnn", true}, {"gb200", "cudnn", true},
               {"h100", "cudnn", false}, {"h100", "fa3", false},  {"h100", "fa2", false},
               {"b200", "fa2", false},   {"a100", "fa2", false}};
  test_support::Query q{test_support::make("mha", {{"heads", 16}, {"head_dim", 128}}),
                        test_support::workload(models::Phase::fwd, 4, 4096, 4096, false)};
  q.w.dtype = q.w.kv_dtype = models::DType::bf16;
  const models::CostModel c = q.cost();
  for (const auto& k : cases) {
    INFO(k.hw << " " << k.kernel);
    const hw::Profile& p = test_support::catalog().resolve(k.hw);
    const sim::ScheduleInfo& info = sim::find_schedule(k.kernel);
    bool lowered = false;
    for (const models::Op& op : c.ops) {
      if (op.kind != models::OpKind::dense_attention) continue;
      sim::Launches out;
      info.forward({op, q.w, p, sim::forward_calibration(p, info), info.name}, out);
      REQUIRE_FALSE(out.empty());
      CHECK(out[0].exp_alu_concurrent == k.concurrent);
      lowered = true;
    }
    CHECK(lowered);
  }
}

TEST_CASE("the bound names the softmax pipes when their combined time outlasts the tensor time",
          "[sim][tile]") {
  // FA3 at hd 64 on H100: exp + FP32 in turn (6.8 ms of the grid) outlast the MMAs (5 ms), though
  // each alone does not.
  test_support::Query q{test_support::make("mha", {{"heads", 32}, {"head_dim", 64}}),
                        test_support::workload(models::Phase::fwd, 4, 8192, 8192, false)};
  q.w.dtype = q.w.kv_dtype = models::DType::bf16;
  const hw::Profile& h100 = test_support::catalog().resolve("h100");
  const sim::LaunchPrediction l = sim::predict_tile(q.cost(), q.w, h100, "fa3").launches[0];
  REQUIRE(l.exp_s < l.tensor_s);
  REQUIRE(l.vector_s < l.tensor_s);
  REQUIRE(l.exp_s + l.vector_s > l.tensor_s);
  CHECK(l.bound == (l.exp_s >= l.vector_s ? sim::Resource::exp : sim::Resource::vector));
}

TEST_CASE(
    "a CTA of fewer than four warps issues to that share of the SM: alone its tile takes its pipe "
    "time over the share, and co-resident CTAs fill the rest",
    "[sim][tile]") {
  const hw::Profile& h100 = test_support::catalog().resolve("h100");
  static const hw::ScheduleCalibration cal{1.0, 0.0, 0.0, 0.0, std::nullopt};
  // One SM's worth of CTAs of 100 ALU-only tiles each, `per_sm` stacked per SM.
  auto seconds = [&](double share, double per_sm) {
    sim::Launch l;
    l.name = "warps";
    l.schedule = "flash_nsa";
    l.calibration = &cal;
    l.cta = {0, 32, 0, per_sm};
    l.jobs.count = h100.compute.sm_count * per_sm;
    l.jobs.min_tiles = l.jobs.max_tiles = 100;
    l.jobs.total_tiles = l.jobs.count * 100;
    l.per_tile.alu_ops = 4096;
    l.issue_share = share;
    models::Workload w;
    const sim::LaunchPrediction r = sim::price_launch(l, h100, w, 1);
    return r.time_s - r.fixed_s;
  };
  const double full = seconds(1, 1);
  REQUIRE(full > 0);
  CHECK(seconds(0.25, 1) == Approx(4 * full).epsilon(1e-9));  // one warp alone: a quarter
  // Four one-warp CTAs together use the whole SM: four tiles in the time of four full ones.
  CHECK(seconds(0.25, 4) == Approx(4 * full).epsilon(1e-9));
  CHECK(seconds(1, 4) == Approx(4 * full).epsilon(1e-9));
  // Two: half the SM idle, each still at a quarter.
  CHECK(seconds(0.25, 2) == Approx(4 * full).epsilon(1e-9));
}

TEST_CASE(
    "issue slots are a floor under the FP32 work: four warp instructions a clock per SM, at the "
    "boost clock, whatever the FP32 pipe's width",
    "[sim][tile]") {
  auto seconds = [](const hw::Profile& p, double alu_ops, double issue_slots) {
    return work_seconds(p, {.alu_ops = alu_ops, .issue_slots = issue_slots});
  };
  for (const char* hw : {"a100-sxm4-80gb", "h100-sxm5-80gb"}) {
    INFO(hw);
    const hw::Profile& p = test_support::catalog().resolve(hw);
    const double fp32_only = seconds(p, 64000, 0);
    REQUIRE(fp32_only > 0);
    // Few instructions: the FP32 pipe binds and the slots change nothing.
    CHECK(seconds(p, 64000, 10) == Approx(fp32_only).epsilon(1e-12));
    // 4000 warp instructions a tile take 1000 clocks; with no FP32 work, the same on both.
    const double issue_only = seconds(p, 0, 4000);
    CHECK(issue_only > 0);
    CHECK(seconds(p, 1, 4000) == Approx(issue_only).epsilon(1e-12));
  }
  // 64000 FP32 lane instructions a tile: 500 clocks on Hopper's 128 lanes, 1000 on Ampere's 64;
  // 4000 warp instructions take 1000 clocks on both (to the FP32 peaks' rounding, 19.5 and 66.9
  // TFLOPS).
  const hw::Profile& a100 = test_support::catalog().resolve("a100-sxm4-80gb");
  const hw::Profile& h100 = test_support::catalog().resolve("h100-sxm5-80gb");
  CHECK(seconds(a100, 64000, 0) == Approx(seconds(a100, 0, 4000)).epsilon(0.001));
  CHECK(seconds(h100, 64000, 0) == Approx(seconds(h100, 0, 4000) / 2).epsilon(0.001));
}
