// `attnsim validate` with rows whose named kernel refuses them or does not run on their device:
// priced with --kernel auto instead, in a group of their own, counted, never fitted, and an error
// under --strict.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <string>

#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using nlohmann::json;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;

// pto_isa_fa is built for fp16 (the bf16 rows: auto's torch_npu-class kernel); FA4 has no Hopper
// entry (auto's FA3); 8 query heads do not share 3 KV heads (no variant: skipped).
const char* kRefusedRows =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_us\n"
    "910b,pto_isa_fa,fwd,bf16,1,1,1,128,3072,8192,0,100\n"
    "910b,pto_isa_fa,fwd,bf16,1,1,1,128,3072,16384,0,200\n"
    "910b,pto_isa_fa,fwd,fp16,1,1,1,128,3072,8192,0,100\n"
    "h100,fa4,fwd,bf16,1,16,16,128,4096,4096,1,200\n"
    "h100,fa3,fwd,bf16,1,8,3,128,4096,4096,1,200\n";

}  // namespace

TEST_CASE(
    "a row whose kernel refuses its shape or does not run on its device is priced with auto, "
    "warned once, counted and grouped apart; a row no variant can be built for is skipped",
    "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  write_file(csv, kRefusedRows);
  const RunResult r = run_cli({"validate", "--measurements", csv.string(), "--format", "json"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("m.csv:2") && Catch::Contains("built for fp16") &&
                        Catch::Contains("priced with --kernel auto instead"));
  CHECK_THAT(r.err,
             Catch::Contains("m.csv:5") && Catch::Contains("no calibration for kernel 'fa4'"));
  CHECK(r.err.find("m.csv:3") == std::string::npos);  // said once per device and kernel
  CHECK_THAT(r.err, Catch::Contains("row skipped: ") && Catch::Contains("m.csv:6"));
  const json doc = json::parse(r.out);
  CHECK(doc["summary"]["skipped_rows"] == 1);
  CHECK(doc["summary"]["repriced_rows"] == 3);
  REQUIRE(doc["cases"].size() == 4);
  CHECK(doc["cases"][0]["schedule"] == "auto");
  CHECK(doc["cases"][2]["schedule"] == "pto_isa_fa");
  CHECK(doc["cases"][3]["schedule"] == "auto");
  // The refused pto_isa_fa rows and the ones it priced are two groups, not one.
  int pto_groups = 0;
  for (const json& g : doc["summary"]["groups"]) pto_groups += g["kernel"] == "pto_isa_fa";
  CHECK(pto_groups == 2);
}

TEST_CASE(
    "a row whose schedule's kernel has no instance for its shape (FlashInfer's CUDA-core decode "
    "at two query tokens, or a prefill) is priced with auto, not skipped",
    "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  write_file(csv,
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_us\n"
             "h100,flashinfer-decode,decode,fp16,16,32,32,128,2,4096,0,100\n"
             "h100,flashinfer-decode,decode,fp16,16,32,32,128,1,4096,0,100\n"
             "h100,FlashInfer,fwd,fp16,1,32,32,128,4096,4096,1,3000\n");
  const RunResult r = run_cli({"validate", "--measurements", csv.string(), "--format", "json"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("m.csv:2") && Catch::Contains("got q_len 2") &&
                        Catch::Contains("priced with --kernel auto instead"));
  const json doc = json::parse(r.out);
  CHECK(doc["summary"]["skipped_rows"] == 0);
  // FlashInfer named alone is its batch decode, which refuses a prefill row: auto prices it.
  CHECK(doc["summary"]["repriced_rows"] == 2);
  REQUIRE(doc["cases"].size() == 3);
  CHECK(doc["cases"][0]["schedule"] == "auto");
  CHECK(doc["cases"][1]["schedule"] == "flashinfer_decode");
  CHECK(doc["cases"][2]["schedule"] == "auto");
}

TEST_CASE("rows priced with auto after their kernel refused them are never fitted",
          "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  // Only the FA4 row on the H100 could be fitted (4096 keys is not a held-out length).
  write_file(csv,
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_us\n"
             "h100,fa4,fwd,bf16,1,16,16,128,4096,4096,1,200\n");
  const RunResult r =
      run_cli({"validate", "--measurements", csv.string(), "--calibrate", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  CHECK(doc["calibration"].empty());
  CHECK(doc["summary"]["repriced_rows"] == 1);
}

TEST_CASE(
    "validate --strict exits 2, writing no report, when a row was priced with auto because its "
    "kernel refused it",
    "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  write_file(csv,
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_us\n"
             "h100,fa4,fwd,bf16,1,16,16,128,4096,4096,1,200\n"
             "h100,fa3,fwd,bf16,1,16,16,128,4096,4096,1,200\n");
  const RunResult r = run_cli({"validate", "--measurements", csv.string(), "--strict"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());  // bad input: no report
  CHECK_THAT(r.err, Catch::Contains("--strict: 1 measurement row(s) priced with --kernel auto") &&
                        Catch::Contains("m.csv:2"));
}

TEST_CASE(
    "a row the model cannot build (causal with seq_kv < seq_q) or the device cannot price (fp8 on "
    "an A100) is skipped with its file:line, as a row with no variant is, not the end of the run",
    "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  write_file(csv,
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms\n"
             "h100,fa3,fwd,bf16,4,16,16,128,4096,4096,1,1.0\n"
             "h100,fa3,fwd,bf16,4,16,16,128,4096,2048,1,1.0\n"
             "a100,fa2,fwd,fp8,4,16,16,128,4096,4096,1,1.0\n"
             "h100,fa3,fwd,bf16,4,16,5,128,4096,4096,1,1.0\n");
  const RunResult r = run_cli({"validate", "--measurements", csv.string(), "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  // The hint is in the CSV's words (its column), not a flag of `query`.
  CHECK_THAT(r.err, Catch::Contains("row skipped: " + csv.string() +
                                    ":3: causal attention needs "
                                    "seq_kv >= seq_q") &&
                        Catch::Contains("give causal 0") && !Catch::Contains("--no-causal"));
  CHECK_THAT(r.err, Catch::Contains("row skipped: " + csv.string() +
                                    ":4: a100-sxm4-80gb has no fp8 tensor peak"));
  CHECK_THAT(r.err, Catch::Contains("row skipped: " + csv.string() + ":5: gqa"));
  const json doc = json::parse(r.out);
  CHECK(doc["summary"]["skipped_rows"] == 3);
  CHECK(doc["cases"].size() == 1);
  // --strict still refuses the run for them.
  CHECK(run_cli({"validate", "--measurements", csv.string(), "--strict"}).exit_code == 2);
}

TEST_CASE(
    "a row of an unknown kernel, or of a kernel that runs none of its workload, is repriced: "
    "counted, refused under --strict, never fitted",
    "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  // fa3 named on linear-attention rows: a scan kernel prices them, not FlashAttention-3.
  write_file(csv,
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,variant,"
             "time_ms\n"
             "h100,fa3,fwd,bf16,4,16,16,128,4096,4096,1,linear,1.0\n"
             "h100,fa3,fwd,bf16,4,16,16,128,2048,2048,1,linear,0.5\n"
             "h100,fa9,fwd,bf16,4,16,16,128,2048,2048,1,,0.5\n");
  const RunResult r =
      run_cli({"validate", "--measurements", csv.string(), "--calibrate", "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("m.csv:2: kernel 'fa3' on h100-sxm5-80gb: no launch of this "
                                    "workload runs it; priced with --kernel auto instead"));
  CHECK(r.err.find("m.csv:3") == std::string::npos);  // said once per device and kernel
  CHECK_THAT(r.err, Catch::Contains("unknown kernel 'fa9'") && Catch::Contains("repriced_rows"));
  const json doc = json::parse(r.out);
  CHECK(doc["summary"]["repriced_rows"] == 3);
  CHECK(doc["calibration"].empty());  // nothing was fitted: no entry reported as calibrated
  for (const json& c : doc["cases"]) CHECK(c["schedule"] == "auto");
  const RunResult strict = run_cli({"validate", "--measurements", csv.string(), "--strict"});
  CHECK(strict.exit_code == 2);
  CHECK_THAT(strict.err,
             Catch::Contains("--strict: 3 measurement row(s) priced with --kernel auto"));
}

TEST_CASE(
    "validate shows each row's caller and warns once per device and caller with no host floor "
    "there, as query does",
    "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  write_file(csv,
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,caller,"
             "time_ms\n"
             "910b2,torch_npu,fwd,fp16,1,16,16,128,2048,2048,1,pytorch,1.0\n"
             "910b2,torch_npu,fwd,fp16,1,16,16,128,4096,4096,1,pytorch,3.0\n"
             "h100,fa3,fwd,bf16,1,16,16,128,2048,2048,1,torch_npu,0.3\n"
             "h100,fa3,fwd,bf16,1,16,16,128,2048,2048,1,direct,0.3\n");
  const RunResult r = run_cli({"validate", "--measurements", csv.string(), "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.err, Catch::Contains("m.csv:2: no pytorch host floor on ascend-910b2"));
  CHECK_THAT(r.err, Catch::Contains("m.csv:4: no torch_npu host floor on h100-sxm5-80gb"));
  CHECK(r.err.find("m.csv:3") == std::string::npos);  // once per device and caller
  const json doc = json::parse(r.out);
  REQUIRE(doc["cases"].size() == 4);
  CHECK(doc["cases"][0]["caller"] == "pytorch");
  CHECK(doc["cases"][2]["caller"] == "torch_npu");
  CHECK(doc["cases"][3]["caller"] == "direct");
  const RunResult csv_out =
      run_cli({"validate", "--measurements", csv.string(), "--format", "csv"});
  CHECK_THAT(csv_out.out, Catch::Contains(",caller,") && Catch::Contains(",pytorch,"));
  const RunResult table = run_cli({"validate", "--measurements", csv.string()});
  CHECK_THAT(table.out, Catch::Contains("(called by torch_npu)"));
}
