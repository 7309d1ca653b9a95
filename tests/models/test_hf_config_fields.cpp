// Hugging Face config import, field by field (models/hf_config_fields.cpp): real hybrid and
// KV-sharing configs whose attention attnsim does not model are refused naming the field, every
// integer is range-checked as its CLI flag is, and Gemma 3 and Cohere2 without their window fields
// get the library's defaults.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/hf_config.hpp"
#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using nlohmann::json;

namespace {

// The attention fields every config below shares (Jamba-v0.1's: 32 heads, 8 KV heads, width 4096).
json attention_fields(std::int64_t layers) {
  return {{"hidden_size", 4096},
          {"num_attention_heads", 32},
          {"num_key_value_heads", 8},
          {"num_hidden_layers", layers}};
}

json with(json config, const json& extra) {
  config.update(extra);
  return config;
}

std::vector<std::int64_t> indices_of_kind(const models::ModelConfig& m, models::LayerKind kind) {
  for (const auto& g : m.groups) {
    if (g.kind == kind) return g.indices;
  }
  return {};
}

}  // namespace

TEST_CASE(
    "hybrid Mamba, KV-sharing, block-sparse and cross-attention configs are refused, "
    "naming the field",
    "[hf]") {
  // Field names and values from the public config.json files of each model.
  const json jamba =  // ai21labs/Jamba-v0.1: attention at layers 4, 12, 20, 28 of 32
      with(attention_fields(32),
           {{"model_type", "jamba"}, {"attn_layer_period", 8}, {"attn_layer_offset", 4}});
  const std::string pattern = "M-M-M-M*-M-M-M-M*-";  // nvidia/Nemotron-H-8B-Base-8K's, shortened
  const json nemotron_h =
      with(attention_fields(static_cast<std::int64_t>(pattern.size())),
           {{"model_type", "nemotron_h"}, {"hybrid_override_pattern", pattern}});
  json zamba2 = with(attention_fields(6), {{"model_type", "zamba2"}});  // Zyphra/Zamba2-2.7B
  zamba2["layers_block_type"] = {"mamba", "mamba", "hybrid", "mamba", "mamba", "hybrid"};
  json layer_types = json::array();  // google/gemma-3n-E4B: four local layers, then a global one
  for (int i = 0; i < 35; ++i)
    layer_types.push_back(i % 5 == 4 ? "full_attention" : "sliding_attention");
  const json gemma3n = {
      {"model_type", "gemma3n"},
      {"text_config", with(attention_fields(35), {{"model_type", "gemma3n_text"},
                                                  {"sliding_window", 512},
                                                  {"layer_types", layer_types},
                                                  {"num_kv_shared_layers", 15}})}};
  const json phi3_small =  // microsoft/Phi-3-small-8k-instruct
      with(attention_fields(32), {{"model_type", "phi3small"},
                                  {"dense_attention_every_n_layers", 2},
                                  {"blocksparse_block_size", 64},
                                  {"blocksparse_num_local_blocks", 16},
                                  {"blocksparse_vert_stride", 8}});
  const json mllama = {
      // meta-llama/Llama-3.2-11B-Vision
      {"model_type", "mllama"},
      {"text_config",
       with(attention_fields(40), {{"model_type", "mllama_text_model"},
                                   {"cross_attention_layers", {3, 8, 13, 18, 23, 28, 33, 38}}})}};
  const json bamba = with(attention_fields(32),  // ibm-ai-platform/Bamba-9B
                          {{"model_type", "bamba"}, {"attn_layer_indices", {9, 18, 27}}});
  // tiiuae/Falcon-H1-0.5B-Instruct: 24 Mamba heads beside 8 attention heads in each of 36 layers;
  // its attn_layer_indices is null.
  const json falcon_h1 = with(attention_fields(36), {{"model_type", "falcon_h1"},
                                                     {"attn_layer_indices", nullptr},
                                                     {"mamba_d_ssm", 1536},
                                                     {"mamba_n_heads", 24},
                                                     {"mamba_d_state", 128}});
  const std::vector<std::pair<json, std::string>> cases = {
      {jamba, "attn_layer_period"},
      {nemotron_h, "hybrid_override_pattern"},
      {zamba2, "layers_block_type"},
      {gemma3n, "num_kv_shared_layers"},
      {phi3_small, "dense_attention_every_n_layers"},
      {mllama, "cross_attention_layers"},
      {bamba, "attn_layer_indices"},
      {falcon_h1, "mamba_d_ssm"},
      // mamba_d_ssm may be null (transformers then uses mamba_expand * hidden_size).
      {with(falcon_h1, {{"mamba_d_ssm", nullptr}}), "mamba_n_heads"},
      // google/recurrentgemma-2b: one block in three local attention, the rest RG-LRU.
      {with(attention_fields(26), {{"model_type", "recurrent_gemma"},
                                   {"block_types", {"recurrent", "recurrent", "attention"}},
                                   {"attention_window_size", 2048}}),
       "block_types"},
      {with(attention_fields(26), {{"attention_window_size", 2048}}), "attention_window_size"},
  };
  for (const auto& [config, field] : cases) {
    INFO(field);
    CHECK_THROWS_WITH(models::parse_hf_config(config, "x.json"),
                      Catch::StartsWith("x.json: field '" + field + "' is set: "));
  }
  // Each Phi-3-small field alone is refused too, and Jamba's offset without its period.
  for (const char* field :
       {"blocksparse_block_size", "blocksparse_num_local_blocks", "blocksparse_vert_stride"}) {
    CHECK_THROWS_WITH(models::parse_hf_config(with(attention_fields(32), {{field, 8}}), "x.json"),
                      Catch::Contains(field));
  }
  CHECK_THROWS_WITH(
      models::parse_hf_config(with(attention_fields(32), {{"attn_layer_offset", 4}}), "x.json"),
      Catch::Contains("attn_layer_offset"));
}

