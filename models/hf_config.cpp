#include "models/hf_config.hpp"

#include <initializer_list>
#include <optional>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "common/files.hpp"
#include "models/hf_config_fields.hpp"
#include "models/json_text.hpp"

namespace models {

namespace {

using Json = nlohmann::json;

// The config's fields with the file name for errors.
class Fields {
 public:
  Fields(const Json& j, const std::string& source) : j_(j), source_(source) {}
  bool has(const char* name) const { return j_.contains(name) && !j_.at(name).is_null(); }
  // Whether the key is there at all: an explicit null is there (transformers then keeps None
  // rather than its default).
  bool present(const char* name) const { return j_.contains(name); }
  const Json& at(const char* name) const { return j_.at(name); }
  std::optional<std::int64_t> integer(const char* name) const {
    if (!has(name)) return std::nullopt;
    const Json& v = j_.at(name);
    if (!v.is_number_integer() && !v.is_number_unsigned()) {
      throw error(name, fmt::format("must be an integer, got {}", v.dump()));
    }
    const std::int64_t max = hf_field_max(name);
    // nlohmann keeps a non-negative integer unsigned: from 2^63 on it would wrap negative.
    const bool fits =
        !v.is_number_unsigned() || v.get<std::uint64_t>() <= static_cast<std::uint64_t>(max);
    if (!fits || v.get<std::int64_t>() < 1 || v.get<std::int64_t>() > max) {
      throw error(name, fmt::format("must be in [1, {}], got {}", max, v.dump()));
    }
    return v.get<std::int64_t>();
  }
  std::int64_t required(std::initializer_list<const char*> names) const {
    std::string tried;
    for (const char* n : names) {
      if (auto v = integer(n)) return *v;
      tried += (tried.empty() ? "" : ", ") + std::string(n);
    }
    throw common::SpecError(
        fmt::format("{}: missing {} (one of: {})", source_, *names.begin(), tried));
  }
  bool flag(const char* name, bool fallback) const {
    if (!has(name)) return fallback;
    if (!j_.at(name).is_boolean()) throw error(name, "must be true or false");
    return j_.at(name).get<bool>();
  }
  // A non-negative number (a float field such as attn_logit_softcapping), or none when absent or
  // null.
  std::optional<double> real(const char* name) const {
    if (!has(name)) return std::nullopt;
    const Json& v = j_.at(name);
    if (!v.is_number() || v.get<double>() < 0) {
      throw error(name, fmt::format("must be a number of at least 0, got {}", v.dump()));
    }
    return v.get<double>();
  }
  std::string text(const char* name) const {
    return has(name) && j_.at(name).is_string() ? j_.at(name).get<std::string>() : "";
  }
  common::SpecError error(const char* name, const std::string& what) const {
    return common::SpecError(fmt::format("{}: field '{}' {}", source_, name, what));
  }

