// `attnsim models` and `query --model / --hf-config` (cli/model_query.hpp): a whole model's
// attention stack priced per layer group, with totals and the memory check.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
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
  CHECK(m.at("total").at("time_s").get<double>() == Approx(time));
  // KV cache: 8 KV heads x (256 + 256) x 2 B = 8192 B per token and layer; full layers hold 8192
  // tokens, window layers 4096: 4 x 21 x 8192 x (8192 + 4096) = 8,455,716,864 B.
  CHECK(m.at("total").at("kv_cache_bytes").get<double>() == 8455716864.0);
  CHECK(kv == 8455716864.0);
  CHECK(m.at("memory").at("fits") == true);
  // 80 GB / (8,455,716,864 / 4) per sequence = 37.8: 37 sequences.
  CHECK(m.at("memory").at("max_batch") == 37);
  CHECK(m.at("memory").at("max_batch").is_number_integer());
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

TEST_CASE("models show '' says an empty model name and lists the known ones", "[cli][models]") {
  const RunResult r = run_cli({"models", "show", ""});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err,
             Catch::StartsWith("attnsim: error: models show: an empty model name; known: ") &&
                 Catch::Contains("llama-3.1-8b"));
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

// --- A model under a multi-device layout (--tp/--cp/--cp-strategy/--nodes) ---

namespace {}  // namespace

