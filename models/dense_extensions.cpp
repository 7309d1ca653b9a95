#include "models/dense_extensions.hpp"

#include <array>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "models/dense_attention.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

CostModel dense_cost(const AttentionSpec& spec, const Workload& w, const AttentionPattern& p) {
  CostModel model;
  model.layers = w.layers;
  add_dense_attention(spec.heads, w, model, p);
  add_projections(spec.heads, spec.projections, w, model);
  return model;
}

// §A5 SQA: fewer query heads (Hq < H) than the H = D/d heads of the model width.
constexpr std::array<ParamInfo, 5> kSqaParams = {{
    {"heads",
     "query heads (Hq), fewer than model_heads",
     16,
     1,
     65536,
     ParamType::integer,
     {},
     {},
     "at most model_heads"},
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    {"model_heads",
     "heads of the model width H = D / d (projections use D = H d)",
     32,
     1,
     65536,
     ParamType::integer,
     {},
     {},
     "at least heads"},
}};
constexpr IntParam kModelHeads = int_param(kSqaParams, "model_heads");

class Sqa final : public VariantBase {
 public:
  Sqa()
      : VariantBase("sqa", "dense",
                    "sparse query attention: Hq < H query heads cut core FLOPs by H/Hq "
                    "(sSQA: Hq = Hkv = H/2, xSQA: H/4, xSMQA: Hkv = 1)",
                    kSqaParams) {}
  void finish(AttentionSpec& spec) const override {
    const std::int64_t model_heads = spec.get(kModelHeads);
    if (spec.heads.heads > model_heads) {
      throw common::SpecError(fmt::format("sqa: heads ({}) must not exceed model_heads ({})",
                                          spec.heads.heads, model_heads));
    }
    if (spec.projections.hidden_size == 0) {
      spec.projections.hidden_size = model_heads * spec.heads.head_dim;
    }
  }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    return dense_cost(spec, w, {});
  }
};

constexpr std::array<ParamInfo, 4> kHeadParams = {
    {kHeadsParam, kKvHeadsParam, kHeadDimParam, kVHeadDimParam}};

// §A11 sigmoid attention with FlashSigmoid's kernel: no row statistics.
class Sigmoid final : public VariantBase {
 public:
  Sigmoid()
      : VariantBase("sigmoid", "dense",
                    "sigmoid attention (FlashSigmoid): sigma(QK^T/sqrt(d) + b) V, no row max, row "
                    "sum or log-sum-exp",
                    kHeadParams) {}
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    return dense_cost(spec, w, {0, 0, ScoreFn::sigmoid});
  }
};

// §A10 gated attention: a sigmoid gate on each head's output before W_O.
constexpr std::array<ParamInfo, 5> kGatedParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    {"headwise", "1: one gate per head; 0: one gate per output element", 0, 0, 1},
}};
constexpr IntParam kHeadwise = int_param(kGatedParams, "headwise");

class Gated final : public VariantBase {
 public:
  Gated()
      : VariantBase("gated", "dense",
                    "gated attention (Qwen): Y * sigmoid(X W_theta) after SDPA, elementwise or "
                    "headwise",
                    kGatedParams) {}
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    CostModel model = dense_cost(spec, w, {});
    const HeadConfig& h = spec.heads;
    const bool headwise = spec.get(kHeadwise) != 0;
    const double tokens = static_cast<double>(w.batch * w.q_len);
    const double outputs = tokens * static_cast<double>(h.heads * h.v_head_dim);
    const double gates = headwise ? tokens * static_cast<double>(h.heads) : outputs;
    const double s = bytes_per_element(w.dtype);
    // Forward: read O and the gate scores, write the gated O; one sigmoid (exp) and two FMAs per
    // gate score, one multiply per output element.
    const double per_output_bytes = s * (2 + gates / outputs);
    if (has_forward(w.phase)) {
      Op gate = elementwise_op("output_gate_fwd", Pass::forward, outputs, per_output_bytes,
                               gates / outputs, 1 + 4 * gates / outputs);
      model.ops.push_back(gate);
    }
    if (has_backward(w.phase)) {
      // Read dY, O and the gates; write dO and dgate.
      model.ops.push_back(elementwise_op("output_gate_bwd", Pass::backward, outputs,
                                         s * (3 + 2 * gates / outputs), gates / outputs,
                                         3 + 4 * gates / outputs));
    }
    if (spec.projections.include) {
      // The gate scores come from widening W_Q by D x (Hq dv) or D x Hq.
      const double d_model = hidden_size(h, spec.projections);
      const double width = gates / tokens;
      if (has_forward(w.phase)) {
        model.ops.push_back(gemm_op("gate_proj_fwd", Pass::forward, tokens, width, d_model, s));
      }
      if (has_backward(w.phase)) {
        model.ops.push_back(gemm_op("gate_proj_bwd", Pass::backward, tokens, width, d_model, s));
      }
      model.parameters_per_layer += d_model * width;
    }
    return model;
  }
};

