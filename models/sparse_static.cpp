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

// §C2 GNA: every query sees window_x x window_y x window_z keys (1 = dimension unused). With
// stride 0, priced as the perfectly block-sparse (blocked) pattern: every row block visits
// ceil(keys / N) KV tiles. With a stride (1: standard neighbourhood attention), the tokens are a
// grid (extent_x x extent_y x extent_z, from the length) that the kernel tiles in boxes, and a row
// block visits the KV tiles its queries' windows span (sim/grid_blocks.hpp).
constexpr std::array<ParamInfo, 12> kGnaParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    in_tokens({"window_x", "neighbourhood along the first dimension", 13, 1, 1 << 20}),
    in_tokens({"window_y", "neighbourhood along the second dimension (1: 1-D)", 13, 1, 1 << 20}),
    in_tokens(
        {"window_z", "neighbourhood along the third dimension (1: 1-D or 2-D)", 1, 1, 1 << 20}),
    in_tokens({"stride",
               "queries sharing one window along each dimension (at most its window; 1: standard "
               "neighbourhood attention); 0: the blocked, perfectly block-sparse bound",
               0, 0, 1 << 20}),
    in_tokens({"stride_y",
               "stride along the second dimension (0: as stride)",
               0,
               0,
               1 << 20,
               ParamType::integer,
               {},
               {},
               "0, or [1, 1048576] with a stride"}),
    in_tokens({"stride_z",
               "stride along the third dimension (0: as stride)",
               0,
               0,
               1 << 20,
               ParamType::integer,
               {},
               {},
               "0, or [1, 1048576] with a stride"}),
    in_tokens({"extent_y",
               "tokens along the second dimension, with a stride (0: the length's square or cube "
               "root, or the square root of what extent_z leaves)",
               0, 0, 1 << 24}),
    in_tokens({"extent_z",
               "tokens along the third dimension, with a stride (0: the length's cube root, or the "
               "square root of what extent_y leaves)",
               0, 0, 1 << 24}),
}};
constexpr IntParam kWindowX = int_param(kGnaParams, "window_x");
constexpr IntParam kWindowY = int_param(kGnaParams, "window_y");
constexpr IntParam kWindowZ = int_param(kGnaParams, "window_z");
constexpr IntParam kGnaStride = int_param(kGnaParams, "stride");
constexpr IntParam kGnaStrideY = int_param(kGnaParams, "stride_y");
constexpr IntParam kGnaStrideZ = int_param(kGnaParams, "stride_z");
constexpr IntParam kExtentY = int_param(kGnaParams, "extent_y");
constexpr IntParam kExtentZ = int_param(kGnaParams, "extent_z");

// The n-th root of `tokens` when it is a whole number, else 0.
std::int64_t exact_root(std::int64_t tokens, int n) {
  const auto root = static_cast<std::int64_t>(std::llround(std::pow(tokens, 1.0 / n)));
  std::int64_t power = 1;
  for (int i = 0; i < n; ++i) power *= root;
  return power == tokens ? root : 0;
}

