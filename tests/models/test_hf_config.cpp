// Hugging Face config.json import (models/hf_config.hpp): every config in tests/fixtures/hf-configs
// imports to the values its .expected.json lists (worked out by hand from the public configs).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "models/hf_config.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/temp_dir.hpp"

using nlohmann::json;
using test_support::registry;
using test_support::workload;

namespace fs = std::filesystem;

namespace {

fs::path fixtures() {
  return fs::path(ATTNSIM_SOURCE_DIR) / "tests/fixtures/hf-configs";
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}

const models::LayerGroup* group_of(const models::ModelConfig& m, models::LayerKind kind) {
  for (const auto& g : m.groups) {
    if (g.kind == kind) return &g;
  }
  return nullptr;
}

std::int64_t layers_of(const models::ModelConfig& m, models::LayerKind kind) {
  const auto* g = group_of(m, kind);
  return g ? g->layers() : 0;
}

models::CostModel decode_cost(const models::LayerGroup& g, std::int64_t context) {
  const auto spec = registry().find(g.variant).make_spec(g.params, {});
  return spec.variant->cost(spec, workload(models::Phase::decode, 1, 1, context));
}

// KV-cache elements per token of one layer of the group (bf16: 2 bytes each).
double kv_elems_per_token(const models::LayerGroup& g) {
  return decode_cost(g, 4096).kv_cache_bytes_per_token_per_layer / 2;
}

// KV-cache elements of all softmax layers at `context` tokens, summed over the groups.
double kv_elems(const models::ModelConfig& m, std::int64_t context) {
  double elems = 0;
  for (const auto& g : m.groups) {
    if (g.kind == models::LayerKind::linear) continue;
    elems += decode_cost(g, context).kv_cache_bytes / 2 * static_cast<double>(g.layers());
  }
  return elems;
}

double attention_tensor_flops(const models::CostModel& c) {
  double f = 0;
  for (const models::Op& op : c.ops) {
    if (op.kind == models::OpKind::dense_attention) f += op.flops.tensor;
  }
  return f;
}

void check_against_expected(const std::string& stem) {
  INFO(stem);
  const auto m = models::load_hf_config((fixtures() / (stem + ".config.json")).string());
  const json x = read_json(fixtures() / (stem + ".expected.json")).at("derived");
  CHECK(m.heads == x.at("num_q_heads").get<std::int64_t>());
  CHECK(m.kv_heads == x.at("kv_heads_effective").get<std::int64_t>());
  CHECK(m.attention_kind == x.at("attention_kind").get<std::string>());
  if (x.contains("head_dim_effective")) {
    CHECK(m.head_dim == x.at("head_dim_effective").get<std::int64_t>());
    CHECK(m.head_dim_source == x.at("head_dim_source").get<std::string>());
    CHECK(m.kv_heads_source == x.at("kv_heads_source").get<std::string>());
  }
  using models::LayerKind;
  CHECK(layers_of(m, LayerKind::full) == x.at("n_full_attention_layers").get<std::int64_t>());
  CHECK(layers_of(m, LayerKind::window) == x.value("n_sliding_window_layers", 0));
  CHECK(layers_of(m, LayerKind::linear) == x.value("n_linear_attention_layers", 0));
  if (x.contains("sliding_window_effective")) {
    CHECK(m.window == x.at("sliding_window_effective").get<std::int64_t>());
  }
  if (x.contains("full_attention_layer_indices")) {
    REQUIRE(group_of(m, LayerKind::full) != nullptr);
    CHECK(group_of(m, LayerKind::full)->indices ==
          x.at("full_attention_layer_indices").get<std::vector<std::int64_t>>());
  }
  // Per-layer cache and decode FLOPs of the softmax layers, from the cost model itself.
  const auto* softmax =
      group_of(m, LayerKind::full) ? group_of(m, LayerKind::full) : group_of(m, LayerKind::window);
  REQUIRE(softmax != nullptr);
  const double per_layer = x.at("kv_cache_elems_per_token_per_layer").get<double>();
  CHECK(kv_elems_per_token(*softmax) == per_layer);
  // Per attended context token (a window layer attends to at most the window).
  const std::int64_t ctx = softmax->kind == LayerKind::window ? m.window : 8192;
  CHECK(attention_tensor_flops(decode_cost(*softmax, ctx)) / static_cast<double>(ctx) ==
        x.at("decode_attn_flops_per_layer_per_ctx_token").get<double>());
  // The whole stack's cache: full layers grow with the context, window layers stop at the window.
  const double full = x.at("kv_cache_elems_per_token_full_layers").get<double>();
  const double window = x.value("kv_cache_elems_per_token_window_layers", 0.0);
  for (std::int64_t ctx : {1000, 4096, 100000}) {
    INFO("context " << ctx);
    const double windowed = static_cast<double>(std::min<std::int64_t>(ctx, m.window));
    CHECK(kv_elems(m, ctx) == full * static_cast<double>(ctx) + window * windowed);
  }
  if (x.contains("linear_state_elems_per_seq_per_layer")) {
    CHECK(m.linear_state_elems == x.at("linear_state_elems_per_seq_per_layer").get<double>());
    CHECK(m.linear_conv_state_elems ==
          x.at("linear_conv_state_elems_per_seq_per_layer").get<double>());
    CHECK(m.linear_kind == x.at("linear_attention_type").get<std::string>());
    // The cost model's state: fp32, one per sequence and layer.
    CHECK(decode_cost(*group_of(m, LayerKind::linear), 4096).state_bytes / 4 ==
          m.linear_state_elems);
  }
}

}  // namespace

