#include "sim/grid_blocks.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace sim {

namespace {

// First key of the window of query `q`: NATTEN's non-causal window (`left` = window / 2 keys
// before the centre, moved inside the extent), or its causal one (the stride group's last query
// and the window - 1 keys before it, cut at the first key).
double window_start(double q, double extent, double window, double stride, bool causal) {
  if (causal) {
    const double leader = std::min(std::floor(q / stride) * stride + stride - 1, extent - 1);
    return std::max(leader - window + 1, 0.0);
  }
  const double centre =
      stride <= 1 ? q
                  : std::min(std::floor(q / stride) * stride + std::floor(stride / 2), extent - 1);
  return std::clamp(centre - std::floor(window / 2), 0.0, extent - window);
}

// One past the last key of the window of query `q` that starts at `start`: a causal window ends
// at the query itself.
double window_end(double q, double start, double window, bool causal) {
  return causal ? q + 1 : start + window;
}

// KV tiles spanned from key `first` to one before key `end`.
double span_tiles(double first, double end, double kv_tile) {
  return std::ceil(end / kv_tile) - std::floor(first / kv_tile);
}

struct Axis {
  double extent, window, stride, q_tile, kv_tile;
  bool causal;

  double start(double q) const { return window_start(q, extent, window, stride, causal); }

  // KV tiles the Q tile `t` visits: from its first query's window start to its last query's
  // window end (both move forward with the query).
  double tile_visits(double t) const {
    const double first = t * q_tile;
    const double last = std::min(extent, first + q_tile) - 1;
    return span_tiles(start(first), window_end(last, start(last), window, causal), kv_tile);
  }
};

// Sums visits, `times` Q tiles at a time.
struct Tally {
  AxisVisits& out;
  bool any = false;
  void add(double visits, double times) {
    if (times <= 0) return;
    out.min = any ? std::min(out.min, visits) : visits;
    out.max = any ? std::max(out.max, visits) : visits;
    any = true;
    out.total += visits * times;
  }
};

// Tiles within `edge` of either end may see a window moved inside the extent; between them the
// visits repeat every `period` tiles.
void sum_by_period(const Axis& a, double edge, double period, Tally& tally) {
  const double q_tiles = tally.out.q_tiles;
  const double interior = q_tiles - 2 * edge;
  for (double t = 0; t < edge; ++t) tally.add(a.tile_visits(t), 1);
  for (double t = q_tiles - edge; t < q_tiles; ++t) tally.add(a.tile_visits(t), 1);
  const double repeats = std::floor(interior / period);
  for (double t = edge; t < edge + period; ++t) tally.add(a.tile_visits(t), repeats);
  for (double t = edge + repeats * period; t < q_tiles - edge; ++t) tally.add(a.tile_visits(t), 1);
}

// A stride of at least a Q tile: the Q tiles inside one stride group share its window, and a
// tile holds at most one group boundary. Not causal: there a window ends at its own query.
void sum_by_group(const Axis& a, Tally& tally) {
  const double q_tiles = tally.out.q_tiles;
  const double groups = ceil_div(a.extent, a.stride);
  for (double g = 0; g < groups; ++g) {
    const double begin = g * a.stride;
    const double end = std::min(a.extent, begin + a.stride);  // one past the group's last query
    const double start = a.start(begin);
    const double first_tile = std::ceil(begin / a.q_tile);
    const double last_tile = end == a.extent ? q_tiles - 1 : std::floor(end / a.q_tile) - 1;
    tally.add(span_tiles(start, start + a.window, a.kv_tile), last_tile - first_tile + 1);
    if (end < a.extent && std::fmod(end, a.q_tile) != 0) {
      tally.add(a.tile_visits(std::floor(end / a.q_tile)), 1);
    }
  }
}

}  // namespace

