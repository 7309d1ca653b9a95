// attnsim query --measured TIME: a kernel's measured time against the floor of its work on the one
// device (the roofline at the datasheet peaks) and against the prediction; bad input is exit 2.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/flags.hpp"
#include "common/errors.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"

using test_support::run_cli;
using test_support::RunResult;
using test_support::with;
using json = nlohmann::json;

namespace {

const std::vector<std::string> kQuery = {"query", "--variant", "gqa", "--seq-len",
                                         "8k",    "--hw",      "h100"};

json result(const std::vector<std::string>& args) {
  const RunResult r = run_cli(with(args, {"--format", "json"}));
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out).at("results").at(0);
}

}  // namespace

TEST_CASE("a measured time reads with its unit, in seconds", "[cli][query][measured]") {
  CHECK(cli::parse_measured_time("--measured", "812us") == 812e-6);
  CHECK(cli::parse_measured_time("--measured", "1.2ms") == 1.2e-3);
  CHECK(cli::parse_measured_time("--measured", "950 ns") == 950e-9);
  CHECK(cli::parse_measured_time("--measured", "0.5s") == 0.5);
  CHECK(cli::parse_measured_time("--measured", "3\u00b5s") == 3e-6);
  CHECK(cli::parse_measured_time("--measured", "3\u03bcs") == 3e-6);  // the Greek mu
  CHECK(cli::parse_measured_time("--measured", " 1ms ") == 1e-3);
  for (const char* bad : {"1.1", "5xs", "-3us", "0us", "2h", "us", "4000s", "nanms"}) {
    INFO(bad);
    CHECK_THROWS_AS(cli::parse_measured_time("--measured", bad), common::SpecError);
  }
}

TEST_CASE(
    "query --measured gives the floor of the work (the roofline at the peaks, no launch cost), "
    "the share of it the kernel reaches and the prediction's error",
    "[cli][query][measured]") {
  // The roofline at the datasheet peaks, without the launch cost.
  const json floor = result(
      with(kQuery,
           {"--engine", "roofline", "--hw-set", "calibration.tensor_fraction=1", "--hw-set",
            "calibration.hbm_fraction=1", "--hw-set", "calibration.vector_fraction=1", "--hw-set",
            "calibration.exp_fraction=1", "--hw-set", "calibration.kernel_launch_us=0"}));
  const json tile = result(kQuery);
  const json m = result(with(kQuery, {"--measured", "1.1ms"})).at("measured");
  CHECK(m.at("time_s").get<double>() == Approx(1.1e-3));
  CHECK(m.at("floor_s").get<double>() == floor.at("time_s").get<double>());
  CHECK(m.at("floor_bound") == floor.at("bound"));
  CHECK(m.at("floor_fraction").get<double>() == Approx(floor.at("time_s").get<double>() / 1.1e-3));
  CHECK(m.at("prediction_error").get<double>() ==
        Approx((tile.at("time_s").get<double>() - 1.1e-3) / 1.1e-3));
  // Without the flag there is no member; the table says it on a line of its own, CSV in columns.
  CHECK_FALSE(tile.contains("measured"));
  const RunResult table = run_cli(with(kQuery, {"--measured", "1.1ms"}));
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("measured 1.1 ms: ") &&
                            Catch::Contains("x the floor of its work") &&
                            Catch::Contains("against the measurement"));
  CHECK(table.err.empty());
  const RunResult csv = run_cli(with(kQuery, {"--measured", "1.1ms", "--format", "csv"}));
  CHECK_THAT(csv.out, Catch::Contains("measured_time_s,measured_floor_s,measured_floor_bound,"
                                      "measured_floor_fraction,measured_prediction_error"));
  // A time below the floor is reported, with a warning to check what was measured.
  const RunResult below = run_cli(with(kQuery, {"--measured", "950ns"}));
  REQUIRE(below.exit_code == 0);
  CHECK_THAT(below.err, Catch::Contains("warning: the measured 950 ns is below the floor"));
}

TEST_CASE(
    "query --measured takes one device and one kernel call: several --hw, a model or a layout, "
    "and a time without a unit are bad input, with no output file",
    "[cli][query][measured]") {
  test_support::TempDir dir;
  const std::string out = (dir.path() / "q.json").string();
  for (const std::vector<std::string>& bad : {std::vector<std::string>{"--measured", "1.1"},
                                              {"--measured", "1ms", "--hw", "h100,b200"},
                                              {"--measured", "1ms", "--model", "llama-3.1-8b"},
                                              {"--measured", "1ms", "--tp", "2"}}) {
    INFO(bad[1] << (bad.size() > 2 ? " " + bad[2] : ""));
    std::vector<std::string> args = {"query", "--format", "json", "-o", out};
    args.insert(args.end(), bad.begin(), bad.end());
    const RunResult r = run_cli(args);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_THAT(r.err, Catch::Contains("--measured"));
    CHECK_FALSE(std::filesystem::exists(out));
  }
}
