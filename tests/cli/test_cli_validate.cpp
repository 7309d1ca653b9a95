// `attnsim validate` end to end: --hw-set reaches the calibration, skipped measurement rows are
// warnings and counts in every format (errors under --strict), the first-run --check mode, and the
// exit status when a kernel run here is not correct.
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <cmath>
#include <stdexcept>

#include <fmt/format.h>

#include "cli/validate_backends.hpp"
#include "cli/validate_report.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/validate_helpers.hpp"

namespace {

using nlohmann::json;
using test_support::read_file;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;

const char* kValidateCsvHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,variant,time_ms,"
    "source\n";

// Four FA3 rows (FA3 paper Fig. 5), one of them held out at 8192.
std::string fa3_rows() {
  return fmt::format(
      "{}{}", kValidateCsvHeader,
      "h100-sxm5-80gb,fa3,fwd,fp16,16,32,32,64,1024,1024,0,,0.3506,FA3 paper Fig.5\n"
      "h100-sxm5-80gb,fa3,fwd,fp16,8,32,32,64,2048,2048,0,,0.5976,FA3 paper Fig.5\n"
      "h100-sxm5-80gb,fa3,fwd,fp16,4,32,32,64,4096,4096,0,,1.1549,FA3 paper Fig.5\n"
      "h100-sxm5-80gb,fa3,fwd,fp16,2,32,32,64,8192,8192,0,,2.2168,FA3 paper Fig.5\n");
}

json run_validate_json(const std::vector<std::string>& args) {
  return test_support::run_json(args);
}

}  // namespace

TEST_CASE("validate --calibrate starts from the --hw-set values, as the uncalibrated run does",
          "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "fa3.csv";
  write_file(csv, fa3_rows());
  const std::vector<std::string> set = {
      "--hw-set",      "calibration.schedules.fa3.mma_fraction=0.5",
      "--hw-set",      "calibration.hbm_fraction=0.6",
      "--holdout-seq", "8192",
      "--format",      "json"};
  std::vector<std::string> plain = {"validate", "--measurements", csv.string()};
  plain.insert(plain.end(), set.begin(), set.end());
  std::vector<std::string> fitted = plain;
  fitted.push_back("--calibrate");
  const json before = run_validate_json(plain);
  const json after = run_validate_json(fitted);
  REQUIRE(after["calibration"].size() == 1);
  const json& group = after["calibration"][0];
  CHECK(group["before"]["mma_fraction"].get<double>() == 0.5);
  CHECK(group["fitted_rows_before"]["mape"].get<double>() ==
        Approx(before["summary"]["tile"]["fitted_rows"]["mape"].get<double>()));
  CHECK(group["held_out_rows_before"]["mape"].get<double>() ==
        Approx(before["summary"]["tile"]["held_out_rows"]["mape"].get<double>()));
}

TEST_CASE("skipped measurement rows warn with file:line and count in table, json and csv",
          "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  write_file(csv, fa3_rows() +
                      "h100-sxm5-80gb,fa3,fwd,fp16,1,8,8,128,512,512,1,nsa9,0.1,x\n"
                      "h100-sxm5-80gb,fa3,fwd,fp16,1,8,2,128,512,512,1,lightning,0.1,x\n");
  for (const char* format : {"table", "json", "csv"}) {
    INFO(format);
    const RunResult r = run_cli({"validate", "--measurements", csv.string(), "--format", format});
    INFO("stderr: " << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.err, Catch::Contains("m.csv:6") && Catch::Contains("unknown variant 'nsa9'"));
    CHECK_THAT(r.err, Catch::Contains("m.csv:7") && Catch::Contains("heads_kv"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 2);
    if (std::string(format) == "json") {
      CHECK(json::parse(r.out)["summary"]["skipped_rows"] == 2);
    } else if (std::string(format) == "csv") {
      CHECK_THAT(r.out, Catch::Contains("# skipped_rows,2\n"));
    } else {
      CHECK_THAT(r.out, Catch::Contains("skipped rows: 2\n"));
    }
  }
}