AxisVisits axis_visits(double extent, double window, double stride, double q_tile, double kv_tile,
                       bool causal, double walk_limit) {
  window = std::clamp(window, 1.0, extent);
  stride = std::clamp(stride, 1.0, window);
  const Axis a{extent, window, stride, q_tile, kv_tile, causal};
  AxisVisits out;
  out.q_tiles = ceil_div(extent, q_tile);
  Tally tally{out};
  const double edge = ceil_div(window + 2 * stride + kv_tile, q_tile) + 1;
  const auto whole = [](double x) { return static_cast<long long>(x); };
  const double period =
      static_cast<double>(std::lcm(std::lcm(whole(q_tile), whole(stride)), whole(kv_tile))) /
      q_tile;
  // Work of each way, in tiles or groups visited; infinite where it does not apply.
  constexpr double kNone = HUGE_VAL;
  const double by_period = out.q_tiles - 2 * edge >= 2 * period ? 2 * edge + 2 * period : kNone;
  const double by_group =
      !causal && stride > 1 && stride >= q_tile ? ceil_div(extent, stride) : kNone;
  if (out.q_tiles <= walk_limit || std::min(by_period, by_group) >= out.q_tiles) {
    for (double t = 0; t < out.q_tiles; ++t) tally.add(a.tile_visits(t), 1);
  } else if (by_period <= by_group) {
    sum_by_period(a, edge, period, tally);
  } else {
    sum_by_group(a, tally);
  }
  return out;
}

double past_end_visits(double extent, double window, double stride, double q_tile, double kv_tile,
                       bool causal) {
  window = std::clamp(window, 1.0, extent);
  stride = std::clamp(stride, 1.0, window);
  const Axis a{extent, window, stride, q_tile, kv_tile, causal};
  return a.tile_visits(ceil_div(extent, q_tile));
}

double past_end_reverse_visits(double extent, double window, double stride, double q_tile,
                               bool causal) {
  if (causal) return 0;  // no query sees a key past itself
  window = std::clamp(window, 1.0, extent);
  stride = std::clamp(stride, 1.0, window);
  // The last key is in query q's window when the window is moved to the end, start L - w: when
  // its centre (its stride group's middle, at most the last token) reaches L - w + w / 2.
  // (A window as wide as the extent starts at 0 = L - w for every query.)
  const double reach = window >= extent ? 0 : extent - window + std::floor(window / 2);
  double first = reach;  // stride 1: the centre is the query
  if (stride > 1) {
    const double group = std::max(0.0, std::ceil((reach - std::floor(stride / 2)) / stride));
    first = std::min(group * stride, std::floor((extent - 1) / stride) * stride);
  }
  return ceil_div(extent, q_tile) - std::floor(std::max(0.0, first) / q_tile);
}

std::array<double, 3> tile_box(double tokens, int dims, const std::array<double, 3>& extent) {
  tokens = std::max(1.0, std::floor(tokens));
  dims = std::clamp(dims, 1, 3);
  std::array<double, 3> side{1, 1, 1};
  std::vector<int> open;
  for (int i = 0; i < dims; ++i) open.push_back(i);
  // Dimensions narrower than an even share are covered whole; the rest share what is left.
  double rest = tokens;
  for (bool capped = true; capped && !open.empty();) {
    capped = false;
    const double share = std::pow(rest, 1.0 / static_cast<double>(open.size()));
    for (auto it = open.begin(); it != open.end();) {
      if (extent[*it] <= share) {
        side[*it] = std::max(1.0, extent[*it]);
        rest /= side[*it];
        it = open.erase(it);
        capped = true;
      } else {
        ++it;
      }
    }
  }
  if (open.empty()) return side;
  const double share = std::pow(rest, 1.0 / static_cast<double>(open.size()));
  double inner = 1;
  for (std::size_t k = 1; k < open.size(); ++k) {
    side[open[k]] = prev_pow2(share);
    inner *= side[open[k]];
  }
  side[open[0]] = std::clamp(std::floor(rest / inner), 1.0, extent[open[0]]);
  return side;
}

