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
#include "tests/support/validate_helpers.hpp"

namespace {

using nlohmann::json;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;

std::string recorded(const std::string& file) {
  return test_support::results_path(file);
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

TEST_CASE("validate --recorded refuses a case whose recorded shape is not its suite case's today",
          "[cli][validate][recorded]") {
  TempDir dir;
  json doc = load(recorded("2026-11-30-h200-run4-cuda-holdout.json"));
  doc["cases"][0]["head_dim"] = 128;  // flash-gqa-b2-h6-1536-d64
  const auto edited = dir.path() / "edited.json";
  write_file(edited, doc.dump());
  const RunResult r = run_cli({"validate", "--recorded", edited.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("case 'flash-gqa-b2-h6-1536-d64': head_dim 128 in the report "
                                    "but 64 in the suite today"));
}

TEST_CASE(
    "validate --recorded reads a NaN case's null error back as not correct, and keeps the "
    "recorded failures",
    "[cli][validate][recorded]") {
  TempDir dir;
  json doc = load(recorded("2026-11-30-h200-run4-cuda-quick.json"));
  doc["cases"][0]["max_relative_error"] = nullptr;  // how an infinite error is written
  doc["cases"][0]["correct"] = false;
  doc["failed"] = json::array({{{"case", "ceilings"}, {"error", "out of memory"}}});
  const auto nan = dir.path() / "nan.json";
  write_file(nan, doc.dump());
  const auto out = dir.path() / "out.json";
  const RunResult r =
      run_cli({"validate", "--recorded", nan.string(), "--format", "json", "-o", out.string()});
  INFO(r.err);
  CHECK(r.exit_code == 1);  // as the recorded run: a case not correct, a failure
  const json again = load(out.string());
  CHECK(again["summary"]["incorrect_cases"] == 2);  // the case not correct and the failure
  CHECK_THAT(r.err, Catch::Contains("mha-causal-512-d64 (max relative error inf)"));
  CHECK(again["failed"][0]["case"] == "ceilings");
  // A null error on a case marked correct contradicts itself.
  doc["cases"][0]["correct"] = true;
  write_file(nan, doc.dump());
  const RunResult contradiction = run_cli({"validate", "--recorded", nan.string()});
  CHECK(contradiction.exit_code == 2);
  CHECK_THAT(contradiction.err, Catch::Contains("correct with no finite error"));
}

TEST_CASE("validate --recorded: no cases or malformed failures are bad input",
          "[cli][validate][recorded]") {
  TempDir dir;
  const json doc = load(recorded("2026-11-30-h200-run4-cuda-quick.json"));
  auto refused = [&](json edited, const std::string& says) {
    const auto file = dir.path() / "edited.json";
    write_file(file, edited.dump());
    const RunResult r = run_cli({"validate", "--recorded", file.string()});
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(says));
  };
  json empty = doc;
  empty["cases"] = json::array();
  refused(empty, "\"cases\" must be an array with a case, or \"failed\" a failure");
  json twice = doc;
  twice["cases"].push_back(doc["cases"][0]);
  refused(twice, "case 'mha-causal-512-d64' appears twice");
  json not_array = doc;
  not_array["failed"] = 5;
  refused(not_array, "\"failed\" must be an array");
  json no_error = doc;
  no_error["failed"] = json::array({{{"case", "x"}}});
  refused(no_error, "no \"error\"");
}

TEST_CASE("validate --recorded refuses a measured_s below 1 ns or above one hour, as a CSV time",
          "[cli][validate][recorded]") {
  TempDir dir;
  const json doc = load(recorded("2026-11-30-h200-run4-cuda-quick.json"));
  const auto file = dir.path() / "edited.json";
  for (const double bad : {0.0, -1e-6, 1e-10, 3601.0, 1e300}) {
    INFO(bad);
    json edited = doc;
    edited["cases"][0]["measured_s"] = bad;
    write_file(file, edited.dump());
    const RunResult r = run_cli({"validate", "--recorded", file.string()});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("case 'mha-causal-512-d64': measured_s") &&
                          Catch::Contains("out of range; allowed: from 1 ns") &&
                          Catch::Contains("to 3600 s (one hour"));
  }
}

TEST_CASE(
    "validate --recorded refuses a case's samples_s that is empty or holds an impossible time",
    "[cli][validate][recorded]") {
  TempDir dir;
  const json doc = load(recorded("2026-11-30-h200-run4-cuda-quick.json"));
  const auto file = dir.path() / "edited.json";
  for (const json& bad : {json::array(), json({0.0, 1e-3}), json({1e-3, -1e-3}),
                          json({1e-3, 1e-12}), json({1e300})}) {
    INFO(bad.dump());
    json edited = doc;
    edited["cases"][0]["samples_s"] = bad;
    write_file(file, edited.dump());
    const RunResult r = run_cli({"validate", "--recorded", file.string()});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("case 'mha-causal-512-d64': \"samples_s\" must be a "
                                      "non-empty array of times; allowed: from 1 ns"));
  }
}

