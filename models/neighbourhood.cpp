#include "models/neighbourhood.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "models/dense_attention.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

// §C2 GNA: every query sees up to window_x x window_y x window_z keys (1 = dimension unused). With
// stride 0, priced as the perfectly block-sparse (blocked) pattern: every row block visits
// ceil(keys / N) KV tiles. With a stride (1: standard neighbourhood attention), the tokens are a
// grid (extent_x x extent_y x extent_z, from the length) that the kernel tiles in boxes, and a row
// block visits the KV tiles its queries' windows span (sim/grid_blocks.hpp); a dilation splits a
// dimension into sub-grids and a causal dimension keeps each window behind its query (NATTEN's
// mask, csrc/include/natten/cuda/reference/mask.hpp at github.com/SHI-Labs/NATTEN 8c8729f).
// A dilation or causal parameter, which only a grid (a stride) prices; `from`: the parameter it
// defaults to.
constexpr ParamInfo kGnaGridParam(std::string_view name, std::string_view help,
                                  double default_value, double min, double max,
                                  std::string_view allowed, std::string_view from = {}) {
  return {name, help, default_value, min, max, ParamType::integer, from, {}, allowed};
}
constexpr std::array<ParamInfo, 18> kGnaParams = {{
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
               0,
               0,
               1 << 20,
               ParamType::integer,
               {},
               {},
               "0, or [1, window_x], and at most window_y and window_z where stride_y and "
               "stride_z are 0"}),
    in_tokens({"stride_y",
               "stride along the second dimension (0: as stride)",
               0,
               0,
               1 << 20,
               ParamType::integer,
               {},
               {},
               "0, or [1, window_y] with a stride"}),
    in_tokens({"stride_z",
               "stride along the third dimension (0: as stride)",
               0,
               0,
               1 << 20,
               ParamType::integer,
               {},
               {},
               "0, or [1, window_z] with a stride"}),
    in_tokens({"extent_y",
               "tokens along the second dimension, with a stride (0: the length's square or cube "
               "root, or the square root of what extent_z leaves)",
               0, 0, 1 << 24}),
    in_tokens({"extent_z",
               "tokens along the third dimension, with a stride (0: the length's cube root, or the "
               "square root of what extent_y leaves)",
               0, 0, 1 << 24}),
    kGnaGridParam("dilation",
                  "NATTEN's dilation along each dimension, with a stride: a window's neighbours "
                  "are every dilation-th token (1: none)",
                  1, 1, 1 << 20, "1, or [2, 1048576] with a stride"),
    kGnaGridParam("dilation_y", "dilation along the second dimension", 1, 1, 1 << 20,
                  "1, or [2, 1048576] with a stride", "dilation"),
    kGnaGridParam("dilation_z", "dilation along the third dimension", 1, 1, 1 << 20,
                  "1, or [2, 1048576] with a stride", "dilation"),
    kGnaGridParam("causal_x",
                  "1: causal along the first dimension (a query sees no later position along "
                  "it, NATTEN's is_causal); 0: the window centred",
                  0, 0, 1, "0, or 1 with a stride"),
    kGnaGridParam("causal_y", "1: causal along the second dimension", 0, 0, 1,
                  "0, or 1 with a stride"),
    kGnaGridParam("causal_z", "1: causal along the third dimension", 0, 0, 1,
                  "0, or 1 with a stride"),
}};
constexpr IntParam kWindowX = int_param(kGnaParams, "window_x");
constexpr IntParam kWindowY = int_param(kGnaParams, "window_y");
constexpr IntParam kWindowZ = int_param(kGnaParams, "window_z");
constexpr IntParam kGnaStride = int_param(kGnaParams, "stride");
constexpr IntParam kGnaStrideY = int_param(kGnaParams, "stride_y");
constexpr IntParam kGnaStrideZ = int_param(kGnaParams, "stride_z");
constexpr IntParam kExtentY = int_param(kGnaParams, "extent_y");
constexpr IntParam kExtentZ = int_param(kGnaParams, "extent_z");
constexpr IntParam kDilation = int_param(kGnaParams, "dilation");
constexpr IntParam kDilationY = int_param(kGnaParams, "dilation_y");
constexpr IntParam kDilationZ = int_param(kGnaParams, "dilation_z");
constexpr IntParam kCausalX = int_param(kGnaParams, "causal_x");
constexpr IntParam kCausalY = int_param(kGnaParams, "causal_y");
constexpr IntParam kCausalZ = int_param(kGnaParams, "causal_z");
constexpr const char* kAxis[3] = {"x", "y", "z"};

// Whether the spec asks for what only a grid prices: a dilation or a causal dimension.
bool needs_grid(const AttentionSpec& spec) {
  return spec.get(kDilation) > 1 || spec.get(kDilationY) > 1 || spec.get(kDilationZ) > 1 ||
         spec.get(kCausalX) + spec.get(kCausalY) + spec.get(kCausalZ) > 0;
}

