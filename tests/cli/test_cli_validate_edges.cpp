// `attnsim validate` at its edges: --strict and a CSV's unknown column, and kernel runs whose
// timer read an impossible time.
#include <algorithm>
#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "cli/validate_backends.hpp"
#include "cli/validate_report.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/validate_helpers.hpp"
#include "validate/cpu/cpu_suite.hpp"

namespace {

using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;

// A run of the check suite's first case, as the CPU or CUDA runner returns it, with `samples`
// as the timer read them.
validate::CaseRun run_with(const std::vector<double>& samples) {
  validate::CaseRun run;
  run.spec = validate::find_suite("check").cases.at(0);
  run.samples_s = samples;
  run.median_s = validate::median(samples);
  run.max_relative_error = 1e-6;
  run.correct = true;
  return run;
}

void check_one_line_exit_2(const RunResult& r) {
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("attnsim: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

}  // namespace

TEST_CASE(
    "validate --strict refuses a CSV's unknown column: exit 2, one line, no report; a warning "
    "without it",
    "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  const auto out = dir.path() / "out.json";
  std::string header = test_support::kMeasuredHeader, row = test_support::kFa3Row;
  header.replace(header.find("source\n"), 7, "source,windw\n");
  row.replace(row.find("Fig.5\n"), 6, "Fig.5,512\n");
  write_file(csv, header + row);
  const RunResult strict =
      run_cli({"validate", "--measurements", csv.string(), "--strict", "-o", out.string()});
  INFO(strict.err);
  check_one_line_exit_2(strict);
  CHECK_THAT(strict.err, Catch::Contains("m.csv:1") &&
                             Catch::Contains("unknown column 'windw' refused under --strict"));
  CHECK_FALSE(std::filesystem::exists(out));
  const RunResult lenient =
      run_cli({"validate", "--measurements", csv.string(), "-o", out.string()});
  CHECK(lenient.exit_code == 0);
  CHECK_THAT(lenient.err,
             Catch::Contains("warning: ") && Catch::Contains("unknown column 'windw' ignored"));
  CHECK(std::filesystem::exists(out));
}

TEST_CASE(
    "a kernel run whose timer read zero, a negative, non-finite or sub-ns time is a failed case "
    "naming the sample, not a row",
    "[cli][validate]") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  struct Bad {
    std::vector<double> samples;
    std::string says;
  };
  const std::vector<Bad> bad = {
      {{2e-3, 0.0, 1e-3}, "1 of 3 samples"},  {{-1e-6}, "sample 1: -1e-06 s"},
      {{1e-3, 1e-3, nan}, "sample 3: nan s"}, {{inf, 1e-3}, "sample 1: inf s"},
      {{1e-12, 1e-12}, "2 of 2 samples"},     {{}, "no timed run"}};
  for (const Bad& b : bad) {
    INFO(b.says);
    cli::Acquired in;
    cli::add_runs({run_with(b.samples)}, "h200", test_support::registry(), validate::Backend::cuda,
                  in);
    CHECK(in.cases.empty());  // not compared: no division by about zero
    REQUIRE(in.failed.size() == 1);
    const std::string error = in.failed[0]["error"].get<std::string>();
    CHECK_THAT(error, Catch::Contains("invalid timing, not compared: case: ") &&
                          Catch::Contains(b.says) && Catch::Contains("(output correct)"));
    CHECK(in.failed[0]["samples_s"].size() == b.samples.size());  // kept, not dropped
    // The report then fails (exit 1) naming the case.
    cli::ValidateJson doc = {{"cases", cli::ValidateJson::array()},
                             {"skipped", cli::ValidateJson::array()},
                             {"failed", in.failed},
                             {"summary", cli::ValidateJson::object()}};
    cli::add_counts(doc);
    CHECK(doc["summary"]["incorrect_cases"] == 1);
    CHECK_THROWS_AS(cli::check_outcome(doc), std::runtime_error);
  }
  // A launch timed apart with an impossible sample fails its case too, naming the launch.
  validate::CaseRun launches = run_with({1e-3, 1e-3});
  launches.launches = {{"pv_gemm", {5e-4, 5e-4}}, {"softmax_kernel", {0.0, 4e-4}}};
  cli::Acquired in;
  cli::add_runs({launches}, "h200", test_support::registry(), validate::Backend::cuda, in);
  CHECK(in.cases.empty());
  REQUIRE(in.failed.size() == 1);
  CHECK_THAT(
      in.failed[0]["error"].get<std::string>(),
      Catch::Contains("launch 'softmax_kernel': 1 of 2 samples") && !Catch::Contains("pv_gemm"));
  // Times of at least 1 ns are rows, as before.
  cli::Acquired good;
  cli::add_runs({run_with({1e-9, 2e-3})}, "h200", test_support::registry(), validate::Backend::cuda,
                good);
  CHECK(good.failed.empty());
  REQUIRE(good.cases.size() == 1);
  CHECK(good.cases[0].measured_s == Approx(0.5 * (1e-9 + 2e-3)));
}

TEST_CASE(
    "validate says its warnings before the error that ends the run: every row skipped, or a later "
    "file's bad row",
    "[cli][validate]") {
  TempDir dir;
  std::string header = test_support::kMeasuredHeader;
  header.replace(header.find("source\n"), 7, "source,windw\n");
  // Causal with seq_kv < seq_q: the model cannot build it, so the row is skipped.
  const auto skipped = dir.path() / "skipped.csv";
  write_file(skipped, header + "h100-sxm5-80gb,fa3,fwd,fp16,1,8,8,128,512,256,1,0.1,x,512\n");
  const RunResult all_skipped = run_cli({"validate", "--measurements", skipped.string()});
  CHECK(all_skipped.exit_code == 2);
  CHECK_THAT(all_skipped.err,
             Catch::Contains("attnsim: warning: " + skipped.string() +
                             ":1: unknown column 'windw' ignored") &&
                 Catch::Contains("attnsim: error: no measurement row left to compare"));
  CHECK(all_skipped.err.find("warning: row skipped") == std::string::npos);  // the error names it

  std::string row = test_support::kFa3Row;
  row.replace(row.find("Fig.5\n"), 6, "Fig.5,512\n");
  const auto good = dir.path() / "good.csv";
  write_file(good, header + row);
  const auto bad = dir.path() / "bad.csv";
  const std::string fa3_row = test_support::kFa3Row;
  write_file(bad, std::string(test_support::kMeasuredHeader) + "nowhere-gpu" +
                      fa3_row.substr(fa3_row.find(',')));
  const RunResult later =
      run_cli({"validate", "--measurements", good.string(), "--measurements", bad.string()});
  CHECK(later.exit_code == 2);
  CHECK_THAT(later.err, Catch::Contains(good.string() + ":1: unknown column 'windw' ignored") &&
                            Catch::Contains("attnsim: error: " + bad.string() + ":2"));
}

TEST_CASE(
    "validate says a file's own warnings and skipped rows before the error of a malformed row "
    "later in that file",
    "[cli][validate]") {
  TempDir dir;
  std::string header = test_support::kMeasuredHeader;
  header.replace(header.find("source\n"), 7, "source,windw\n");
  const auto csv = dir.path() / "late-error.csv";
  // Line 2 is skipped (causal with seq_kv < seq_q), line 3 names an unknown kernel, line 4's
  // batch is not a number: the run ends there.
  write_file(csv, header + "h100-sxm5-80gb,fa3,fwd,fp16,1,8,8,128,512,256,1,0.1,x,512\n" +
                      "h100-sxm5-80gb,my-kernel,fwd,fp16,1,8,8,128,512,512,1,0.1,x,512\n" +
                      "h100-sxm5-80gb,fa3,fwd,fp16,x,8,8,128,512,512,1,0.1,x,512\n");
  const RunResult r = run_cli({"validate", "--measurements", csv.string()});
  CHECK(r.exit_code == 2);
  const std::string file = csv.string();
  const std::size_t error = r.err.find("attnsim: error: " + file + ":4: column 'batch'");
  REQUIRE(error != std::string::npos);
  for (const std::string& warning :
       {"attnsim: warning: " + file + ":1: unknown column 'windw' ignored",
        "attnsim: warning: " + file + ":3: unknown kernel 'my-kernel'",
        "attnsim: warning: row skipped: " + file + ":2: causal attention needs seq_kv >= seq_q"}) {
    INFO(warning);
    const std::size_t at = r.err.find(warning);
    CHECK(at != std::string::npos);
    CHECK(at < error);
  }
}
