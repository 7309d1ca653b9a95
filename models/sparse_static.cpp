#include "models/sparse_static.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "models/dense_attention.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

// §C3 S2-Attn (LongLoRA) / SF-Attn (SinkLoRA): causal attention inside groups of group_fraction x
// L tokens, half of the heads shifted by half a group; SF-Attn adds sink tokens and reassembles.
constexpr ParamInfo kGroupFractionParam = {
    "group_fraction", "group size as a fraction of the sequence (LongLoRA: 0.25)", 0.25, 0.001, 1,
    ParamType::real};
constexpr std::array<ParamInfo, 5> kShiftParams = {
    {kHeadsParam, kKvHeadsParam, kHeadDimParam, kVHeadDimParam, kGroupFractionParam}};
constexpr std::array<ParamInfo, 6> kSinkShiftParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    kGroupFractionParam,
    in_tokens({"n_sink", "sink tokens every query attends to", 4, 0, 1 << 20}),
}};
constexpr RealParam kGroupFraction = real_param(kShiftParams, "group_fraction");
constexpr IntParam kShiftSinks = int_param(kSinkShiftParams, "n_sink");

class ShiftedGroups final : public VariantBase {
 public:
  explicit ShiftedGroups(bool sinks)
      : VariantBase(sinks ? "sinklora" : "s2attn", "local",
                    sinks ? "SinkLoRA SF-Attn: shifted group attention reassembled, plus sink "
                            "tokens (training); full attention at inference"
                          : "LongLoRA S2-Attn: causal attention in groups, half the heads "
                            "shifted by half a group (training); full attention at inference",
                    sinks ? std::span<const ParamInfo>(kSinkShiftParams)
                          : std::span<const ParamInfo>(kShiftParams)),
        sinks_(sinks) {}
  // Training runs in groups of a fraction of L, half the heads shifted by half a group (a chunk
  // of the sequence sees other groups); inference is full attention.
  SequenceSplit sequence_split(Phase phase) const override {
    const bool inference = phase == Phase::prefill || phase == Phase::decode;
    return inference ? SequenceSplit::blocks : SequenceSplit::heads_only;
  }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const HeadConfig& h = spec.heads;
    CostModel model;
    model.layers = w.layers;
    set_kv_cache(h, w, static_cast<double>(w.kv_len), model);
    if (w.phase == Phase::decode || w.phase == Phase::prefill) {
      add_dense_attention(h, w, model);  // inference uses full attention
      add_projections(h, spec.projections, w, model);
      return model;
    }
    // Groups of ceil(fraction x L) tokens: never more than ceil(1 / fraction) groups, so a longer
    // sequence never has more, smaller groups than a shorter one.
    const auto group = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(
               std::ceil(spec.get(kGroupFraction) * static_cast<double>(w.q_len))));
    const std::int64_t groups = (w.q_len + group - 1) / group;
    add_attention_branch(h, w, group, group, w.causal, {}, "group_attention_fwd",
                         "group_attention_bwd", model, groups);
    const double s = bytes_per_element(w.dtype);
    const double tokens = static_cast<double>(w.batch * w.q_len);
    // The roll of Q, K, V for half of the heads (and SF-Attn's reassembly of the outputs); the
    // backward rolls dQ, dK, dV back (and takes dO apart as the outputs were put together).
    const double shifted =
        tokens * static_cast<double>(h.heads * h.head_dim + 2 * h.kv_heads * h.head_dim) / 2;
    const double reassembled = tokens * static_cast<double>(h.heads * h.v_head_dim) / 2;
    for (Pass pass : {Pass::forward, Pass::backward}) {
      const bool fwd = pass == Pass::forward;
      if (fwd ? !has_forward(w.phase) : !has_backward(w.phase)) continue;
      model.ops.push_back(
          elementwise_op(fwd ? "shift_heads" : "shift_heads_bwd", pass, shifted, 2 * s, 0, 0));
      if (sinks_) {
        model.ops.push_back(elementwise_op(fwd ? "reassemble_heads" : "reassemble_heads_bwd", pass,
                                           reassembled, 2 * s, 0, 0));
      }
    }
    if (sinks_) {
      const std::int64_t n_sink = spec.get(kShiftSinks);
      if (n_sink > 0) {
        add_attention_branch(h, w, w.q_len, n_sink, false, {}, "sink_attention_fwd",
                             "sink_attention_bwd", model);
      }
    }
    add_projections(h, spec.projections, w, model);
    return model;
  }

 private:
  bool sinks_;
};

