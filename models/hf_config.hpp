// A model's attention stack read from a Hugging Face `config.json`: which layers run full, sliding-
// window or linear attention, with which variant and parameters. Parsing happens here, once; the
// result is plain data that the CLI prices layer group by layer group.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "models/variant.hpp"

namespace models {

enum class LayerKind { full, window, linear };
std::string_view to_string(LayerKind k);

// Layers of one kind that share one attention configuration.
struct LayerGroup {
  LayerKind kind = LayerKind::full;
  std::string variant;                // registry name: mha, gqa, mqa, mla, swa, linear, lightning
  ParamValues params;                 // that variant's parameters
  std::vector<std::int64_t> indices;  // 0-based layer indices
  std::int64_t layers() const { return static_cast<std::int64_t>(indices.size()); }
};

// Widest model width (a config's hidden_size, --hidden-size): 2^20, the default bound of a variant
// parameter (models/variant.hpp ParamInfo; heads stop at 65536, head dims at 4096), 64x the widest
// published models
// (16384, e.g. Llama 3.1 405B,
// https://huggingface.co/meta-llama/Llama-3.1-405B/blob/main/config.json).
inline constexpr std::int64_t kMaxHiddenSize = std::int64_t{1} << 20;

struct ModelConfig {
  std::string name;    // model_type, or the preset name
  std::string source;  // file path or preset source URL
  std::int64_t hidden_size = 0;
  std::int64_t layers = 0;
  std::int64_t heads = 0;  // softmax-attention query heads
  std::int64_t kv_heads = 0;
  std::int64_t head_dim = 0;
  std::string head_dim_source;  // "explicit head_dim", "kv_channels" or
                                // "hidden_size/num_attention_heads = ..."
  std::string kv_heads_source;  // which field gave the KV heads
  std::string attention_kind;   // MHA, MQA, GQA (group G), MLA
  std::int64_t window = 0;      // sliding window of the window layers (0: none)
  std::vector<LayerGroup> groups;
  // Hybrid linear layers: state and short-convolution state elements per sequence and layer.
  std::string linear_kind;
  double linear_state_elems = 0;
  double linear_conv_state_elems = 0;
};

// Reads a config.json document (a nested `text_config` is used when present). Throws SpecError
// naming `source` and the field for a missing size, a non-integer, an integer outside its range
// (models/hf_config_fields.cpp), or a field that changes attention but is not understood (never
// silently ignored).
ModelConfig parse_hf_config(const nlohmann::json& config, const std::string& source);

// Reads and parses the file at `path`; throws SpecError for unreadable or malformed JSON.
ModelConfig load_hf_config(const std::string& path);

}  // namespace models
