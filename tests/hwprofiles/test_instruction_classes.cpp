// compute.tensor_dense_TFLOPS_by_class and calibration.caller_floor_us (hwprofiles/SCHEMA.md,
// "Instruction classes" and "Fixed costs"): strict parsing, the fallback without the table, and
// the built-in profiles' invariants.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "hwprofiles/catalog.hpp"
#include "hwprofiles/profile_loader.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/profile_helpers.hpp"

using test_support::profile_doc;
using test_support::profile_parse_error;

namespace {

constexpr double kTera = 1e12;

}  // namespace

TEST_CASE("h100 lists mma.sync at two thirds of its dense peak and wgmma at the dense peak",
          "[hw][mma-class]") {
  const hw::Profile p = hw::parse_profile(profile_doc("h100-sxm5-80gb"), "h100");
  // 989.4 TFLOPS x 2/3 = 659.6 (arXiv:2407.08608: mma.sync reaches about 2/3 of the peak).
  CHECK(p.class_peak_flops(hw::MmaClass::mma_sync, hw::Precision::bf16) == Approx(659.6 * kTera));
  CHECK(p.class_peak_flops(hw::MmaClass::wgmma, hw::Precision::bf16) == Approx(989.4 * kTera));
  CHECK(p.class_peak_flops(hw::MmaClass::native, hw::Precision::bf16) == Approx(989.4 * kTera));
  // FlashAttention-2 has no fp8 path, and Hopper has no tcgen05.
  CHECK(p.class_peak_flops(hw::MmaClass::mma_sync, hw::Precision::fp8) == 0);
  CHECK(p.class_peak_flops(hw::MmaClass::tcgen05, hw::Precision::bf16) == 0);
}

TEST_CASE("a profile without the class table prices every class at its single dense peak",
          "[hw][mma-class]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc["compute"].erase("tensor_dense_TFLOPS_by_class");
  const hw::Profile p = hw::parse_profile(doc, "test.json");
  for (hw::MmaClass c : hw::kListedMmaClasses) {
    CHECK(p.class_peak_flops(c, hw::Precision::bf16) == Approx(989.4 * kTera));
  }
}

TEST_CASE("a class peak above the dense peak of its precision is refused", "[hw][mma-class]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc["compute"]["tensor_dense_TFLOPS_by_class"]["mma_sync"]["bf16"] = 990;
  const std::string e = profile_parse_error(doc);
  CHECK_THAT(e, Catch::Contains("/compute/tensor_dense_TFLOPS_by_class/mma_sync/bf16"));
  CHECK_THAT(e, Catch::Contains("cannot exceed the dense peak (989.4 TFLOPS)"));
}

TEST_CASE("the class table is strict: unknown class, missing source, precision not listed",
          "[hw][mma-class]") {
  nlohmann::json unknown = profile_doc("h100-sxm5-80gb");
  unknown["compute"]["tensor_dense_TFLOPS_by_class"]["hmma"] = {{"bf16", 1}, {"source", "x"}};
  CHECK_THAT(profile_parse_error(unknown), Catch::Contains("tensor_dense_TFLOPS_by_class/hmma"));
  nlohmann::json unsourced = profile_doc("h100-sxm5-80gb");
  unsourced["compute"]["tensor_dense_TFLOPS_by_class"]["wgmma"].erase("source");
  CHECK_THAT(profile_parse_error(unsourced), Catch::Contains("wgmma/source"));
  nlohmann::json fp4 = profile_doc("h100-sxm5-80gb");
  fp4["compute"]["tensor_dense_TFLOPS_by_class"]["wgmma"]["fp4"] = 100;
  CHECK_THAT(profile_parse_error(fp4), Catch::Contains("no fp4 peak in tensor_dense_TFLOPS"));
  nlohmann::json empty = profile_doc("h100-sxm5-80gb");
  empty["compute"]["tensor_dense_TFLOPS_by_class"] = nlohmann::json::object();
  CHECK_THAT(profile_parse_error(empty), Catch::Contains("expected at least one of mma_sync"));
}

