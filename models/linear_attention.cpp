#include "models/linear_attention.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

constexpr double kStateBytes = 4;  // fp32 state (docs/variants.md#e1-linear)

constexpr ParamInfo kHeads = {"heads", "heads (H)", 32, 1, 65536};
constexpr ParamInfo kKeyDim = {"head_dim", "key dimension of the state (dk)", 128, 1, 4096};
constexpr std::array<ParamInfo, 5> kLinearParams = {{
    kHeads,
    kKeyDim,
    kVHeadDimParam,
    in_tokens({"chunk", "tokens per chunk (b): intra-chunk dense, inter-chunk through the state",
               64, 1, 1 << 16}),
    {"gate_dim",
     "decay values per token and head: 1 = a per-head scalar (RetNet, Lightning), = head_dim = a "
     "data-dependent gate per key channel (GLA, arXiv:2312.06635)",
     1,
     1,
     4096,
     ParamType::integer,
     {},
     {},
     "1 or head_dim"},
}};
// Lightning Attention-2's Triton kernel (lightning_attn2.py in github.com/OpenNLPLab/
// lightning-attention) sets BLOCK = 64.
constexpr std::array<ParamInfo, 4> kLightningParams = {{
    kHeads,
    kKeyDim,
    kVHeadDimParam,
    in_tokens({"chunk", "block size (b)", 64, 1, 1 << 16}),
}};
constexpr IntParam kChunk = int_param(kLinearParams, "chunk");
constexpr IntParam kLightningChunk = int_param(kLightningParams, "chunk");
constexpr IntParam kGateDim = int_param(kLinearParams, "gate_dim");

// GLA's secondary chunking (arXiv:2312.06635 §4.2; fla/ops/gla/chunk.py in
// github.com/fla-org/flash-linear-attention, BC = min(16, chunk)): with a gate per key channel
// the pairs inside a sub-chunk of this many tokens cannot be a matmul and run elementwise in
// FP32, one exp per pair and channel.
constexpr double kGateSubChunk = 16;

ScanShape scan_shape(const AttentionSpec& spec, const Workload& w, bool lightning) {
  ScanShape x{static_cast<double>(w.batch),
              static_cast<double>(spec.heads.heads),
              static_cast<double>(w.q_len),
              static_cast<double>(spec.heads.head_dim),
              static_cast<double>(spec.heads.v_head_dim),
              static_cast<double>(spec.get(lightning ? kLightningChunk : kChunk))};
  x.block_decay = lightning;
  if (!lightning) {
    x.gate_dim = static_cast<double>(spec.get(kGateDim));
    if (x.gate_dim != 1 && x.gate_dim != x.key_dim) {
      throw common::SpecError(fmt::format(
          "gate_dim must be 1 (a per-head decay) or head_dim = {} (a gate per key channel, GLA); "
          "got {}",
          x.key_dim, x.gate_dim));
    }
  }
  return x;
}

