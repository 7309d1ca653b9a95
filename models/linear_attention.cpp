#include "models/linear_attention.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "common/errors.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

constexpr double kStateBytes = 4;  // fp32 state (docs/variants.md#e1-linear)

constexpr std::array<ParamInfo, 4> linear_params(std::string_view chunk_help) {
  return {{
      {"heads", "heads (H)", 32, 1, 65536},
      {"head_dim", "key dimension of the state (dk)", 128, 1, 4096},
      kVHeadDimParam,
      {"chunk", chunk_help, 64, 1, 1 << 16},
  }};
}
constexpr std::array<ParamInfo, 4> kLinearParams =
    linear_params("tokens per chunk (b): intra-chunk dense, inter-chunk through the state");
// Lightning Attention-2's Triton kernel (lightning_attn2.py in github.com/OpenNLPLab/
// lightning-attention) sets BLOCK = 64.
constexpr std::array<ParamInfo, 4> kLightningParams = linear_params("block size (b)");
constexpr IntParam kChunk = int_param(kLinearParams, "chunk");

ScanShape scan_shape(const AttentionSpec& spec, const Workload& w) {
  return {static_cast<double>(w.batch),
          static_cast<double>(spec.heads.heads),
          static_cast<double>(w.q_len),
          static_cast<double>(spec.heads.head_dim),
          static_cast<double>(spec.heads.v_head_dim),
          static_cast<double>(spec.get(kChunk))};
}

// Forward over L tokens: intra-chunk causal pairs 2 (dk + dv) each, inter-chunk Q S and the state
// update K^T V, 2 dk dv per token each; decay scalings on the FP32 pipes.
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
    op.flops.tensor = x.batch * x.heads * 2 * intra_chunk_pairs(x) * (x.key_dim + x.value_dim) +
                      heads_tokens * 4 * x.key_dim * x.value_dim;
    op.flops.vector = heads_tokens * 2 * (x.key_dim + x.value_dim);
    op.bytes.k = x.batch * x.heads * x.key_dim * x.value_dim * kStateBytes;  // final state out
  }
  op.flops.exp = heads_tokens;  // one decay factor per token and head
  // Lightning's intra-block left product applies a decay mask lambda^(i-j), one per causal pair.
  if (decay_mask && w.phase != Phase::decode) {
    op.flops.exp += x.batch * x.heads * intra_chunk_pairs(x);
  }
  op.bytes.q = s * heads_tokens * x.key_dim;
  op.bytes.k += s * heads_tokens * x.key_dim;
  op.bytes.v = s * heads_tokens * x.value_dim;
  op.bytes.o = s * heads_tokens * x.value_dim;
  return op;
}

// Backward (§E1): intra recompute and dQ/dK/dV 2 (3 dk + 2 dv) per causal pair, inter terms
// 10 dk dv per token.
Op scan_backward(const ScanShape& x, const Workload& w) {
  Op op;
  op.kind = OpKind::scan;
  op.pass = Pass::backward;
  op.name = "linear_scan_bwd";
  op.scan = x;
  const double heads_tokens = x.batch * x.heads * x.tokens;
  const double s = bytes_per_element(w.dtype);
  op.flops.tensor =
      x.batch * x.heads * 2 * intra_chunk_pairs(x) * (3 * x.key_dim + 2 * x.value_dim) +
      heads_tokens * 10 * x.key_dim * x.value_dim;
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

  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    if (!w.causal)
      throw common::SpecError("linear attention here is causal (a recurrence); drop --no-causal");
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

double intra_chunk_pairs(const ScanShape& x) {
  const double chunk = std::min(x.chunk, x.tokens);
  const double full = std::floor(x.tokens / chunk);
  const double rest = x.tokens - full * chunk;
  return full * chunk * (chunk + 1) / 2 + rest * (rest + 1) / 2;
}

void add_linear_variants(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<LinearAttention>(false));
  table.push_back(std::make_unique<LinearAttention>(true));
}

}  // namespace models