TEST_CASE(
    "models show: CSV has a row per layer group; the linear and convolution states show in "
    "every format",
    "[cli][models]") {
  const test_support::RunResult csv =
      test_support::run_cli({"models", "show", "qwen3-next-80b-a3b", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  // A header and the two groups (12 full-attention layers, 36 Gated DeltaNet layers).
  CHECK(std::count(csv.out.begin(), csv.out.end(), '\n') == 3);
  CHECK(csv.out.find(",24576,full,gated,12,heads=16 kv_heads=2 head_dim=256 headwise=0,3 7 11") !=
        std::string::npos);
  CHECK(csv.out.find(",linear,linear,36,") != std::string::npos);
  const test_support::RunResult json =
      test_support::run_cli({"models", "show", "qwen3-next-80b-a3b", "--format", "json"});
  REQUIRE(json.exit_code == 0);
  const nlohmann::json doc = nlohmann::json::parse(json.out);
  CHECK(doc.at("linear_state_elements") == 524288);
  CHECK(doc.at("linear_conv_state_elements") == 24576);
  const test_support::RunResult table =
      test_support::run_cli({"models", "show", "qwen3-next-80b-a3b"});
  CHECK(table.out.find("short convolution state 24576") != std::string::npos);
  // A model without linear layers has the same columns (0 elements), so exports concatenate.
  const test_support::RunResult dense =
      test_support::run_cli({"models", "show", "gemma-2-9b", "--format", "csv"});
  REQUIRE(dense.exit_code == 0);
  CHECK(dense.out.substr(0, dense.out.find('\n')) == csv.out.substr(0, csv.out.find('\n')));
}

TEST_CASE("preset names resolve in any case, as profile ids do, and keep the preset's spelling",
          "[cli][models]") {
  RunResult r = run_cli({"query", "--model", "LLAMA-3.1-8B", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  CHECK(json::parse(r.out).at("models").at(0).at("model") == "llama-3.1-8b");
  r = run_cli({"sweep", "--model", "Qwen3-8B", "--seq-len", "1k", "--format", "csv"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find(",qwen3-8b,prefill,") != std::string::npos);
}

TEST_CASE("models show --hf-config shows a config file's stack, as the unknown-model error offers",
          "[cli][models]") {
  const fs::path config =
      fs::path(ATTNSIM_SOURCE_DIR) / "tests/fixtures/hf-configs/qwen3-next-80b-a3b.config.json";
  RunResult r = run_cli({"models", "show", "--hf-config", config.string(), "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  CHECK(doc.at("source") == config.string());
  CHECK(doc.at("layers") == 48);
  r = run_cli({"models", "show", "nope"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("(or use --hf-config FILE)") != std::string::npos);
}

TEST_CASE(
    "query labels a config's rows with its path as given, as sweep, compare and models show do",
    "[cli][models]") {
  const std::string config =
      fmt::format("{}/tests/fixtures/hf-configs/gemma-2-9b.config.json", ATTNSIM_SOURCE_DIR);
  const RunResult q = run_cli({"query", "--hf-config", config, "--format", "json"});
  REQUIRE(q.exit_code == 0);
  CHECK(json::parse(q.out).at("models").at(0).at("model") == config);
  const RunResult s = run_cli({"sweep", "--hf-config", config, "--seq-len", "1k"});
  REQUIRE(s.exit_code == 0);
  CHECK(s.out.find("," + config + ",") != std::string::npos);
}

TEST_CASE(
    "query --model's total (JSON and CSV) carries the bound, FLOPs and HBM bytes a model "
    "sweep row does, with the same values",
    "[cli][models]") {
  const std::vector<std::string> point = {"--model", "gemma-3-27b", "--seq-len",
                                          "8192",    "--hw",        "h100"};
  std::vector<std::string> query = {"query"};
  query.insert(query.end(), point.begin(), point.end());
  std::vector<std::string> sweep = {"sweep"};
  sweep.insert(sweep.end(), point.begin(), point.end());
  sweep.insert(sweep.end(), {"--format", "jsonl"});
  const RunResult s = run_cli(sweep);
  REQUIRE(s.exit_code == 0);
  const json row = json::parse(s.out);
  query.insert(query.end(), {"--format", "json"});
  const json total = json::parse(run_cli(query).out).at("models").at(0).at("total");
  CHECK(total.at("bound") == row.at("bound"));
  CHECK(total.at("flops").at("tensor").get<double>() ==
        Approx(row.at("flops_tensor").get<double>()));
  CHECK(total.at("bytes").at("hbm").get<double>() == Approx(row.at("bytes_hbm").get<double>()));
  query.back() = "csv";
  const RunResult csv = run_cli(query);
  REQUIRE(csv.exit_code == 0);
  const std::string header = csv.out.substr(0, csv.out.find('\n'));
  const std::string last = csv.out.substr(csv.out.rfind('\n', csv.out.size() - 2) + 1);
  CHECK_THAT(last, Catch::Contains(",total,") && Catch::Contains(",tensor,"));
  CHECK_THAT(header, Catch::Contains("bytes_hbm"));
}

TEST_CASE(
    "a model query's CSV total row carries what its groups share: the workload over all "
    "layers, engine, kernel, caller",
    "[cli][models]") {
  const RunResult r = run_cli({"query", "--model", "gemma-2-9b", "--seq-len", "8192", "--hw",
                               "h100", "--caller", "pytorch", "--format", "csv"});
  REQUIRE(r.exit_code == 0);
  // Columns by name from the header (cells hold no commas here).
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> cells;
    std::istringstream cell(line);
    for (std::string c; std::getline(cell, c, ',');) cells.push_back(c);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(cells);
  }
  REQUIRE(rows.size() == 4);  // header, full, window, total
  const auto at = [&](std::size_t row, const std::string& column) {
    const auto it = std::find(rows[0].begin(), rows[0].end(), column);
    REQUIRE(it != rows[0].end());
    return rows[row].at(static_cast<std::size_t>(it - rows[0].begin()));
  };
  CHECK(at(3, "layer_group") == "total");
  CHECK(at(3, "workload_phase") == "prefill");
  CHECK(at(3, "workload_q_len") == "8192");
  CHECK(at(1, "workload_layers") == "21");
  CHECK(at(3, "workload_layers") == "42");
  CHECK(at(3, "engine") == "tile");
  CHECK(at(3, "kernel") == "auto");
  CHECK(at(3, "caller") == "pytorch");
  CHECK(at(3, "main_schedule") == "fa3");
  // A group's own description is not the total's.
  CHECK(at(3, "variant").empty());
}

namespace {

// A CSV document's rows as header -> cell maps (its cells hold no commas).
std::vector<std::map<std::string, std::string>> csv_maps(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> cells;
    std::istringstream cell(line);
    for (std::string c; std::getline(cell, c, ',');) cells.push_back(c);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    rows.push_back(cells);
  }
  std::vector<std::map<std::string, std::string>> out;
  for (std::size_t r = 1; r < rows.size(); ++r) {
    std::map<std::string, std::string> m;
    for (std::size_t c = 0; c < rows[0].size(); ++c) m[rows[0][c]] = rows[r].at(c);
    out.push_back(m);
  }
  return out;
}

}  // namespace

TEST_CASE("a model's totals use query's field names: time_s, bytes.hbm, hbm_bytes_moved",
          "[cli][models]") {
  const RunResult r = run_cli(
      {"query", "--model", "gemma-2-9b", "--seq-len", "8192", "--hw", "h100", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  const json& total = doc.at("models").at(0).at("total");
  CHECK_FALSE(total.contains("attention_time_s"));
  CHECK_FALSE(total.contains("hbm_bytes"));
  double time = 0, bytes = 0, moved = 0;
  for (const json& row : doc.at("results")) {
    time += row.at("time_s").get<double>();
    bytes += row.at("bytes").at("hbm").get<double>();
    moved += row.at("hbm_bytes_moved").get<double>();
  }
  CHECK(total.at("time_s").get<double>() == Approx(time).epsilon(1e-12));
  CHECK(total.at("bytes").at("hbm").get<double>() == Approx(bytes).epsilon(1e-12));
  CHECK(total.at("hbm_bytes_moved").get<double>() == Approx(moved).epsilon(1e-12));
}

TEST_CASE("a model's CSV total row fills what adds up and what derives from the totals",
          "[cli][models]") {
  const RunResult r =
      run_cli({"query", "--model", "gemma-3-27b", "--phase", "decode", "--seq-len", "32768",
               "--batch", "8", "--hw", "h100,h200", "--caller", "pytorch", "--format", "csv"});
  REQUIRE(r.exit_code == 0);
  const auto rows = csv_maps(r.out);
  REQUIRE(rows.size() == 6);  // two groups per profile, then a total per profile
  for (std::size_t p : {std::size_t{0}, std::size_t{1}}) {
    const auto& total = rows[4 + p];
    INFO(total.at("hw"));
    REQUIRE(total.at("layer_group") == "total");
    double moved = 0, floor = 0, busy = 0;
    for (std::size_t g = 2 * p; g < 2 * p + 2; ++g) {
      REQUIRE(rows[g].at("hw") == total.at("hw"));
      moved += std::stod(rows[g].at("hbm_bytes_moved"));
      floor += std::stod(rows[g].at("caller_floor_s"));
      busy += std::stod(rows[g].at("tensor_utilization")) * std::stod(rows[g].at("time_s"));
    }
    for (const char* key :
         {"hbm_bytes_moved", "arithmetic_intensity", "tensor_utilization", "caller_floor_s"}) {
      INFO(key);
      REQUIRE_FALSE(total.at(key).empty());
    }
    CHECK(std::stod(total.at("hbm_bytes_moved")) == Approx(moved).epsilon(1e-12));
    CHECK(std::stod(total.at("caller_floor_s")) == Approx(floor).epsilon(1e-12));
    CHECK(std::stod(total.at("arithmetic_intensity")) ==
          Approx(std::stod(total.at("flops_tensor")) / std::stod(total.at("bytes_hbm")))
              .epsilon(1e-12));
    CHECK(std::stod(total.at("tensor_utilization")) ==
          Approx(busy / std::stod(total.at("time_s"))).epsilon(1e-9));
  }
}