// Causal pairs inside GLA's sub-chunks, which run elementwise: each chunk splits into sub-chunks
// of kGateSubChunk tokens and a last one of the rest (a chunk of 40: 16, 16 and 8).
double sub_chunk_pairs(const ScanShape& x) {
  auto in_chunk = [](double len) {
    ScanShape one;
    one.tokens = len;
    one.chunk = std::min(kGateSubChunk, len);
    return len > 0 ? intra_chunk_pairs(one) : 0.0;
  };
  const double chunk = std::min(x.chunk, x.tokens);
  const double full = std::floor(x.tokens / chunk);
  return full * in_chunk(chunk) + in_chunk(x.tokens - full * chunk);
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
    op.bytes.state = 2 * x.batch * x.heads * x.key_dim * x.value_dim * kStateBytes;  // in, out
  } else {
    op.flops.tensor = x.batch * x.heads * 2 * intra_chunk_pairs(x) * (x.key_dim + x.value_dim) +
                      heads_tokens * 4 * x.key_dim * x.value_dim;
    op.flops.vector = heads_tokens * 2 * (x.key_dim + x.value_dim);
    op.bytes.state = x.batch * x.heads * x.key_dim * x.value_dim * kStateBytes;  // final state out
    // A prefill onto a cached prefix (kv_len > q_len) starts from the prefix's state: read it.
    if (w.kv_len > w.q_len) op.bytes.state *= 2;
  }
  op.flops.exp = heads_tokens * x.gate_dim;  // one decay factor per token, head and gate value
  // Lightning's intra-block left product applies a decay mask lambda^(i-j), one per causal pair.
  if (decay_mask && w.phase != Phase::decode) {
    op.flops.exp += x.batch * x.heads * intra_chunk_pairs(x);
  }
  if (x.gate_dim > 1) {
    // Per-channel gates (GLA): Q and K scaled by their cumulative gates (2 dk per token), the
    // gate read, and inside each sub-chunk one exp and three FP32 ops (difference, product, sum)
    // per causal pair and channel; in decode, the gate multiplies the state (counted above).
    op.bytes.k += s * heads_tokens * x.gate_dim;
    if (w.phase != Phase::decode) {
      op.flops.vector += heads_tokens * 2 * x.key_dim;
      const double pairs = x.batch * x.heads * sub_chunk_pairs(x) * x.key_dim;
      op.flops.exp += pairs;
      op.flops.vector += 3 * pairs;
    }
  }
  op.bytes.q = s * heads_tokens * x.key_dim;
  op.bytes.k += s * heads_tokens * x.key_dim;
  op.bytes.v = s * heads_tokens * x.value_dim;
  op.bytes.o = s * heads_tokens * x.value_dim;
  return op;
}

// Backward (§E1): intra recompute and dQ/dK/dV 2 (3 dk + 2 dv) per causal pair, inter terms
// 10 dk dv per token. Lightning's intra-block decay mask is recomputed, one exp per causal pair
// (the reference's _bwd_intra_kernel applies it to dO V^T and K Q^T).
Op scan_backward(const ScanShape& x, const Workload& w, bool decay_mask) {
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
  op.flops.exp = heads_tokens * x.gate_dim;
  if (decay_mask) op.flops.exp += x.batch * x.heads * intra_chunk_pairs(x);
  op.bytes.q = s * heads_tokens * x.key_dim;
  op.bytes.k = s * heads_tokens * x.key_dim;
  op.bytes.v = s * heads_tokens * x.value_dim;
  op.bytes.grad_out = s * heads_tokens * x.value_dim;
  op.bytes.grad_in = s * heads_tokens * (2 * x.key_dim + x.value_dim);
  if (x.gate_dim > 1) {
    // Per-channel gates: the gate read and its gradient written (the reverse cumulative sum of
    // q dq - k dk, 3 dk per token), Q and K rescaled (2 dk), and the sub-chunk pairs twice (dQ
    // and dK): one exp and three FP32 ops per pair and channel each.
    op.bytes.k += s * heads_tokens * x.gate_dim;
    op.bytes.grad_in += s * heads_tokens * x.gate_dim;
    op.flops.vector += heads_tokens * 5 * x.key_dim;
    const double pairs = x.batch * x.heads * sub_chunk_pairs(x) * x.key_dim;
    op.flops.exp += 2 * pairs;
    op.flops.vector += 6 * pairs;
  }
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
  Masking masking() const override { return Masking::causal_only; }

  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    if (!w.causal)
      throw common::SpecError("linear attention here is causal (a recurrence); drop --no-causal");
    CostModel model;
    model.layers = w.layers;
    const ScanShape x = scan_shape(spec, w, lightning_);
    if (has_forward(w.phase)) model.ops.push_back(scan_forward(x, w, lightning_));
    if (has_backward(w.phase)) model.ops.push_back(scan_backward(x, w, lightning_));
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
