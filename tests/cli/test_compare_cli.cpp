// attnsim compare: variants or models side by side, ratios against the first on each profile.
#include <catch2/catch.hpp>

#include <nlohmann/json.hpp>

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
