// validate::calibrate fits forward and backward apart where a (device, schedule) has forward-only
// rows: a fwd+bwd row constrains only the sum of the two passes, so one shared fit could trade a
// too-slow forward for a too-fast backward (A100 FA2 before the split: forward +22-38 %,
// backward -9-12 %).
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "hwprofiles/catalog.hpp"
#include "tests/support/validate_helpers.hpp"
#include "validate/calibrate.hpp"
#include "validate/compare.hpp"
#include "validate/measurements.hpp"

using test_support::kHoldout;
using test_support::measured_csv_path;

namespace {

std::vector<validate::MeasuredCase> rows_of(const std::vector<const char*>& files,
                                            const std::string& hw, const std::string& kernel) {
  static const models::Registry registry;
  std::vector<validate::MeasuredCase> out;
  for (const char* file : files) {
    const validate::MeasurementSet set =
        validate::read_measurements(measured_csv_path(file), registry);
    for (const validate::MeasuredCase& c : set.cases) {
      if (c.hw == hw && c.kernel == kernel) out.push_back(c);
    }
  }
  return out;
}

std::vector<validate::MeasuredCase> a100_rows(const std::vector<const char*>& files) {
  return rows_of(files, "a100-sxm4-80gb", "fa2");
}

const validate::FitGroup* find_keys(const validate::CalibrationResult& r,
                                    const std::vector<std::string>& keys) {
  for (const validate::FitGroup& g : r.groups) {
    if (g.keys == keys) return &g;
  }
  return nullptr;
}

}  // namespace

TEST_CASE("forward-only rows fit the forward entry and backward rows fit the _bwd entry apart",
          "[validate][calibrate]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const std::vector<validate::MeasuredCase> rows =
      a100_rows({"fa2_a100_fwd_bwd.csv", "nsa_repo_flash_gqa.csv"});
  const validate::CalibrationResult fit = validate::calibrate(rows, catalog, kHoldout);
  REQUIRE(fit.groups.size() == 2);
  const validate::FitGroup* fwd = find_keys(fit, {"fa2"});
  const validate::FitGroup* bwd = find_keys(fit, {"fa2_bwd"});
  REQUIRE(fwd != nullptr);
  REQUIRE(bwd != nullptr);
  CHECK(fwd->fitted_after.cases == 6);   // NSA-repo forward rows not held out
  CHECK(bwd->fitted_after.cases == 22);  // FA2-paper fwd+bwd (16) and NSA-repo bwd (6)
  // The two entries differ: the backward is its own kernel.
  REQUIRE(fit.profiles.size() == 1);
  const auto& schedules = fit.profiles[0].calibration.schedules;
  CHECK(schedules.at("fa2").mma_fraction == fwd->after.mma_fraction);
  CHECK(schedules.at("fa2_bwd").mma_fraction == bwd->after.mma_fraction);
  CHECK(std::fabs(fwd->after.mma_fraction - bwd->after.mma_fraction) > 0.05);
  // Each pass meets issue #9's targets on its own rows, fitted and held back.
  CHECK(fwd->fitted_after.mape <= 0.08);
  CHECK(fwd->held_after.mape <= 0.12);
  CHECK(bwd->fitted_after.mape <= 0.08);
  CHECK(bwd->held_after.mape <= 0.12);
}

TEST_CASE("without forward-only rows forward and backward share one fit", "[validate][calibrate]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const validate::CalibrationResult fit =
      validate::calibrate(a100_rows({"fa2_a100_fwd_bwd.csv"}), catalog, kHoldout);
  REQUIRE(fit.groups.size() == 1);
  CHECK(fit.groups[0].keys == std::vector<std::string>{"fa2", "fa2_bwd"});
  const auto& schedules = fit.profiles.at(0).calibration.schedules;
  CHECK(schedules.at("fa2").mma_fraction == schedules.at("fa2_bwd").mma_fraction);
}

