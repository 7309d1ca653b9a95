// The generic head columns of a measurement CSV (heads_q, heads_kv, head_dim, v_head_dim, window)
// mapped onto one variant's own parameters. Published kernel timings describe the tensors a kernel
// reads; each variant names the same quantities its own way (a linear-attention head has no KV
// heads, MLA's absorbed decode reads one latent cache), so the columns are translated where their
// meaning is clear and the row is rejected where a column contradicts the variant.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "models/variant.hpp"

namespace validate {

struct GenericColumns {
  double heads_q = 1, heads_kv = 1, head_dim = 1;
  std::optional<double> v_head_dim, window;
};

// A row whose columns contradict its variant; the message says which column and why.
class ColumnConflict : public std::invalid_argument {
 public:
  explicit ColumnConflict(const std::string& message) : std::invalid_argument(message) {}
};

// The variant's parameters for `columns`, merged with `given` (the `variant` column's
// key=value pairs; a given value that disagrees with a column is a conflict). Rules:
//  - heads_q -> heads; head_dim -> head_dim; v_head_dim -> v_head_dim; window -> window, for a
//    variant that has the parameter;
//  - heads_kv -> kv_heads; a variant without KV heads (every head has its own K/V, e.g. linear
//    attention) takes heads_kv = heads_q and rejects any other value;
//  - a v_head_dim column equal to head_dim needs no parameter;
//  - mla: heads_kv 1 is the absorbed decode over one latent cache, which the kernel (FlashMLA)
//    reads as head_dim = latent + rope and v_head_dim = latent (DeepSeek-V2, arXiv:2405.04434
//    §2.1.2-2.1.3): latent_dim = v_head_dim, rope_dim = head_dim - v_head_dim, mode absorbed;
//    heads_kv = heads_q is the non-absorbed (MHA-like) form: head_dim = nope + rope,
//    v_head_dim = its value head dim.
// Throws ColumnConflict otherwise.
models::ParamValues map_columns(const models::Variant& variant, const GenericColumns& columns,
                                const models::ParamValues& given);

}  // namespace validate