TEST_CASE(
    "config integers are held to the ranges of the flags they stand for: layers in "
    "[1, 65536], heads in [1, 65536], head dims in [1, 4096], width in [1, 1048576]",
    "[hf]") {
  const json base = attention_fields(32);
  struct Bad {
    const char* field;
    json value;
    const char* range;
  };
  const std::vector<Bad> cases = {
      {"num_hidden_layers", 70000, "[1, 65536], got 70000"},
      {"num_hidden_layers", std::int64_t{1000000000000}, "[1, 65536], got 1000000000000"},
      // 2^63 is beyond int64: it must not wrap negative.
      {"num_hidden_layers", std::uint64_t{1} << 63, "[1, 65536], got 9223372036854775808"},
      {"num_hidden_layers", 0, "[1, 65536], got 0"},
      {"num_attention_heads", 131072, "[1, 65536]"},
      {"num_key_value_heads", 131072, "[1, 65536]"},
      {"head_dim", 8192, "[1, 4096]"},
      {"hidden_size", std::int64_t{1} << 21, "[1, 1048576]"},
      {"sliding_window", std::int64_t{1} << 31, "[1, 1073741824]"},
      {"num_key_value_heads", -1, "[1, 65536], got -1"},
  };
  for (const Bad& c : cases) {
    INFO(c.field << " = " << c.value.dump());
    CHECK_THROWS_WITH(
        models::parse_hf_config(with(base, {{c.field, c.value}}), "x.json"),
        Catch::Contains(std::string("x.json: field '") + c.field + "' must be in " + c.range));
  }
  CHECK(models::parse_hf_config(with(base, {{"num_hidden_layers", 65536}}), "x.json").layers ==
        65536);
  // Values derived from a field name that field, not the variant parameter they become.
  CHECK_THROWS_WITH(
      models::parse_hf_config(with(base, {{"hidden_size", 1048576}, {"num_attention_heads", 16}}),
                              "x.json"),
      Catch::Contains("x.json: field 'hidden_size'") && Catch::Contains("head_dim of 65536") &&
          Catch::Contains("at most 4096"));
}

