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
#include "tests/support/temp_dir.hpp"
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

TEST_CASE(
    "validate's table sizes its columns to their longest cell, shows a row's window and dv, and "
    "rounds a fitted entry for reading",
    "[cli][validate][table-layout]") {
  test_support::TempDir dir;
  const auto csv = dir.path() / "m.csv";
  test_support::write_file(
      csv,
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,window,"
      "v_head_dim,time_ms,source\n"
      "h100-sxm5-80gb,FlashAttention-3,fwd,fp16,16,32,32,64,1024,1024,0,,,0.3506,x\n"
      "h100-sxm5-80gb,fa2,fwd,fp16,16,32,32,64,2048,2048,0,,,1.2,x\n"
      "h100-sxm5-80gb,fa2,fwd,fp16,4,32,32,128,4096,4096,1,512,128,0.9,x\n");
  const RunResult r = run_cli({"validate", "--measurements", csv.string(), "--calibrate"});
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> lines = lines_of(r.out);
  // The case table: each row's pass cell starts where the header's does.
  const std::size_t pass_at = lines[0].find(" pass ") + 1;
  for (std::size_t i = 1; i <= 3; ++i) CHECK(lines[i].substr(pass_at, 4) == "fwd ");
  CHECK_THAT(lines[3], Catch::Contains("(window 512)") && Catch::Contains("(dv 128)"));
  CHECK_THAT(lines[2], !Catch::Contains("(window") && !Catch::Contains("(dv"));
  // The group table: each row's count ends where the header's "rows" does.
  const auto header = std::find_if(lines.begin(), lines.end(),
                                   [](const std::string& l) { return l.rfind("device ", 0) == 0; });
  REQUIRE(header != lines.end());
  const std::size_t rows_end = header->find(" rows ") + 5;
  for (auto it = header + 1; it != lines.end() && it->rfind("h100", 0) == 0; ++it) {
    INFO(*it);
    CHECK(it->at(rows_end - 1) != ' ');
    CHECK(it->at(rows_end) == ' ');
  }
  // A fitted entry reads to 6 significant digits, never a float's 17.
  for (const std::string& l : lines) {
    if (l.rfind("calibrated ", 0) != 0) continue;
    INFO(l);
    CHECK_THAT(l, !Catch::Contains("{") && !Catch::Matches(".*[0-9]\\.[0-9]{7,}.*"));
  }
}