TEST_CASE("validate --recorded reads back a run whose every case failed, and fails as it did",
          "[cli][validate][recorded]") {
  TempDir dir;
  json doc = load(recorded("2026-11-30-h200-run4-cuda-quick.json"));
  doc["cases"] = json::array();
  doc["failed"] = json::array({{{"case", "mha-causal-512-d64"}, {"error", "launch failed"}}});
  const auto file = dir.path() / "all-failed.json";
  write_file(file, doc.dump());
  const RunResult r = run_cli({"validate", "--recorded", file.string()});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::Contains("mha-causal-512-d64 (launch failed)"));
}

TEST_CASE("validate --recorded refuses a measured_s that is not the median of its samples_s",
          "[cli][validate][recorded]") {
  TempDir dir;
  const json doc = load(recorded("2026-11-30-h200-run4-cuda-quick.json"));
  const auto file = dir.path() / "edited.json";
  json edited = doc;
  edited["cases"][0]["measured_s"] = 1e-3;  // in range, but not what the samples say
  write_file(file, edited.dump());
  const RunResult r = run_cli({"validate", "--recorded", file.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains(file.string()) &&
                        Catch::Contains("case 'mha-causal-512-d64': measured_s 0.001 s is not "
                                        "the median of its") &&
                        Catch::Contains("must be that median"));
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

TEST_CASE("validate --recorded loads every committed CUDA report (measured_s is its median)",
          "[cli][validate][recorded]") {
  int loaded = 0;
  for (const auto& entry : std::filesystem::directory_iterator(recorded(""))) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() != ".json" || name.find("-cuda-") == std::string::npos) continue;
    INFO(name);
    const RunResult r = run_cli({"validate", "--recorded", entry.path().string()});
    CHECK_THAT(r.err, !Catch::Contains("median"));
    CHECK(r.exit_code == 0);
    ++loaded;
  }
  CHECK(loaded >= 10);
}

TEST_CASE(
    "validate --recorded of a run with only failures gives the incorrect count in every format, "
    "and refuses a failure of a case its suite lacks",
    "[cli][validate][recorded]") {
  TempDir dir;
  json doc = load(recorded("2026-11-30-h200-run4-cuda-quick.json"));
  doc["cases"] = json::array();
  doc["failed"] = json::array({{{"case", "mha-causal-512-d64"}, {"error", "launch failed"}}});
  const auto file = dir.path() / "all-failed.json";
  write_file(file, doc.dump());
  const RunResult table = run_cli({"validate", "--recorded", file.string()});
  CHECK(table.exit_code == 1);
  CHECK_THAT(table.out, Catch::Contains("incorrect cases: 1\n"));
  const RunResult csv = run_cli({"validate", "--recorded", file.string(), "--format", "csv"});
  CHECK(csv.exit_code == 1);
  CHECK(csv.out.rfind("# rows,0\n", 0) == 0);  // no empty header line first
  CHECK_THAT(csv.out, Catch::Contains("# incorrect_cases,1\n"));

  doc["failed"][0]["case"] = "no-such-case";
  write_file(file, doc.dump());
  test_support::require_bad_input(run_cli({"validate", "--recorded", file.string()}),
                                  {"failed case 'no-such-case' is not in suite 'quick'"});
}

TEST_CASE("validate's CSV counts its rows and, apart, the rows compared (the table's all part)",
          "[cli][validate][recorded]") {
  // The quick suite's block-sparse case is checked for correctness only: a row, not compared.
  const RunResult r =
      run_cli({"validate", "--recorded", recorded("2026-11-30-h200-run4-cuda-quick.json"),
               "--format", "csv"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("\n# rows,20\n# compared_cases,19\n"));
}
