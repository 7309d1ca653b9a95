#include "models/sparse_static.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "models/dense_attention.hpp"
#include "models/errors.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

// §C2 GNA: every query sees window_x x window_y x window_z keys (1 = dimension unused); with
// stride = window the pattern is blocked and perfectly block-sparse.
const std::array<ParamInfo, 8> kGnaParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    {"window_x", "neighbourhood along the first dimension", "13", 1, 1 << 20},
    {"window_y", "neighbourhood along the second dimension (1: 1-D)", "13", 1, 1 << 20},
    {"window_z", "neighbourhood along the third dimension (1: 1-D or 2-D)", "1", 1, 1 << 20},
    {"stride", "queries per shared window (1: sliding, = window: blocked)", "1", 1, 1 << 20},
}};

class Gna final : public VariantBase {
 public:
  bool supports(Phase p) const override { return p != Phase::decode; }
  Gna()
      : VariantBase("gna", "local",
                    "generalised neighbourhood attention (NATTEN): sliding, strided or blocked "
                    "windows in 1-3 dimensions, non-causal",
                    kGnaParams) {}
  AttentionSpec make_spec(const ParamValues& given, const ProjectionConfig& proj) const override {
    ParamReader r(*this, given);
    AttentionSpec spec = heads_spec(*this, r, proj);
    spec.extra = {static_cast<double>(r.integer("window_x", 13)),
                  static_cast<double>(r.integer("window_y", 13)),
                  static_cast<double>(r.integer("window_z", 1)),
                  static_cast<double>(r.integer("stride", 1))};
    return spec;
  }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    require_phase(*this, w.phase);
    const double keys = spec.extra[0] * spec.extra[1] * spec.extra[2];
    CostModel model;
    model.layers = w.layers;
    // Exactly `keys` keys per query: one non-causal op with that many keys per query has the
    // pairs and tiles of a perfectly block-sparse pattern; K and V are still read once each.
    add_attention_branch(spec.heads, w, w.q_len,
                         std::min<std::int64_t>(w.kv_len, std::llround(keys)), false, {},
                         "neighbourhood_attention_fwd", "neighbourhood_attention_bwd", model);
    const double all_keys = static_cast<double>(w.kv_len);
    for (Op& op : model.ops) {
      const double scale = all_keys / static_cast<double>(op.attention.kv_len);
      op.bytes.k *= scale;
      op.bytes.v *= scale;
    }
    set_kv_cache(spec.heads, w, 0, model);  // no cache: non-causal
    add_projections(spec.heads, spec.projections, w, model);
    return model;
  }
};

// §C3 S2-Attn (LongLoRA) / SF-Attn (SinkLoRA): causal attention inside groups of group_fraction x
// L tokens, half of the heads shifted by half a group; SF-Attn adds sink tokens and reassembles.
const std::array<ParamInfo, 6> kShiftParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    {"group_fraction", "group size as a fraction of the sequence (LongLoRA: 0.25)", "0.25", 0.001,
     1},
    {"n_sink", "sink tokens every query attends to (SF-Attn only)", "4", 0, 1 << 20},
}};

