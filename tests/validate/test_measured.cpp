// Regression pins: the tile engine's error against the published timings in
// validate/data/measured must stay within issue #3's targets (MAPE <= 10 % on the rows the
// built-in calibration was fitted on, <= 15 % on the held-back rows: kv_len 1024 and 8192).
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include <fmt/format.h>

#include "hwprofiles/catalog.hpp"
#include "hwprofiles/profile_loader.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/validate_helpers.hpp"
#include "validate/calibrate.hpp"
#include "validate/compare.hpp"
#include "validate/measurements.hpp"

using test_support::kHoldout;
using test_support::measured_csv_path;

namespace {

struct Split {
  std::vector<double> fitted, held, roofline;
};

// Tile-engine errors of the rows of `file` run with `kernel` (in `pass`, when given), split by the
// holdout rule.
Split errors(const char* file, const std::string& kernel, const std::string& pass = "") {
  static const models::Registry registry;
  static const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const validate::MeasurementSet set =
      validate::read_measurements(measured_csv_path(file), registry);
  Split s;
  for (const validate::MeasuredCase& c : set.cases) {
    if (c.kernel != kernel || (!pass.empty() && c.pass != pass)) continue;
    const validate::CaseResult r = validate::evaluate_case(c, catalog.resolve(c.hw));
    (validate::is_held_out(c, kHoldout) ? s.held : s.fitted).push_back(r.tile_error());
    s.roofline.push_back(r.roofline_error());
  }
  return s;
}

}  // namespace

TEST_CASE("fa2 on A100 stays within 10% MAPE fitted and 15% held out", "[validate][measured]") {
  const Split s = errors("fa2_a100_fwd_bwd.csv", "fa2");
  REQUIRE(s.fitted.size() == 16);
  REQUIRE(s.held.size() == 8);
  CHECK(validate::summarize(s.fitted).mape <= 0.10);
  CHECK(validate::summarize(s.held).mape <= 0.15);
  // The tile engine must beat the roofline it refines on the same rows.
  CHECK(validate::summarize(s.fitted).mape < validate::summarize(s.roofline).mape);
}

TEST_CASE("fa3 on H100 stays within 10% MAPE fitted and 15% held out", "[validate][measured]") {
  const Split s = errors("fa3_h100_fwd.csv", "fa3");
  REQUIRE(s.fitted.size() == 24);
  REQUIRE(s.held.size() == 12);
  CHECK(validate::summarize(s.fitted).mape <= 0.10);
  CHECK(validate::summarize(s.held).mape <= 0.15);
  CHECK(validate::summarize(s.fitted).mape < validate::summarize(s.roofline).mape);
}

TEST_CASE("split-KV decode on A100 tracks the Flash-Decoding timings within 15%",
          "[validate][measured]") {
  const Split s = errors("flash_decoding_a100.csv", "flash-decoding");
  REQUIRE(s.fitted.size() + s.held.size() == 10);
  CHECK(validate::summarize(s.fitted).mape <= 0.15);
}

TEST_CASE("summarize reports MAPE, median and max of absolute errors", "[validate]") {
  const validate::ErrorSummary s = validate::summarize({0.1, -0.3, 0.2, -0.0});
  CHECK(s.cases == 4);
  CHECK(s.mape == Approx(0.15));
  CHECK(s.median_abs == Approx(0.15));
  CHECK(s.max_abs == Approx(0.3));
  CHECK(validate::summarize({}).cases == 0);
}

TEST_CASE("calibration recovers a good fa3 fit from a badly mis-calibrated H100 profile",
          "[validate]") {
  static const models::Registry registry;
  // A user profile that replaces the built-in H100 with a far-off fa3 calibration.
  const test_support::TempDir dir;
  const hw::Profile bad = hw::with_overrides(
      hw::ProfileCatalog::load({}).resolve("h100"),
      {"calibration.schedules.fa3.mma_fraction=0.4", "calibration.schedules.fa3.softmax_overlap=0",
       "calibration.schedules.fa3.tile_overhead_cycles=2000"});
  std::ofstream(dir.path() / "h100-sxm5-80gb.json") << hw::to_json(bad).dump();
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({dir.path()});
  REQUIRE(catalog.resolve("h100").calibration.schedules.at("fa3").mma_fraction == 0.4);

  const validate::MeasurementSet set =
      validate::read_measurements(measured_csv_path("fa3_h100_fwd.csv"), registry);
  std::vector<validate::MeasuredCase> fa3;
  for (const auto& c : set.cases) {
    if (c.kernel == "fa3") fa3.push_back(c);
  }
  const validate::CalibrationResult fit = validate::calibrate(fa3, catalog, kHoldout);
  REQUIRE(fit.groups.size() == 1);
  const validate::FitGroup& g = fit.groups[0];
  CHECK(g.fitted_before.mape > 0.5);  // the bad start really is bad
  CHECK(g.fitted_after.mape <= 0.10);
  CHECK(g.held_after.mape <= 0.15);  // and the fit transfers to the rows it never saw
  CHECK(g.after.mma_fraction > 0.4);
  REQUIRE(fit.profiles.size() == 1);
  CHECK(fit.profiles[0].calibration.schedules.at("fa3").mma_fraction == g.after.mma_fraction);
}