TEST_CASE("validate --strict exits 2 when any row was skipped, and writes no report",
          "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  write_file(csv, fa3_rows() + "h100-sxm5-80gb,fa3,fwd,fp16,1,8,8,128,512,512,1,nsa9,0.1,x\n");
  const RunResult strict =
      run_cli({"validate", "--measurements", csv.string(), "--strict", "--format", "json"});
  CHECK(strict.exit_code == 2);
  CHECK_THAT(strict.err,
             Catch::Contains("attnsim: error: --strict: 1 measurement row(s) skipped") &&
                 Catch::Contains("m.csv:6"));
  CHECK(strict.out.empty());  // bad input: no report
  write_file(csv, fa3_rows());
  CHECK(run_cli({"validate", "--measurements", csv.string(), "--strict"}).exit_code == 0);
}

TEST_CASE("a report with an incorrect or failed case names it and makes validate fail",
          "[cli][validate]") {
  json doc = {{"cases",
               {{{"case", "a"}, {"kernel", "a"}, {"correct", true}, {"max_relative_error", 1e-4}},
                {{"case", "b"}, {"kernel", "b"}, {"correct", false}, {"max_relative_error", 0.3}}}},
              {"skipped", json::array()},
              {"summary", json::object()}};
  cli::ValidateJson ordered = cli::ValidateJson::parse(doc.dump());
  cli::add_counts(ordered);
  CHECK(ordered["summary"]["incorrect_cases"] == 1);
  CHECK(ordered["summary"]["skipped_rows"] == 0);
  CHECK_THROWS_AS(cli::check_outcome(ordered), std::runtime_error);
  CHECK_THROWS_WITH(cli::check_outcome(ordered),
                    Catch::Contains("1 case(s)") && Catch::Contains("b (max relative error 0.3)"));
  ordered["cases"][1]["correct"] = true;
  ordered["failed"] = cli::ValidateJson::array(
      {{{"case", "c"}, {"error", "CUDA error in kernel split_kernel (while running)"}}});
  CHECK_THROWS_WITH(cli::check_outcome(ordered),
                    Catch::Contains("c (CUDA error in kernel split_kernel"));
  ordered.erase("failed");
  CHECK_NOTHROW(cli::check_outcome(ordered));
  CHECK_NOTHROW(cli::check_strict(ordered));
}

TEST_CASE(
    "validate --backend cpu --check runs the check suite once per case and shows "
    "correctness in the table",
    "[cli][validate][cpu]") {
  TempDir dir;
  const auto report = dir.path() / "check.json";
  const RunResult r = run_cli(
      {"validate", "--backend", "cpu", "--check", "--format", "json", "-o", report.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(read_file(report));
  CHECK(doc["device"]["suite"] == "check");
  CHECK(doc["summary"]["incorrect_cases"] == 0);
  for (const auto& c : doc["cases"]) {
    INFO(c["case"]);
    CHECK(c["samples_s"].size() == 1);
    CHECK(c["correct"].get<bool>());
  }
  // One group per kernel run (its schedule), the worst row named by its case.
  for (const auto& g : doc["summary"]["groups"]) {
    CHECK(g["kernel"] == g["schedule"]);
    CHECK(g["worst_row"].contains("case"));
  }
  const RunResult table = run_cli({"validate", "--backend", "cpu", "--check"});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("correct") && Catch::Contains("max_rel") &&
                            Catch::Contains("incorrect cases: 0"));
  CHECK_THAT(table.out, !Catch::Contains("suite:0"));
}

TEST_CASE("validate --check needs a backend, and cuda --check without a GPU fails cleanly",
          "[cli][validate]") {
  const RunResult bare = run_cli({"validate", "--check"});
  CHECK(bare.exit_code == 2);
  CHECK_THAT(bare.err, Catch::Contains("--check needs --backend"));
  const RunResult cuda = run_cli({"validate", "--backend", "cuda", "--check"});
  CHECK(cuda.exit_code == 1);
  CHECK_THAT(cuda.err, Catch::StartsWith("attnsim: error: no CUDA device"));
  CHECK(cuda.out.empty());
}

TEST_CASE(
    "validate --write-profiles creates a missing directory (and its parents) and writes there",
    "[cli]") {
  TempDir dir;
  const auto csv = dir.path() / "fa3.csv";
  write_file(csv, fa3_rows());
  const auto fitted = dir.path() / "fitted" / "deeper";
  const RunResult r = run_cli({"validate", "--measurements", csv.string(), "--calibrate",
                               "--write-profiles", fitted.string(), "--format", "json"});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 0);
  const json profile = json::parse(read_file(fitted / "h100-sxm5-80gb.json"));
  CHECK(profile.at("id") == "h100-sxm5-80gb");
}

