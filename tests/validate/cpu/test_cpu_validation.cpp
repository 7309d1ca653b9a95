// The CPU validation loop end to end: suites parse strictly, cases map onto the model, the probe
// profile is a valid profile, and `attnsim validate --backend cpu` measures real kernels and
// reports predictions beside them.
#include <catch2/catch.hpp>

#include <fstream>
#include <set>

#include <nlohmann/json.hpp>

#include "hwprofiles/profile_loader.hpp"
#include "sim/engine.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/model_helpers.hpp"
#include "validate/compare.hpp"
#include "validate/cpu/cpu_probe.hpp"
#include "validate/cpu/cpu_suite.hpp"

using test_support::registry;
using test_support::run_cli;
using test_support::TempDir;

namespace {

// A probe's ceilings for a core of the given clock, triad bandwidth, GEMM and exp rates and caches.
validate::cpu::CpuCeilings test_ceilings(double clock_hz, double stream_Bps, double gemm_flops,
                                         double exp_per_s, double l2_bytes, double llc_bytes) {
  validate::cpu::CpuCeilings c;
  c.cpu_name = "Test CPU";
  c.clock_hz = clock_hz;
  c.stream_Bps = stream_Bps;
  c.gemm_flops = gemm_flops;
  c.exp_per_s = exp_per_s;
  c.l2_bytes = l2_bytes;
  c.llc_bytes = llc_bytes;
  return c;
}

// Three small cases: a causal flash block, a split-KV decode, a chunked linear scan.
const char* kTinySuite = R"({"name": "tiny", "cases": [
  {"name": "flash-causal", "kernel": "flash", "batch": 1, "heads": 2, "kv_heads": 1,
   "head_dim": 32, "q_len": 160, "kv_len": 160, "causal": true},
  {"name": "decode-split3", "kernel": "split_kv", "splits": 3, "batch": 1, "heads": 2,
   "kv_heads": 2, "head_dim": 32, "q_len": 1, "kv_len": 700},
  {"name": "linear", "kernel": "linear", "batch": 1, "heads": 2, "head_dim": 32, "q_len": 300,
   "chunk": 64}]})";

std::string parse_error(const std::string& text) {
  try {
    validate::parse_suite(text, "s.json");
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("the built-in quick and full suites load and name their cases", "[validate][cpu]") {
  const validate::Suite quick = validate::find_suite("quick");
  CHECK(quick.name == "quick");
  CHECK(quick.cases.size() >= 10);
  CHECK(validate::find_suite("full").cases.size() > quick.cases.size());
  CHECK_THROWS_WITH(validate::find_suite("nope"),
                    Catch::Contains("unknown suite 'nope'") && Catch::Contains("quick"));
}

TEST_CASE("suite files are strict: unknown keys, kernels and shapes name the pointer",
          "[validate][cpu]") {
  CHECK_THAT(parse_error(R"({"name": "x", "cases": [{"name": "a", "kernel": "flash", "batch": 1,
      "heads": 2, "kv_heads": 2, "head_dim": 8, "q_len": 4, "kv_len": 4, "speed": 9}]})"),
             Catch::Contains("/cases/0/speed") && Catch::Contains("unknown key"));
  CHECK_THAT(parse_error(R"({"name": "x", "cases": [{"name": "a", "kernel": "magic", "batch": 1,
      "heads": 2, "head_dim": 8, "q_len": 4}]})"),
             Catch::Contains("allowed: flash, split_kv, linear"));
  CHECK_THAT(parse_error(R"({"name": "x", "cases": [{"name": "a", "kernel": "flash", "batch": 1,
      "heads": 3, "kv_heads": 2, "head_dim": 8, "q_len": 4, "kv_len": 4}]})"),
             Catch::Contains("/cases/0/kv_heads"));
  CHECK_THAT(parse_error(R"({"name": "x", "cases": []})"), Catch::Contains("non-empty array"));
  CHECK_THAT(parse_error("{"), Catch::Contains("malformed JSON"));
}