TEST_CASE(
    "an MLA config without a query latent (q_lora_rank null, DeepSeek-V2-Lite) projects its "
    "queries with one W_Q from the model width",
    "[hf]") {
  // DeepSeek-V2-Lite's attention fields: hidden 2048, 16 heads, latent 512, nope 128, rope 64,
  // v 128, 2 layers instead of 27.
  const json lite = {
      {"model_type", "deepseek_v2"}, {"hidden_size", 2048},    {"num_attention_heads", 16},
      {"num_hidden_layers", 2},      {"kv_lora_rank", 512},    {"q_lora_rank", nullptr},
      {"qk_nope_head_dim", 128},     {"qk_rope_head_dim", 64}, {"v_head_dim", 128}};
  for (const json& config : {lite, [&] {
                               json absent = lite;
                               absent.erase("q_lora_rank");
                               return absent;
                             }()}) {
    const auto m = models::parse_hf_config(config, "lite.json");
    const models::LayerGroup& g = m.groups.at(0);
    const models::Variant& mla = test_support::registry().find(g.variant);
    const models::AttentionSpec spec = mla.make_spec(g.params, {true, m.hidden_size});
    CHECK(models::param_value(spec, "q_latent_dim") == 0);
    // W_Q 2048 x 16 (128 + 64), W_DKV + W_KR 2048 x 576, W_UK/W_UV 512 x 16 (128 + 128),
    // W_O 2048 x 2048: 13,762,560 per layer.
    const auto cost = mla.cost(spec, test_support::workload(models::Phase::decode, 1, 1, 4096));
    CHECK(cost.parameters_per_layer == 13762560.0);
    CHECK(test_support::op_named(cost, "q_proj_fwd").flops.tensor == 2.0 * 2048 * 16 * 192);
  }
}

TEST_CASE(
    "a Gemma 3 config without sliding_window_pattern has transformers' default of 6: "
    "every sixth layer is full",
    "[hf]") {
  const json text = {{"hidden_size", 2560}, {"num_attention_heads", 8}, {"num_key_value_heads", 4},
                     {"head_dim", 256},     {"num_hidden_layers", 12},  {"sliding_window", 1024}};
  json windowless = text;
  windowless.erase("sliding_window");  // the window's own default: the next test
  const json flat = with(text, {{"model_type", "gemma3_text"}});
  const json nested = {{"model_type", "gemma3"}, {"text_config", text}};
  const json nested_windowless = {{"model_type", "gemma3"}, {"text_config", windowless}};
  for (const json& config : {flat, nested, nested_windowless}) {
    const auto m = models::parse_hf_config(config, "g3.json");
    CHECK(indices_of_kind(m, models::LayerKind::full) == std::vector<std::int64_t>{5, 11});
    CHECK(indices_of_kind(m, models::LayerKind::window).size() == 10);
    const json& fields = config.contains("text_config") ? config.at("text_config") : config;
    CHECK(m.window == (fields.contains("sliding_window") ? 1024 : 4096));
  }
  // Other model types keep reading a bare sliding_window as every layer windowed (Mistral).
  const auto mistral = models::parse_hf_config(with(text, {{"model_type", "mistral"}}), "m.json");
  CHECK(indices_of_kind(mistral, models::LayerKind::window).size() == 12);
}

TEST_CASE(
    "a Cohere2 config without sliding_window_pattern has transformers' default of 4: every fourth "
    "layer is full; without sliding_window its window is 4096",
    "[hf]") {
  // CohereForAI/c4ai-command-r7b-12-2024's attention fields, 8 layers instead of 32.
  const json cohere2 = with(attention_fields(8), {{"model_type", "cohere2"}});
  for (const json& config : {with(cohere2, {{"sliding_window", 1024}}), cohere2}) {
    const auto m = models::parse_hf_config(config, "c2.json");
    CHECK(indices_of_kind(m, models::LayerKind::full) == std::vector<std::int64_t>{3, 7});
    CHECK(indices_of_kind(m, models::LayerKind::window) ==
          std::vector<std::int64_t>{0, 1, 2, 4, 5, 6});
    CHECK(m.window == (config.contains("sliding_window") ? 1024 : 4096));
  }
  // A pattern the config gives still wins.
  const auto given =
      models::parse_hf_config(with(cohere2, {{"sliding_window_pattern", 2}}), "c2.json");
  CHECK(indices_of_kind(given, models::LayerKind::full) == std::vector<std::int64_t>{1, 3, 5, 7});
}