TEST_CASE("every built-in class peak is positive and never above the device's dense peak",
          "[hw][mma-class]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  for (const hw::Profile& p : catalog.profiles()) {
    INFO(p.id);
    CHECK_FALSE(p.compute.class_dense_flops.empty());  // every built-in lists its classes
    for (const auto& [mma, flops] : p.compute.class_dense_flops) {
      for (hw::Precision prec : hw::kAllPrecisions) {
        const double f = flops[static_cast<std::size_t>(prec)];
        CHECK(f >= 0);
        CHECK(f <= p.tensor_peak_flops(prec) * (1 + 1e-12));
      }
      CHECK_FALSE(p.compute.class_sources.at(mma).empty());
    }
  }
}

TEST_CASE("caller floors parse in microseconds, need a source and reject unknown callers",
          "[hw][caller]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc["calibration"]["caller_floor_us"] = {{"pytorch", 20}, {"source", "test"}};
  const hw::Profile p = hw::parse_profile(doc, "test.json");
  CHECK(p.caller_floor_s(hw::Caller::pytorch) == Approx(20e-6));
  CHECK(p.caller_floor_s(hw::Caller::direct) == 0);  // absent caller: no floor
  CHECK(p.caller_floor_s(hw::Caller::torch_npu) == 0);
  // Round trip through to_json (used by --hw-set and --write-profiles).
  const hw::Profile again = hw::parse_profile(hw::to_json(p), "again.json");
  CHECK(again.caller_floor_s(hw::Caller::pytorch) == Approx(20e-6));
  CHECK(again.compute.class_dense_flops == p.compute.class_dense_flops);

  nlohmann::json unknown = doc;
  unknown["calibration"]["caller_floor_us"]["jax"] = 5;
  CHECK_THAT(profile_parse_error(unknown), Catch::Contains("caller_floor_us/jax"));
  nlohmann::json unsourced = doc;
  unsourced["calibration"]["caller_floor_us"].erase("source");
  CHECK_THAT(profile_parse_error(unsourced), Catch::Contains("caller_floor_us/source"));
  nlohmann::json negative = doc;
  negative["calibration"]["caller_floor_us"]["pytorch"] = -1;
  CHECK_FALSE(profile_parse_error(negative).empty());
}

TEST_CASE(
    "caller_floor_us.triton_jit is the triton caller's extra per Triton JIT launch: microseconds, "
    "never negative, nothing for other callers, and it round-trips",
    "[hw][caller]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc["calibration"]["caller_floor_us"] = {{"triton", 9}, {"triton_jit", 40}, {"source", "test"}};
  const hw::Profile p = hw::parse_profile(doc, "test.json");
  CHECK(p.caller_jit_s(hw::Caller::triton) == Approx(40e-6));
  CHECK(p.caller_jit_s(hw::Caller::pytorch) == 0);
  CHECK(p.caller_floor_s(hw::Caller::triton) == Approx(9e-6));
  CHECK(hw::parse_profile(hw::to_json(p), "again.json").caller_jit_s(hw::Caller::triton) ==
        Approx(40e-6));
  nlohmann::json absent = doc;
  absent["calibration"]["caller_floor_us"].erase("triton_jit");
  CHECK(hw::parse_profile(absent, "absent.json").caller_jit_s(hw::Caller::triton) == 0);
  nlohmann::json negative = doc;
  negative["calibration"]["caller_floor_us"]["triton_jit"] = -1;
  CHECK_THAT(profile_parse_error(negative), Catch::Contains("triton_jit"));
}

TEST_CASE(
    "caller_floor_us.extra_launch is a per-call caller's host cost per launch after a call's "
    "first: microseconds, optional, never negative, and it round-trips",
    "[hw][caller]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc["calibration"]["caller_floor_us"] = {
      {"pytorch", 24}, {"extra_launch", 3.5}, {"source", "test"}};
  const hw::Profile p = hw::parse_profile(doc, "test.json");
  CHECK(p.caller_extra_launch_s(hw::Caller::pytorch) == Approx(3.5e-6));
  CHECK(
      hw::parse_profile(hw::to_json(p), "again.json").caller_extra_launch_s(hw::Caller::pytorch) ==
      Approx(3.5e-6));
  nlohmann::json absent = doc;
  absent["calibration"]["caller_floor_us"].erase("extra_launch");
  CHECK(hw::parse_profile(absent, "absent.json").caller_extra_launch_s(hw::Caller::pytorch) == 0);
  nlohmann::json negative = doc;
  negative["calibration"]["caller_floor_us"]["extra_launch"] = -1;
  CHECK_THAT(profile_parse_error(negative), Catch::Contains("extra_launch"));
}