// The n-th root of `tokens` when it is a whole number, else 0.
std::int64_t exact_root(std::int64_t tokens, int n) {
  const auto root = static_cast<std::int64_t>(std::llround(std::pow(tokens, 1.0 / n)));
  std::int64_t power = 1;
  for (int i = 0; i < n; ++i) power *= root;
  return power == tokens ? root : 0;
}

// The token grid of a strided GNA over `tokens` tokens: its dimensions (3 where window_z or
// extent_z is set, 2 where window_y or extent_y is, else 1) and their extents, given or the
// square or cube root of the length. Throws SpecError when they do not multiply to the length, a
// window times its dilation is wider than its dimension (NATTEN requires kernel_size x dilation
// <= input size), a stride is wider than its window (NATTEN requires stride <= kernel_size; both
// in check_args_against_input, src/natten/utils/checks.py), or a dilation or causal flag names a
// dimension the grid lacks.
TokenGrid gna_grid(const AttentionSpec& spec, std::int64_t tokens) {
  TokenGrid grid;
  const std::int64_t window[3] = {spec.get(kWindowX), spec.get(kWindowY), spec.get(kWindowZ)};
  const std::int64_t stride = spec.get(kGnaStride);
  const std::int64_t strides[3] = {stride,
                                   spec.get(kGnaStrideY) > 0 ? spec.get(kGnaStrideY) : stride,
                                   spec.get(kGnaStrideZ) > 0 ? spec.get(kGnaStrideZ) : stride};
  const std::int64_t dilation[3] = {spec.get(kDilation), spec.get(kDilationY),
                                    spec.get(kDilationZ)};
  const std::int64_t causal[3] = {spec.get(kCausalX), spec.get(kCausalY), spec.get(kCausalZ)};
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
  for (int i = 0; i < 3; ++i) {
    if (i >= grid.dims && (dilation[i] != dilation[0] || causal[i] > 0)) {
      throw common::SpecError(fmt::format(
          "gna: {} names the grid's dimension {}, and this grid has {}; allowed: a window_{} or "
          "extent_{} that gives the grid that dimension, or drop it",
          causal[i] > 0 ? fmt::format("causal_{}", kAxis[i]) : fmt::format("dilation_{}", kAxis[i]),
          i + 1, grid.dims, kAxis[i], kAxis[i]));
    }
    const std::int64_t d = i >= grid.dims ? 1 : dilation[i];
    if (window[i] * d > extent[i]) {
      throw common::SpecError(
          d > 1 ? fmt::format("gna: window_{} ({}) x dilation ({}) = {} is wider than the grid's "
                              "{} tokens along it; allowed: window x dilation at most {}",
                              kAxis[i], window[i], d, window[i] * d, extent[i], extent[i])
                : fmt::format("gna: window_{} ({}) is wider than the grid's {} tokens along it; "
                              "allowed: at most {}",
                              kAxis[i], window[i], extent[i], extent[i]));
    }
    if (i < grid.dims && strides[i] > window[i]) {
      const std::string own = i == 0 ? "stride" : fmt::format("stride_{}", kAxis[i]);
      const bool inherited = i > 0 && spec.get(i == 1 ? kGnaStrideY : kGnaStrideZ) == 0;
      throw common::SpecError(fmt::format(
          "gna: {} ({}{}) is wider than window_{} ({}), and NATTEN refuses a stride wider than "
          "its kernel; allowed: {} at most {}{}",
          own, strides[i], inherited ? ", from stride" : "", kAxis[i], window[i], own, window[i],
          inherited ? " (--param " + own + "=N)" : ""));
    }
    grid.extent[i] = static_cast<double>(extent[i]);
    grid.window[i] = static_cast<double>(window[i]);
    grid.stride[i] = static_cast<double>(i < grid.dims ? strides[i] : 1);
    grid.dilation[i] = static_cast<double>(d);
    grid.causal[i] = causal[i] > 0;
  }
  return grid;
}

// Keys summed over the queries of one sub-grid dimension of `length` positions: `window` each, or
// under a causal mask query i's from max(leader - window + 1, 0) to i, its stride group's leader
// being the group's last position (at most the last): L(L+1)/2 less what the window cuts off.
double axis_pairs(double length, double window, double stride, bool causal) {
  if (!causal) return length * window;
  const double groups = std::floor(length / stride);  // whole stride groups
  // Whole group k (leader ks + s - 1) cuts s (ks + s - w) keys once that is positive: k >= k0.
  const double k0 = std::floor((window - stride) / stride) + 1;
  double cut = 0;
  if (k0 < groups) {
    const double ks = (groups - 1 + k0) * (groups - k0) / 2;  // sum of k from k0 to groups - 1
    cut += stride * (stride * ks + (groups - k0) * (stride - window));
  }
  const double rest = length - groups * stride;  // a last, partial group led by the last position
  cut += rest * std::max(length - window, 0.0);
  return length * (length + 1) / 2 - cut;
}