TEST_CASE(
    "validate --calibrate reports each device's fixed costs in the table, the triton caller's "
    "extra per Triton launch with its floor",
    "[cli][validate]") {
  const std::string csv = test_support::measured_csv_path("lightning_gb200_fla.csv");
  const RunResult r = run_cli({"validate", "--measurements", csv, "--calibrate"});
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("calibrated gb200 fixed costs: kernel_launch_us ") &&
                        Catch::Contains(", triton 9.0 -> ") &&
                        Catch::Contains(", triton_jit 48.0 -> ") &&
                        Catch::Contains(" | fitted MAPE before the kernel fits "));
  // The JSON report carries the same, per caller.
  const json doc =
      run_validate_json({"validate", "--measurements", csv, "--calibrate", "--format", "json"});
  REQUIRE(doc["fixed_costs"].size() == 1);
  CHECK(doc["fixed_costs"][0]["caller_floor_us_before"]["triton_jit"].get<double>() == Approx(48));
}

TEST_CASE("validate --calibrate --keep-fixed-costs fits the kernels and reports no fixed-cost fit",
          "[cli][validate]") {
  const std::string csv = test_support::measured_csv_path("lightning_gb200_fla.csv");
  const json doc = run_validate_json(
      {"validate", "--measurements", csv, "--calibrate", "--keep-fixed-costs", "--format", "json"});
  CHECK(doc["fixed_costs"].empty());
  CHECK(!doc["calibration"].empty());
}

TEST_CASE("validate --write-profiles naming a file or nothing is bad input", "[cli]") {
  TempDir dir;
  const auto csv = dir.path() / "fa3.csv";
  write_file(csv, fa3_rows());
  const RunResult file =
      run_cli({"validate", "--measurements", csv.string(), "--write-profiles", csv.string()});
  CHECK(file.exit_code == 2);
  CHECK_THAT(file.err, Catch::Contains("not a directory"));
  CHECK(read_file(csv) == fa3_rows());
  const RunResult empty =
      run_cli({"validate", "--measurements", csv.string(), "--write-profiles", ""});
  CHECK(empty.exit_code == 2);
  CHECK_THAT(empty.err, Catch::Contains("--write-profiles"));
}

TEST_CASE(
    "the validate report gives each (device, kernel) its rows, fitted and held-out MAPE "
    "and worst row",
    "[cli][validate][groups]") {
  TempDir dir;
  const auto csv = dir.path() / "two.csv";
  // The FA3 rows plus one FA2 row of the same device: two groups, in order of appearance.
  write_file(
      csv,
      fa3_rows() + "h100-sxm5-80gb,fa2,fwd,fp16,8,32,32,64,2048,2048,0,,0.8640,FA3 paper Fig.5\n");
  const json doc =
      run_validate_json({"validate", "--measurements", csv.string(), "--format", "json"});
  const json& groups = doc["summary"]["groups"];
  REQUIRE(groups.size() == 2);
  const json& fa3 = groups[0];
  CHECK(fa3["hw"] == "h100-sxm5-80gb");
  CHECK(fa3["kernel"] == "fa3");
  CHECK(fa3["schedule"] == "fa3");
  CHECK(fa3["rows"] == 4);
  CHECK(fa3["fitted_rows"]["cases"] == 2);    // 2048 and 4096
  CHECK(fa3["held_out_rows"]["cases"] == 2);  // 1024 and 8192 are held back by default
  // The worst row is the FA3 row with the largest |error|, named by file and line.
  double worst = 0;
  int worst_line = 0;
  for (const json& c : doc["cases"]) {
    if (c["kernel"] != "fa3") continue;
    if (std::abs(c["tile_error"].get<double>()) > worst) {
      worst = std::abs(c["tile_error"].get<double>());
      worst_line = c["line"].get<int>();
    }
  }
  CHECK(fa3["worst_row"]["line"] == worst_line);
  CHECK(fa3["worst_row"]["file"] == "two.csv");
  CHECK(std::abs(fa3["worst_row"]["tile_error"].get<double>()) == Approx(worst));
  CHECK(groups[1]["kernel"] == "fa2");
  CHECK(groups[1]["rows"] == 1);
  CHECK(groups[1]["held_out_rows"]["cases"] == 0);

  const RunResult table = run_cli({"validate", "--measurements", csv.string()});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("held-out MAPE") && Catch::Contains("worst row"));
  // Columns as wide as their longest cell (cli/validate_text.cpp).
  CHECK_THAT(table.out, Catch::Contains("h100-sxm5-80gb fa2    fa2    "));
}

