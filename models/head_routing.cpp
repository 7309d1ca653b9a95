#include "models/head_routing.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "models/dense_attention.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

constexpr std::array<ParamInfo, 4> kHeadParams = {
    {kHeadsParam, kKvHeadsParam, kHeadDimParam, kVHeadDimParam}};

// §A4: GQA whose query-to-KV-head groups follow key-head norms each forward pass. Core and cache
// are GQA's; the norms are an extra pass over K (2 Hkv d FLOPs per token) before attention.
class Kdgqa final : public VariantBase {
 public:
  Kdgqa()
      : VariantBase("kdgqa", "dense",
                    "key-driven GQA (KDGQA/DGQA): GQA with groups sized by key-head norms; adds a "
                    "key-norm pass",
                    kHeadParams) {}
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const HeadConfig& h = spec.heads;
    CostModel model;
    model.layers = w.layers;
    // Key norms: read K once (d values per KV head and token), 2 FLOPs per value, one sqrt each.
    const double key_values = static_cast<double>(w.batch * w.q_len * h.kv_heads * h.head_dim);
    const double s = bytes_per_element(w.kv_dtype);
    if (has_forward(w.phase)) {
      model.ops.push_back(elementwise_op("key_norms", Pass::forward, key_values, s, 0,
                                         2 + 1 / static_cast<double>(h.head_dim)));
    }
    add_dense_attention(h, w, model);
    add_projections(h, spec.projections, w, model);
    return model;
  }
};

// §A6: key heads and value heads counted separately (Hk^l, Hv^l of one layer).
constexpr std::array<ParamInfo, 5> kDhaParams = {{
    kHeadsParam,
    {"k_heads",
     "key heads of this layer (Hk); must divide heads",
     8,
     1,
     65536,
     ParamType::integer,
     {},
     "heads",
     "a divisor of heads",
     HeadSplit::key_value},
    {"v_heads",
     "value heads of this layer (Hv); must divide heads",
     8,
     1,
     65536,
     ParamType::integer,
     {},
     "heads",
     "a divisor of heads",
     HeadSplit::key_value},
    kHeadDimParam,
    kVHeadDimParam,
}};
constexpr IntParam kKHeads = int_param(kDhaParams, "k_heads");
constexpr IntParam kVHeads = int_param(kDhaParams, "v_heads");

class Dha final : public VariantBase {
 public:
  Dha()
      : VariantBase("dha", "dense",
                    "decoupled-head attention: a layer's key and value head counts chosen "
                    "independently (per-layer: query each layer separately)",
                    kDhaParams) {}
  void finish(AttentionSpec& spec) const override {
    HeadConfig& h = spec.heads;
    require_divides(name(), "heads", h.heads, "k_heads", spec.get(kKHeads));
    require_divides(name(), "heads", h.heads, "v_heads", spec.get(kVHeads));
    h.kv_heads = spec.get(kKHeads);  // the key map decides the grouping of the score computation
  }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const HeadConfig& h = spec.heads;
    const auto k_heads = static_cast<double>(spec.get(kKHeads));
    const auto v_heads = static_cast<double>(spec.get(kVHeads));
    CostModel model;
    model.layers = w.layers;
    add_dense_attention(h, w, model);
    // Values come from v_heads heads, keys from k_heads: V read, and dV written, for v_heads.
    for (Op& op : model.ops) {
      op.bytes.v *= v_heads / k_heads;
      if (op.pass == Pass::backward) {
        op.bytes.grad_in += bytes_per_element(w.dtype) * static_cast<double>(w.batch) *
                            static_cast<double>(op.attention.kv_len) * (v_heads - k_heads) *
                            static_cast<double>(h.v_head_dim);
      }
    }
    model.kv_cache_bytes_per_token_per_layer =
        (k_heads * static_cast<double>(h.head_dim) + v_heads * static_cast<double>(h.v_head_dim)) *
        bytes_per_element(w.kv_dtype);
    model.kv_cache_bytes = model.kv_cache_bytes_per_token_per_layer *
                           static_cast<double>(w.batch * w.kv_len * w.layers);
    ProjectionWidths widths = projection_widths(h);
    widths.v = v_heads * static_cast<double>(h.v_head_dim);
    add_projections(widths, hidden_size(h, spec.projections), spec.projections, w, model);
    return model;
  }
};