// The token grid of a strided GNA over `tokens` tokens: its dimensions (3 where window_z or
// extent_z is set, 2 where window_y or extent_y is, else 1) and their extents, given or the
// square or cube root of the length. Throws SpecError when they do not multiply to the length or a
// window is wider than its dimension (NATTEN requires kernel_size <= input size).
TokenGrid gna_grid(const AttentionSpec& spec, std::int64_t tokens) {
  TokenGrid grid;
  const std::int64_t window[3] = {spec.get(kWindowX), spec.get(kWindowY), spec.get(kWindowZ)};
  const std::int64_t stride = spec.get(kGnaStride);
  const std::int64_t strides[3] = {stride,
                                   spec.get(kGnaStrideY) > 0 ? spec.get(kGnaStrideY) : stride,
                                   spec.get(kGnaStrideZ) > 0 ? spec.get(kGnaStrideZ) : stride};
  std::int64_t ez = spec.get(kExtentZ), ey = spec.get(kExtentY);
  grid.dims = window[2] > 1 || ez > 0 ? 3 : window[1] > 1 || ey > 0 ? 2 : 1;
  // Unset extents: the cube root of the length (3-D, neither given), else the square root of what
  // the given one leaves (3-D) or of the length (2-D).
  const auto root_of_rest = [tokens](std::int64_t given) {
    return given > 0 && tokens % given == 0 ? exact_root(tokens / given, 2) : 0;
  };
  if (grid.dims == 3 && ez == 0 && ey == 0) ez = ey = exact_root(tokens, 3);
  if (grid.dims == 3 && ez == 0) ez = root_of_rest(ey);
  if (grid.dims == 3 && ey == 0) ey = root_of_rest(ez);
  if (grid.dims == 2 && ey == 0) ey = exact_root(tokens, 2);
  const std::int64_t inner = (grid.dims >= 2 ? ey : 1) * (grid.dims == 3 ? ez : 1);
  if (inner <= 0 || tokens % inner != 0) {
    throw common::SpecError(fmt::format(
        "gna with a stride: {} tokens do not form a {}-D grid; allowed: a length that is a {} or "
        "--param extent_y=N{} that divide it",
        tokens, grid.dims, grid.dims == 3 ? "cube" : "square",
        grid.dims == 3 ? " and extent_z=N" : ""));
  }
  const std::int64_t extent[3] = {tokens / inner, grid.dims >= 2 ? ey : 1, grid.dims == 3 ? ez : 1};
  static constexpr const char* kAxis[3] = {"x", "y", "z"};
  for (int i = 0; i < 3; ++i) {
    if (window[i] > extent[i]) {
      throw common::SpecError(fmt::format(
          "gna: window_{} ({}) is wider than the grid's {} tokens along it; allowed: at most {}",
          kAxis[i], window[i], extent[i], extent[i]));
    }
    grid.extent[i] = static_cast<double>(extent[i]);
    grid.window[i] = static_cast<double>(window[i]);
    grid.stride[i] = static_cast<double>(std::min(strides[i], window[i]));
  }
  return grid;
}

class Gna final : public VariantBase {
 public:
  bool supports(Phase p) const override { return p != Phase::decode; }
  Gna()
      : VariantBase("gna", "local",
                    "generalised neighbourhood attention (NATTEN): windows in 1-3 dimensions, "
                    "non-causal, strided on a token grid or (stride 0) the blocked bound",
                    kGnaParams) {}
  Masking masking() const override { return Masking::non_causal_only; }
  void finish(AttentionSpec& spec) const override {
    if (spec.get(kGnaStride) == 0 && (spec.get(kGnaStrideY) > 0 || spec.get(kGnaStrideZ) > 0)) {
      throw common::SpecError(
          "gna: stride_y and stride_z refine a stride, and stride 0 (the blocked bound) has none; "
          "allowed: --param stride=N (N >= 1) with them, or neither");
    }
  }
  // Every query sees its own neighbourhood of window_x window_y window_z keys, so a chunk of
  // queries against all keys is its share; a block run would give each query its whole
  // neighbourhood again.
  SequenceSplit sequence_split(Phase) const override { return SequenceSplit::query_chunks; }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    require_phase(*this, w.phase);
    const auto keys =
        static_cast<double>(spec.get(kWindowX) * spec.get(kWindowY) * spec.get(kWindowZ));
    const bool strided = spec.get(kGnaStride) > 0;
    if (strided && w.q_len != w.kv_len) {
      throw common::SpecError(fmt::format(
          "gna with a stride prices self-attention over its whole token grid (got q_len {} and "
          "kv_len {}, as a context-parallel chunk has); allowed: q_len = kv_len, or stride 0",
          w.q_len, w.kv_len));
    }
    const TokenGrid grid = strided ? gna_grid(spec, w.q_len) : TokenGrid{};
    CostModel model;
    model.layers = w.layers;
    // Exactly `keys` keys per query (a window moved inside the grid stays whole): one non-causal
    // op with that many keys per query has the useful pairs; K and V are still read once each.
    // Without a stride its tiles are those of a perfectly block-sparse pattern; with one, the
    // tile engine walks the grid's.
    add_attention_branch(spec.heads, w, w.q_len,
                         std::min<std::int64_t>(w.kv_len, std::llround(keys)), false, {},
                         "neighbourhood_attention_fwd", "neighbourhood_attention_bwd", model);
    for (Op& op : model.ops) {
      read_distinct_keys(op, static_cast<double>(w.kv_len));
      op.attention.grid = grid;
    }
    set_kv_cache(spec.heads, w, 0, model);  // no cache: non-causal
    add_projections(spec.heads, spec.projections, w, model);
    return model;
  }
};

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
  table.push_back(std::make_unique<Gna>());
  table.push_back(std::make_unique<ShiftedGroups>(false));
  table.push_back(std::make_unique<ShiftedGroups>(true));
  table.push_back(std::make_unique<Moa>());
  table.push_back(std::make_unique<Lga>());
}

}  // namespace models