// §A8 differential attention as its reference implementation runs it: two attention calls with
// split Q/K (dim d) and V of dim 2d, then (O1 - lambda O2) and a per-head RMSNorm.
constexpr std::array<ParamInfo, 3> kDiffParams = {{
    {"heads", "differential heads h (model width D = 2 h d)", 16, 1, 65536},
    {"kv_heads",
     "key/value heads; must divide heads",
     0,
     1,
     65536,
     ParamType::integer,
     "heads",
     {},
     "a divisor of heads"},
    {"head_dim", "dimension d of each of Q1, Q2, K1, K2 (V is 2d)", 64, 1, 4096},
}};

class Diff final : public VariantBase {
 public:
  Diff()
      : VariantBase("diff", "dense",
                    "differential attention: two softmax maps subtracted, as two attention calls "
                    "(core FLOPs 1.5x standard attention of the same width)",
                    kDiffParams) {}
  void finish(AttentionSpec& spec) const override {
    HeadConfig& h = spec.heads;
    h.v_head_dim = 2 * h.head_dim;
    if (spec.projections.hidden_size == 0) spec.projections.hidden_size = 2 * h.heads * h.head_dim;
  }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const HeadConfig& h = spec.heads;
    CostModel model;
    model.layers = w.layers;
    for (const char* map : {"map1", "map2"}) {
      (void)map;
      if (has_forward(w.phase)) model.ops.push_back(dense_attention_forward(h, w));
      if (has_backward(w.phase)) model.ops.push_back(dense_attention_backward(h, w));
    }
    const double outputs = static_cast<double>(w.batch * w.q_len * h.heads * h.v_head_dim);
    const double s = bytes_per_element(w.dtype);
    // O = RMSNorm(O1 - lambda O2): read two outputs, write one; ~5 FLOPs per element.
    if (has_forward(w.phase)) {
      model.ops.push_back(elementwise_op("diff_combine_fwd", Pass::forward, outputs, 3 * s, 0, 5));
    }
    if (has_backward(w.phase)) {
      model.ops.push_back(elementwise_op("diff_combine_bwd", Pass::backward, outputs, 4 * s, 0, 8));
    }
    // Cache: K1 and K2 (d each) and V (2d) per KV head.
    model.kv_cache_bytes_per_token_per_layer =
        static_cast<double>(h.kv_heads * 4 * h.head_dim) * bytes_per_element(w.kv_dtype);
    model.kv_cache_bytes = model.kv_cache_bytes_per_token_per_layer *
                           static_cast<double>(w.batch * w.kv_len * w.layers);
    // Projections as a Transformer of width D: Q, K (2 maps each) and V, O all D x D.
    HeadConfig as_mha{h.heads, h.kv_heads, 2 * h.head_dim, 2 * h.head_dim};
    add_projections(as_mha, spec.projections, w, model);
    return model;
  }
};

}  // namespace

void add_dense_extensions(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<Sqa>());
  table.push_back(std::make_unique<Diff>());
  table.push_back(std::make_unique<Gated>());
  table.push_back(std::make_unique<Sigmoid>());
}

}  // namespace models