TEST_CASE("a schedule that lowers its own scans fits one entry for both passes, no _bwd",
          "[validate][calibrate]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const validate::CalibrationResult fit = validate::calibrate(
      rows_of({"gla_h200_chunk.csv"}, "h200-sxm-141gb", "fla"), catalog, kHoldout);
  REQUIRE(fit.groups.size() == 1);
  CHECK(fit.groups[0].keys == std::vector<std::string>{"fla_chunk"});
  const auto& schedules = fit.profiles.at(0).calibration.schedules;
  CHECK(schedules.count("fla_chunk") == 1);
  CHECK(schedules.count("fla_chunk_bwd") == 0);
}

TEST_CASE(
    "the rows of NSA's compressed branch with its scores and top-k fit the score kernel's entry "
    "alone, from the compressed kernels' entry where the profile has none",
    "[validate][calibrate]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  std::vector<validate::MeasuredCase> rows =
      rows_of({"nsa_triton_compressed.csv"}, "h100-sxm5-80gb", "nsa-compressed-topk");
  REQUIRE(rows.size() == 7);
  // The chain's rows alone fit that entry and leave the device's fixed costs alone.
  const validate::CalibrationResult fit = validate::calibrate(rows, catalog, kHoldout);
  REQUIRE(fit.groups.size() == 1);
  CHECK(fit.groups[0].keys == std::vector<std::string>{"nsa_triton_scores"});
  CHECK(fit.fixed_costs.empty());
  const auto& builtin = catalog.resolve("h100").calibration.schedules;
  CHECK(fit.groups[0].fitted_after.mape <= fit.groups[0].fitted_before.mape);
  // With the branch's own rows: the compressed entry and the fixed costs come out as the branch's
  // rows alone give them.
  const std::vector<validate::MeasuredCase> branch =
      rows_of({"nsa_triton_compressed.csv"}, "h100-sxm5-80gb", "nsa-compressed");
  std::vector<validate::MeasuredCase> both = branch;
  both.insert(both.end(), rows.begin(), rows.end());
  const validate::CalibrationResult alone = validate::calibrate(branch, catalog, kHoldout);
  const validate::CalibrationResult together = validate::calibrate(both, catalog, kHoldout);
  const auto& a = alone.profiles.at(0).calibration;
  const auto& t = together.profiles.at(0).calibration;
  for (const char* key : {"nsa_triton_compressed", "nsa_triton_compressed_bwd"}) {
    INFO(key);
    CHECK(t.schedules.at(key).mma_fraction == a.schedules.at(key).mma_fraction);
    CHECK(t.schedules.at(key).cta_overhead_cycles == a.schedules.at(key).cta_overhead_cycles);
  }
  CHECK(t.kernel_launch_s == a.kernel_launch_s);
  CHECK(t.triton_jit_s == a.triton_jit_s);
  CHECK(t.caller_floor_s == a.caller_floor_s);
  // A profile without the entry starts the fit from the compressed kernels' forward entry.
  hw::Profile bare = catalog.resolve("h100");
  bare.calibration.schedules.erase("nsa_triton_scores");
  bare.id = "h100-no-scores";
  bare.aliases.clear();
  for (validate::MeasuredCase& c : rows) c.hw = bare.id;
  hw::ProfileCatalog with_bare = hw::ProfileCatalog::load({});
  with_bare.insert(bare);
  const validate::CalibrationResult from_bare = validate::calibrate(rows, with_bare, kHoldout);
  REQUIRE(from_bare.groups.size() == 1);
  CHECK(from_bare.groups[0].before.mma_fraction ==
        builtin.at("nsa_triton_compressed").mma_fraction);
  CHECK(from_bare.profiles.at(0).calibration.schedules.count("nsa_triton_scores") == 1);
  // With only a held-out row nothing is fitted, and nothing is written: the kernel keeps the
  // compressed kernels' entry.
  std::vector<validate::MeasuredCase> held;
  for (const validate::MeasuredCase& c : rows) {
    if (validate::is_held_out(c, kHoldout)) held.push_back(c);
  }
  REQUIRE(held.size() == 1);
  const validate::CalibrationResult none = validate::calibrate(held, with_bare, kHoldout);
  CHECK(none.profiles.at(0).calibration.schedules.count("nsa_triton_scores") == 0);
}

