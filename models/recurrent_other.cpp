#include "models/recurrent_other.hpp"

#include <array>

#include "common/errors.hpp"
#include "models/linear_attention.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

constexpr double kStateBytes = 4;  // fp32 state, as in linear_attention.cpp (§E1)

// §E3 LightNet: S_t = S_(t-1) + exp(f_t) k_t v_t^T, o_t = q_t^T S_t / z_t. Causal: E1's chunked
// scan plus the gate exps, the running normaliser and the division; non-causal: one global sum
// S = sum_j exp(f_j) k_j v_j^T (2 L dk dv) and O = Q S / z (2 L dk dv).
constexpr std::array<ParamInfo, 4> kLightNetParams = {{
    {"heads", "heads (H)", 32, 1, 65536},
    {"head_dim", "key dimension of the state (dk)", 128, 1, 4096},
    kVHeadDimParam,
    in_tokens({"chunk", "tokens per chunk of the causal scan (b)", 64, 1, 1 << 16}),
}};
constexpr IntParam kLightNetChunk = int_param(kLightNetParams, "chunk");

class LightNet final : public VariantBase {
 public:
  LightNet()
      : VariantBase("lightnet", "linear",
                    "LightNet additive linear recurrence: one scan with a running normaliser; "
                    "non-causal is a single global sum",
                    kLightNetParams) {}
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const HeadConfig& h = spec.heads;
    ScanShape x{static_cast<double>(w.batch),      static_cast<double>(h.heads),
                static_cast<double>(w.q_len),      static_cast<double>(h.head_dim),
                static_cast<double>(h.v_head_dim), static_cast<double>(spec.get(kLightNetChunk))};
    x.normaliser = true;
    const double heads_tokens = x.batch * x.heads * x.tokens;
    const double s = bytes_per_element(w.dtype);
    CostModel model;
    model.layers = w.layers;
    for (Pass pass : {Pass::forward, Pass::backward}) {
      if (pass == Pass::forward ? !has_forward(w.phase) : !has_backward(w.phase)) continue;
      const double grad = pass == Pass::forward ? 1 : 2;  // backward: about twice the work
      Op op;
      op.kind = OpKind::scan;
      op.pass = pass;
      op.name = pass == Pass::forward ? "lightnet_scan_fwd" : "lightnet_scan_bwd";
      op.scan = x;
      const double kv = x.key_dim * x.value_dim;
      if (w.phase == Phase::decode) {
        op.flops.vector = heads_tokens * 5 * kv;
        op.bytes.state = 2 * x.batch * x.heads * (kv + x.key_dim) * kStateBytes;  // S, z in, out
      } else if (w.causal) {
        // Exact causal pairs inside the chunks (a kernel executes whole tiles).
        op.flops.tensor =
            grad * (x.batch * x.heads * 2 * intra_chunk_pairs(x) * (x.key_dim + x.value_dim) +
                    heads_tokens * 4 * kv);
      } else {
        op.flops.tensor = grad * heads_tokens * 4 * kv;
      }
      // Gate exps and normaliser sums (dk per token), the division of the output (dv).
      op.flops.exp = heads_tokens * x.key_dim;
      op.flops.vector += heads_tokens * (x.key_dim + x.value_dim);
      if (pass == Pass::forward && w.phase != Phase::decode) {
        // The final S and z written for decoding on, as the linear scan does; a prefill onto a
        // cached prefix (kv_len > q_len) also reads the prefix's.
        const double state = x.batch * x.heads * (kv + x.key_dim) * kStateBytes;
        op.bytes.state = (w.kv_len > w.q_len ? 2 : 1) * state;
      }
      op.bytes.q = s * heads_tokens * x.key_dim;
      op.bytes.k += s * heads_tokens * 2 * x.key_dim;  // keys and gate logits
      op.bytes.v = s * heads_tokens * x.value_dim;
      op.bytes.o = s * heads_tokens * x.value_dim;
      if (pass == Pass::backward) {
        // dO read; dQ, dK, dV and the gate logits' gradient (dk per token) written.
        op.bytes.grad_out = s * heads_tokens * x.value_dim;
        op.bytes.grad_in = s * heads_tokens * (3 * x.key_dim + x.value_dim);
      }
      model.ops.push_back(op);
    }
    model.state_bytes = x.batch * x.heads * (x.key_dim * x.value_dim + x.key_dim) * kStateBytes *
                        static_cast<double>(w.layers);
    add_projections(h, spec.projections, w, model);
    return model;
  }
};

