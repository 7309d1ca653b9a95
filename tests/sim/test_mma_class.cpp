// Instruction-class ceilings and the caller's fixed cost (hwprofiles/SCHEMA.md, "Instruction
// classes" and "Fixed costs"): which ceiling each schedule is priced at, and the host floor.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <string_view>

#include "common/errors.hpp"
#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::catalog;
using test_support::mha_query;
using test_support::Query;

namespace {

// The main attention launch of a tile prediction (a copy: the prediction may be a temporary).
sim::LaunchPrediction main_launch(const sim::Prediction& p) {
  REQUIRE(!p.launches.empty());
  return p.launches[0];
}

}  // namespace

TEST_CASE("fa2 on h100 runs its tensor pipe at mma_fraction of the mma.sync ceiling",
          "[sim][mma-class]") {
  const hw::Profile& h100 = catalog().resolve("h100-sxm5-80gb");
  const Query q = mha_query(models::Phase::fwd, 4, 4096);
  const sim::Prediction p = sim::predict_tile(q.cost(), q.w, h100, "fa2");
  const sim::LaunchPrediction l = main_launch(p);
  // Hand-worked: tensor time = tensor FLOPs / (659.6 TFLOPS mma.sync x fa2's fitted 0.6823), not
  // the dense 989.4 TFLOPS peak.
  const double rate = 659.6e12 * 0.6823;
  CHECK(rate == Approx(450.0e12).epsilon(1e-3));
  CHECK(l.tensor_s == Approx(l.flops.tensor / rate).epsilon(1e-9));
}

TEST_CASE("fa3 on h100 runs at the wgmma ceiling, the dense peak", "[sim][mma-class]") {
  const hw::Profile& h100 = catalog().resolve("h100-sxm5-80gb");
  const Query q = mha_query(models::Phase::fwd, 4, 4096);
  const sim::LaunchPrediction l = main_launch(sim::predict_tile(q.cost(), q.w, h100, "fa3"));
  const double mma = h100.calibration.schedules.at("fa3").mma_fraction;
  CHECK(l.tensor_s == Approx(l.flops.tensor / (989.4e12 * mma)).epsilon(1e-9));
}

TEST_CASE("fa2 on b200 is priced at mma.sync, a third of the dense peak, not at tcgen05",
          "[sim][mma-class]") {
  const hw::Profile& b200 = catalog().resolve("b200");
  const Query q = mha_query(models::Phase::fwd, 4, 4096);
  const sim::LaunchPrediction l = main_launch(sim::predict_tile(q.cost(), q.w, b200, "fa2"));
  // 148 SMs x 1856 MHz x 2731 FLOP/clk (Hopper's mma.sync per SM and clock) = 750.2 TFLOPS.
  const double ceiling = b200.class_peak_flops(hw::MmaClass::mma_sync, hw::Precision::bf16);
  CHECK(ceiling == Approx(148 * 1856e6 * 4096 * 2.0 / 3).epsilon(1e-3));
  CHECK(ceiling / b200.tensor_peak_flops(hw::Precision::bf16) == Approx(0.332).epsilon(0.01));
  const double mma = b200.calibration.schedules.at("fa2").mma_fraction;
  CHECK(l.tensor_s == Approx(l.flops.tensor / (ceiling * mma)).epsilon(1e-9));
  // The same profile without the class table prices fa2 at the dense peak: 3x less tensor time.
  const hw::Profile flat = [&] {
    hw::Profile p = b200;
    p.compute.class_dense_flops.clear();
    return p;
  }();
  const sim::LaunchPrediction f = main_launch(sim::predict_tile(q.cost(), q.w, flat, "fa2"));
  CHECK(l.tensor_s / f.tensor_s == Approx(2250e12 / ceiling).epsilon(1e-9));
}

TEST_CASE("a schedule whose class the device lacks is refused naming the classes it has",
          "[sim][mma-class]") {
  hw::Profile b200 = catalog().resolve("b200");
  b200.calibration.schedules["fa3"] = b200.calibration.schedules.at("fa4");
  const Query q = mha_query(models::Phase::fwd, 1, 1024);
  try {
    sim::predict_tile(q.cost(), q.w, b200, "fa3");
    FAIL("fa3 (wgmma) ran on sm_100");
  } catch (const common::SpecError& e) {
    CHECK_THAT(e.what(), Catch::Contains("no bf16 path for wgmma"));
    CHECK_THAT(e.what(), Catch::Contains("mma_sync, tcgen05"));
  }
}

