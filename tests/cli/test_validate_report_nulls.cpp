// The validate report's values that do not exist: the error statistics of a part with no rows, and
// an error with no finite value. JSON writes them null; the table prints "-" and CSV an empty cell,
// never 0 % (an empty part has no error, not a perfect one) and never inf or a 300-digit number.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <limits>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "cli/validate_report.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"
#include "validate/compare.hpp"

namespace {

const char* kNullsCsvHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms,source\n";

// Two FA3 rows (FA3 paper Fig. 5) at kv lengths 2048 and 4096: none held out by default.
std::string nulls_fa3_rows() {
  return fmt::format("{}{}", kNullsCsvHeader,
                     "h100-sxm5-80gb,fa3,fwd,fp16,8,32,32,64,2048,2048,0,0.5976,FA3 paper\n"
                     "h100-sxm5-80gb,fa3,fwd,fp16,4,32,32,64,4096,4096,0,1.1549,FA3 paper\n");
}

// A report of one case, built as cmd_validate builds it.
cli::ValidateJson report_of(const std::vector<validate::CaseResult>& rows) {
  cli::ValidateJson doc = {{"cases", cli::ValidateJson::array()},
                           {"summary", cli::summaries(rows)},
                           {"calibration", cli::ValidateJson::array()},
                           {"skipped", cli::ValidateJson::array()}};
  for (const validate::CaseResult& r : rows) doc["cases"].push_back(cli::case_json(r));
  cli::add_counts(doc);
  return doc;
}

}  // namespace

TEST_CASE("validate: a part with no rows has null statistics, printed '-', not 0 % MAPE",
          "[cli][validate]") {
  test_support::TempDir dir;
  const auto csv = dir.path() / "fa3.csv";
  test_support::write_file(csv, nulls_fa3_rows());
  const std::vector<std::string> args = {"validate", "--measurements", csv.string(), "--calibrate"};

  std::vector<std::string> as_json = args;
  as_json.insert(as_json.end(), {"--format", "json"});
  const nlohmann::json doc = test_support::run_json(as_json);
  const nlohmann::json& held = doc["summary"]["tile"]["held_out_rows"];
  CHECK(held["cases"] == 0);
  CHECK(held["mape"].is_null());
  CHECK(held["median_abs"].is_null());
  CHECK(held["max_abs"].is_null());
  CHECK(doc["summary"]["tile"]["fitted_rows"]["mape"].is_number());
  REQUIRE(doc["calibration"].size() == 1);
  CHECK(doc["calibration"][0]["held_out_rows_before"]["mape"].is_null());
  CHECK(doc["calibration"][0]["held_out_rows_after"]["mape"].is_null());
  CHECK(doc["summary"]["groups"][0]["held_out_rows"]["mape"].is_null());

  const test_support::RunResult table = test_support::run_cli(args);
  INFO(table.out << table.err);
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains(
                            "held out       cases   0  MAPE       -  median       -  max       -"));
  CHECK_THAT(table.out, Catch::Contains("| held-out MAPE - -> -"));
  CHECK_THAT(table.out, !Catch::Contains("held-out MAPE 0.0%"));

  // Every row held out: no fitted rows.
  const test_support::RunResult held_all = test_support::run_cli(
      {"validate", "--measurements", csv.string(), "--holdout-seq", "2048", "4096"});
  CHECK_THAT(
      held_all.out,
      Catch::Contains("not held back  cases   0  MAPE       -  median       -  max       -"));
}

TEST_CASE(
    "validate: an error with no finite value is JSON null, '-' in the table and an empty "
    "CSV cell",
    "[cli][validate]") {
  // The reader refuses such times (below 1 ns); a report built from one still prints no inf.
  validate::MeasuredCase measured;
  measured.hw = "h100-sxm5-80gb";
  measured.kernel = measured.schedule = "fa3";
  measured.pass = "fwd";
  measured.file = "m.csv";
  measured.line = 2;
  measured.measured_s = 0;
  validate::CaseResult r;
  r.measured = &measured;
  r.tile_s = 1e-3;
  r.roofline_s = std::numeric_limits<double>::infinity();
  const cli::ValidateJson doc = report_of({r});
  const cli::ValidateJson& c = doc["cases"][0];
  CHECK(c["tile_error"].is_null());
  CHECK(c["roofline_s"].is_null());
  CHECK(c["roofline_error"].is_null());
  CHECK(doc["summary"]["tile"]["all"]["mape"].is_null());

  const std::string table = cli::render_validate(doc, cli::Format::table);
  CHECK_THAT(table, !Catch::Contains("inf") && !Catch::Contains("nan"));
  CHECK_THAT(table, Catch::Contains("m.csv:2") && Catch::Contains("       -"));
  const std::string csv = cli::render_validate(doc, cli::Format::csv);
  CHECK_THAT(csv, !Catch::Contains("inf") && !Catch::Contains("nan"));
  CHECK_THAT(csv, Catch::Contains(",0,0.001,,,\n"));  // measured, tile, then three nulls
}
