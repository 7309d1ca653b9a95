// The host profile of `validate --backend cpu`: the user's (a fitted host-cpu in --hw-dir, or
// --profile) where given, else the probe's; and --calibrate on synthetic timings (priced on a
// known profile, nothing timed on this host): the fit moves what the host kernels' model reads
// and recovers the entries the timings were made with.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwprofiles/catalog.hpp"
#include "hwprofiles/profile_loader.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/validate_helpers.hpp"
#include "validate/calibrate.hpp"
#include "validate/compare.hpp"
#include "validate/cpu/cpu_probe.hpp"
#include "validate/cpu/cpu_suite.hpp"

using test_support::kHoldout;
using test_support::registry;
using test_support::run_cli;
using test_support::TempDir;

namespace {

// A probe of a 2.3 GHz core: triad 12.6 GB/s, GEMM 26 GFLOP/s, exp 3.4e8/s, 2 MiB L2, 32 MiB
// LLC, a cold call of 12 us.
hw::Profile start_profile(const std::string& id = validate::kProbeProfileId) {
  validate::cpu::CpuCeilings c;
  c.cpu_name = "Test CPU";
  c.clock_hz = 2.3e9;
  c.stream_Bps = 12.6e9;
  c.cache_read_Bps = 30e9;
  c.gemm_flops = 26e9;
  c.exp_per_s = 3.4e8;
  c.l2_bytes = 2 << 20;
  c.llc_bytes = 32 << 20;
  c.call_overhead_s = 12e-6;
  return validate::probe_profile(c, "2026-12-01", id);
}

// The quick suite's compared cases, each "measured" as `truth` prices it.
std::vector<validate::MeasuredCase> synthetic_cases(const hw::Profile& truth) {
  std::vector<validate::MeasuredCase> cases;
  for (const validate::SuiteCase& s : validate::find_suite("quick").cases) {
    validate::CaseRun run;
    run.spec = s;
    run.median_s = 1;
    validate::MeasuredCase m = validate::to_measured(run, truth.id, registry());
    if (!m.compared) continue;
    m.measured_s = validate::evaluate_case(m, truth).tile_s;
    cases.push_back(m);
  }
  return cases;
}

const validate::FitGroup& group(const validate::CalibrationResult& r, const std::string& key) {
  for (const validate::FitGroup& g : r.groups) {
    if (g.schedule == key) return g;
  }
  FAIL("no fit group " << key);
  throw;
}

}  // namespace

TEST_CASE(
    "a CPU calibration recovers the cpu_flash and cpu_linear product shares that synthetic "
    "timings were priced with",
    "[validate][cpu][calibrate]") {
  const hw::Profile start = start_profile();
  // The host's block products at half (flash) and 0.7 (linear) of the probed GEMM rate.
  hw::Profile truth = start;
  truth.calibration.schedules.at("cpu_flash").mma_fraction = 0.5;
  truth.calibration.schedules.at("cpu_linear").mma_fraction = 0.7;
  const std::vector<validate::MeasuredCase> cases = synthetic_cases(truth);
  REQUIRE(cases.size() >= 8);
  hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  catalog.insert(start);
  // As `validate --backend cpu --calibrate` fits: the kernels' entries, the probe's cold call kept.
  const validate::CalibrationResult fit =
      validate::calibrate(cases, catalog, kHoldout, validate::FixedCosts::keep);
  const validate::FitGroup& flash = group(fit, "cpu_flash");
  const validate::FitGroup& linear = group(fit, "cpu_linear");
  CHECK(flash.fitted_before.mape > 0.2);
  CHECK(flash.after.mma_fraction == Approx(0.5).margin(0.03));
  CHECK(linear.after.mma_fraction == Approx(0.7).margin(0.03));
  CHECK(flash.fitted_after.mape < 0.01);
  CHECK(flash.held_after.mape < 0.01);
  CHECK(linear.fitted_after.mape < 0.01);
}

TEST_CASE(
    "validate --backend cpu predicts on a host-cpu profile from --hw-dir, or the one --profile "
    "names, instead of probing, and --calibrate keeps its launch cost; the report names the "
    "file",
    "[validate][cpu]") {
  TempDir dir;
  // A call cost no probe measures: 5 ms (host-cpu) and 8 ms (mycore), within the profile range
  // of kernel_launch_us ([0, 10000] us).
  hw::Profile host = start_profile();
  host.calibration.kernel_launch_s = 0.005;
  hw::Profile mine = start_profile("mycore");
  mine.calibration.kernel_launch_s = 0.008;
  test_support::write_file(dir.path() / "host-cpu.json", hw::to_json(host).dump(2));
  test_support::write_file(dir.path() / "mycore.json", hw::to_json(mine).dump(2));
  for (const auto& [profile, launch_s] :
       {std::pair<std::string, double>{"", 0.005}, {"mycore", 0.008}}) {
    std::vector<std::string> args = {"validate",          "--backend",   "cpu",
                                     "--check",           "--calibrate", "--hw-dir",
                                     dir.path().string(), "--format",    "json"};
    if (!profile.empty()) args.insert(args.end(), {"--profile", profile});
    const test_support::RunResult r = run_cli(args);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const nlohmann::json doc = nlohmann::json::parse(r.out);
    const std::string id = profile.empty() ? "host-cpu" : profile;
    CHECK(doc["device"]["profile"] == id);
    CHECK_THAT(doc["device"]["profile_source"].get<std::string>(), Catch::Contains(id + ".json"));
    CHECK_FALSE(doc["device"].contains("gemm_flops"));  // nothing probed
    CHECK(doc["fixed_costs"].empty());                  // a measured cold call, not a fit
    CHECK_FALSE(doc["calibration"].empty());
    for (const auto& c : doc["cases"]) {
      INFO(c["case"]);
      CHECK(c["hw"] == id);
      CHECK(c["kernel"] == c["schedule"]);  // the kernel it ran (the CSV's column), not the case
      if (c["compared"].get<bool>()) CHECK(c["tile_s"].get<double>() >= launch_s);
    }
  }
}
