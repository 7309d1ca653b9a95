// validate --calibrate writes only entries the profile loader accepts (hw::is_calibration_key): a
// kernel without a backward of its own (lean here) has its backward rows priced with the device's
// default schedule, and a fit had written `lean_bwd`, which --hw-dir then refused.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"
#include "tests/support/file_helpers.hpp"
#include "tests/support/temp_dir.hpp"

using nlohmann::json;
using test_support::read_file;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;

namespace {

// Lean forward rows with backward (bwd, fwd+bwd) rows, none held out (2048 and 4096 keys).
const char* kLeanRows =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms,source\n"
    "a100-sxm4-80gb,lean,fwd,fp16,4,32,32,128,2048,2048,1,1.0,test\n"
    "a100-sxm4-80gb,lean,fwd,fp16,2,32,32,128,4096,4096,1,1.9,test\n"
    "a100-sxm4-80gb,lean,bwd,fp16,4,32,32,128,2048,2048,1,2.6,test\n"
    "a100-sxm4-80gb,lean,fwd+bwd,fp16,2,32,32,128,4096,4096,1,7.5,test\n";

// `validate --calibrate --keep-fixed-costs` over `csv`, the fitted profiles written to `fitted`:
// the JSON report of a run that must succeed.
json calibrate_keeping_fixed_costs(const std::filesystem::path& csv,
                                   const std::filesystem::path& fitted) {
  const RunResult r =
      run_cli({"validate", "--measurements", csv.string(), "--calibrate", "--keep-fixed-costs",
               "--write-profiles", fitted.string(), "--format", "json"});
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  return json::parse(r.out);
}

}  // namespace

TEST_CASE(
    "validate --calibrate never writes a _bwd entry the profile loader refuses: a kernel "
    "without its own backward leaves its backward rows unfitted, with a note",
    "[cli][validate][calibrate]") {
  TempDir dir;
  const auto csv = dir.path() / "lean.csv";
  write_file(csv, kLeanRows);
  const auto fitted = dir.path() / "fitted";
  const RunResult r = run_cli({"validate", "--measurements", csv.string(), "--calibrate",
                               "--write-profiles", fitted.string(), "--format", "json"});
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  REQUIRE(doc["calibration"].size() == 2);
  CHECK(doc["calibration"][0]["keys"] == json::array({"lean"}));
  CHECK_FALSE(doc["calibration"][0].contains("note"));
  const json& backward = doc["calibration"][1];
  CHECK(backward["keys"].empty());
  CHECK(backward["fitted_rows_after"]["cases"] == 2);
  CHECK_THAT(backward["note"].get<std::string>(),
             Catch::Contains("refuses lean_bwd") && Catch::Contains("fa2's fa2_bwd"));
  const json profile = json::parse(read_file(fitted / "a100-sxm4-80gb.json"));
  CHECK(profile["calibration"]["schedules"].contains("lean"));
  CHECK_FALSE(profile["calibration"]["schedules"].contains("lean_bwd"));
  // The written profile loads.
  const RunResult loaded = run_cli({"hw", "show", "a100", "--hw-dir", fitted.string()});
  INFO("stderr: " << loaded.err);
  CHECK(loaded.exit_code == 0);
  // The table names the rows left unfitted.
  const RunResult table =
      run_cli({"validate", "--measurements", csv.string(), "--calibrate", "--keep-fixed-costs"});
  CHECK_THAT(table.out, Catch::Contains("not calibrated a100-sxm4-80gb lean backward rows: "));
  CHECK_THAT(table.out, !Catch::Contains("lean_bwd:"));
}

TEST_CASE(
    "validate --calibrate with only fwd+bwd rows of a kernel without its own backward fits "
    "nothing for them and writes no _bwd entry",
    "[cli][validate][calibrate]") {
  TempDir dir;
  const auto csv = dir.path() / "lean.csv";
  write_file(csv,
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms,"
             "source\n"
             "a100-sxm4-80gb,lean,fwd+bwd,fp16,4,32,32,128,2048,2048,1,3.6,test\n"
             "a100-sxm4-80gb,lean,fwd+bwd,fp16,2,32,32,128,4096,4096,1,7.5,test\n");
  const auto fitted = dir.path() / "fitted";
  const json doc = calibrate_keeping_fixed_costs(csv, fitted);
  REQUIRE(doc["calibration"].size() == 1);
  CHECK(doc["calibration"][0]["keys"].empty());
  CHECK(doc["calibration"][0]["before"] == doc["calibration"][0]["after"]);
  const json profile = json::parse(read_file(fitted / "a100-sxm4-80gb.json"));
  CHECK_FALSE(profile["calibration"]["schedules"].contains("lean_bwd"));
  CHECK(run_cli({"hw", "show", "a100", "--hw-dir", fitted.string()}).exit_code == 0);
}