TEST_CASE("caller_floor_us.in_turn lists callers whose host cost adds, and round-trips",
          "[hw][caller]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc["calibration"]["caller_floor_us"] = {
      {"torch_npu", 65}, {"in_turn", {"torch_npu"}}, {"source", "test"}};
  const hw::Profile p = hw::parse_profile(doc, "test.json");
  CHECK(p.caller_in_turn(hw::Caller::torch_npu));
  CHECK_FALSE(p.caller_in_turn(hw::Caller::pytorch));
  CHECK(hw::parse_profile(hw::to_json(p), "again.json").caller_in_turn(hw::Caller::torch_npu));
  nlohmann::json unknown = doc;
  unknown["calibration"]["caller_floor_us"]["in_turn"] = {"jax"};
  const std::string error = profile_parse_error(unknown);
  CHECK_THAT(error, Catch::Contains("in_turn") && Catch::Contains("jax") &&
                        Catch::Contains("allowed: direct, pytorch, torch_npu, triton"));
}

TEST_CASE(
    "ascend profiles charge a device launch of microseconds and torch_npu's host cost in "
    "turn",
    "[hw][caller]") {
  for (const char* id : {"ascend-910b1", "ascend-910b2", "ascend-910b3", "ascend-910b4"}) {
    const hw::Profile p = test_support::catalog().resolve(id);
    CHECK(p.calibration.kernel_launch_s <= 10e-6);
    CHECK(p.caller_in_turn(hw::Caller::torch_npu));
    CHECK(p.caller_floor_s(hw::Caller::torch_npu) > 50e-6);
  }
}

TEST_CASE(
    "a --hw-set on a dense tensor peak moves every instruction class's peak at that precision "
    "by the same factor, unless the overrides set a class peak",
    "[hw][mma-class]") {
  // The default schedules are priced at their class's peak: a dense peak raised alone changed
  // only the reported utilisation (H100 fp8 at 4000: the same 2.22 ms, util 50 % -> 24.7 %), and
  // one lowered below a class's was refused.
  const hw::Profile h100 = test_support::catalog().resolve("h100");
  const hw::Profile doubled = hw::with_overrides(h100, {"compute.tensor_dense_TFLOPS.bf16=1978.8"});
  CHECK(doubled.class_peak_flops(hw::MmaClass::mma_sync, hw::Precision::bf16) ==
        Approx(2 * 659.6 * kTera));
  CHECK(doubled.class_peak_flops(hw::MmaClass::wgmma, hw::Precision::bf16) ==
        Approx(2 * 989.4 * kTera));
  // Other precisions keep theirs.
  CHECK(doubled.class_peak_flops(hw::MmaClass::wgmma, hw::Precision::fp8) ==
        Approx(h100.class_peak_flops(hw::MmaClass::wgmma, hw::Precision::fp8)));
  const hw::Profile halved = hw::with_overrides(h100, {"compute.tensor_dense_TFLOPS.bf16=494.7"});
  CHECK(halved.class_peak_flops(hw::MmaClass::mma_sync, hw::Precision::bf16) ==
        Approx(329.8 * kTera));
  // A class peak given too is taken as given.
  const hw::Profile both =
      hw::with_overrides(h100, {"compute.tensor_dense_TFLOPS.bf16=1978.8",
                                "compute.tensor_dense_TFLOPS_by_class.mma_sync.bf16=700"});
  CHECK(both.class_peak_flops(hw::MmaClass::mma_sync, hw::Precision::bf16) == Approx(700 * kTera));
  CHECK(both.class_peak_flops(hw::MmaClass::wgmma, hw::Precision::bf16) == Approx(989.4 * kTera));
}