TEST_CASE("every shared Hugging Face config imports to its expected values", "[hf]") {
  int configs = 0;
  for (const auto& entry : fs::directory_iterator(fixtures())) {
    const std::string name = entry.path().filename().string();
    const std::string suffix = ".config.json";
    if (name.size() <= suffix.size() ||
        name.compare(name.size() - suffix.size(), suffix.size(), suffix) != 0) {
      continue;
    }
    check_against_expected(name.substr(0, name.size() - suffix.size()));
    ++configs;
  }
  CHECK(configs == 15);
}

TEST_CASE("deepseek-v3 imports as MLA: 192/128 prefill, 576/512 absorbed decode", "[hf]") {
  const auto m = models::load_hf_config((fixtures() / "deepseek-v3.config.json").string());
  REQUIRE(m.groups.size() == 1);
  const auto spec = registry().find("mla").make_spec(m.groups[0].params, {});
  CHECK(spec.heads.head_dim == 192);
  CHECK(spec.heads.v_head_dim == 128);
  CHECK(models::param_value(spec, "q_latent_dim") == 1536);
  const auto c = spec.variant->cost(spec, workload(models::Phase::decode, 1, 1, 4096));
  const models::Op& attention = c.ops[0];
  CHECK(attention.attention.head_dim == 576);
  CHECK(attention.attention.v_head_dim == 512);
}

TEST_CASE("config fields that change attention but are not understood are errors naming them",
          "[hf]") {
  json base = read_json(fixtures() / "llama-3.1-8b.config.json");
  json chunked = base;
  chunked["attention_chunk_size"] = 8192;
  CHECK_THROWS_WITH(models::parse_hf_config(chunked, "x.json"),
                    Catch::Contains("x.json") && Catch::Contains("attention_chunk_size"));
  json dsa = base;
  dsa["index_topk"] = 2048;
  CHECK_THROWS_WITH(models::parse_hf_config(dsa, "x.json"), Catch::Contains("index_topk"));
  json types = base;
  types["layer_types"] = json::array();
  for (int i = 0; i < 32; ++i) types["layer_types"].push_back("chunked_attention");
  CHECK_THROWS_WITH(models::parse_hf_config(types, "x.json"),
                    Catch::Contains("chunked_attention") && Catch::Contains("sliding_attention"));
  json bad = base;
  bad["num_key_value_heads"] = 7;
  CHECK_THROWS_WITH(models::parse_hf_config(bad, "x.json"), Catch::Contains("must divide"));
  json fractional = base;
  fractional["num_attention_heads"] = 32.5;
  CHECK_THROWS_WITH(models::parse_hf_config(fractional, "x.json"),
                    Catch::Contains("num_attention_heads") && Catch::Contains("integer"));
  json missing = base;
  missing.erase("hidden_size");
  CHECK_THROWS_WITH(models::parse_hf_config(missing, "x.json"), Catch::Contains("hidden_size"));
}