TEST_CASE(
    "validate --calibrate with every row of a group held back says nothing was fitted, not "
    "'calibrated' with the values as given",
    "[cli][validate][calibrate]") {
  TempDir dir;
  const auto csv = dir.path() / "held.csv";
  // 1024 and 8192 keys: both held back by default.
  write_file(csv,
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms\n"
             "a100-sxm4-80gb,fa2,fwd,fp16,4,32,32,128,1024,1024,1,0.3\n"
             "a100-sxm4-80gb,fa2,fwd,fp16,1,32,32,128,8192,8192,1,4.0\n");
  const RunResult r =
      run_cli({"validate", "--measurements", csv.string(), "--calibrate", "--keep-fixed-costs"});
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("not calibrated a100-sxm4-80gb fa2: every row is held back"));
  CHECK_THAT(r.out, !Catch::Contains("\ncalibrated a100-sxm4-80gb fa2:"));
  const json doc = json::parse(run_cli({"validate", "--measurements", csv.string(), "--calibrate",
                                        "--keep-fixed-costs", "--format", "json"})
                                   .out);
  REQUIRE(doc["calibration"].size() == 1);
  CHECK(doc["calibration"][0]["before"] == doc["calibration"][0]["after"]);
  CHECK_THAT(doc["calibration"][0]["note"].get<std::string>(), Catch::Contains("nothing fitted"));
}

TEST_CASE(
    "validate --calibrate counts as fitted only the rows a fit used; without it the table calls "
    "that part 'not held back', in the summary and the group table alike",
    "[cli][validate][calibrate][fitted-rows]") {
  TempDir dir;
  const auto csv = dir.path() / "lean.csv";
  // Lean's backward rows fit nothing (the note above), and an unknown kernel's row is priced
  // with auto and never fitted: 2 fitted rows of 5, none held back.
  write_file(csv, std::string(kLeanRows) +
                      "a100-sxm4-80gb,xformers,fwd,fp16,4,32,32,128,2048,2048,1,1.1,test\n");
  const RunResult calibrated =
      run_cli({"validate", "--measurements", csv.string(), "--calibrate", "--format", "json"});
  INFO(calibrated.err);
  REQUIRE(calibrated.exit_code == 0);
  const json doc = json::parse(calibrated.out);
  CHECK(doc["calibrated"] == true);
  for (const char* engine : {"tile", "roofline"}) {
    INFO(engine);
    CHECK(doc["summary"][engine]["all"]["cases"] == 5);
    CHECK(doc["summary"][engine]["fitted_rows"]["cases"] == 2);
    CHECK(doc["summary"][engine]["held_out_rows"]["cases"] == 0);
  }
  const RunResult table = run_cli({"validate", "--measurements", csv.string(), "--calibrate"});
  CHECK_THAT(table.out, Catch::Contains("tile      fitted         cases   2") &&
                            Catch::Contains("fitted MAPE"));
  // Without --calibrate nothing is fitted here: the part is every row not held back.
  const RunResult plain = run_cli({"validate", "--measurements", csv.string(), "--format", "json"});
  CHECK(json::parse(plain.out)["calibrated"] == false);
  CHECK(json::parse(plain.out)["summary"]["tile"]["fitted_rows"]["cases"] == 5);
  const RunResult plain_table = run_cli({"validate", "--measurements", csv.string()});
  CHECK_THAT(plain_table.out, Catch::Contains("tile      not held back  cases   5") &&
                                  Catch::Contains("not held back MAPE") &&
                                  !Catch::Contains("not-held") && !Catch::Contains("fitted"));
}

TEST_CASE(
    "validate --calibrate fits unfused's forward and backward rows together on its one entry "
    "(its backward runs the forward's kernels), and counts both as fitted rows",
    "[cli][validate][calibrate]") {
  TempDir dir;
  const auto csv = dir.path() / "unfused.csv";
  write_file(csv,
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms\n"
             "a100-sxm4-80gb,unfused,fwd,fp16,4,32,32,128,2048,2048,1,3.0\n"
             "a100-sxm4-80gb,unfused,fwd,fp16,2,32,32,128,4096,4096,1,6.0\n"
             "a100-sxm4-80gb,unfused,bwd,fp16,4,32,32,128,2048,2048,1,7.0\n"
             "a100-sxm4-80gb,unfused,fwd+bwd,fp16,2,32,32,128,4096,4096,1,20.0\n");
  const auto fitted = dir.path() / "fitted";
  const json doc = calibrate_keeping_fixed_costs(csv, fitted);
  REQUIRE(doc["calibration"].size() == 1);  // one group: no backward-only group that fits nothing
  CHECK(doc["calibration"][0]["keys"] == json::array({"unfused"}));
  CHECK_FALSE(doc["calibration"][0].contains("note"));
  CHECK(doc["calibration"][0]["fitted_rows_after"]["cases"] == 4);
  // The summary's fitted part counts the rows the fit used, backward ones included (it looked
  // for an `unfused_bwd` entry, which no fit sets, and so counted the forward rows alone).
  CHECK(doc["summary"]["tile"]["fitted_rows"]["cases"] == 4);
  const json profile = json::parse(read_file(fitted / "a100-sxm4-80gb.json"));
  CHECK_FALSE(profile["calibration"]["schedules"].contains("unfused_bwd"));
  CHECK(run_cli({"hw", "show", "a100", "--hw-dir", fitted.string()}).exit_code == 0);
}