namespace {

// The side of a dimension's dilation sub-grids: NATTEN folds the dilation groups into the batch
// and pads each to the longest, ceil(extent / dilation), in whole tiles (token_permute's
// _maybe_pad), which also shapes the boxes.
std::array<double, 3> sub_grid_extent(const models::TokenGrid& grid) {
  std::array<double, 3> side = grid.extent;
  for (int i = 0; i < grid.dims; ++i) {
    side[i] = ceil_div(grid.extent[i], std::max(1.0, grid.dilation[i]));
  }
  return side;
}

// `f(length, count)` for the dilation sub-grids of dimension `i`: extent mod dilation of them one
// position longer than the others.
template <class F>
void for_sub_grids(const models::TokenGrid& grid, int i, F f) {
  const double d = std::max(1.0, grid.dilation[i]);
  const double side = std::floor(grid.extent[i] / d);
  const double longer = grid.extent[i] - side * d;
  if (d - longer > 0 && side > 0) f(side, d - longer);
  if (longer > 0) f(side + 1, longer);
}

}  // namespace

JobStats grid_block_jobs(const Geometry& g, double tile_m, double tile_n, GridPass pass) {
  const models::TokenGrid& grid = g.grid;
  // Rows of query heads packed into one row block share their positions; a position whose heads
  // fill more than a row block takes several.
  const double per_position = g.heads == g.kv_heads ? std::max(1.0, g.group) : 1;
  const double positions = tile_m / per_position;
  const double blocks_per_box = positions < 1 ? ceil_div(per_position, tile_m) : 1;
  const std::array<double, 3> side = sub_grid_extent(grid);
  const std::array<double, 3> q_box = tile_box(std::max(1.0, positions), grid.dims, side);
  const std::array<double, 3> kv_box = tile_box(tile_n, grid.dims, side);
  double boxes = 1, lo = 1, hi = 1, total = 1;
  for (int i = 0; i < grid.dims; ++i) {
    // A dimension's visits summed over its dilation sub-grids (each a grid of its own).
    AxisVisits sum;
    bool any = false;
    for_sub_grids(grid, i, [&](double length, double count) {
      AxisVisits a =
          axis_visits(length, grid.window[i], grid.stride[i], q_box[i], kv_box[i], grid.causal[i]);
      // A shorter sub-grid is padded to the longest one's whole tiles. Forward: a Q tile past its
      // end visits what its last query's window spans. Backward (KV-outer): a KV tile past its
      // end is visited by the Q tiles whose windows hold its last key (none where causal), and
      // no padded Q tile is.
      const double padded = ceil_div(side[i], q_box[i]) - a.q_tiles;
      const double padded_kv = ceil_div(side[i], kv_box[i]) - ceil_div(length, kv_box[i]);
      if (pass == GridPass::backward && padded_kv > 0) {
        a.total += padded_kv * past_end_reverse_visits(length, grid.window[i], grid.stride[i],
                                                       q_box[i], grid.causal[i]);
      } else if (pass == GridPass::forward && padded > 0) {
        const double v = past_end_visits(length, grid.window[i], grid.stride[i], q_box[i],
                                         kv_box[i], grid.causal[i]);
        a.q_tiles += padded;
        a.total += padded * v;
        a.min = std::min(a.min, v);
        a.max = std::max(a.max, v);
      }
      sum.min = any ? std::min(sum.min, a.min) : a.min;
      sum.max = any ? std::max(sum.max, a.max) : a.max;
      any = true;
      sum.q_tiles += count * a.q_tiles;
      sum.total += count * a.total;
    });
    boxes *= sum.q_tiles;
    lo *= sum.min;
    hi *= sum.max;
    total *= sum.total;
  }
  const double heads = g.batch * g.heads * blocks_per_box;
  return {boxes * heads, lo, hi, total * heads};
}

double grid_kv_tiles(const Geometry& g, double tile_n) {
  const std::array<double, 3> side = sub_grid_extent(g.grid);
  const std::array<double, 3> kv_box = tile_box(tile_n, g.grid.dims, side);
  double tiles = 1;
  for (int i = 0; i < g.grid.dims; ++i) {
    // Every sub-grid padded to the longest one's whole tiles.
    tiles *= std::max(1.0, g.grid.dilation[i]) * ceil_div(side[i], kv_box[i]);
  }
  return tiles;
}

}  // namespace sim
