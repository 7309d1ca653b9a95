// `attnsim models` and `query --model / --hf-config` (cli/model_query.hpp): a whole model's
// attention stack priced per layer group, with totals and the memory check.
#include <catch2/catch.hpp>

#include <filesystem>
#include <set>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"

using nlohmann::json;
using test_support::run_cli;
using test_support::RunResult;

namespace fs = std::filesystem;

TEST_CASE("models list has at least 20 presets across the families the issue names",
          "[cli][models]") {
  const RunResult r = run_cli({"models", "list", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const json list = json::parse(r.out);
  CHECK(list.size() >= 20);
  std::set<std::string> names;
  for (const json& m : list) names.insert(m.at("name").get<std::string>());
  for (const char* family :
       {"llama-2-7b", "llama-3.1-8b", "mistral-7b-v0.1", "mixtral-8x7b-v0.1", "qwen2.5-7b",
        "qwen3-8b", "qwen3-next-80b-a3b", "gemma-2-9b", "gemma-3-27b", "deepseek-v2", "deepseek-v3",
        "kimi-k2", "gpt-oss-120b", "phi-3-mini-4k", "falcon-7b", "minimax-text-01"}) {
    CHECK(names.count(family) == 1);
  }
}

TEST_CASE("query --model prices each layer group and sums the stack", "[cli][models]") {
  // Gemma 2 9B decode at 8192 tokens: 21 full layers read all 8192 keys, 21 window layers 4096.
  const RunResult r = run_cli({"query", "--model", "gemma-2-9b", "--phase", "decode", "--seq-len",
                               "8192", "--batch", "4", "--hw", "h100", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  const json& m = doc.at("models").at(0);
  CHECK(m.at("model") == "gemma-2-9b");
  REQUIRE(m.at("groups").size() == 2);
  double time = 0, kv = 0;
  for (const json& g : m.at("groups")) {
    CHECK(g.at("layers") == 21);
    time += g.at("time_s").get<double>();
    kv += g.at("kv_cache_bytes").get<double>();
  }
  CHECK(m.at("total").at("attention_time_s").get<double>() == Approx(time));
  // KV cache: 8 KV heads x (256 + 256) x 2 B = 8192 B per token and layer; full layers hold 8192
  // tokens, window layers 4096: 4 x 21 x 8192 x (8192 + 4096) = 8,455,716,864 B.
  CHECK(m.at("total").at("kv_cache_bytes").get<double>() == 8455716864.0);
  CHECK(kv == 8455716864.0);
  CHECK(m.at("memory").at("fits") == true);
  // 80 GB / (8,455,716,864 / 4) per sequence = 37.8: 37 sequences.
  CHECK(m.at("memory").at("max_batch") == 37);
  CHECK(m.at("note").get<std::string>().find("MLP") != std::string::npos);
  // The per-group rows carry the usual query fields.
  CHECK(doc.at("results").size() == 2);
  CHECK(doc.at("results").at(0).at("layer_group") == "full");
}

TEST_CASE("query --hf-config reads a config.json file, linear layers report their state",
          "[cli][models]") {
  const fs::path config =
      fs::path(ATTNSIM_SOURCE_DIR) / "tests/fixtures/hf-configs/qwen3-next-80b-a3b.config.json";
  const RunResult r = run_cli({"query", "--hf-config", config.string(), "--phase", "decode",
                               "--seq-len", "4096", "--hw", "h200", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const json m = json::parse(r.out).at("models").at(0);
  // 36 Gated DeltaNet layers, 32 value heads of 128 x 128 fp32 each.
  CHECK(m.at("total").at("state_bytes").get<double>() == 36.0 * 32 * 128 * 128 * 4);
  // 12 full layers of 2 KV heads x 512 x 2 B over 4096 tokens.
  CHECK(m.at("total").at("kv_cache_bytes").get<double>() == 12.0 * 2048 * 4096);
}

TEST_CASE("query --model rejects head flags and unknown presets with exit 2", "[cli][models]") {
  RunResult r = run_cli({"query", "--model", "llama-3.1-8b", "--heads", "8"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--heads") != std::string::npos);
  r = run_cli({"query", "--model", "llama-9"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("unknown model 'llama-9'") != std::string::npos);
  CHECK(r.err.find("llama-3.1-8b") != std::string::npos);
  test_support::TempDir dir;
  const fs::path bad = dir.path() / "config.json";
  test_support::write_file(bad,
                           "{\"hidden_size\": 4096, \"num_attention_heads\": 32, "
                           "\"num_hidden_layers\": 2, \"attention_chunk_size\": 8192}");
  r = run_cli({"query", "--hf-config", bad.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("attention_chunk_size") != std::string::npos);
}

TEST_CASE("models show lists the layer groups and their variants", "[cli][models]") {
  const RunResult r = run_cli({"models", "show", "gpt-oss-120b", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const json m = json::parse(r.out);
  CHECK(m.at("window") == 128);
  REQUIRE(m.at("groups").size() == 2);
  CHECK(m.at("groups").at(0).at("variant") == "gqa");
  CHECK(m.at("groups").at(1).at("variant") == "swa");
}
