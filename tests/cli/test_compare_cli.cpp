// attnsim compare: variants or models side by side, ratios against the first on each profile.
#include <algorithm>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

#include "models/model_presets.hpp"
#include "tests/support/cli_runner.hpp"

using nlohmann::json;
using test_support::run_cli;
using test_support::RunResult;

TEST_CASE("compare puts variants side by side with ratios against the first, per profile",
          "[cli][compare]") {
  const RunResult r =
      run_cli({"compare", "--variants", "gqa:kv_heads=8,mha,mqa", "--phase", "decode", "--seq-len",
               "8192", "--hw", "h100,a100", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const json rows = json::parse(r.out).at("comparisons");
  REQUIRE(rows.size() == 6);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO(i);
    CHECK(rows[i].at("baseline") == "gqa:kv_heads=8");
    if (i % 3 == 0) CHECK(rows[i].at("time_ratio") == 1.0);
  }
  // KV cache: MHA keeps 32 KV heads, GQA 8, MQA 1: ratios 4 and 1/8.
  CHECK(rows[1].at("kv_cache_ratio") == 4.0);
  CHECK(rows[2].at("kv_cache_ratio") == 0.125);
  CHECK(rows[3].at("hw") == "a100-sxm4-80gb");
  // Decode is memory-bound: MHA reads 4x the K/V bytes of GQA.
  CHECK(rows[1].at("time_ratio").get<double>() > 2.0);
}

TEST_CASE("compare --models compares whole stacks; bad lists are exit 2", "[cli][compare]") {
  RunResult r = run_cli({"compare", "--models", "llama-3.1-70b,deepseek-v3", "--phase", "decode",
                         "--seq-len", "32768", "--format", "csv"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("deepseek-v3") != std::string::npos);
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"compare"},
        {"compare", "--variants", "gqa", "--models", "llama-3.1-8b"},
        {"compare", "--variants", "gqa:kv_heads"},
        {"compare", "--variants", "gqa:window=8"},
        {"compare", "--models", "nope"}}) {
    r = run_cli(bad);
    CHECK(r.exit_code == 2);
  }
}