// §A7: h_s shared heads always run, a router picks top_k of the others per token. K/V of every
// head are cached (other tokens route to them).
constexpr std::array<ParamInfo, 5> kMohParams = {{
    {"heads",
     "heads H (all of them keep K/V)",
     32,
     1,
     65536,
     ParamType::integer,
     {},
     {},
     "at least shared_heads + top_k"},
    {"shared_heads",
     "heads every token uses (h_s)",
     8,
     0,
     65536,
     ParamType::integer,
     {},
     "heads",
     "at most heads - top_k",
     HeadSplit::query},
    {"top_k",
     "routed heads each token activates (k); shared_heads + top_k in [1, heads]",
     16,
     0,
     65536,
     ParamType::integer,
     {},
     "heads",
     "at most heads - shared_heads",
     HeadSplit::query},
    kHeadDimParam,
    {"head_sparse",
     "1: a kernel that computes only active heads; 0: the reference code, which "
     "computes all heads and masks",
     0, 0, 1},
}};
constexpr IntParam kSharedHeads = int_param(kMohParams, "shared_heads");
constexpr IntParam kMohTopK = int_param(kMohParams, "top_k");
constexpr IntParam kHeadSparse = int_param(kMohParams, "head_sparse");

class Moh final : public VariantBase {
 public:
  Moh()
      : VariantBase("moh", "dense",
                    "mixture-of-head attention: shared heads plus top-k routed heads per token",
                    kMohParams) {}
  void finish(AttentionSpec& spec) const override {
    const HeadConfig& h = spec.heads;
    const std::int64_t shared = spec.get(kSharedHeads), top_k = spec.get(kMohTopK);
    if (shared + top_k > h.heads || shared + top_k == 0) {
      // Their defaults (8 and 16, each at most heads) do not follow heads below 24: say which
      // values to give with it.
      const std::string fix = shared + top_k == 0 ? "top_k=1"
                              : shared <= h.heads
                                  ? fmt::format("top_k={}", h.heads - shared)
                                  : fmt::format("shared_heads={} --param top_k=0", h.heads);
      throw common::SpecError(fmt::format(
          "moh: shared_heads + top_k must be in [1, heads = {}], got {} + {} (defaults: "
          "shared_heads {}, top_k {}, each at most heads); give them with heads, e.g. --param {}",
          h.heads, shared, top_k, kMohParams[kSharedHeads.index].default_value,
          kMohParams[kMohTopK.index].default_value, fix));
    }
  }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const HeadConfig& h = spec.heads;
    const std::int64_t active = spec.get(kSharedHeads) + spec.get(kMohTopK);
    const bool head_sparse = spec.get(kHeadSparse) != 0;
    CostModel model;
    model.layers = w.layers;
    // Head-sparse: each token's queries run only its active heads (and read only their K/V in
    // decode); the reference computes every head.
    const HeadConfig computed =
        head_sparse ? HeadConfig{active, active, h.head_dim, h.v_head_dim} : h;
    add_dense_attention(computed, w, model);
    // Each query token routes on its own: between the q_len tokens of a sequence, up to every
    // head's K/V is read (and, training, its dK/dV written); one decode token reads its own.
    if (head_sparse) {
      const double heads_read =
          std::min(static_cast<double>(h.heads), static_cast<double>(w.q_len * active));
      for (Op& op : model.ops) scale_kv_traffic(op, heads_read / static_cast<double>(active));
    }
    set_kv_cache(h, w, static_cast<double>(w.kv_len), model);
    // The gated combination of head outputs; the router logits (a D x H GEMM on the hidden
    // states) are a projection, counted with the others.
    const double tokens = static_cast<double>(w.batch * w.q_len);
    const double d_model = hidden_size(h, spec.projections);
    const double s = bytes_per_element(w.dtype);
    const double gated = tokens * static_cast<double>(computed.heads * h.v_head_dim);
    if (has_forward(w.phase)) {
      model.ops.push_back(elementwise_op("head_gating_fwd", Pass::forward, gated, 2 * s, 0, 2));
    }
    if (has_backward(w.phase)) {
      // dO_h = g_h dY and dg_h = <O_h, dY>: read dY and O, write dO and (per head) dg.
      model.ops.push_back(elementwise_op("head_gating_bwd", Pass::backward, gated,
                                         s * (3 + 2 / static_cast<double>(h.v_head_dim)), 0, 3));
    }
    if (spec.projections.include) {
      const auto heads = static_cast<double>(h.heads);
      if (has_forward(w.phase)) {
        model.ops.push_back(gemm_op("router_fwd", Pass::forward, tokens, heads, d_model, s));
      }
      if (has_backward(w.phase)) {
        model.ops.push_back(gemm_op("router_bwd", Pass::backward, tokens, heads, d_model, s));
      }
    }
    add_projections(h, spec.projections, w, model);
    // After the projections, which set the layer's parameters: the router's D x H adds to them.
    if (spec.projections.include)
      model.parameters_per_layer += d_model * static_cast<double>(h.heads);
    return model;
  }
};