TEST_CASE("suite cases map onto the model's variants and kernels", "[validate][cpu]") {
  validate::CaseRun run;
  run.median_s = 1e-3;
  run.spec = validate::parse_suite(kTinySuite, "tiny").cases[0];
  run.spec.window = 64;
  const validate::MeasuredCase swa = validate::to_measured(run, "host-cpu", registry());
  CHECK(swa.spec.variant->name() == "swa");
  CHECK(swa.schedule == "cpu_flash");
  CHECK(swa.kernel_choice.name() == "cpu_flash");
  CHECK(swa.workload.dtype == models::DType::fp32);
  CHECK(models::param_value(swa.spec, "window") == 64);
  run.spec = validate::parse_suite(kTinySuite, "tiny").cases[2];
  const validate::MeasuredCase linear = validate::to_measured(run, "host-cpu", registry());
  CHECK(linear.spec.variant->name() == "linear");
  CHECK(linear.schedule == "cpu_linear");  // the host kernel's own scan schedule
  CHECK(linear.kernel_choice.name() == "cpu_linear");
  CHECK(models::param_value(linear.spec, "chunk") == 64);
}

TEST_CASE("the probe profile is a valid profile carrying the measured ceilings",
          "[validate][cpu]") {
  const hw::Profile p =
      validate::probe_profile(test_ceilings(2e9, 20e9, 50e9, 1e9, 1 << 21, 32 << 20), "2026-11-28");
  CHECK(p.id == "host-cpu");
  CHECK(p.memory.hbm_bandwidth_Bps == Approx(20e9));
  CHECK(p.compute.vector_fp32_flops == Approx(50e9));
  CHECK(p.exp_peak_ops_per_s() == Approx(1e9));
  CHECK(p.default_schedule == "cpu_flash");
  // The LLC read rate (never below the DRAM rate the triad measured).
  REQUIRE(p.memory.cache_read_Bps_per_sm.has_value());
  CHECK(*p.memory.cache_read_Bps_per_sm == Approx(20e9));
  // Round trip through the strict loader.
  CHECK(hw::to_json(hw::parse_profile(hw::to_json(p), "rt")) == hw::to_json(p));
}

TEST_CASE(
    "cpu_flash: a decode step loads each KV head from DRAM once and again from the LLC for the "
    "group's other heads, in turn with its products",
    "[validate][cpu]") {
  validate::cpu::CpuCeilings c = test_ceilings(2.3e9, 12.6e9, 26e9, 3.4e8, 2 << 20, 260 << 20);
  c.cache_read_Bps = 30e9;
  validate::CaseRun run;
  run.spec.name = "decode";
  run.spec.kernel = validate::CpuKernel::split_kv;
  run.spec.splits = 4;
  run.spec.batch = 4;
  run.spec.heads = 8;
  run.spec.kv_heads = 2;
  run.spec.head_dim = run.spec.v_head_dim = 128;
  run.spec.q_len = 1;
  run.spec.kv_len = 8192;
  run.median_s = 1;
  auto predicted_s = [&](const validate::cpu::CpuCeilings& ceilings) {
    const hw::Profile p = validate::probe_profile(ceilings, "2026-11-30");
    return validate::evaluate_case(
               validate::to_measured(run, p.id, registry(), validate::Backend::cpu), p)
        .tile_s;
  };
  // 4 x 8 x 8192 = 262144 scores. Products 2 x 256 FLOP each at 26 GFLOP/s: 5.16 ms; exps at
  // 3.4e8/s: 0.77 ms; 6 FP32 lane operations each (4 softmax + the 128-wide O rescale per 64
  // keys) at 13e9/s: 0.12 ms; the scalar mask, 2.6 cycles at 2.3 GHz: 0.30 ms.
  const double scores = 4.0 * 8 * 8192;
  const double compute_s = scores * (512 / 26e9 + 1 / 3.4e8 + 6 / 13e9 + 2.6 / 2.3e9);
  // K and V of the 4 x 2 KV heads (8192 x 256 floats, 8.4 MB each) once from DRAM at 12.6 GB/s,
  // and for the other 3 query heads of each group from the 260 MiB LLC at 30 GB/s.
  const double head_bytes = 8192.0 * 256 * 4;
  const double dram_s = 8 * head_bytes / 12.6e9;
  const double cache_s = 24 * head_bytes / 30e9;
  CHECK(predicted_s(c) == Approx(compute_s + dram_s + cache_s).epsilon(0.01));
  // An LLC that cannot keep a KV head (4 MiB): every re-read comes from DRAM again.
  c.llc_bytes = 4 << 20;
  CHECK(predicted_s(c) == Approx(compute_s + 32 * head_bytes / 12.6e9).epsilon(0.01));
}

