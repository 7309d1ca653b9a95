// `attnsim validate --recorded REPORT.json`: an earlier CUDA run's cases compared again with
// today's model, found by name in the report's suite; bad input is one line and exit 2.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using nlohmann::json;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;

std::string recorded(const std::string& file) {
  return std::string(ATTNSIM_SOURCE_DIR) + "/validate/results/" + file;
}

json load(const std::string& path) {
  std::ifstream in(path);
  return json::parse(in);
}

}  // namespace

TEST_CASE("validate --recorded re-prices a CUDA report's cases with the times it recorded",
          "[cli][validate][recorded]") {
  TempDir dir;
  const std::string report = recorded("2026-11-30-h200-run1-cuda-quick.json");
  const auto out = dir.path() / "again.json";
  const RunResult r =
      run_cli({"validate", "--recorded", report, "--format", "json", "-o", out.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json before = load(report), again = load(out.string());
  CHECK(again["device"]["recorded"] == report);
  CHECK(again["device"]["device"] == "NVIDIA H200");
  REQUIRE(again["cases"].size() == before["cases"].size());
  std::map<std::string, double> measured;
  for (const json& c : before["cases"]) measured[c["case"]] = c["measured_s"];
  for (const json& c : again["cases"]) {
    INFO(c["case"]);
    CHECK(c["measured_s"].get<double>() == measured.at(c["case"]));
    CHECK(c["correct"].get<bool>());
    CHECK(c.contains("samples_s"));
  }
  // Recorded before the latency model (47.6 % then); today's model re-prices the same times.
  CHECK(before["summary"]["tile"]["all"]["mape"].get<double>() > 0.4);
  CHECK(again["summary"]["tile"]["all"]["mape"].get<double>() <= 0.15);
  CHECK(again["summary"]["groups"].size() == 4);  // one per kernel run
}

TEST_CASE("validate --recorded --calibrate fits the project entries without a GPU",
          "[cli][validate][recorded]") {
  const RunResult r =
      run_cli({"validate", "--recorded", recorded("2026-11-30-h200-run4-cuda-quick.json"),
               "--calibrate", "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  std::map<std::string, double> after;
  for (const json& g : doc["calibration"]) {
    CHECK(g["hw"] == "h200-sxm-141gb");
    after[g["schedule"]] = g["fitted_rows_after"]["mape"];
    CHECK(g["fitted_rows_after"]["mape"].get<double>() <=
          g["fitted_rows_before"]["mape"].get<double>());
  }
  CHECK(after.size() == 4);
}

TEST_CASE("validate --recorded: bad input is one line, exit 2, and no output file",
          "[cli][validate][recorded][bad-input]") {
  TempDir dir;
  const auto out = dir.path() / "out.json";
  const std::string holdout = recorded("2026-11-30-h200-run4-cuda-holdout.json");
  auto refused = [&](std::vector<std::string> args, const std::string& says) {
    args.insert(args.end(), {"-o", out.string()});
    const RunResult r = run_cli(args);
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(says));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(std::filesystem::exists(out));
  };
  refused({"validate", "--recorded", recorded("2026-11-28-cpu-quick-calibrated.json")},
          "only CUDA reports are compared again");
  refused({"validate", "--recorded", holdout, "--suite", "quick"},
          "case 'flash-gqa-b2-h6-1536-d64' is not in suite 'quick'");
  refused({"validate", "--recorded", holdout, "--backend", "cpu"},
          "it takes no --backend, --measurements or --check");
  refused({"validate", "--recorded", (dir.path() / "missing.json").string()},
          "cannot open the file");
  const auto broken = dir.path() / "broken.json";
  write_file(broken, "{\"device\": {\"backend\": \"cuda\"");
  refused({"validate", "--recorded", broken.string()}, "broken.json");
  const auto no_suite = dir.path() / "no_suite.json";
  write_file(no_suite, R"({"device": {"backend": "cuda", "profile": "h200"}, "cases": []})");
  refused({"validate", "--recorded", no_suite.string()}, "no \"suite\"");
  refused({"validate", "--recorded", holdout, "--profile", "h999"}, "h999");
}