class ShiftedGroups final : public VariantBase {
 public:
  explicit ShiftedGroups(bool sinks)
      : VariantBase(sinks ? "sinklora" : "s2attn", "local",
                    sinks ? "SinkLoRA SF-Attn: shifted group attention reassembled, plus sink "
                            "tokens (training); full attention at inference"
                          : "LongLoRA S2-Attn: causal attention in groups, half the heads "
                            "shifted by half a group (training); full attention at inference",
                    kShiftParams),
        sinks_(sinks) {}
  AttentionSpec make_spec(const ParamValues& given, const ProjectionConfig& proj) const override {
    ParamReader r(*this, given);
    AttentionSpec spec = heads_spec(*this, r, proj);
    spec.extra = {r.number("group_fraction", 0.25),
                  sinks_ ? static_cast<double>(r.integer("n_sink", 4)) : 0.0};
    return spec;
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
    const auto group =
        std::max<std::int64_t>(1, std::llround(spec.extra[0] * static_cast<double>(w.q_len)));
    const std::int64_t groups = (w.q_len + group - 1) / group;
    add_attention_branch(h, w, group, group, w.causal, {}, "group_attention_fwd",
                         "group_attention_bwd", model, groups);
    const double s = bytes_per_element(w.dtype);
    const double tokens = static_cast<double>(w.batch * w.q_len);
    // The roll of Q, K, V for half of the heads (and SF-Attn's reassembly of the outputs).
    const double shifted =
        tokens * static_cast<double>(h.heads * h.head_dim + 2 * h.kv_heads * h.head_dim) / 2;
    model.ops.push_back(elementwise_op("shift_heads", Pass::forward, shifted, 2 * s, 0, 0));
    if (sinks_) {
      model.ops.push_back(elementwise_op("reassemble_heads", Pass::forward,
                                         tokens * static_cast<double>(h.heads * h.v_head_dim) / 2,
                                         2 * s, 0, 0));
      const auto n_sink = static_cast<std::int64_t>(spec.extra[1]);
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
const std::array<ParamInfo, 7> kMoaParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    {"alpha", "span at zero length (tokens), averaged over heads", "1024", 0, 1 << 30},
    {"beta", "span growth per input token, averaged over heads", "0.25", 0, 1},
    {"n_sink", "initial tokens every head keeps", "64", 0, 1 << 20},
}};

class Moa final : public VariantBase {
 public:
  Moa()
      : VariantBase("moa", "local",
                    "mixture of sparse attention: sinks plus an elastic span alpha + beta N per "
                    "head (heads' mean)",
                    kMoaParams) {}
  AttentionSpec make_spec(const ParamValues& given, const ProjectionConfig& proj) const override {
    ParamReader r(*this, given);
    AttentionSpec spec = heads_spec(*this, r, proj);
    spec.extra = {r.number("alpha", 1024), r.number("beta", 0.25),
                  static_cast<double>(r.integer("n_sink", 64))};
    return spec;
  }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    if (!w.causal) throw SpecError("moa is causal; drop --no-causal");
    const auto span = std::max<std::int64_t>(
        1, std::llround(spec.extra[0] + spec.extra[1] * static_cast<double>(w.kv_len)));
    const AttentionPattern p{span, static_cast<std::int64_t>(spec.extra[2]), ScoreFn::softmax};
    CostModel model;
    model.layers = w.layers;
    add_dense_attention(spec.heads, w, model, p);
    add_projections(spec.heads, spec.projections, w, model);
    return model;
  }
};

// §C6 LGA: the tokens of all views split into `groups` groups that each sample every view;
// attention runs inside each group (non-causal).
const std::array<ParamInfo, 5> kLgaParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    {"groups", "groups the tokens of all views are split into", "8", 1, 1 << 20},
}};

class Lga final : public VariantBase {
 public:
  bool supports(Phase p) const override { return p != Phase::decode; }
  Lga()
      : VariantBase("lga", "local",
                    "long-range grouping attention: attention inside groups that each sample "
                    "every view (multi-view, non-causal)",
                    kLgaParams) {}
  AttentionSpec make_spec(const ParamValues& given, const ProjectionConfig& proj) const override {
    ParamReader r(*this, given);
    AttentionSpec spec = heads_spec(*this, r, proj);
    spec.extra[0] = static_cast<double>(r.integer("groups", 8));
    return spec;
  }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    require_phase(*this, w.phase);
    const auto groups = static_cast<std::int64_t>(spec.extra[0]);
    const std::int64_t size = (w.q_len + groups - 1) / groups;
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
  table.push_back(std::make_unique<Gna>());
  table.push_back(std::make_unique<ShiftedGroups>(false));
  table.push_back(std::make_unique<ShiftedGroups>(true));
  table.push_back(std::make_unique<Moa>());
  table.push_back(std::make_unique<Lga>());
}

}  // namespace models