namespace {

// Tile-engine time of a host case on a compute-bound probe profile (a fast triad, so that the
// block loads never bind).
double host_case_s(validate::CaseRun run) {
  const hw::Profile p = validate::probe_profile(
      test_ceilings(2.3e9, 1e13, 26e9, 3.4e8, 2 << 20, 260 << 20), "2026-11-30");
  run.median_s = 1;
  return validate::evaluate_case(
             validate::to_measured(run, p.id, registry(), validate::Backend::cpu), p)
      .tile_s;
}

validate::CaseRun host_case(validate::CpuKernel kernel, int q_len, int kv_len, bool causal,
                            int window) {
  validate::CaseRun run;
  run.spec.name = "c";
  run.spec.kernel = kernel;
  run.spec.batch = 1;
  run.spec.heads = run.spec.kv_heads = 2;
  run.spec.head_dim = run.spec.v_head_dim = 64;
  run.spec.q_len = q_len;
  run.spec.kv_len = kv_len;
  run.spec.causal = causal;
  run.spec.window = window;
  return run;
}

}  // namespace

TEST_CASE("cpu_flash: a short last block is priced at the rows and keys it holds, not 64 x 64",
          "[validate][cpu]") {
  using validate::CpuKernel;
  // 130 rows by 130 keys computes 130^2 scores, 3 % more than 128^2; whole tiles would be 3 x 3
  // against 2 x 2 blocks (2.25 times).
  const double full = host_case_s(host_case(CpuKernel::flash, 128, 128, false, 0));
  const double ragged = host_case_s(host_case(CpuKernel::flash, 130, 130, false, 0));
  CHECK(ragged / full == Approx(130.0 * 130 / (128 * 128)).epsilon(0.02));
  // A decode step (split_kv_attention) visits exactly its window's keys: 3 rows see keys 398 ..
  // 499 with a window of 100 (102 keys, not the 128 of two whole blocks from key 384) and 368 ..
  // 499 with 130 (132 keys, not the 192 of three blocks from key 320).
  const double w100 = host_case_s(host_case(CpuKernel::split_kv, 3, 500, true, 100));
  const double w130 = host_case_s(host_case(CpuKernel::split_kv, 3, 500, true, 130));
  CHECK(w130 / w100 == Approx(132.0 / 102).epsilon(0.05));
}