TEST_CASE("no schedule's class ceiling exceeds the dense peak on any built-in device",
          "[sim][mma-class]") {
  for (const hw::Profile& p : catalog().profiles()) {
    for (const sim::ScheduleInfo& s : sim::schedules()) {
      if (p.calibration.schedules.count(std::string(s.name)) == 0) continue;
      for (hw::Precision prec : hw::kAllPrecisions) {
        if (!p.supports(prec)) continue;
        INFO(p.id << " " << s.name << " " << hw::to_string(prec));
        CHECK(p.class_peak_flops(s.mma_class, prec) <= p.tensor_peak_flops(prec));
      }
      // A kernel a profile calibrates can run its 16-bit inputs there.
      INFO(p.id << " " << s.name);
      CHECK(p.class_peak_flops(s.mma_class, hw::Precision::fp16) > 0);
    }
  }
}

TEST_CASE("the caller's host floor sets the time of a short call and leaves a long one",
          "[sim][caller]") {
  hw::Profile h100 = catalog().resolve("h100-sxm5-80gb");
  h100.calibration.caller_floor_s[static_cast<std::size_t>(hw::Caller::pytorch)] = 40e-6;
  const Query small = mha_query(models::Phase::fwd, 1, 256, 1);
  const sim::Prediction direct = sim::predict_tile(small.cost(), small.w, h100, "fa3");
  REQUIRE(direct.time_s < 40e-6);
  sim::ScheduleOptions torch;
  torch.caller = hw::Caller::pytorch;
  const sim::Prediction eager = sim::predict_tile(small.cost(), small.w, h100, "fa3", torch);
  CHECK(eager.time_s == Approx(40e-6));
  CHECK(eager.caller_floor_s == Approx(40e-6));
  CHECK(eager.bound == sim::Resource::host);
  // Forward and backward are two calls: the floor counts twice.
  Query train = small;
  train.w.phase = models::Phase::train;
  CHECK(sim::predict_tile(train.cost(), train.w, h100, "fa3", torch).time_s >= 80e-6);
  CHECK(sim::host_calls(train.cost()) == 2);
  // A long kernel hides the host work: the floor changes nothing.
  const Query big = mha_query(models::Phase::fwd, 8, 8192);
  CHECK(sim::predict_tile(big.cost(), big.w, h100, "fa3", torch).time_s ==
        sim::predict_tile(big.cost(), big.w, h100, "fa3").time_s);
  // The roofline pays the same floor.
  CHECK(sim::predict_roofline(small.cost(), small.w, h100, hw::Caller::pytorch).time_s ==
        Approx(40e-6));
}

TEST_CASE("a caller whose host work runs in turn adds its cost to a long call instead of hiding",
          "[sim][caller]") {
  hw::Profile h100 = catalog().resolve("h100-sxm5-80gb");
  const auto npu = static_cast<std::size_t>(hw::Caller::torch_npu);
  h100.calibration.caller_floor_s[npu] = 60e-6;
  h100.calibration.caller_in_turn[npu] = true;
  sim::ScheduleOptions torch_npu;
  torch_npu.caller = hw::Caller::torch_npu;
  const Query big = mha_query(models::Phase::fwd, 8, 8192);
  const double device = sim::predict_tile(big.cost(), big.w, h100, "fa3").time_s;
  REQUIRE(device > 60e-6);
  const sim::Prediction call = sim::predict_tile(big.cost(), big.w, h100, "fa3", torch_npu);
  CHECK(call.time_s == Approx(device + 60e-6));
  CHECK(call.caller_floor_s == Approx(60e-6));
  CHECK(call.bound != sim::Resource::host);  // the device still outlasts the host work
  // The tensor pipes are busy for the device time only.
  const sim::Prediction alone = sim::predict_tile(big.cost(), big.w, h100, "fa3");
  CHECK(call.tensor_utilization == Approx(alone.tensor_utilization * device / (device + 60e-6)));
  // A short call is host-bound: host work plus its small device time.
  const Query small = mha_query(models::Phase::fwd, 1, 256, 1);
  const double tiny = sim::predict_tile(small.cost(), small.w, h100, "fa3").time_s;
  const sim::Prediction short_call =
      sim::predict_tile(small.cost(), small.w, h100, "fa3", torch_npu);
  CHECK(short_call.time_s == Approx(tiny + 60e-6));
  CHECK(short_call.bound == sim::Resource::host);
  CHECK(sim::predict_roofline(big.cost(), big.w, h100, hw::Caller::torch_npu).time_s ==
        Approx(sim::predict_roofline(big.cost(), big.w, h100).time_s + 60e-6));
}