namespace {

// Tile-engine errors of every row of `file` run with `kernel` in pass `pass`.
std::vector<double> pass_errors(const char* file, const std::string& kernel,
                                const std::string& pass) {
  static const models::Registry registry;
  static const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const validate::MeasurementSet set =
      validate::read_measurements(measured_csv_path(file), registry);
  std::vector<double> out;
  for (const validate::MeasuredCase& c : set.cases) {
    if (c.kernel != kernel || c.pass != pass) continue;
    out.push_back(validate::evaluate_case(c, catalog.resolve(c.hw)).tile_error());
  }
  return out;
}

}  // namespace

// FA2 issues mma.sync, which Blackwell runs at about a third of its dense peak: priced at the
// dense peak it came out twice too fast (48 % fwd, 60 % bwd MAPE; 19 % / 7 % at the class ceiling
// with the initial entry); fitted on these rows (forward and backward apart) it is within the
// issue's targets on every row, held-back ones included.
TEST_CASE("fa2 on GB200 at the mma.sync ceiling stays within 8% MAPE fwd and bwd",
          "[validate][measured][mma-class]") {
  const std::vector<double> fwd = pass_errors("gb200_cudnn_fa2.csv", "fa2", "fwd");
  const std::vector<double> bwd = pass_errors("gb200_cudnn_fa2.csv", "fa2", "bwd");
  REQUIRE(fwd.size() == 9);
  REQUIRE(bwd.size() == 9);
  CHECK(validate::summarize(fwd).mape <= 0.08);
  CHECK(validate::summarize(bwd).mape <= 0.08);
}

// cuDNN SDPA is its own kernel with its own calibration (it was priced as fa4 through `auto`:
// 19 % fwd, 11 % bwd). Forward meets the targets; backward does not yet (11 % fitted).
TEST_CASE("cudnn on GB200 stays within 8% fwd and 12% bwd MAPE", "[validate][measured]") {
  const Split fwd = errors("gb200_cudnn_fa2.csv", "cudnn", "fwd");
  const Split bwd = errors("gb200_cudnn_fa2.csv", "cudnn", "bwd");
  REQUIRE(fwd.fitted.size() == 34);
  REQUIRE(bwd.fitted.size() == 23);
  CHECK(validate::summarize(fwd.fitted).mape <= 0.08);
  CHECK(validate::summarize(fwd.held).mape <= 0.12);
  CHECK(validate::summarize(bwd.fitted).mape <= 0.12);
  CHECK(validate::summarize(bwd.held).mape <= 0.12);
}

TEST_CASE("fa2 backward on H100 is within 5% at the mma.sync ceiling (fa2_bwd fitted)",
          "[validate][measured][mma-class]") {
  // 1.8 % since 2026-11-30 (H100's fa2_bwd fitted on these and the NSA repository's FA2 backward
  // rows); 5.8 % with the initial entry, 22 % when priced at the dense peak.
  const std::vector<double> bwd = pass_errors("fa3_h100_bwd_independent.csv", "fa2", "bwd");
  REQUIRE(bwd.size() == 9);
  CHECK(validate::summarize(bwd).mape <= 0.05);
}

TEST_CASE("fa3 backward on H100 is within 5% (fa3_bwd fitted)", "[validate][measured]") {
  // 2.9 % over the FA3 paper's Fig. 6 rows since 2026-11-30; 4.2 % with the initial entry.
  const std::vector<double> bwd = pass_errors("fa3_h100_bwd_independent.csv", "fa3", "bwd");
  REQUIRE(bwd.size() == 9);
  CHECK(validate::summarize(bwd).mape <= 0.05);
}