TEST_CASE("validate reports a row's heads and head_dim as the file gives them (absorbed MLA: 576)",
          "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "mla.csv";
  write_file(csv,
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,v_head_dim,seq_q,seq_kv,causal,"
             "variant,time_us,source\n"
             "h20,flashmla,decode,bf16,128,16,1,576,512,1,4096,1,mla,601.0,x\n");
  const json report =
      run_validate_json({"validate", "--measurements", csv.string(), "--format", "json"});
  REQUIRE(report["cases"].size() == 1);
  CHECK(report["cases"][0]["heads"].get<int>() == 16);
  // The MLA spec keeps the model's nope + rope (192); the row is the absorbed form.
  CHECK(report["cases"][0]["head_dim"].get<int>() == 576);
  const RunResult table = run_cli({"validate", "--measurements", csv.string()});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("  16  576"));
}

TEST_CASE(
    "a CUDA device's name as the driver reports it picks its profile, else the first family it "
    "contains, else an error naming --profile",
    "[cli][validate]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  CHECK(cli::profile_id_for_device("NVIDIA H100 80GB HBM3", catalog) == "h100-sxm5-80gb");
  CHECK(cli::profile_id_for_device("NVIDIA H100 PCIe", catalog) == "h100-pcie-80gb");
  CHECK(cli::profile_id_for_device("NVIDIA A100-SXM4-40GB", catalog) == "a100-sxm4-40gb");
  CHECK(cli::profile_id_for_device("NVIDIA H200", catalog) == "h200-sxm-141gb");
  CHECK(cli::profile_id_for_device("NVIDIA H20", catalog) == "h20");
  CHECK(cli::profile_id_for_device("NVIDIA A800-SXM4-80GB", catalog) == "a800-sxm4-80gb");
  // Families, for names no profile carries.
  CHECK(cli::profile_id_for_device("NVIDIA H200 NVL", catalog) == "h200-sxm-141gb");
  CHECK(cli::profile_id_for_device("NVIDIA A100 PCIe 40GB MIG", catalog) == "a100-pcie-40gb");
  CHECK(cli::profile_id_for_device("NVIDIA H100 PCIe MIG 1g.10gb", catalog) == "h100-pcie-80gb");
  // A PCIe card without a size: the 40 GB one, as the a100-pcie alias (which the driver's bare
  // "A100 PCIe" takes) says.
  CHECK(cli::profile_id_for_device("NVIDIA A100 PCIe MIG", catalog) == "a100-pcie-40gb");
  CHECK(cli::profile_id_for_device("NVIDIA A100 PCIe", catalog) == "a100-pcie-40gb");
  CHECK(cli::profile_id_for_device("NVIDIA A100 PCIe 80GB MIG", catalog) == "a100-pcie-80gb");
  CHECK(cli::profile_id_for_device("NVIDIA B300 SXM6 AC", catalog) == "b300");
  // The driver's own names of the A100 PCIe cards and of GB300 are profiles.
  CHECK(cli::profile_id_for_device("NVIDIA A100 80GB PCIe", catalog) == "a100-pcie-80gb");
  CHECK(cli::profile_id_for_device("NVIDIA A100-PCIE-40GB", catalog) == "a100-pcie-40gb");
  CHECK(cli::profile_id_for_device("NVIDIA GB300", catalog) == "gb300");
  CHECK_THROWS_WITH(cli::profile_id_for_device("NVIDIA L40S", catalog),
                    Catch::Contains("--profile"));
  // Families are whole words: an RTX A1000 is no A100.
  CHECK_THROWS_WITH(cli::profile_id_for_device("NVIDIA RTX A1000", catalog),
                    Catch::Contains("--profile"));
}

