// Launches timed apart: a CUDA report row's "launches" (the unfused and split_kv cases' kernels,
// each timed in extra runs) are compared with the tile engine's launch of the same name, in every
// format; read back by --recorded, with bad input refused.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/validate_helpers.hpp"

namespace {

using nlohmann::json;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;

constexpr const char* kUnfusedCase = "unfused-b2-g2-1500-d128";

std::string holdout_report() {
  return test_support::results_path("2026-11-30-h200-run4-cuda-holdout.json");
}

// The committed holdout run with launch timings added to its unfused case (made-up times: the
// run predates per-launch timing).
json holdout_with_launches(const json& launches) {
  std::ifstream in(holdout_report());
  json doc = json::parse(in);
  for (json& c : doc["cases"]) {
    if (c["case"] == kUnfusedCase) c["launches"] = launches;
  }
  return doc;
}

const json kLaunches = json::array({{{"name", "scores_gemm"}, {"samples_s", {30e-6, 32e-6}}},
                                    {{"name", "softmax_kernel"}, {"samples_s", {80e-6}}},
                                    {{"name", "pv_gemm"}, {"samples_s", {60e-6}}},
                                    {{"name", "no_such_launch"}, {"samples_s", {1e-6}}}});

// The tile engine's launches for the unfused case's shape, as `attnsim query` prices them, by the
// kernel's own launch name (a launch's `name` is the op's, the same for all three).
std::map<std::string, double> queried_launches() {
  const RunResult r = run_cli({"query",     "--variant",  "gqa",     "--kernel", "project_unfused",
                               "--hw",      "h200",       "--heads", "4",        "--kv-heads",
                               "2",         "--head-dim", "128",     "--batch",  "2",
                               "--seq-len", "1500",       "--phase", "prefill",  "--dtype",
                               "fp16",      "--format",   "json"});
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  std::map<std::string, double> times;
  for (const json& l : doc["results"][0]["launches"])
    times[l["launch"]] = l["time_s"].get<double>() * l["count"].get<double>();
  return times;
}

}  // namespace

TEST_CASE("validate --recorded prices each launch timed apart as the model's launch of its name",
          "[cli][validate][recorded][launches]") {
  TempDir dir;
  const auto report = dir.path() / "launches.json";
  write_file(report, holdout_with_launches(kLaunches).dump());
  const RunResult r = run_cli({"validate", "--recorded", report.string(), "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::map<std::string, double> model = queried_launches();
  REQUIRE(model.size() == 3);
  for (const json& c : json::parse(r.out)["cases"]) {
    if (c["case"] != kUnfusedCase) {
      CHECK_FALSE(c.contains("launches"));
      continue;
    }
    REQUIRE(c["launches"].size() == 4);
    double sum = 0;
    for (const json& l : c["launches"]) {
      INFO(l["name"]);
      if (l["name"] == "no_such_launch") {
        CHECK(l["tile_s"].is_null());  // no launch of that name in the model
        continue;
      }
      const double tile = l["tile_s"].get<double>(), measured = l["measured_s"].get<double>();
      CHECK(tile == Approx(model.at(l["name"])).epsilon(1e-12));
      CHECK(l["tile_error"].get<double>() == Approx((tile - measured) / measured));
      sum += tile;
    }
    CHECK(c["launches"][0]["measured_s"].get<double>() == Approx(31e-6));  // the median
    CHECK(sum == Approx(c["tile_s"].get<double>()).epsilon(1e-9));  // a direct call: no floor
  }
}

TEST_CASE("validate prints the launches timed apart in the table and as CSV columns",
          "[cli][validate][recorded][launches]") {
  TempDir dir;
  const auto report = dir.path() / "launches.json";
  write_file(report, holdout_with_launches(kLaunches).dump());
  const RunResult table = run_cli({"validate", "--recorded", report.string()});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("launches timed apart"));
  CHECK_THAT(table.out, Catch::Matches("(.|\n)*unfused-b2-g2-1500-d128 +pv_gemm +60 us(.|\n)*"));
  const RunResult csv = run_cli({"validate", "--recorded", report.string(), "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  const std::string header = csv.out.substr(0, csv.out.find('\n'));
  CHECK_THAT(header, Catch::Contains("launch_softmax_kernel_measured_s"));
  CHECK_THAT(header, Catch::Contains("launch_softmax_kernel_tile_s"));
  CHECK_THAT(header, Catch::Contains("launch_softmax_kernel_tile_error"));
  // A report without launch timings prints no such section.
  const RunResult plain = run_cli({"validate", "--recorded", holdout_report()});
  REQUIRE(plain.exit_code == 0);
  CHECK_THAT(plain.out, !Catch::Contains("launches timed apart"));
}

TEST_CASE("validate --recorded: malformed launch timings are bad input, one line, exit 2",
          "[cli][validate][recorded][launches][bad-input]") {
  TempDir dir;
  const auto report = dir.path() / "bad.json";
  const auto out = dir.path() / "out.json";
  auto refused = [&](const json& launches, const std::string& says) {
    write_file(report, holdout_with_launches(launches).dump());
    const RunResult r = run_cli({"validate", "--recorded", report.string(), "-o", out.string()});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(says));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(std::filesystem::exists(out));
  };
  refused(5, "\"launches\" must be an array");
  refused(json::array({{{"name", "pv_gemm"}}}), "no \"samples_s\"");
  refused(json::array({{{"samples_s", {1e-6}}}}), "no \"name\"");
  refused(json::array({{{"name", "pv_gemm"}, {"samples_s", json::array()}}}),
          "'pv_gemm': \"samples_s\" must be a non-empty array of times; allowed: from 1 ns");
  refused(json::array({{{"name", "pv_gemm"}, {"samples_s", {-1.0}}}}), "from 1 ns");
  refused(json::array({{{"name", "pv_gemm"}, {"samples_s", {1e300}}}}), "to 3600 s (one hour");
}

TEST_CASE(
    "validate --recorded: a launch name that is not an identifier, or appears twice, is "
    "refused",
    "[cli][validate][recorded][launches][bad-input]") {
  TempDir dir;
  const auto report = dir.path() / "names.json";
  auto refused = [&](const json& launches, const std::string& says) {
    write_file(report, holdout_with_launches(launches).dump());
    const RunResult r = run_cli({"validate", "--recorded", report.string(), "--format", "csv"});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(says));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  };
  refused(json::array({{{"name", "x,y"}, {"samples_s", {1e-6}}}}),
          "\"x,y\": a launch name is letters, digits and underscores");
  refused(json::array({{{"name", "a\nb"}, {"samples_s", {1e-6}}}}), "\"a\\nb\"");
  refused(json::array({{{"name", "pv_gemm"}, {"samples_s", {1e-6}}},
                       {{"name", "pv_gemm"}, {"samples_s", {2e-6}}}}),
          "'pv_gemm' appears twice");
}