TEST_CASE(
    "compare --models all compares every built-in preset, as its help and its empty-item error "
    "say (sweep --model all does the same)",
    "[cli][compare]") {
  const RunResult r = run_cli(
      {"compare", "--models", "all", "--phase", "decode", "--seq-len", "4096", "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json rows = json::parse(r.out).at("comparisons");
  REQUIRE(rows.size() == models::builtin_presets().size());
  for (std::size_t i = 0; i < rows.size(); ++i)
    CHECK(rows[i].at("compared") == models::builtin_presets()[i].name);
  CHECK_THAT(run_cli({"compare", "--help"}).out, Catch::Contains("or 'all'"));
  // `all` is the whole list, not one name among others.
  CHECK(run_cli({"compare", "--models", "all,llama-2-7b"}).exit_code == 2);
}

TEST_CASE("compare --hf-config prices a config file exactly as the preset made from it",
          "[cli][compare]") {
  const std::string config =
      std::string(ATTNSIM_SOURCE_DIR) + "/tests/fixtures/hf-configs/llama-2-7b.config.json";
  const RunResult r = run_cli({"compare", "--models", "llama-2-7b", "--hf-config", config,
                               "--phase", "decode", "--seq-len", "32768", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const json rows = json::parse(r.out).at("comparisons");
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].at("compared") == config);
  CHECK(rows[1].at("time_ratio") == 1.0);
  CHECK(rows[1].at("kv_cache_ratio") == 1.0);
  const RunResult both = run_cli({"compare", "--variants", "gqa", "--hf-config", config});
  CHECK(both.exit_code == 2);
  CHECK_THAT(both.err, Catch::Contains("--hf-config"));
}

// --- compare under a multi-device layout (--tp/--cp/--cp-strategy/--nodes, as query) ---

namespace {}  // namespace

TEST_CASE("compare --tp/--cp prices each variant per device exactly as query does",
          "[cli][compare][parallel]") {
  const std::vector<std::string> layout = {"--tp",    "2", "--cp",      "4",
                                           "--nodes", "2", "--seq-len", "65536"};
  const json rows = test_support::run_json_format(test_support::with(
      {"compare", "--variants", "gqa:heads=32:kv_heads=8,mha:heads=32"}, layout))["comparisons"];
  REQUIRE(rows.size() == 2);
  const json gqa = test_support::run_json_format(test_support::with(
      {"query", "--variant", "gqa", "--heads", "32", "--kv-heads", "8"}, layout))["results"][0];
  const json mha = test_support::run_json_format(
      test_support::with({"query", "--variant", "mha", "--heads", "32"}, layout))["results"][0];
  for (const char* key : {"layout", "per_device", "cluster"}) {
    INFO(key);
    CHECK(rows[0].at(key) == gqa.at(key));
    CHECK(rows[1].at(key) == mha.at(key));
  }
  CHECK(rows[0].at("per_device_time_ratio") == 1.0);
  CHECK(rows[1].at("per_device_time_ratio").get<double>() ==
        mha["per_device"]["total_s"].get<double>() / gqa["per_device"]["total_s"].get<double>());
  // Ring K/V blocks over two nodes: both link classes carry bytes.
  CHECK(rows[0]["per_device"]["comm_bytes"]["scale_out"].get<double>() > 0);
}

TEST_CASE("compare's table and CSV show per-device and cluster values under a layout",
          "[cli][compare][parallel]") {
  const std::vector<std::string> args = {"compare", "--variants", "gqa:kv_heads=8,mla", "--tp",
                                         "8"};
  const RunResult table = run_cli(args);
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("layout: tp=8 cp=1 cp_strategy=ring nodes=1"));
  CHECK_THAT(table.out, Catch::Contains("per device"));
  CHECK_THAT(table.out, Catch::Contains("cluster"));
  CHECK_THAT(table.out, Catch::Contains("exposed"));
  const RunResult csv = run_cli(test_support::with(args, {"--format", "csv"}));
  REQUIRE(csv.exit_code == 0);
  const std::string header = csv.out.substr(0, csv.out.find('\n'));
  for (const char* column :
       {"layout_tp", "per_device_compute_s", "per_device_comm_s", "per_device_exposed_comm_s",
        "per_device_total_s", "per_device_kv_cache_bytes", "per_device_comm_bytes_scale_up",
        "per_device_comm_bytes_scale_out", "cluster_flops_total", "per_device_time_ratio"}) {
    CHECK_THAT(header, Catch::Contains(column));
  }
}

TEST_CASE("compare without layout flags has no per-device fields", "[cli][compare][parallel]") {
  const json rows =
      test_support::run_json_format({"compare", "--variants", "gqa,mla"})["comparisons"];
  CHECK_FALSE(rows[0].contains("per_device"));
  CHECK_FALSE(rows[0].contains("layout"));
  const RunResult table = run_cli({"compare", "--variants", "gqa,mla"});
  CHECK_THAT(table.out, !Catch::Contains("per device"));
}

TEST_CASE("compare --models under a layout sums each model's groups per device as query does",
          "[cli][compare][parallel]") {
  const std::vector<std::string> layout = {"--tp", "4", "--phase", "decode", "--seq-len", "32768"};
  const json rows = test_support::run_json_format(test_support::with(
      {"compare", "--models", "llama-3.1-70b,gemma-3-27b"}, layout))["comparisons"];
  REQUIRE(rows.size() == 2);
  const json gemma = test_support::run_json_format(
      test_support::with({"query", "--model", "gemma-3-27b"}, layout))["models"][0];
  CHECK(rows[1].at("per_device") == gemma.at("total").at("per_device"));
  CHECK(rows[1].at("cluster") == gemma.at("total").at("cluster"));
  CHECK(rows[1].at("layout").at("tp") == 4);
}

TEST_CASE("compare rejects bad layouts like query: exit 2, one line naming the problem",
          "[cli][compare][parallel]") {
  struct Bad {
    std::vector<std::string> args;
    const char* message;
  };
  for (const Bad& bad : {
           Bad{{"--variants", "gqa,mha", "--tp", "0"}, "--tp"},
           Bad{{"--variants", "gqa,mha", "--cp", "2", "--cp-strategy", "spiral"},
               "known: ring, zigzag, ulysses, allgather, lasp2, zeco"},
           Bad{{"--variants", "gqa,mha", "--tp", "3"}, "do not split evenly over 3 devices"},
           Bad{{"--models", "llama-3.1-70b", "--tp", "3"}, "layer group full (gqa), 80 layers"},
       }) {
    const RunResult r = run_cli(test_support::with({"compare"}, bad.args));
    INFO(r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains(bad.message));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

TEST_CASE("a --hf-config model under a layout is priced as the preset made from it",
          "[cli][compare][parallel]") {
  const std::string config =
      std::string(ATTNSIM_SOURCE_DIR) + "/tests/fixtures/hf-configs/llama-2-7b.config.json";
  const std::vector<std::string> layout = {"--tp", "4", "--phase", "decode", "--seq-len", "32768"};
  const json rows = test_support::run_json_format(test_support::with(
      {"compare", "--models", "llama-2-7b", "--hf-config", config}, layout))["comparisons"];
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].at("per_device") == rows[0].at("per_device"));
  CHECK(rows[1].at("per_device_time_ratio") == 1.0);
  const json query = test_support::run_json_format(
      test_support::with({"query", "--hf-config", config}, layout))["models"][0];
  CHECK(query.at("total").at("per_device") == rows[0].at("per_device"));
  // 32 KV heads over 4 devices: a quarter of the cache each.
  CHECK(query.at("total").at("per_device").at("kv_cache_bytes").get<double>() ==
        query.at("total").at("kv_cache_bytes").get<double>() / 4);
}

TEST_CASE("compare --caller applies that caller's host floor to every entry, as query does",
          "[cli][compare][caller]") {
  // A one-token decode at 1k context takes a few microseconds on an H100: the pytorch floor
  // (calibration.caller_floor_us, 25 us) sets the time of each variant.
  const std::vector<std::string> base = {"--phase", "decode", "--seq-len", "1024",
                                         "--hw",    "h100",   "--format",  "json"};
  auto compare_times = [&](const std::string& caller) {
    std::vector<std::string> args = {"compare", "--variants", "gqa,mha", "--caller", caller};
    args.insert(args.end(), base.begin(), base.end());
    const RunResult r = run_cli(args);
    REQUIRE(r.exit_code == 0);
    std::vector<double> times;
    const json doc = json::parse(r.out);
    for (const json& row : doc.at("comparisons")) {
      times.push_back(row.at("time_s").get<double>());
    }
    return times;
  };
  auto query_time = [&](const std::string& variant, const std::string& caller) {
    std::vector<std::string> args = {"query", "--variant", variant, "--caller", caller};
    args.insert(args.end(), base.begin(), base.end());
    const RunResult r = run_cli(args);
    REQUIRE(r.exit_code == 0);
    return json::parse(r.out).at("results").at(0).at("time_s").get<double>();
  };
  const std::vector<double> direct = compare_times("direct");
  const std::vector<double> pytorch = compare_times("pytorch");
  REQUIRE(pytorch.size() == 2);
  CHECK(pytorch[0] == query_time("gqa", "pytorch"));
  CHECK(pytorch[1] == query_time("mha", "pytorch"));
  CHECK(direct[0] == query_time("gqa", "direct"));
  CHECK(pytorch[0] > direct[0]);
  CHECK(run_cli({"compare", "--variants", "gqa", "--caller", "jax"}).exit_code == 2);
}

TEST_CASE("compare gives no ratio against a baseline of nothing, and 1 for nothing against nothing",
          "[cli][compare]") {
  // Linear attention keeps no KV cache: GQA's 16.8 MB is no multiple of 0 B.
  const RunResult r =
      run_cli({"compare", "--variants", "linear,gqa,lightning", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const json rows = json::parse(r.out).at("comparisons");
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].at("kv_cache_ratio") == 1.0);
  CHECK(rows[1].at("kv_cache_ratio").is_null());
  CHECK(rows[2].at("kv_cache_ratio") == 1.0);
  CHECK(rows[1].at("time_ratio").is_number());
  // The table's memory column is KV cache plus state: gna keeps neither (non-causal, no decode).
  const RunResult table = run_cli({"compare", "--variants", "gna,gqa"});
  REQUIRE(table.exit_code == 0);
  CHECK(table.out.find(" 0.00 ") == std::string::npos);
  CHECK(table.out.find("16.8 MB       - ") != std::string::npos);
}

TEST_CASE(
    "compare's memory column and memory_ratio count the recurrent state with the KV cache, "
    "as fits and max_batch do",
    "[cli][compare]") {
  // 4096 tokens, batch 1: gqa 32/8/128 keeps 2 x 8 x 128 x 4096 x 2 B = 16,777,216 of KV;
  // linear's 32 heads of 128 x 128 fp32 keep 2,097,152 of state.
  const RunResult r =
      run_cli({"compare", "--variants", "gqa,linear", "--seq-len", "4096", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const json rows = json::parse(r.out).at("comparisons");
  REQUIRE(rows.size() == 2);
  CHECK(rows[1].at("kv_cache_bytes") == 0.0);
  CHECK(rows[1].at("state_bytes") == 2097152.0);
  CHECK(rows[1].at("memory_bytes") == 2097152.0);
  CHECK(rows[1].at("memory_ratio").get<double>() == Approx(2097152.0 / 16777216.0));
  const RunResult table = run_cli({"compare", "--variants", "gqa,linear", "--seq-len", "4096"});
  CHECK_THAT(table.out, Catch::Contains("KV+state   x mem"));
  CHECK_THAT(table.out, Catch::Contains("2.1 MB    0.12"));
  // A hybrid model's row counts its linear layers' state (Qwen3-Next: 36 layers of 32 heads of
  // 128 x 128 fp32 state).
  const RunResult models = run_cli({"compare", "--models", "llama-3.1-8b,qwen3-next-80b-a3b",
                                    "--phase", "decode", "--seq-len", "4096", "--format", "json"});
  REQUIRE(models.exit_code == 0);
  const json hybrid = json::parse(models.out).at("comparisons").at(1);
  CHECK(hybrid.at("state_bytes").get<double>() == 36 * 32 * 128 * 128 * 4.0);
  CHECK(hybrid.at("memory_bytes").get<double>() ==
        Approx(hybrid.at("kv_cache_bytes").get<double>() + hybrid.at("state_bytes").get<double>()));
}

TEST_CASE(
    "compare of non-causal-only variants takes kv_len below q_len, as query does; with a "
    "causal variant among them the flag holds",
    "[cli][compare]") {
  CHECK(run_cli({"compare", "--variants", "gna,lga", "--q-len", "4096", "--kv-len", "1024"})
            .exit_code == 0);
  CHECK(run_cli({"compare", "--variants", "gna,gqa", "--q-len", "4096", "--kv-len", "1024"})
            .exit_code == 2);
}

TEST_CASE("compare names its FLOPs and compulsory bytes as query does: flops_total, bytes_hbm",
          "[cli][compare]") {
  const std::vector<std::string> workload = {"--phase", "decode", "--seq-len", "8192",
                                             "--hw",    "h100",   "--format",  "json"};
  std::vector<std::string> compare = {"compare", "--variants", "gqa,mla"};
  compare.insert(compare.end(), workload.begin(), workload.end());
  const RunResult c = run_cli(compare);
  REQUIRE(c.exit_code == 0);
  const json rows = json::parse(c.out).at("comparisons");
  REQUIRE(rows.size() == 2);
  for (const json& row : rows) {
    INFO(row.at("compared"));
    for (const char* old_name : {"flops", "flops_ratio", "hbm_bytes", "hbm_bytes_ratio"}) {
      CHECK_FALSE(row.contains(old_name));
    }
    std::vector<std::string> query = {"query", "--variant", row.at("compared")};
    query.insert(query.end(), workload.begin(), workload.end());
    const json q = json::parse(run_cli(query).out).at("results").at(0);
    CHECK(row.at("flops_total") == q.at("flops").at("total"));
    CHECK(row.at("bytes_hbm") == q.at("bytes").at("hbm"));
    CHECK(row.at("time_s") == q.at("time_s"));
  }
  CHECK(rows[1].at("bytes_hbm_ratio").get<double>() ==
        Approx(rows[1].at("bytes_hbm").get<double>() / rows[0].at("bytes_hbm").get<double>()));
  CHECK(rows[1].contains("flops_total_ratio"));
}