 private:
  const Json& j_;
  const std::string& source_;
};

LayerKind kind_of_layer_type(const Fields& f, const std::string& type) {
  if (type == "full_attention") return LayerKind::full;
  if (type == "sliding_attention") return LayerKind::window;
  if (type == "linear_attention") return LayerKind::linear;
  throw f.error("layer_types", fmt::format("has '{}'; understood: full_attention, "
                                           "sliding_attention, linear_attention",
                                           type));
}

bool is_gemma3(const std::string& type) {
  return type == "gemma3" || type == "gemma3_text";
}

// Gemma 3 and Cohere2 put one full layer after every pattern - 1 window layers. A config without
// the field gets the library's default: Gemma 3 6 (transformers, models/gemma3/
// configuration_gemma3.py: Gemma3TextConfig(sliding_window_pattern=6), "5:1 attention pattern"),
// Cohere2 4 (models/cohere2/configuration_cohere2.py: Cohere2Config builds layer_types from
// kwargs.pop("sliding_window_pattern", 4), three sliding layers, then a full one).
std::optional<std::int64_t> sliding_window_pattern(const Fields& f, const std::string& type) {
  if (auto pattern = f.integer("sliding_window_pattern")) return pattern;
  if (is_gemma3(type)) return 6;
  if (type == "cohere2") return 4;
  return std::nullopt;
}

// The window of the window layers. Gemma 2, Gemma 3 and Cohere2 configs without the key get the
// library's default, 4096 tokens (transformers: Gemma2Config(sliding_window=4096) in models/gemma2/
// configuration_gemma2.py, Gemma3TextConfig(sliding_window=4096) in models/gemma3/
// configuration_gemma3.py, Cohere2Config.sliding_window = 4096 in models/cohere2/
// configuration_cohere2.py); an explicit null stays none, as it does there.
std::optional<std::int64_t> sliding_window(const Fields& f, const std::string& type) {
  if (f.has("sliding_window")) return f.required({"sliding_window"});
  const bool library_default = type == "gemma2" || is_gemma3(type) || type == "cohere2";
  if (!f.present("sliding_window") && library_default) return 4096;
  return std::nullopt;
}

// Which kind each layer is, from the first of these that the config has: layer_types;
// full_attention_interval (Qwen3-Next); attn_type_list (MiniMax: 1 softmax, 0 linear); Gemma 2's
// even-layer windows; Gemma 3's and Cohere2's sliding_window_pattern; sliding_window (all layers,
// or those from max_window_layers on when use_sliding_window is set).
std::vector<LayerKind> layer_kinds(const Fields& f, std::int64_t layers, const std::string& type) {
  std::vector<LayerKind> kinds(static_cast<std::size_t>(layers), LayerKind::full);
  const auto each = [&](auto kind_of) {
    for (std::int64_t i = 0; i < layers; ++i) kinds[static_cast<std::size_t>(i)] = kind_of(i);
  };
  if (f.has("layer_types")) {
    const Json& list = f.at("layer_types");
    if (!list.is_array() || static_cast<std::int64_t>(list.size()) != layers) {
      throw f.error("layer_types", fmt::format("must list one type per layer ({})", layers));
    }
    each([&](std::int64_t i) {
      const Json& t = list[static_cast<std::size_t>(i)];
      if (!t.is_string()) throw f.error("layer_types", "must hold strings");
      return kind_of_layer_type(f, t.get<std::string>());
    });
  } else if (auto interval = f.integer("full_attention_interval")) {
    each([&](std::int64_t i) {
      return (i + 1) % *interval == 0 ? LayerKind::full : LayerKind::linear;
    });
  } else if (f.has("attn_type_list")) {
    const Json& list = f.at("attn_type_list");
    if (!list.is_array() || static_cast<std::int64_t>(list.size()) != layers) {
      throw f.error("attn_type_list", fmt::format("must list one type per layer ({})", layers));
    }
    each([&](std::int64_t i) {
      const Json& t = list[static_cast<std::size_t>(i)];
      if (t != 0 && t != 1) throw f.error("attn_type_list", "must hold 0 (linear) or 1 (softmax)");
      return t == 1 ? LayerKind::full : LayerKind::linear;
    });
  } else if (sliding_window(f, type)) {
    if (type == "gemma2") {
      each([](std::int64_t i) { return i % 2 == 0 ? LayerKind::window : LayerKind::full; });
    } else if (auto pattern = sliding_window_pattern(f, type)) {
      each([&](std::int64_t i) {
        return (i + 1) % *pattern == 0 ? LayerKind::full : LayerKind::window;
      });
    } else if (f.flag("use_sliding_window", true)) {
      const std::int64_t first =
          f.has("use_sliding_window") ? f.integer("max_window_layers").value_or(0) : 0;
      each([&](std::int64_t i) { return i >= first ? LayerKind::window : LayerKind::full; });
    }
  }
  return kinds;
}

void read_heads(const Fields& f, ModelConfig& m) {
  m.heads = f.required({"num_attention_heads", "n_head"});
  if (f.has("kv_lora_rank")) {
    // MLA: the head dimensions come from the latent fields (parse_hf_config).
  } else if (auto explicit_dim = f.integer("head_dim")) {
    m.head_dim = *explicit_dim;
    m.head_dim_source = "explicit head_dim";
  } else if (auto channels = f.integer("kv_channels")) {
    // ChatGLM / GLM-4 (and Megatron) name the per-head projection width kv_channels.
    m.head_dim = *channels;
    m.head_dim_source = "kv_channels";
  } else {
    if (m.hidden_size % m.heads != 0) {
      throw f.error("hidden_size", fmt::format("({}) is not divisible by the {} heads and no "
                                               "head_dim is given",
                                               m.hidden_size, m.heads));
    }
    m.head_dim = m.hidden_size / m.heads;
    if (m.head_dim > static_cast<std::int64_t>(kHeadDimParam.max)) {
      throw f.error("hidden_size",
                    fmt::format("({}) / num_attention_heads ({}) gives a head_dim of {}; allowed: "
                                "at most {} (give head_dim, or check the fields)",
                                m.hidden_size, m.heads, m.head_dim, kHeadDimParam.max));
    }
    m.head_dim_source =
        fmt::format("hidden_size/num_attention_heads = {}/{}", m.hidden_size, m.heads);
  }
  if (auto kv = f.integer("num_key_value_heads")) {
    m.kv_heads = *kv;
    m.kv_heads_source = "num_key_value_heads";
  } else if (m.name == "falcon" && !f.flag("new_decoder_architecture", false) &&
             f.flag("multi_query", true)) {
    // transformers' FalconAttention: num_kv_heads only counts with the new decoder architecture or
    // without multi_query (FalconConfig's default True); a multi-query Falcon has one KV head
    // whatever num_kv_heads says (FalconConfig fills it with the head count: Falcon-7B saved
    // again carries num_kv_heads 71).
    m.kv_heads = 1;
    m.kv_heads_source = "multi_query (falcon without new_decoder_architecture)";
  } else if (auto falcon = f.integer("num_kv_heads")) {
    m.kv_heads = *falcon;
    m.kv_heads_source = "num_kv_heads";
  } else if (auto old_falcon = f.integer("n_head_kv")) {
    m.kv_heads = *old_falcon;
    m.kv_heads_source = "n_head_kv";
  } else if (f.flag("multi_query", false)) {
    m.kv_heads = 1;
    m.kv_heads_source = "multi_query";
  } else if (f.flag("multi_query_attention", false)) {
    // ChatGLM2/3 and GLM-4 (remote-code ChatGLMConfig): with multi_query_attention set, K and V
    // have multi_query_group_num heads (THUDM/chatglm3-6b modeling_chatglm.py, SelfAttention).
    m.kv_heads = f.required({"multi_query_group_num"});
    m.kv_heads_source = "multi_query_group_num (multi_query_attention)";
  } else {
    m.kv_heads = m.heads;
    m.kv_heads_source = "absent -> num_attention_heads (MHA)";
  }
  if (m.heads % m.kv_heads != 0) {
    throw f.error("num_key_value_heads",
                  fmt::format("({}) must divide num_attention_heads ({})", m.kv_heads, m.heads));
  }
  const std::int64_t group = m.heads / m.kv_heads;
  m.attention_kind = group == 1        ? "MHA"
                     : m.kv_heads == 1 ? "MQA"
                                       : fmt::format("GQA (group {})", group);
}

// The softmax layers' variant: MLA when the config has a KV latent, else GQA (which is MHA or MQA
// at those head counts).
LayerGroup softmax_group(const Fields& f, const ModelConfig& m, LayerKind kind) {
  LayerGroup g;
  g.kind = kind;
  if (auto latent = f.integer("kv_lora_rank")) {
    g.variant = "mla";
    const auto nope = f.required({"qk_nope_head_dim"});
    const auto rope = f.required({"qk_rope_head_dim"});
    const auto v = f.required({"v_head_dim"});
    // DeepSeek-V2-Lite has no query latent (q_lora_rank null or absent): its queries are
    // projected from the full width, which mla takes as q_latent_dim 0.
    const auto q_latent = f.integer("q_lora_rank").value_or(0);
    g.params = {{"heads", m.heads}, {"nope_dim", nope},      {"rope_dim", rope},
                {"v_head_dim", v},  {"latent_dim", *latent}, {"q_latent_dim", q_latent}};
  } else if (kind == LayerKind::full && f.flag("attn_output_gate", m.name == "qwen3_next")) {
    // Qwen3-Next's full-attention layers gate their output elementwise: q_proj is twice as wide
    // (queries and gate scores) and the output is multiplied by sigmoid(gate) (transformers,
    // models/qwen3_next/modeling_qwen3_next.py, Qwen3NextAttention); `attn_output_gate` says so
    // where a config names it.
    g.variant = "gated";
    g.params = {
        {"heads", m.heads}, {"kv_heads", m.kv_heads}, {"head_dim", m.head_dim}, {"headwise", 0}};
  } else {
    g.variant = kind == LayerKind::window ? "swa" : "gqa";
    g.params = {{"heads", m.heads}, {"kv_heads", m.kv_heads}, {"head_dim", m.head_dim}};
    if (kind == LayerKind::window) g.params.emplace_back("window", m.window);
  }
  // Gemma 2's tanh soft-capping of the attention logits (attn_logit_softcapping: 50), priced by
  // the dense variants' `softcap`; a latent or gated layer has no such path here. A Gemma 2
  // config without the key gets transformers' default, 50 (Gemma2Config(attn_logit_softcapping=
  // 50.0) in models/gemma2/configuration_gemma2.py); an explicit null stays none.
  std::optional<double> cap = f.real("attn_logit_softcapping");
  if (!f.present("attn_logit_softcapping") && m.name == "gemma2") cap = 50.0;
  if (cap && *cap > 0) {
    if (g.variant != "gqa" && g.variant != "swa") {
      throw f.error("attn_logit_softcapping",
                    fmt::format("is set on {} layers, which attnsim prices without soft-capping "
                                "(only plain and sliding-window attention take it)",
                                g.variant));
    }
    g.params.emplace_back("softcap", *cap);
  }
  return g;
}

// Qwen3-Next's Gated DeltaNet layers, or MiniMax's Lightning Attention layers.
LayerGroup linear_group(const Fields& f, ModelConfig& m) {
  LayerGroup g;
  g.kind = LayerKind::linear;
  if (f.has("linear_num_value_heads")) {
    const auto key_heads = f.required({"linear_num_key_heads"});
    const auto value_heads = f.required({"linear_num_value_heads"});
    const auto dk = f.required({"linear_key_head_dim"});
    const auto dv = f.required({"linear_value_head_dim"});
    const auto conv = f.integer("linear_conv_kernel_dim").value_or(1);
    // One dk x dv state per value head; the short convolution keeps conv - 1 rows of q, k, v.
    g.variant = "linear";
    g.params = {{"heads", value_heads}, {"head_dim", dk}, {"v_head_dim", dv}};
    m.linear_kind = "Gated DeltaNet";
    m.linear_state_elems = static_cast<double>(value_heads * dk * dv);
    m.linear_conv_state_elems =
        static_cast<double>((conv - 1) * (2 * key_heads * dk + value_heads * dv));
  } else if (f.has("attn_type_list")) {
    g.variant = "lightning";
    g.params = {{"heads", m.heads}, {"head_dim", m.head_dim}};
    m.linear_kind = "Lightning Attention";
    m.linear_state_elems = static_cast<double>(m.heads * m.head_dim * m.head_dim);
  } else {
    // Name the field that made the linear layers: the file's layer_types, or else its
    // full_attention_interval (Qwen3-Next: every layer not on the interval is linear).
    const bool listed = f.has("layer_types");
    throw f.error(listed ? "layer_types" : "full_attention_interval",
                  fmt::format("{} linear_attention layers but no linear_num_value_heads (the "
                              "linear layers' shape)",
                              listed ? "has" : "makes"));
  }
  return g;
}

void build_groups(const Fields& f, const std::vector<LayerKind>& kinds, ModelConfig& m) {
  for (LayerKind kind : {LayerKind::full, LayerKind::window, LayerKind::linear}) {
    std::vector<std::int64_t> indices;
    for (std::size_t i = 0; i < kinds.size(); ++i) {
      if (kinds[i] == kind) indices.push_back(static_cast<std::int64_t>(i));
    }
    if (indices.empty()) continue;
    LayerGroup g = kind == LayerKind::linear ? linear_group(f, m) : softmax_group(f, m, kind);
    g.indices = std::move(indices);
    m.groups.push_back(std::move(g));
  }
}

}  // namespace

std::string_view to_string(LayerKind k) {
  switch (k) {
    case LayerKind::full:
      return "full";
    case LayerKind::window:
      return "window";
    case LayerKind::linear:
      break;
  }
  return "linear";
}

ModelConfig parse_hf_config(const nlohmann::json& config, const std::string& source) {
  if (!config.is_object())
    throw common::SpecError(fmt::format("{}: a config.json must be an object", source));
  // Multimodal configs nest the language model's fields in text_config; null means absent.
  const bool nested = config.contains("text_config") && !config.at("text_config").is_null();
  if (nested && !config.at("text_config").is_object()) {
    throw common::SpecError(
        fmt::format("{}: text_config must be an object (the language model's "
                    "fields), got {}",
                    source, config.at("text_config").type_name()));
  }
  const Json& j = nested ? config.at("text_config") : config;
  const Fields f(j, source);
  for (const UnsupportedField& u : unsupported_fields()) {
    if (f.has(u.field)) throw f.error(u.field, fmt::format("is set: {}", u.why));
  }
  ModelConfig m;
  m.source = source;
  m.name = f.text("model_type");
  if (m.name.empty()) m.name = Fields(config, source).text("model_type");
  m.hidden_size = f.required({"hidden_size", "n_embd", "d_model"});
  m.layers = f.required({"num_hidden_layers", "n_layer", "num_layers"});
  read_heads(f, m);
  if (f.has("kv_lora_rank")) {
    // One latent (plus a shared RoPE key) serves every head.
    m.attention_kind = "MLA";
    m.kv_heads = 1;
    m.kv_heads_source = "kv_lora_rank (one shared latent)";
    m.head_dim = f.required({"qk_nope_head_dim"}) + f.required({"qk_rope_head_dim"});
    m.head_dim_source = "qk_nope_head_dim + qk_rope_head_dim";
  }
  const std::vector<LayerKind> kinds = layer_kinds(f, m.layers, m.name);
  for (LayerKind k : kinds) {
    if (k == LayerKind::window) {
      const std::optional<std::int64_t> window = sliding_window(f, m.name);
      m.window = window ? *window : f.required({"sliding_window"});
    }
  }
  build_groups(f, kinds, m);
  return m;
}

ModelConfig load_hf_config(const std::string& path) {
  const std::optional<std::string> text = common::read_file(path);
  if (!text) throw common::SpecError(fmt::format("cannot read the config file '{}'", path));
  const Json doc = parse_json_refusing_repeats(*text, path);
  return parse_hf_config(doc, path);
}

}  // namespace models
