// The optional `caller` column of a measurement CSV (validate/data/measured/README.md) and the
// fixed-cost fit of `validate --calibrate` (hwprofiles/SCHEMA.md, "Fixed costs").
#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <string>

#include "hwprofiles/catalog.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/validate_helpers.hpp"
#include "validate/calibrate.hpp"
#include "validate/compare.hpp"
#include "validate/measurements.hpp"

using test_support::registry;
using test_support::write_file;

namespace {

const char* kCallerCsvHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_us,source,"
    "caller\n";

// `validate --calibrate` on hand-made rows (after kCallerCsvHeader), the built-in profiles.
validate::CalibrationResult calibrate_rows(const std::string& rows) {
  const auto set = test_support::measurements_of(std::string(kCallerCsvHeader) + rows);
  return validate::calibrate(set.cases, hw::ProfileCatalog::load({}), {});
}

}  // namespace

TEST_CASE(
    "a row that names no caller is called the way its kernel is reached: torch_npu's ops through "
    "torch_npu, Triton schedules' kernels by Triton, the rest directly; said once per kernel",
    "[validate][caller]") {
  // No caller column at all, as the reference tables print them.
  const auto set = test_support::measurements_of(
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,"
      "time_us\n"
      "ascend-910b2,torch_npu,fwd,fp16,1,1,1,128,1024,1024,0,72\n"
      "ascend-910b2,npu_fused_infer_attention_score,fwd,fp16,1,1,1,128,2048,2048,0,90\n"
      "a100,nsa-selected,fwd,bf16,1,64,4,128,4096,4096,1,500\n"
      "h100,fa3,fwd,bf16,1,1,1,128,256,256,0,40\n"
      "ascend-910b2,pto-isa,fwd,fp16,1,1,1,128,1024,1024,0,30\n"
      "ascend-910b2,torch_npu,fwd,fp16,1,1,1,128,2048,4096,0,95\n");
  REQUIRE(set.cases.size() == 6);
  CHECK(set.cases[0].caller == hw::Caller::torch_npu);
  CHECK(set.cases[1].caller == hw::Caller::torch_npu);
  CHECK(set.cases[2].caller == hw::Caller::triton);
  CHECK(set.cases[3].caller == hw::Caller::direct);
  CHECK(set.cases[4].caller == hw::Caller::direct);  // pto-isa's kernel is launched directly
  CHECK(set.cases[5].caller == hw::Caller::torch_npu);
  const auto said = std::count_if(set.warnings.begin(), set.warnings.end(), [](const auto& w) {
    return w.find("no caller") != std::string::npos;
  });
  // Once per kernel (torch_npu's second row says nothing more): torch_npu,
  // npu_fused_infer_attention_score, nsa-selected.
  CHECK(said == 3);
  // The host cost is priced: a short torch_npu call costs what it does with the column given.
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const hw::Profile& npu = catalog.resolve("ascend-910b2");
  validate::MeasuredCase given = set.cases[0];
  given.caller = hw::Caller::torch_npu;
  const double inferred_s = validate::evaluate_case(set.cases[0], npu).tile_s;
  CHECK(inferred_s == Approx(validate::evaluate_case(given, npu).tile_s));
  given.caller = hw::Caller::direct;
  CHECK(inferred_s > validate::evaluate_case(given, npu).tile_s + 40e-6);
}

TEST_CASE("the caller column names the caller; an empty cell on an FA kernel is a direct call",
          "[validate][caller]") {
  const auto set = test_support::measurements_of(
      std::string(kCallerCsvHeader) +
      "h100,fa3,fwd,bf16,1,1,1,128,256,256,0,40,test,pytorch\n"
      "h100,fa3,fwd,bf16,1,1,1,128,256,256,0,40,test,\n"
      "ascend-910b2,torch_npu,fwd,fp16,1,1,1,128,1024,1024,0,72,test,torch_npu\n");
  REQUIRE(set.cases.size() == 3);
  CHECK(set.cases[0].caller == hw::Caller::pytorch);
  CHECK(set.cases[1].caller == hw::Caller::direct);
  CHECK(set.cases[2].caller == hw::Caller::torch_npu);
}

