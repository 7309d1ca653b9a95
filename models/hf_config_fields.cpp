#include "models/hf_config_fields.hpp"

#include <limits>

#include "models/hf_config.hpp"
#include "models/workload.hpp"

namespace models {

namespace {

constexpr UnsupportedField kUnsupported[] = {
    {"attention_chunk_size", "chunked local attention (Llama 4) is not modelled"},
    {"index_topk", "DeepSeek sparse attention's indexer (DeepSeek-V3.2) is not modelled"},
    {"index_n_heads", "DeepSeek sparse attention's indexer (DeepSeek-V3.2) is not modelled"},
    {"global_attn_every_n_layers", "an alternation attnsim does not read"},
    // Hybrids whose other layers are Mamba, a state attnsim does not model: pricing every layer as
    // attention would overstate the KV cache many times (Jamba: one layer in 8 is attention).
    {"attn_layer_period",
     "only some layers are attention, the rest Mamba (Jamba, Zamba), which attnsim does not model"},
    {"attn_layer_offset",
     "only some layers are attention, the rest Mamba (Jamba, Zamba), which attnsim does not model"},
    {"hybrid_override_pattern",
     "only its '*' layers are attention, the rest Mamba or MLP (Nemotron-H); attnsim does not "
     "model Mamba layers"},
    {"layers_block_type", "a mix of Mamba and shared attention blocks (Zamba2) is not modelled"},
    {"attn_layer_indices",
     "only the listed layers are attention, the rest Mamba (Bamba); attnsim does not model Mamba "
     "layers"},
    // Falcon-H1 runs Mamba heads beside the attention heads in every layer (transformers,
    // models/falcon_h1/configuration_falcon_h1.py: FalconH1Config.layers_block_type is "hybrid"
    // for each layer; its Mamba fields are mamba_d_ssm, mamba_n_heads, mamba_d_state, ...).
    {"mamba_d_ssm",
     "every layer runs Mamba heads in parallel with attention (Falcon-H1); attnsim does not model "
     "Mamba"},
    {"mamba_n_heads",
     "the model has Mamba heads (Falcon-H1, in parallel with attention in every layer); attnsim "
     "does not model Mamba"},
    {"num_kv_shared_layers",
     "layers that reuse an earlier layer's KV cache (Gemma 3n) are not modelled"},
    {"dense_attention_every_n_layers",
     "block-sparse attention layers (Phi-3-small) are not modelled"},
    {"blocksparse_block_size", "block-sparse attention layers (Phi-3-small) are not modelled"},
    {"blocksparse_vert_stride", "block-sparse attention layers (Phi-3-small) are not modelled"},
    {"blocksparse_num_local_blocks",
     "block-sparse attention layers (Phi-3-small) are not modelled"},
    {"cross_attention_layers", "cross-attention layers to image tokens (Mllama) are not modelled"},
    // RecurrentGemma (Griffin): block_types cycles recurrent (RG-LRU) and local-attention blocks,
    // one in three attention with an attention_window_size window (transformers,
    // models/recurrent_gemma/configuration_recurrent_gemma.py).
    {"block_types",
     "only its 'attention' blocks are attention, the rest RG-LRU recurrences (RecurrentGemma), "
     "which attnsim does not model"},
    {"attention_window_size",
     "a local-attention window under a name attnsim does not read (RecurrentGemma)"},
};

// The ranges of the CLI flags and variant parameters the fields become (--layers, --hidden-size,
// `attnsim variants show`): a config beyond them is refused naming its field, rather than wrapping
// negative, exhausting memory or failing later under a parameter's name.
constexpr std::int64_t kMaxHeads = 65536;
constexpr std::int64_t kMaxHeadDim = 4096;
struct FieldRange {
  std::string_view field;
  std::int64_t max;
};
constexpr FieldRange kRanges[] = {
    {"num_hidden_layers", kMaxLayers},
    {"multi_query_group_num", kMaxHeads},
    {"kv_channels", kMaxHeadDim},
    {"n_layer", kMaxLayers},
    {"num_layers", kMaxLayers},
    {"full_attention_interval", kMaxLayers},
    {"sliding_window_pattern", kMaxLayers},
    {"max_window_layers", kMaxLayers},
    {"hidden_size", kMaxHiddenSize},
    {"n_embd", kMaxHiddenSize},
    {"d_model", kMaxHiddenSize},
    {"num_attention_heads", kMaxHeads},
    {"n_head", kMaxHeads},
    {"num_key_value_heads", kMaxHeads},
    {"num_kv_heads", kMaxHeads},
    {"n_head_kv", kMaxHeads},
    {"linear_num_key_heads", kMaxHeads},
    {"linear_num_value_heads", kMaxHeads},
    {"kv_lora_rank", kMaxHeads},
    {"q_lora_rank", kMaxHeads},
    {"head_dim", kMaxHeadDim},
    {"qk_nope_head_dim", kMaxHeadDim},
    {"qk_rope_head_dim", kMaxHeadDim},
    {"v_head_dim", kMaxHeadDim},
    {"linear_key_head_dim", kMaxHeadDim},
    {"linear_value_head_dim", kMaxHeadDim},
    {"linear_conv_kernel_dim", kMaxHeadDim},
    {"sliding_window", kMaxTokens},
};

}  // namespace

std::span<const UnsupportedField> unsupported_fields() {
  return kUnsupported;
}

std::int64_t hf_field_max(std::string_view field) {
  for (const FieldRange& r : kRanges) {
    if (r.field == field) return r.max;
  }
  return std::numeric_limits<std::int64_t>::max();
}

}  // namespace models