TEST_CASE(
    "a Gemma 3 config without sliding_window has transformers' default window of 4096; an "
    "explicit null keeps every layer full",
    "[hf]") {
  const json text = {{"hidden_size", 2560},
                     {"num_attention_heads", 8},
                     {"num_key_value_heads", 4},
                     {"head_dim", 256},
                     {"num_hidden_layers", 12}};
  const json flat = with(text, {{"model_type", "gemma3_text"}});
  const auto m = models::parse_hf_config(flat, "g3.json");
  CHECK(indices_of_kind(m, models::LayerKind::full) == std::vector<std::int64_t>{5, 11});
  CHECK(m.window == 4096);
  const auto null_window =
      models::parse_hf_config(with(flat, {{"sliding_window", nullptr}}), "g3.json");
  CHECK(indices_of_kind(null_window, models::LayerKind::full).size() == 12);
  CHECK(null_window.window == 0);
  // Other model types without the field keep every layer full (Llama).
  const auto llama = models::parse_hf_config(with(text, {{"model_type", "llama"}}), "l.json");
  CHECK(indices_of_kind(llama, models::LayerKind::full).size() == 12);
}

TEST_CASE(
    "a Gemma 2 config without sliding_window has transformers' default window of 4096 on "
    "its even layers",
    "[hf]") {
  // google/gemma-2-2b's attention fields, 6 layers instead of 26.
  const json gemma2 = {{"model_type", "gemma2"},   {"hidden_size", 2304},
                       {"num_attention_heads", 8}, {"num_key_value_heads", 4},
                       {"head_dim", 256},          {"num_hidden_layers", 6}};
  const auto m = models::parse_hf_config(gemma2, "g2.json");
  CHECK(indices_of_kind(m, models::LayerKind::window) == std::vector<std::int64_t>{0, 2, 4});
  CHECK(indices_of_kind(m, models::LayerKind::full) == std::vector<std::int64_t>{1, 3, 5});
  CHECK(m.window == 4096);
  const auto null_window =
      models::parse_hf_config(with(gemma2, {{"sliding_window", nullptr}}), "g2.json");
  CHECK(indices_of_kind(null_window, models::LayerKind::full).size() == 6);
}

TEST_CASE(
    "Qwen3-Next's full-attention layers are gated attention (elementwise output gate); "
    "attn_output_gate says so for other configs",
    "[hf]") {
  // Qwen/Qwen3-Next-80B-A3B's attention fields, 8 layers instead of 48.
  const json next = {{"model_type", "qwen3_next"},
                     {"hidden_size", 2048},
                     {"num_attention_heads", 16},
                     {"num_key_value_heads", 2},
                     {"head_dim", 256},
                     {"num_hidden_layers", 8},
                     {"full_attention_interval", 4},
                     {"linear_key_head_dim", 128},
                     {"linear_value_head_dim", 128},
                     {"linear_num_key_heads", 16},
                     {"linear_num_value_heads", 32},
                     {"linear_conv_kernel_dim", 4}};
  const auto m = models::parse_hf_config(next, "next.json");
  const models::LayerGroup* full = nullptr;
  for (const auto& g : m.groups) {
    if (g.kind == models::LayerKind::full) full = &g;
  }
  REQUIRE(full != nullptr);
  CHECK(full->variant == "gated");
  CHECK(full->indices == std::vector<std::int64_t>{3, 7});
  const models::Variant& gated = test_support::registry().find(full->variant);
  const models::AttentionSpec spec = gated.make_spec(full->params, {true, m.hidden_size});
  CHECK(models::param_value(spec, "headwise") == 0);
  // W_Q doubled for the gate: 2048 x (2 x 4096 + 512 + 512) + W_O 4096 x 2048 = 27,262,976.
  const auto cost = gated.cost(spec, test_support::workload(models::Phase::decode, 1, 1, 4096));
  CHECK(cost.parameters_per_layer == 27262976.0);
  // Another model type gates only when its config says attn_output_gate.
  json llama = {{"model_type", "llama"},    {"hidden_size", 2048}, {"num_attention_heads", 16},
                {"num_key_value_heads", 2}, {"head_dim", 128},     {"num_hidden_layers", 2}};
  CHECK(models::parse_hf_config(llama, "l.json").groups.at(0).variant == "gqa");
  llama["attn_output_gate"] = true;
  CHECK(models::parse_hf_config(llama, "l.json").groups.at(0).variant == "gated");
  json off = next;
  off["attn_output_gate"] = false;
  for (const auto& g : models::parse_hf_config(off, "n.json").groups) {
    CHECK(g.variant != "gated");
  }
}