TEST_CASE("an unknown caller is bad input naming the row and the allowed callers",
          "[validate][caller]") {
  test_support::TempDir dir;
  const auto path = write_file(
      dir, std::string(kCallerCsvHeader) + "h100,fa3,fwd,bf16,1,1,1,128,256,256,0,40,test,jax\n");
  CHECK_THROWS_WITH(validate::read_measurements(path, registry()),
                    Catch::Contains("m.csv:2: column 'caller': unknown caller 'jax'") &&
                        Catch::Contains("direct, pytorch, torch_npu, triton, flashinfer"));
}

TEST_CASE("a pytorch row of a short kernel is predicted at the caller's floor",
          "[validate][caller]") {
  const auto set =
      test_support::measurements_of(std::string(kCallerCsvHeader) +
                                    "h100,fa3,fwd,bf16,1,1,1,128,256,256,0,40,test,pytorch\n"
                                    "h100,fa3,fwd,bf16,1,1,1,128,256,256,0,40,test,direct\n");
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const hw::Profile& h100 = catalog.resolve("h100");
  const double floor = h100.caller_floor_s(hw::Caller::pytorch);
  REQUIRE(floor > 0);
  const validate::CaseResult eager = validate::evaluate_case(set.cases[0], h100);
  const validate::CaseResult direct = validate::evaluate_case(set.cases[1], h100);
  REQUIRE(direct.tile_s < floor);  // a one-head 256-token forward is a few microseconds
  CHECK(eager.tile_s == Approx(floor));
  CHECK(eager.roofline_s == Approx(floor));
}

TEST_CASE("calibrate fits a caller's floor from rows that sit on it", "[validate][caller]") {
  // Hand-made rows: short pytorch calls all measured at 50 us, one long direct call.
  const validate::CalibrationResult fit = calibrate_rows(
      "h100,fa3,fwd,bf16,1,1,1,128,256,256,0,50,test,pytorch\n"
      "h100,fa3,fwd,bf16,1,2,2,128,256,256,0,50,test,pytorch\n"
      "h100,fa3,fwd,bf16,2,1,1,128,512,512,0,50,test,pytorch\n");
  REQUIRE(fit.fixed_costs.size() == 1);
  const validate::FixedCostFit& f = fit.fixed_costs[0];
  REQUIRE(f.callers.size() == 1);
  CHECK(f.callers[0] == hw::Caller::pytorch);
  CHECK(f.floor_before_s[0] == Approx(25e-6));
  CHECK(f.floor_after_s[0] == Approx(50e-6).epsilon(0.01));
  CHECK(f.fitted_after.mape < 0.01);
  CHECK(fit.profiles.at(0).caller_floor_s(hw::Caller::pytorch) == Approx(f.floor_after_s[0]));
}

TEST_CASE(
    "calibrate fits a per-call caller's extra_launch from split and unsplit calls that sit on "
    "the floor",
    "[validate][caller]") {
  // Hand-made FlashInfer decode rows on the H20, all host-bound: unsplit calls (one launch) at
  // 20 us, split ones (the decode and its merge) at 25 us: a floor of 20 and 5 per extra launch.
  const validate::CalibrationResult fit = calibrate_rows(
      "h20,flashinfer-decode,decode,fp16,1,4,4,128,1,128,0,20,test,flashinfer\n"
      "h20,flashinfer-decode,decode,fp16,16,4,4,128,1,128,0,20,test,flashinfer\n"
      "h20,flashinfer-decode,decode,fp16,1,4,4,128,1,2000,0,25,test,flashinfer\n"
      "h20,flashinfer-decode,decode,fp16,1,4,4,128,1,4000,0,25,test,flashinfer\n");
  REQUIRE(fit.fixed_costs.size() == 1);
  const validate::FixedCostFit& f = fit.fixed_costs[0];
  REQUIRE(f.callers.size() == 1);
  CHECK(f.callers[0] == hw::Caller::flashinfer);
  REQUIRE(f.fits_extra);
  CHECK_FALSE(f.fits_jit);
  CHECK(f.extra_before_s == Approx(3.5e-6));  // hwprofiles/h20.json
  CHECK(f.floor_after_s[0] == Approx(20e-6).epsilon(0.02));
  CHECK(f.extra_after_s == Approx(5e-6).epsilon(0.05));
  CHECK(fit.profiles.at(0).calibration.caller_extra_launch_s == Approx(f.extra_after_s));
}