TEST_CASE(
    "validate --calibrate fits a chain_cycles started with --hw-set, reports it, and writes it "
    "into the profile; entries without one get none",
    "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "fa3.csv";
  write_file(csv, fa3_rows());
  const auto out = dir.path() / "profiles";
  const json doc = run_validate_json(
      {"validate", "--measurements", csv.string(), "--calibrate", "--keep-fixed-costs", "--hw-set",
       "calibration.schedules.fa3.chain_cycles=10000", "--holdout-seq", "8192", "--write-profiles",
       out.string(), "--format", "json"});
  REQUIRE(doc["calibration"].size() == 1);
  const json& group = doc["calibration"][0];
  // From 10000 cycles the chain binds (the rows come out about 30 % slow) and the fit shortens it.
  CHECK(group["before"]["chain_cycles"].get<double>() == 10000);
  REQUIRE(group["after"].contains("chain_cycles"));
  CHECK(group["after"]["chain_cycles"].get<double>() < 10000);
  CHECK(group["fitted_rows_after"]["mape"].get<double>() <
        group["fitted_rows_before"]["mape"].get<double>());
  const json profile = json::parse(read_file(out / "h100-sxm5-80gb.json"));
  const json& entries = profile["calibration"]["schedules"];
  CHECK(entries["fa3"]["chain_cycles"].get<double>() ==
        Approx(group["after"]["chain_cycles"].get<double>()));
  // Without the --hw-set start the fit adds none, in the report or the written profile.
  const auto plain_out = dir.path() / "plain";
  const json plain = run_validate_json({"validate", "--measurements", csv.string(), "--calibrate",
                                        "--keep-fixed-costs", "--write-profiles",
                                        plain_out.string(), "--format", "json"});
  CHECK_FALSE(plain["calibration"][0]["after"].contains("chain_cycles"));
  const json written = json::parse(read_file(plain_out / "h100-sxm5-80gb.json"));
  CHECK_FALSE(written["calibration"]["schedules"]["fa3"].contains("chain_cycles"));
}

TEST_CASE("a forward and backward fitted together keep the chain term on the forward entry only",
          "[cli][validate]") {
  // GB200 cuDNN fwd+bwd sums of validate/data/measured/gb200_cudnn_fa2.csv (hd 128, GQA 128/8):
  // one shared fit of `cudnn` and `cudnn_bwd`, whose forward entry has a chain.
  TempDir dir;
  const auto csv = dir.path() / "gb200.csv";
  write_file(csv, fmt::format("{}{}", kValidateCsvHeader,
                              "gb200,cudnn,fwd+bwd,bf16,1,128,8,128,2048,2048,1,,0.654,sum\n"
                              "gb200,cudnn,fwd+bwd,bf16,1,128,8,128,4096,4096,1,,1.697,sum\n"
                              "gb200,cudnn,fwd+bwd,bf16,1,128,8,128,8192,8192,1,,5.93,sum\n"
                              "gb200,cudnn,fwd+bwd,bf16,1,128,8,128,16384,16384,1,,22.17,sum\n"));
  const auto out = dir.path() / "profiles";
  const json doc = run_validate_json({"validate", "--measurements", csv.string(), "--calibrate",
                                      "--keep-fixed-costs", "--write-profiles", out.string(),
                                      "--format", "json"});
  REQUIRE(doc["calibration"].size() == 1);
  CHECK(doc["calibration"][0]["keys"] == json::array({"cudnn", "cudnn_bwd"}));
  const json profile = json::parse(read_file(out / "gb200.json"));
  const json& entries = profile["calibration"]["schedules"];
  CHECK(entries["cudnn"].contains("chain_cycles"));
  CHECK_FALSE(entries["cudnn_bwd"].contains("chain_cycles"));
}