// Scored pairs per head on the grid: per dimension the sum over its dilation sub-grids (extent mod
// dilation of them one position longer), multiplied across the dimensions.
double grid_pairs(const TokenGrid& grid) {
  double pairs = 1;
  for (int i = 0; i < grid.dims; ++i) {
    const double d = grid.dilation[i];
    const double short_side = std::floor(grid.extent[i] / d);
    const double long_ones = grid.extent[i] - short_side * d;
    const auto sub = [&](double length) {
      return axis_pairs(length, grid.window[i], grid.stride[i], grid.causal[i]);
    };
    pairs *=
        (d - long_ones) * sub(short_side) + (long_ones > 0 ? long_ones * sub(short_side + 1) : 0);
  }
  return pairs;
}

// Where NATTEN calls plain attention instead (src/natten/functional.py, `is_self_attention` in
// src/natten/utils/checks.py): a 1-D window as long as the sequence, causal or not, or every
// window as wide as its dimension with none causal (the dilation is then 1 and the stride moot).
bool natten_self_attention(const TokenGrid& grid) {
  if (grid.dims == 1) return grid.window[0] == grid.extent[0];
  for (int i = 0; i < grid.dims; ++i) {
    if (grid.window[i] != grid.extent[i] || grid.causal[i]) return false;
  }
  return true;
}

class Gna final : public VariantBase {
 public:
  bool supports(Phase p) const override { return p != Phase::decode; }
  Gna()
      : VariantBase("gna", "local",
                    "generalised neighbourhood attention (NATTEN): windows in 1-3 dimensions, "
                    "strided, dilated or causal per dimension on a token grid, or (stride 0) the "
                    "blocked bound",
                    kGnaParams) {}
  Masking masking() const override { return Masking::non_causal_only; }
  void finish(AttentionSpec& spec) const override {
    if (spec.get(kGnaStride) == 0 && (spec.get(kGnaStrideY) > 0 || spec.get(kGnaStrideZ) > 0)) {
      throw common::SpecError(
          "gna: stride_y and stride_z refine a stride, and stride 0 (the blocked bound) has none; "
          "allowed: --param stride=N (N >= 1) with them, or neither");
    }
  }
  // Every query sees its own neighbourhood, so a chunk of queries against all keys is its share;
  // a block run would give each query its whole neighbourhood again.
  SequenceSplit sequence_split(Phase) const override { return SequenceSplit::query_chunks; }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    require_phase(*this, w.phase);
    const auto keys =
        static_cast<double>(spec.get(kWindowX) * spec.get(kWindowY) * spec.get(kWindowZ));
    const bool strided = spec.get(kGnaStride) > 0;
    if (!strided && needs_grid(spec)) {
      throw common::SpecError(
          "gna: a dilation or a causal dimension needs the token grid, and stride 0 (the blocked "
          "bound) has none; allowed: --param stride=N (N >= 1, 1: standard neighbourhood "
          "attention) with them");
    }
    if (strided && w.q_len != w.kv_len) {
      throw common::SpecError(fmt::format(
          "gna with a stride prices self-attention over its whole token grid (got q_len {} and "
          "kv_len {}, as a context-parallel chunk has); allowed: q_len = kv_len, or stride 0",
          w.q_len, w.kv_len));
    }
    const TokenGrid grid = strided ? gna_grid(spec, w.q_len) : TokenGrid{};
    CostModel model;
    model.layers = w.layers;
    if (strided && natten_self_attention(grid)) {
      // NATTEN runs plain attention over the flattened tokens: causal where its 1-D window is.
      add_attention_branch(spec.heads, w, w.q_len, w.kv_len, grid.dims == 1 && grid.causal[0], {},
                           "neighbourhood_attention_fwd", "neighbourhood_attention_bwd", model);
      set_kv_cache(spec.heads, w, 0, model);
      add_projections(spec.heads, spec.projections, w, model);
      return model;
    }
    // At most `keys` keys per query (exactly that many unless a dimension is causal: a window
    // moved inside the grid stays whole): one non-causal op with that many keys per query, its
    // pairs counted on the grid; K and V are still read once each. Without a stride its tiles are
    // those of a perfectly block-sparse pattern; with one, the tile engine walks the grid's.
    AttentionPattern pattern;
    if (strided) pattern.pairs_per_head = grid_pairs(grid);
    add_attention_branch(spec.heads, w, w.q_len,
                         std::min<std::int64_t>(w.kv_len, std::llround(keys)), false, pattern,
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

}  // namespace

void add_neighbourhood_variants(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<Gna>());
}

}  // namespace models
