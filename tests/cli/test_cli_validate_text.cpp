// `attnsim validate` as text (cli/validate_text.cpp): the table's layout and the CSV's summary,
// which say what the JSON report says.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/support/cli_runner.hpp"
#include "tests/support/validate_helpers.hpp"

namespace {

using nlohmann::json;
using test_support::measured_csv_path;
using test_support::run_cli;
using test_support::RunResult;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

bool has_line(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

}  // namespace

TEST_CASE("validate --format csv carries the summary, groups and calibration as # lines",
          "[cli][validate][csv-summary]") {
  const std::string file = measured_csv_path("fa3_h100_fwd.csv");
  const RunResult csv =
      run_cli({"validate", "--measurements", file, "--calibrate", "--format", "csv"});
  const RunResult js =
      run_cli({"validate", "--measurements", file, "--calibrate", "--format", "json"});
  INFO(csv.err);
  REQUIRE(csv.exit_code == 0);
  REQUIRE(js.exit_code == 0);
  const json doc = json::parse(js.out);
  const std::vector<std::string> lines = lines_of(csv.out);
  CHECK(has_line(lines, "# summary"));
  CHECK(has_line(lines, "# engine,part,cases,mape,median_abs,max_abs"));
  const json& all = doc["summary"]["tile"]["all"];
  CHECK(has_line(lines, fmt::format("# tile,all,{},{},{},{}", all["cases"].get<int>(),
                                    all["mape"].get<double>(), all["median_abs"].get<double>(),
                                    all["max_abs"].get<double>())));
  CHECK(has_line(lines, "# groups"));
  const json& g = doc["summary"]["groups"][0];
  CHECK_THAT(csv.out,
             Catch::Contains(fmt::format("# {},{},{},{},", g["hw"].get<std::string>(),
                                         g["kernel"].get<std::string>(),
                                         g["schedule"].get<std::string>(), g["rows"].get<int>())));
  CHECK(has_line(lines, "# calibration"));
  CHECK_THAT(csv.out, Catch::Contains("# hw,schedule,keys,before_"));
  CHECK(has_line(lines, "# fixed_costs"));
  // Every line after the rows is a comment: a reader skipping '#' lines sees only the rows.
  const auto first_comment = std::find_if(
      lines.begin(), lines.end(), [](const std::string& l) { return l.rfind('#', 0) == 0; });
  CHECK(std::all_of(first_comment, lines.end(),
                    [](const std::string& l) { return l.rfind("# ", 0) == 0; }));
  CHECK(std::distance(lines.begin(), first_comment) ==
        1 + static_cast<std::ptrdiff_t>(doc["cases"].size()));
}