TEST_CASE("validate --backend cpu measures real kernels and reports predictions beside them",
          "[validate][cpu][cli]") {
  TempDir dir;
  const auto suite = dir.path() / "tiny.json";
  std::ofstream(suite) << kTinySuite;
  const auto report = dir.path() / "report.json";
  const auto fitted = dir.path() / "profiles";
  std::filesystem::create_directories(fitted);
  const test_support::RunResult r = run_cli(
      {"validate", "--backend", "cpu", "--suite", suite.string(), "--repeats", "2", "--calibrate",
       "--write-profiles", fitted.string(), "--format", "json", "-o", report.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json doc = nlohmann::json::parse(test_support::read_file(report));
  REQUIRE(doc["cases"].size() == 3);
  std::set<double> measured;
  for (const auto& c : doc["cases"]) {
    INFO(c.dump());
    CHECK(c["measured_s"].get<double>() > 0);
    CHECK(c["tile_s"].get<double>() > 0);
    CHECK(c["roofline_s"].get<double>() > 0);
    CHECK(c["correct"].get<bool>());
    CHECK(c["max_relative_error"].get<double>() < 1e-3);
    CHECK(c["samples_s"].size() == 2);
    measured.insert(c["measured_s"].get<double>());
  }
  CHECK(measured.size() == 3);  // real, distinct timings
  CHECK(doc["device"]["backend"] == "cpu");
  CHECK(doc["device"]["gemm_flops"].get<double>() > 0);
  CHECK(doc["summary"]["tile"]["all"]["cases"] == 3);
  CHECK_FALSE(doc["calibration"].empty());
  // The fitted profile is written and loads back as a user profile.
  CHECK(run_cli({"hw", "show", "host-cpu", "--hw-dir", fitted.string()}).exit_code == 0);
}

TEST_CASE("hw probe writes a profile that query can use", "[validate][cpu][cli]") {
  TempDir dir;
  // Written to NAME.json, the profile's id is NAME (host-cpu by default), so the folder loads.
  for (const char* name : {"host-cpu", "my-box"}) {
    INFO(name);
    const auto file = dir.path() / (std::string(name) + ".json");
    REQUIRE(run_cli({"hw", "probe", "--budget", "0.2", "-o", file.string()}).exit_code == 0);
    const test_support::RunResult q =
        run_cli({"query", "--hw", name, "--hw-dir", dir.path().string(), "--dtype", "fp32",
                 "--seq-len", "512"});
    INFO(q.err);
    CHECK(q.exit_code == 0);
    CHECK_THAT(q.out, Catch::Contains(name));
  }
}

TEST_CASE("validate --backend cuda without a usable GPU is a clean runtime failure",
          "[validate][cli]") {
  const test_support::RunResult r = run_cli({"validate", "--backend", "cuda"});
  CHECK(r.exit_code == 1);
  CHECK_THAT(r.err, Catch::StartsWith("attnsim: error:"));
  CHECK(r.out.empty());
}

TEST_CASE("the quick suite runs on this machine: every case correct and timed",
          "[validate][cpu][cli]") {
  TempDir dir;
  const auto report = dir.path() / "quick.json";
  const test_support::RunResult r =
      run_cli({"validate", "--backend", "cpu", "--suite", "quick", "--repeats", "1", "--format",
               "json", "-o", report.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const nlohmann::json doc = nlohmann::json::parse(test_support::read_file(report));
  CHECK(doc["cases"].size() == validate::find_suite("quick").cases.size());
  for (const auto& c : doc["cases"]) {
    INFO(c["case"]);
    CHECK(c["correct"].get<bool>());
    CHECK(c["measured_s"].get<double>() > 0);
    CHECK(c["tile_s"].get<double>() > 0);
  }
  for (const char* part : {"fitted_rows", "held_out_rows", "all"}) {
    CHECK(doc["summary"]["tile"][part]["mape"].is_number());
    CHECK(doc["summary"]["roofline"][part]["mape"].is_number());
  }
}

TEST_CASE("unfused, block-stride and v_head_dim suite cases parse and map onto the model",
          "[validate][cpu]") {
  const validate::Suite s = validate::parse_suite(
      R"({"name": "x", "cases": [
      {"name": "u", "kernel": "unfused", "batch": 1, "heads": 4, "kv_heads": 4, "head_dim": 64,
       "q_len": 128, "kv_len": 128},
      {"name": "b", "kernel": "flash", "batch": 1, "heads": 2, "kv_heads": 2, "head_dim": 32,
       "q_len": 256, "kv_len": 256, "block_stride": 3},
      {"name": "m", "kernel": "split_kv", "batch": 1, "heads": 4, "kv_heads": 1, "head_dim": 72,
       "v_head_dim": 64, "q_len": 1, "kv_len": 300, "splits": 2}]})",
      "x");
  REQUIRE(s.cases.size() == 3);
  CHECK(s.cases[0].kernel == validate::CpuKernel::unfused);
  CHECK(s.cases[0].v_head_dim == 64);
  CHECK(s.cases[1].block_stride == 3);
  CHECK(s.cases[2].v_head_dim == 64);
  validate::CaseRun run;
  run.median_s = 1e-3;
  run.spec = s.cases[0];
  CHECK(validate::to_measured(run, "host-cpu", registry()).schedule == "cpu_flash");
  CHECK(validate::to_measured(run, "h100", registry(), validate::Backend::cuda).schedule ==
        "project_unfused");
  run.spec = s.cases[1];
  CHECK(validate::to_measured(run, "host-cpu", registry()).spec.variant->name() == "gqa");
  run.spec = s.cases[2];
  CHECK(validate::to_measured(run, "host-cpu", registry()).spec.variant->name() == "gqa");
  // The CPU kernels run all three correctly.
  validate::RunOptions options;
  options.repeats = 1;
  for (const validate::CaseRun& r : validate::run_suite(s, options, nullptr)) CHECK(r.correct);
  CHECK_THAT(parse_error(R"({"name": "x", "cases": [{"name": "a", "kernel": "split_kv",
      "batch": 1, "heads": 1, "kv_heads": 1, "head_dim": 8, "q_len": 1, "kv_len": 4, "block_stride": 2}]})"),
             Catch::Contains("/cases/0/block_stride"));
}