TEST_CASE(
    "a Falcon config counts num_kv_heads only with the new decoder architecture or "
    "without multi_query, as transformers' FalconAttention does",
    "[hf]") {
  const auto kv_heads = [](json extra) {
    json c = {{"model_type", "falcon"},
              {"hidden_size", 4544},
              {"num_attention_heads", 71},
              {"num_hidden_layers", 32}};
    if (!extra.is_null()) c.update(extra);
    return models::parse_hf_config(c, "falcon.json").kv_heads;
  };
  // Falcon-7B saved by transformers: num_kv_heads filled with the head count, multi_query on.
  CHECK(kv_heads(
            {{"num_kv_heads", 71}, {"multi_query", true}, {"new_decoder_architecture", false}}) ==
        1);
  CHECK(kv_heads({{"num_kv_heads", 71}}) == 1);  // FalconConfig's multi_query default is True
  CHECK(kv_heads(json::object()) == 1);
  // Falcon-40B/180B: the new decoder architecture, grouped heads.
  CHECK(kv_heads({{"num_attention_heads", 128},
                  {"hidden_size", 8192},
                  {"num_kv_heads", 8},
                  {"new_decoder_architecture", true}}) == 8);
  // Falcon-RW: neither, so every head has its own K and V.
  CHECK(kv_heads({{"num_attention_heads", 32}, {"hidden_size", 2048}, {"multi_query", false}}) ==
        32);
}

TEST_CASE(
    "a ChatGLM / GLM-4 config with multi_query_attention has multi_query_group_num KV heads and "
    "kv_channels as its head dim",
    "[hf]") {
  // THUDM/chatglm3-6b's attention fields (remote-code ChatGLMConfig).
  json c = {{"model_type", "chatglm"},   {"hidden_size", 4096}, {"num_attention_heads", 32},
            {"num_layers", 28},          {"kv_channels", 128},  {"multi_query_attention", true},
            {"multi_query_group_num", 2}};
  const models::ModelConfig m = models::parse_hf_config(c, "chatglm3-6b.json");
  CHECK(m.kv_heads == 2);
  CHECK(m.head_dim == 128);
  CHECK(m.head_dim_source == "kv_channels");
  c["multi_query_attention"] = false;  // ChatGLM-6B's first release: every head its own K and V
  CHECK(models::parse_hf_config(c, "x.json").kv_heads == 32);
  c["multi_query_attention"] = true;
  c.erase("multi_query_group_num");
  CHECK_THROWS_WITH(models::parse_hf_config(c, "x.json"), Catch::Contains("multi_query_group_num"));
  c["kv_channels"] = 96;  // a head dim other than hidden / heads is read from kv_channels
  c["multi_query_group_num"] = 4;
  CHECK(models::parse_hf_config(c, "x.json").head_dim == 96);
}

TEST_CASE("an unknown model_type with the standard fields imports, nested text_config is used",
          "[hf]") {
  const json plain = {{"model_type", "my_new_model"},
                      {"hidden_size", 2048},
                      {"num_attention_heads", 16},
                      {"num_key_value_heads", 4},
                      {"num_hidden_layers", 24}};
  const auto m = models::parse_hf_config(plain, "new.json");
  CHECK(m.head_dim == 128);
  CHECK(m.attention_kind == "GQA (group 4)");
  REQUIRE(m.groups.size() == 1);
  CHECK(m.groups[0].layers() == 24);
  const json nested = {{"model_type", "gemma3"},
                       {"text_config",
                        {{"hidden_size", 2560},
                         {"num_attention_heads", 8},
                         {"num_key_value_heads", 4},
                         {"head_dim", 256},
                         {"num_hidden_layers", 12},
                         {"sliding_window", 1024},
                         {"sliding_window_pattern", 6}}}};
  const auto g = models::parse_hf_config(nested, "g3.json");
  // Gemma 3: five local layers, then one global: layers 5 and 11 are full.
  REQUIRE(group_of(g, models::LayerKind::full) != nullptr);
  CHECK(group_of(g, models::LayerKind::full)->indices == std::vector<std::int64_t>{5, 11});
  CHECK(layers_of(g, models::LayerKind::window) == 10);
  CHECK(g.window == 1024);
}