TEST_CASE("triton's host floor is paid per kernel launch, not per call", "[sim][caller]") {
  hw::Profile h100 = catalog().resolve("h100-sxm5-80gb");
  h100.calibration.caller_floor_s[static_cast<std::size_t>(hw::Caller::triton)] = 30e-6;
  sim::ScheduleOptions triton;
  triton.caller = hw::Caller::triton;
  // A short training step: FA2's forward launch and its backward launches, one call each pass.
  Query train = mha_query(models::Phase::train, 1, 256, 1);
  const sim::Prediction direct = sim::predict_tile(train.cost(), train.w, h100, "fa2");
  double launches = 0;
  for (const sim::LaunchPrediction& l : direct.launches) launches += static_cast<double>(l.count);
  REQUIRE(launches > sim::host_calls(train.cost()));  // more launches than calls
  const sim::Prediction p = sim::predict_tile(train.cost(), train.w, h100, "fa2", triton);
  CHECK(p.caller_floor_s == Approx(launches * 30e-6));
  CHECK(p.time_s == Approx(std::max(direct.time_s, launches * 30e-6)));
  CHECK(p.bound == sim::Resource::host);
}

TEST_CASE("the roofline pays a per-launch caller's floor once per op, its launches",
          "[sim][caller]") {
  hw::Profile h100 = catalog().resolve("h100-sxm5-80gb");
  h100.calibration.caller_floor_s[static_cast<std::size_t>(hw::Caller::triton)] = 1e-3;
  const Query train = mha_query(models::Phase::train, 1, 256, 1);
  const sim::Prediction p = sim::predict_roofline(train.cost(), train.w, h100, hw::Caller::triton);
  CHECK(p.caller_floor_s == Approx(static_cast<double>(train.cost().ops.size()) * 1e-3));
  CHECK(p.time_s == Approx(p.caller_floor_s));
}

TEST_CASE(
    "a per-call caller pays caller_floor_us.extra_launch for each launch of a call after its "
    "first; a direct call and a per-launch caller do not",
    "[sim][caller]") {
  hw::Profile h100 = catalog().resolve("h100-sxm5-80gb");
  h100.calibration.caller_floor_s[static_cast<std::size_t>(hw::Caller::pytorch)] = 30e-6;
  h100.calibration.caller_floor_s[static_cast<std::size_t>(hw::Caller::triton)] = 30e-6;
  h100.calibration.caller_extra_launch_s = 4e-6;
  // The same short training step: two calls, more launches than calls.
  const Query train = mha_query(models::Phase::train, 1, 256, 1);
  const sim::Prediction direct = sim::predict_tile(train.cost(), train.w, h100, "fa2");
  const double launches = sim::host_launch_count(direct);
  const double calls = sim::host_calls(train.cost());
  REQUIRE(launches > calls);
  sim::ScheduleOptions torch;
  torch.caller = hw::Caller::pytorch;
  CHECK(sim::predict_tile(train.cost(), train.w, h100, "fa2", torch).caller_floor_s ==
        Approx(calls * 30e-6 + (launches - calls) * 4e-6));
  CHECK(direct.caller_floor_s == 0);
  sim::ScheduleOptions triton;
  triton.caller = hw::Caller::triton;  // already per launch: its floor is unchanged
  CHECK(sim::predict_tile(train.cost(), train.w, h100, "fa2", triton).caller_floor_s ==
        Approx(launches * 30e-6));
  CHECK(h100.caller_extra_launch_s(hw::Caller::direct) == 0);
  CHECK(h100.caller_extra_launch_s(hw::Caller::triton) == 0);
  CHECK(h100.caller_extra_launch_s(hw::Caller::flashinfer) == Approx(4e-6));
  // One launch per call: nothing extra.
  const Query fwd = mha_query(models::Phase::fwd, 1, 256, 1);
  REQUIRE(sim::host_launch_count(sim::predict_tile(fwd.cost(), fwd.w, h100, "fa3")) == 1);
  CHECK(sim::predict_tile(fwd.cost(), fwd.w, h100, "fa3", torch).caller_floor_s == Approx(30e-6));
}