// §C5 MoA: heads keep sinks plus a span S(N) = alpha + beta N of recent keys (elastic with the
// input length N). One span for all heads here: pass the heads' mean alpha and beta.
constexpr std::array<ParamInfo, 7> kMoaParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    in_tokens({"alpha", "span at zero length (tokens), averaged over heads", 1024, 0, 1 << 30,
               ParamType::real}),
    {"beta", "span growth per input token, averaged over heads", 0.25, 0, 1, ParamType::real},
    in_tokens({"n_sink", "initial tokens every head keeps", 64, 0, 1 << 20}),
}};
constexpr RealParam kAlpha = real_param(kMoaParams, "alpha");
constexpr RealParam kBeta = real_param(kMoaParams, "beta");
constexpr IntParam kMoaSinks = int_param(kMoaParams, "n_sink");

class Moa final : public VariantBase {
 public:
  Moa()
      : VariantBase("moa", "local",
                    "mixture of sparse attention: sinks plus an elastic span alpha + beta N per "
                    "head (heads' mean)",
                    kMoaParams) {}
  // Sized by the whole sequence (a span alpha + beta L elastic with the whole input's length): a
  // chunk of it prices a different pattern, not a share of this one.
  SequenceSplit sequence_split(Phase) const override { return SequenceSplit::heads_only; }
  Masking masking() const override { return Masking::causal_only; }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    if (!w.causal) throw common::SpecError("moa is causal; drop --no-causal");
    const auto span = std::max<std::int64_t>(
        1, std::llround(spec.get(kAlpha) + spec.get(kBeta) * static_cast<double>(w.kv_len)));
    const AttentionPattern p{span, spec.get(kMoaSinks), ScoreFn::softmax};
    CostModel model;
    model.layers = w.layers;
    add_dense_attention(spec.heads, w, model, p);
    add_projections(spec.heads, spec.projections, w, model);
    return model;
  }
};

// §C6 LGA: the tokens of all views split into `groups` groups that each sample every view;
// attention runs inside each group (non-causal).
constexpr std::array<ParamInfo, 5> kLgaParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    {"groups", "groups the tokens of all views are split into", 8, 1, 1 << 20},
}};
constexpr IntParam kGroups = int_param(kLgaParams, "groups");

class Lga final : public VariantBase {
 public:
  bool supports(Phase p) const override { return p != Phase::decode; }
  Lga()
      : VariantBase("lga", "local",
                    "long-range grouping attention: attention inside groups that each sample "
                    "every view (multi-view, non-causal)",
                    kLgaParams) {}
  Masking masking() const override { return Masking::non_causal_only; }
  // Sized by the whole sequence (groups of L / groups tokens, each sampling every view): a chunk of
  // it prices a different pattern, not a share of this one.
  SequenceSplit sequence_split(Phase) const override { return SequenceSplit::heads_only; }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    require_phase(*this, w.phase);
    // Groups of ceil(L / groups) tokens: as many as the tokens fill, so a sequence shorter than
    // the group count is never priced as more tokens than it has.
    const std::int64_t size = (w.q_len + spec.get(kGroups) - 1) / spec.get(kGroups);
    const std::int64_t groups = (w.q_len + size - 1) / size;
    CostModel model;
    model.layers = w.layers;
    add_attention_branch(spec.heads, w, size, size, false, {}, "group_attention_fwd",
                         "group_attention_bwd", model, groups);
    set_kv_cache(spec.heads, w, 0, model);
    add_projections(spec.heads, spec.projections, w, model);
    return model;
  }
};

}  // namespace

void add_static_sparse_variants(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<ShiftedGroups>(false));
  table.push_back(std::make_unique<ShiftedGroups>(true));
  table.push_back(std::make_unique<Moa>());
  table.push_back(std::make_unique<Lga>());
}

}  // namespace models