TEST_CASE("the built-in A100 fa2 entries price the GQA 64/4 batch-1 forward within 8%",
          "[validate][measured]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  for (const validate::MeasuredCase& c : a100_rows({"nsa_repo_flash_gqa.csv"})) {
    if (c.pass != "fwd") continue;
    INFO(c.workload.kv_len);
    CHECK(std::fabs(validate::evaluate_case(c, catalog.resolve(c.hw)).tile_error()) <= 0.08);
  }
}

TEST_CASE(
    "a calibration keeping the fixed costs fits the kernel entries, not the launch and floors",
    "[validate][calibrate]") {
  // GB300's rows priced from GB200's fa4 and cudnn entries (where the shipped GB300 fit started).
  hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  hw::Profile start = catalog.resolve("gb300");
  for (const char* key : {"fa4", "cudnn"}) {
    start.calibration.schedules.at(key) = catalog.resolve("gb200").calibration.schedules.at(key);
  }
  start.id = "gb300-from-gb200";
  start.aliases.clear();
  catalog.insert(start);
  std::vector<validate::MeasuredCase> rows = rows_of({"gb300_fa4_cudnn_fwd.csv"}, "gb300", "fa4");
  const std::vector<validate::MeasuredCase> cudnn =
      rows_of({"gb300_fa4_cudnn_fwd.csv"}, "gb300", "cudnn");
  rows.insert(rows.end(), cudnn.begin(), cudnn.end());
  REQUIRE(rows.size() == 29);
  for (validate::MeasuredCase& c : rows) c.hw = start.id;
  const validate::CalibrationResult kept =
      validate::calibrate(rows, catalog, kHoldout, validate::FixedCosts::keep);
  CHECK(kept.fixed_costs.empty());
  REQUIRE(kept.profiles.size() == 1);
  const hw::Calibration& k = kept.profiles[0].calibration;
  CHECK(k.kernel_launch_s == start.calibration.kernel_launch_s);
  CHECK(k.caller_floor_s == start.calibration.caller_floor_s);
  CHECK(k.triton_jit_s == start.calibration.triton_jit_s);
  // Each kernel's entry moves and its fitted error drops by more than a point.
  REQUIRE(kept.groups.size() == 2);
  for (const validate::FitGroup& g : kept.groups) {
    INFO(g.schedule);
    // A chain term is fitted where the start entry has one (GB200's cudnn: the chain moves) and
    // never added (GB200's fa4 has none: its overlap moves instead).
    CHECK(g.after.chain_cycles.has_value() == g.before.chain_cycles.has_value());
    CHECK(g.before.chain_cycles.has_value() == (g.schedule == "cudnn"));
    if (g.schedule == "cudnn") {
      CHECK(g.after.chain_cycles != g.before.chain_cycles);
    } else {
      CHECK(g.after.softmax_overlap != g.before.softmax_overlap);
    }
    CHECK(g.fitted_after.mape < g.fitted_before.mape - 0.01);
  }
  // The default fits the device's fixed costs first, and on these rows of one harness moves the
  // launch cost by microseconds (5 to about 10): why the shipped entries kept them.
  const validate::CalibrationResult fitted = validate::calibrate(rows, catalog, kHoldout);
  REQUIRE(fitted.fixed_costs.size() == 1);
  CHECK(std::fabs(fitted.fixed_costs[0].launch_after_s - fitted.fixed_costs[0].launch_before_s) >
        1e-6);
}

TEST_CASE(
    "GB300's hd-128 cuDNN row, held back from a fit on hd-64 rows, is within 20 % with the "
    "entry's dependency chain",
    "[validate][measured]") {
  // Under the overlap rule alone (the entry shipped before chain_cycles) this row was 33 % slow.
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const hw::Profile& gb300 = catalog.resolve("gb300");
  REQUIRE(gb300.calibration.schedules.at("cudnn").chain_cycles.has_value());
  int hd128 = 0;
  for (const validate::MeasuredCase& c : rows_of({"gb300_fa4_cudnn_fwd.csv"}, "gb300", "cudnn")) {
    if (c.row_head_dim != 128) continue;
    ++hd128;
    CHECK(validate::is_held_out(c, kHoldout));
    CHECK(std::fabs(validate::evaluate_case(c, gb300).tile_error()) <= 0.2);
  }
  CHECK(hd128 == 1);
}