TEST_CASE(
    "Gemma 2's attn_logit_softcapping becomes its layers' softcap; on an MLA layer it is "
    "refused naming the field",
    "[hf]") {
  const json gemma2 = {
      {"model_type", "gemma2"},        {"hidden_size", 2304}, {"num_attention_heads", 8},
      {"num_key_value_heads", 4},      {"head_dim", 256},     {"num_hidden_layers", 4},
      {"attn_logit_softcapping", 50.0}};
  const auto m = models::parse_hf_config(gemma2, "g2.json");
  REQUIRE(m.groups.size() == 2);
  for (const auto& g : m.groups) {
    INFO(g.variant);
    CHECK(std::find(g.params.begin(), g.params.end(),
                    std::pair<std::string, double>{"softcap", 50.0}) != g.params.end());
  }
  json none = gemma2;
  none["attn_logit_softcapping"] = nullptr;
  for (const auto& g : models::parse_hf_config(none, "g2.json").groups) {
    for (const auto& [name, value] : g.params) CHECK(name != "softcap");
  }
  // Without the key, transformers' Gemma2Config default: 50.
  json absent = gemma2;
  absent.erase("attn_logit_softcapping");
  for (const auto& g : models::parse_hf_config(absent, "g2.json").groups) {
    CHECK(std::find(g.params.begin(), g.params.end(),
                    std::pair<std::string, double>{"softcap", 50.0}) != g.params.end());
  }
  json bad = gemma2;
  bad["attn_logit_softcapping"] = "fifty";
  CHECK_THROWS_WITH(models::parse_hf_config(bad, "g2.json"),
                    Catch::Contains("field 'attn_logit_softcapping' must be a number"));
  const json mla = {{"model_type", "deepseek_v3"}, {"hidden_size", 2048},
                    {"num_attention_heads", 16},   {"num_hidden_layers", 2},
                    {"kv_lora_rank", 512},         {"q_lora_rank", 1536},
                    {"qk_nope_head_dim", 128},     {"qk_rope_head_dim", 64},
                    {"v_head_dim", 128},           {"attn_logit_softcapping", 30.0}};
  CHECK_THROWS_WITH(models::parse_hf_config(mla, "m.json"),
                    Catch::Contains("field 'attn_logit_softcapping' is set on mla layers"));
}

TEST_CASE("linear layers without their shape name the field that made them linear", "[hf]") {
  // Qwen3-Next's layout by full_attention_interval, its linear_* fields left out.
  const json next = {
      {"model_type", "qwen3_next"},  {"hidden_size", 2048}, {"num_attention_heads", 16},
      {"num_key_value_heads", 2},    {"head_dim", 256},     {"num_hidden_layers", 8},
      {"full_attention_interval", 4}};
  CHECK_THROWS_WITH(models::parse_hf_config(next, "next.json"),
                    Catch::Contains("full_attention_interval") &&
                        Catch::Contains("no linear_num_value_heads") &&
                        !Catch::Contains("layer_types"));
  json listed = next;
  listed.erase("full_attention_interval");
  listed["layer_types"] = json::array();
  for (int i = 0; i < 8; ++i) {
    listed["layer_types"].push_back(i % 4 == 3 ? "full_attention" : "linear_attention");
  }
  CHECK_THROWS_WITH(models::parse_hf_config(listed, "next.json"),
                    Catch::Contains("layer_types") && Catch::Contains("no linear_num_value_heads"));
}