// §E4 GAM: a causal depthwise convolution (local) and retrieval from a learned memory bank
// softmax(x M^T) M (global), mixed by sigmoid gates from a D -> 2D projection. Defaults from the
// reference code: D 512, m 512 slots, kernel 3.
constexpr std::array<ParamInfo, 3> kGamParams = {{
    {"d_model", "model width (D)", 512, 1, 1 << 20},
    {"slots", "memory-bank slots (m)", 512, 1, 1 << 24},
    {"conv_kernel", "causal depthwise convolution length (k)", 3, 1, 1024},
}};
constexpr IntParam kGamWidth = int_param(kGamParams, "d_model");
constexpr IntParam kSlots = int_param(kGamParams, "slots");
constexpr IntParam kGamConv = int_param(kGamParams, "conv_kernel");

class Gam final : public VariantBase {
 public:
  Gam()
      : VariantBase("gam", "linear",
                    "gated associative memory: causal convolution plus retrieval from a learned "
                    "memory bank; no KV cache",
                    kGamParams) {}
  void finish(AttentionSpec& spec) const override {
    const std::int64_t d = spec.get(kGamWidth);
    spec.heads = {1, 1, d, d};  // one "head" of the full width: no head structure
  }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const auto d = static_cast<double>(spec.get(kGamWidth));
    const auto m = static_cast<double>(spec.get(kSlots));
    const auto k = static_cast<double>(spec.get(kGamConv));
    const double tokens = static_cast<double>(w.batch * w.q_len);
    const double s = bytes_per_element(w.dtype);
    CostModel model;
    model.layers = w.layers;
    for (Pass pass : {Pass::forward, Pass::backward}) {
      if (pass == Pass::forward ? !has_forward(w.phase) : !has_backward(w.phase)) continue;
      const bool fwd = pass == Pass::forward;
      // Memory scores x M^T and retrieval P M (the bank is read once per kernel).
      model.ops.push_back(
          gemm_op(fwd ? "memory_scores_fwd" : "memory_scores_bwd", pass, tokens, m, d, s));
      model.ops.push_back(
          gemm_op(fwd ? "memory_read_fwd" : "memory_read_bwd", pass, tokens, d, m, s));
      // The D -> 2D gate projection is counted with the projections.
      if (spec.projections.include) {
        model.ops.push_back(
            gemm_op(fwd ? "gate_proj_fwd" : "gate_proj_bwd", pass, tokens, 2 * d, d, s));
      }
      // Softmax over slots, 2D sigmoids, the convolution (2 k D) and the gated mix.
      Op mix = elementwise_op(fwd ? "conv_gates_fwd" : "conv_gates_bwd", pass, tokens, s * 4 * d,
                              m + 2 * d, 2 * k * d + 4 * m + 4 * d);
      // A decode step's convolution reads the last k - 1 inputs it keeps (the state reported)
      // and shifts the new ones in.
      if (w.phase == Phase::decode) {
        mix.bytes.state =
            static_cast<double>(w.batch) * (k - 1 + static_cast<double>(w.q_len)) * d * s;
      }
      model.ops.push_back(mix);
    }
    model.state_bytes = (k - 1) * d * s * static_cast<double>(w.batch * w.layers);
    if (spec.projections.include) model.parameters_per_layer = m * d + 2 * d * d + k * d;
    return model;
  }
};

}  // namespace

void add_recurrent_variants(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<LightNet>());
  table.push_back(std::make_unique<Gam>());
}

}  // namespace models