TEST_CASE("cpu_linear: each chunk's whole score block, its products and its loads, in turn",
          "[validate][cpu]") {
  const hw::Profile p = validate::probe_profile(
      test_ceilings(2.3e9, 12.6e9, 26e9, 3.4e8, 2 << 20, 260 << 20), "2026-11-30");
  validate::CaseRun run;
  run.spec.name = "linear";
  run.spec.kernel = validate::CpuKernel::linear;
  run.spec.batch = 1;
  run.spec.heads = 2;
  run.spec.head_dim = run.spec.v_head_dim = 32;
  run.spec.q_len = 100;
  run.spec.chunk = 64;
  run.median_s = 1;
  const double t = validate::evaluate_case(
                       validate::to_measured(run, p.id, registry(), validate::Backend::cpu), p)
                       .tile_s;
  // Chunks of 64 and 36 tokens: sum of c^2 = 5392. Per head 2 x 5392 x (32 + 32) + 4 x 100 x 32
  // x 32 = 1099776 FLOP at 26 GFLOP/s; the query copy and the triangle, 100 x 32 + 5392 / 2 lane
  // operations at 13e9/s; Q, K, V and O (100 x 32 floats each) at 12.6 GB/s (the state stays in
  // the kernel).
  const double flops_s = 2 * 1099776 / 26e9;
  const double alu_s = 2 * (100 * 32 + 5392 / 2.0) / 13e9;
  const double bytes_s = 2 * (4 * 100 * 32) * 4 / 12.6e9;
  CHECK(t == Approx(flops_s + alu_s + bytes_s).epsilon(0.01));
  // A chunk size that divides the tokens evenly has no short chunk to price at its size.
  run.spec.q_len = 128;
  const double even = validate::evaluate_case(
                          validate::to_measured(run, p.id, registry(), validate::Backend::cpu), p)
                          .tile_s;
  CHECK(even == Approx(2 * (2 * 2 * 4096.0 * 64 + 4 * 128 * 32 * 32) / 26e9 +
                       2 * (128 * 32 + 4096.0) / 13e9 + 2 * (4 * 128 * 32) * 4 / 12.6e9)
                    .epsilon(0.01));
}

TEST_CASE("cpu_linear runs plain linear attention prefill only", "[validate][cpu]") {
  const hw::Profile p = validate::probe_profile(
      test_ceilings(2.3e9, 12.6e9, 26e9, 3.4e8, 2 << 20, 260 << 20), "2026-11-30");
  auto price = [&](const char* variant, const models::ParamValues& params, models::Phase phase) {
    test_support::Query q{
        test_support::make(variant, params),
        test_support::workload(phase, 1, phase == models::Phase::decode ? 1 : 256, 256, true)};
    q.w.dtype = q.w.kv_dtype = models::DType::fp32;
    return sim::predict_tile(q.cost(), q.w, p, "cpu_linear").time_s;
  };
  using models::Phase;
  CHECK(price("linear", {}, Phase::prefill) > 0);
  CHECK_THROWS_WITH(price("linear", {}, Phase::decode), Catch::Contains("prefill only"));
  CHECK_THROWS_WITH(price("linear", {}, Phase::bwd), Catch::Contains("no backward model"));
  CHECK_THROWS_WITH(price("linear", {}, Phase::train), Catch::Contains("no backward model"));
  // GLA's per-channel gates, Lightning's block decay: kernels the host does not have.
  CHECK_THROWS_WITH(price("linear", {{"gate_dim", 128}}, Phase::prefill),
                    Catch::Contains("plain linear"));
  CHECK_THROWS_WITH(price("lightning", {}, Phase::prefill), Catch::Contains("plain linear"));
  CHECK_THROWS_WITH(price("gqa", {}, Phase::prefill), Catch::Contains("scan ops"));
}

TEST_CASE("on a host profile, auto prices plain linear attention prefill with cpu_linear",
          "[validate][cpu]") {
  const hw::Profile p = validate::probe_profile(
      test_ceilings(2.3e9, 12.6e9, 26e9, 3.4e8, 2 << 20, 260 << 20), "2026-11-30");
  test_support::Query q{test_support::make("linear", {{"heads", 8}}),
                        test_support::workload(models::Phase::prefill, 1, 1024, 1024, true)};
  q.w.dtype = q.w.kv_dtype = models::DType::fp32;
  const sim::Prediction automatic = sim::predict_tile(q.cost(), q.w, p, "auto");
  REQUIRE(automatic.launches.size() == 1);
  CHECK(automatic.launches[0].schedule == "cpu_linear");
  CHECK(automatic.time_s == sim::predict_tile(q.cost(), q.w, p, "cpu_linear").time_s);
  // A decode step has no host kernel: the chunked_scan support entry prices it.
  q.w = test_support::workload(models::Phase::decode, 1, 1, 1024, true);
  q.w.dtype = q.w.kv_dtype = models::DType::fp32;
  const sim::Prediction step = sim::predict_tile(q.cost(), q.w, p, "auto");
  REQUIRE(step.launches.size() == 1);
  CHECK(step.launches[0].schedule == "chunked_scan");
}
