#include "models/linear_attention.hpp"

#include <array>

#include "models/errors.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

constexpr double kStateBytes = 4;  // fp32 state (variants.md §E1: "s_state often 4")

const std::array<ParamInfo, 4> kLinearParams = {{
    {"heads", "heads (H)", "32", 1, 65536},
    {"head_dim", "key dimension of the state (dk)", "128", 1, 4096},
    {"v_head_dim", "value dimension of the state (dv)", "= head_dim", 1, 4096},
    {"chunk", "tokens per chunk (b): intra-chunk dense, inter-chunk through the state", "64", 1,
     1 << 16},
}};

// Lightning-2's Triton kernels use blocks of 64-256 (§E2: "implementation choice").
const std::array<ParamInfo, 4> kLightningParams = {{
    {"heads", "heads (H)", "32", 1, 65536},
    {"head_dim", "key dimension of the state (dk)", "128", 1, 4096},
    {"v_head_dim", "value dimension of the state (dv)", "= head_dim", 1, 4096},
    {"chunk", "block size (b)", "256", 1, 1 << 16},
}};

ScanShape scan_shape(const AttentionSpec& spec, const Workload& w) {
  return {static_cast<double>(w.batch),
          static_cast<double>(spec.heads.heads),
          static_cast<double>(w.q_len),
          static_cast<double>(spec.heads.head_dim),
          static_cast<double>(spec.heads.v_head_dim),
          spec.extra[0]};
}

// Forward over L tokens: intra-chunk b x b tiles (full, half masked) 2 b (dk + dv) per token,
// inter-chunk Q S and the state update K^T V, 2 dk dv each; decay scalings on the FP32 pipes.
Op scan_forward(const ScanShape& x, const Workload& w, bool decay_mask) {
  Op op;
  op.kind = OpKind::scan;
  op.pass = Pass::forward;
  op.name = "linear_scan_fwd";
  op.scan = x;
  const double heads_tokens = x.batch * x.heads * x.tokens;
  const double s = bytes_per_element(w.dtype);
  if (w.phase == Phase::decode) {
    // Per step: decay-multiply and outer-product-add into the state, then the readout.
    op.flops.vector = heads_tokens * 5 * x.key_dim * x.value_dim;
    op.bytes.k = 2 * x.batch * x.heads * x.key_dim * x.value_dim * kStateBytes;  // state in, out
  } else {
    op.flops.tensor =
        heads_tokens * (2 * x.chunk * (x.key_dim + x.value_dim) + 4 * x.key_dim * x.value_dim);
    op.flops.vector = heads_tokens * 2 * (x.key_dim + x.value_dim);
    op.bytes.k = x.batch * x.heads * x.key_dim * x.value_dim * kStateBytes;  // final state out
  }
  op.flops.exp = heads_tokens;  // one decay factor per token and head
  // Lightning's intra-block left product applies a decay mask lambda^(i-j): b^2 / 2 exps per block.
  if (decay_mask && w.phase != Phase::decode) op.flops.exp += heads_tokens * x.chunk / 2;
  op.bytes.q = s * heads_tokens * x.key_dim;
  op.bytes.k += s * heads_tokens * x.key_dim;
  op.bytes.v = s * heads_tokens * x.value_dim;
  op.bytes.o = s * heads_tokens * x.value_dim;
  return op;
}

// Backward (§E1): intra recompute and dQ/dK/dV 2 b (3 dk + 2 dv), inter terms 10 dk dv per token.
Op scan_backward(const ScanShape& x, const Workload& w) {
  Op op;
  op.kind = OpKind::scan;
  op.pass = Pass::backward;
  op.name = "linear_scan_bwd";
  op.scan = x;
  const double heads_tokens = x.batch * x.heads * x.tokens;
  const double s = bytes_per_element(w.dtype);
  op.flops.tensor = heads_tokens * (2 * x.chunk * (3 * x.key_dim + 2 * x.value_dim) +
                                    10 * x.key_dim * x.value_dim);
  op.flops.vector = heads_tokens * 4 * (x.key_dim + x.value_dim);
  op.flops.exp = heads_tokens;
  op.bytes.q = s * heads_tokens * x.key_dim;
  op.bytes.k = s * heads_tokens * x.key_dim;
  op.bytes.v = s * heads_tokens * x.value_dim;
  op.bytes.grad_out = s * heads_tokens * x.value_dim;
  op.bytes.grad_in = s * heads_tokens * (2 * x.key_dim + x.value_dim);
  return op;
}

class LinearAttention final : public VariantBase {
 public:
  // lightning: Lightning Attention-2 (§E2): the same scan with block-wise decay masks and a larger
  // default block.
  explicit LinearAttention(bool lightning)
      : VariantBase(lightning ? "lightning" : "linear", "linear",
                    lightning
                        ? "Lightning Attention-2: intra-block left product with a decay mask, "
                          "inter-block state carried on chip"
                        : "chunked (decayed) linear attention: a fixed dk x dv state per head "
                          "replaces the KV cache",
                    lightning ? std::span<const ParamInfo>(kLightningParams)
                              : std::span<const ParamInfo>(kLinearParams)),
        lightning_(lightning) {}
  AttentionSpec make_spec(const ParamValues& given, const ProjectionConfig& proj) const override {
    ParamReader r(*this, given);
    AttentionSpec spec;
    spec.variant = this;
    spec.heads.heads = r.integer("heads", 32);
    spec.heads.kv_heads = spec.heads.heads;
    spec.heads.head_dim = r.integer("head_dim", 128);
    spec.heads.v_head_dim = r.integer("v_head_dim", spec.heads.head_dim);
    spec.extra[0] = static_cast<double>(r.integer("chunk", lightning_ ? 256 : 64));
    spec.projections = proj;
    return spec;
  }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    if (!w.causal)
      throw SpecError("linear attention here is causal (a recurrence); drop --no-causal");
    CostModel model;
    model.layers = w.layers;
    const ScanShape x = scan_shape(spec, w);
    if (has_forward(w.phase)) model.ops.push_back(scan_forward(x, w, lightning_));
    if (has_backward(w.phase)) model.ops.push_back(scan_backward(x, w));
    model.state_bytes =
        x.batch * x.heads * x.key_dim * x.value_dim * kStateBytes * static_cast<double>(w.layers);
    add_projections(spec.heads, spec.projections, w, model);
    return model;
  }

 private:
  bool lightning_;
};

}  // namespace

void add_linear_variants(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<LinearAttention>(false));
  table.push_back(std::make_unique<LinearAttention>(true));
}

}  // namespace models