TEST_CASE("a text_config that is not an object is refused, naming it; null means absent", "[hf]") {
  json config = {{"model_type", "llava"},
                 {"hidden_size", 2048},
                 {"num_attention_heads", 16},
                 {"num_hidden_layers", 24},
                 {"text_config", 5}};
  CHECK_THROWS_WITH(models::parse_hf_config(config, "x.json"), Catch::Contains("x.json") &&
                                                                   Catch::Contains("text_config") &&
                                                                   Catch::Contains("number"));
  config["text_config"] = "llama";
  CHECK_THROWS_WITH(models::parse_hf_config(config, "x.json"), Catch::Contains("string"));
  config["text_config"] = nullptr;
  CHECK(models::parse_hf_config(config, "x.json").layers == 24);
}

TEST_CASE("falcon's multi_query and MiniMax's attn_type_list are read", "[hf]") {
  const json falcon = {{"model_type", "falcon"},
                       {"hidden_size", 4544},
                       {"n_head", 71},
                       {"n_layer", 32},
                       {"multi_query", true}};
  const auto f = models::parse_hf_config(falcon, "falcon.json");
  CHECK(f.kv_heads == 1);
  CHECK(f.attention_kind == "MQA");
  json minimax = {{"model_type", "minimax_text_01"},
                  {"hidden_size", 6144},
                  {"num_attention_heads", 64},
                  {"num_key_value_heads", 8},
                  {"head_dim", 128},
                  {"num_hidden_layers", 8},
                  {"attn_type_list", {0, 0, 0, 0, 0, 0, 0, 1}}};
  const auto mm = models::parse_hf_config(minimax, "minimax.json");
  CHECK(layers_of(mm, models::LayerKind::linear) == 7);
  CHECK(layers_of(mm, models::LayerKind::full) == 1);
  CHECK(group_of(mm, models::LayerKind::linear)->variant == "lightning");
}

TEST_CASE("a config file with a number beyond double range is bad input naming the file",
          "[hf][fuzz]") {
  // Found by fuzz/fuzz_hf_config.cpp: nlohmann reports 1e999 as out_of_range, not parse_error,
  // and it escaped load_hf_config as a runtime failure with no file name.
  const test_support::TempDir dir;
  const std::filesystem::path path = dir.path() / "huge.config.json";
  std::ofstream(path) << R"({"model_type": "llama", "hidden_size": 1e999})";
  CHECK_THROWS_MATCHES(models::load_hf_config(path.string()), common::SpecError,
                       Catch::Message(path.string() + ": not valid JSON: number 1e999 is out of "
                                                      "range (beyond about 1.8e308)"));
}

TEST_CASE("a config file with a key given twice in one object is refused, naming the key and file",
          "[hf]") {
  // nlohmann keeps the last of two equal keys: 16 heads would be priced where the file also says
  // 32. The profile loader and the sweep spec reader refuse a repeat; so does the importer.
  const test_support::TempDir dir;
  const std::filesystem::path top = dir.path() / "twice.config.json";
  std::ofstream(top) << R"({"model_type": "llama", "num_attention_heads": 32,
      "num_attention_heads": 16, "hidden_size": 4096, "num_hidden_layers": 32})";
  CHECK_THROWS_MATCHES(
      models::load_hf_config(top.string()), common::SpecError,
      Catch::Message(top.string() + ": key 'num_attention_heads' is given twice; give it once"));
  const std::filesystem::path nested = dir.path() / "nested.config.json";
  std::ofstream(nested) << R"({"model_type": "mllama", "text_config": {"hidden_size": 4096,
      "num_attention_heads": 32, "num_key_value_heads": 8, "num_key_value_heads": 4,
      "num_hidden_layers": 32}})";
  CHECK_THROWS_MATCHES(
      models::load_hf_config(nested.string()), common::SpecError,
      Catch::Message(nested.string() + ": key 'num_key_value_heads' is given twice (in "
                                       "/text_config); give it once"));
  // One name in two objects is no repeat.
  const std::filesystem::path apart = dir.path() / "apart.config.json";
  std::ofstream(apart) << R"({"model_type": "llama", "hidden_size": 4096,
      "num_attention_heads": 32, "num_hidden_layers": 32, "rope_scaling": {"hidden_size": 1}})";
  CHECK_NOTHROW(models::load_hf_config(apart.string()));
}