// §A9 GDA: signal heads H_s and noise heads H_n (ratio r = H_s / H_n), each noise map shared by r
// signal heads. Fused (A_s - lambda A_n before PV): QK for H_s + H_n maps, PV for H_s heads;
// unfused: the noise map is also applied to each signal head's V.
constexpr std::array<ParamInfo, 5> kGdaParams = {{
    {"heads", "signal heads (H_s)", 24, 1, 65536},
    {"noise_heads",
     "noise-control heads (H_n); must divide heads",
     8,
     1,
     65536,
     ParamType::integer,
     {},
     "heads",
     "a divisor of heads",
     HeadSplit::query},
    kHeadDimParam,
    kVHeadDimParam,
    {"fused", "1: subtract the maps before PV (one PV); 0: two PVs per signal head", 1, 0, 1},
}};
constexpr IntParam kNoiseHeads = int_param(kGdaParams, "noise_heads");
constexpr IntParam kFused = int_param(kGdaParams, "fused");

class Gda final : public VariantBase {
 public:
  Gda()
      : VariantBase("gda", "dense",
                    "grouped differential attention: more signal than noise maps, each noise map "
                    "shared by a group of signal heads",
                    kGdaParams) {}
  void finish(AttentionSpec& spec) const override {
    require_divides(name(), "heads", spec.heads.heads, "noise_heads", spec.get(kNoiseHeads));
    // The model width is every score map's, signal and noise: (H_s + H_n) d. Set here, so that
    // a head split (tensor parallelism) keeps the whole model's width, not H_s d.
    if (spec.projections.hidden_size == 0) {
      spec.projections.hidden_size =
          (spec.heads.heads + spec.get(kNoiseHeads)) * spec.heads.head_dim;
    }
  }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const HeadConfig& h = spec.heads;
    const std::int64_t noise = spec.get(kNoiseHeads);
    const bool fused = spec.get(kFused) != 0;
    // Score maps for signal and noise heads; PV and O belong to the signal heads only.
    const HeadConfig maps{h.heads + noise, h.heads + noise, h.head_dim, h.v_head_dim};
    CostModel model;
    model.layers = w.layers;
    add_dense_attention(maps, w, model);
    const double signal_share = static_cast<double>(h.heads) / static_cast<double>(h.heads + noise);
    for (Op& op : model.ops) {
      const double scores = static_cast<double>(w.batch) * op.attention.pairs_per_head;
      const double noise_pv = scores * static_cast<double>(noise) * 2 *
                              static_cast<double>(h.v_head_dim) *
                              (op.pass == Pass::forward ? 1 : 2);
      // Fused: no PV for noise maps; unfused: the noise PV runs once per signal head instead.
      op.flops.tensor +=
          fused ? -noise_pv
                : noise_pv * (static_cast<double>(h.heads) / static_cast<double>(noise) - 1);
      op.bytes.v *= signal_share;
      op.bytes.o *= signal_share;
      if (op.pass == Pass::backward) {
        // dO is the signal heads'; dV too (dQ and dK are every map's).
        op.bytes.grad_out *= signal_share;
        op.bytes.grad_in -= bytes_per_element(w.dtype) * static_cast<double>(w.batch) *
                            static_cast<double>(op.attention.kv_len * noise * h.v_head_dim);
      }
    }
    model.kv_cache_bytes_per_token_per_layer =
        (static_cast<double>((h.heads + noise) * h.head_dim) +
         static_cast<double>(h.heads * h.v_head_dim)) *
        bytes_per_element(w.kv_dtype);
    model.kv_cache_bytes = model.kv_cache_bytes_per_token_per_layer *
                           static_cast<double>(w.batch * w.kv_len * w.layers);
    // V and O belong to the signal heads only (§A9).
    ProjectionWidths widths = projection_widths(maps);
    widths.v = static_cast<double>(h.heads * h.v_head_dim);
    widths.o = widths.v;
    add_projections(widths, hidden_size(maps, spec.projections), spec.projections, w, model);
    return model;
  }
};

}  // namespace

void add_head_routing_variants(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<Kdgqa>());
  table.push_back(std::make_unique<Dha>());
  table.push_back(std::make_unique<Moh>());
  table.push_back(std::make_unique<Gda>());
}

}  // namespace models
