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
  // The first and last KV tile the Q tile `t` visits; neither decreases as t grows.
  double first_kv(double t) const { return std::floor(start(t * q_tile) / kv_tile); }
  double last_kv(double t) const {
    const double last = std::min(extent, (t + 1) * q_tile) - 1;
    return std::ceil(window_end(last, start(last), window, causal) / kv_tile) - 1;
  }
  // Q tiles among `q_tiles` that visit KV tile `k`: those whose first tile is at most k, less
  // those whose last is before it (both counted by bisection).
  double reach(double q_tiles, double k) const {
    const auto at_most = [q_tiles](auto f, double bound) {
      double lo = 0, hi = q_tiles;
      while (lo < hi) {
        const double mid = std::floor((lo + hi) / 2);
        if (f(mid) <= bound) {
          lo = mid + 1;
        } else {
          hi = mid;
        }
      }
      return lo;
    };
    return at_most([this](double t) { return first_kv(t); }, k) -
           at_most([this](double t) { return last_kv(t); }, k - 1);
  }
};

Axis make_axis(double extent, double window, double stride, double q_tile, double kv_tile,
               bool causal) {
  window = std::clamp(window, 1.0, extent);
  return {extent, window, std::clamp(stride, 1.0, window), q_tile, kv_tile, causal};
}

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
  const Axis a = make_axis(extent, window, stride, q_tile, kv_tile, causal);
  window = a.window;
  stride = a.stride;
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
  return make_axis(extent, window, stride, q_tile, kv_tile, causal)
      .tile_visits(ceil_div(extent, q_tile));
}

double kv_tile_reach(double extent, double window, double stride, double q_tile, double kv_tile,
                     bool causal, double k) {
  return make_axis(extent, window, stride, q_tile, kv_tile, causal)
      .reach(ceil_div(extent, q_tile), k);
}

AxisReach axis_reach(double extent, double window, double stride, double q_tile, double kv_tile,
                     bool causal, double walk_limit) {
  const Axis a = make_axis(extent, window, stride, q_tile, kv_tile, causal);
  const double q_tiles = ceil_div(extent, q_tile);
  AxisReach out;
  out.kv_tiles = ceil_div(extent, kv_tile);
  bool any = false;
  const auto add = [&](double reach) {
    out.min = any ? std::min(out.min, reach) : reach;
    out.max = any ? std::max(out.max, reach) : reach;
    any = true;
  };
  // Past the tiles within `edge` of either end, whose Q tiles may see windows moved inside the
  // extent, a KV tile's reach repeats every `period` tiles (a whole number of Q tiles, strides
  // and KV tiles): those tiles and one period hold every value.
  const double edge = ceil_div(2 * a.window + 3 * a.stride + 2 * q_tile, kv_tile) + 1;
  const auto whole = [](double x) { return static_cast<long long>(x); };
  const double period =
      static_cast<double>(std::lcm(std::lcm(whole(q_tile), whole(a.stride)), whole(kv_tile))) /
      kv_tile;
  if (out.kv_tiles + q_tiles <= 2 * walk_limit || 2 * edge + period >= out.kv_tiles) {
    // Walk: the Q tiles that start by KV tile k and those that end before it, both in order.
    double started = 0, ended = 0;
    for (double k = 0; k < out.kv_tiles; ++k) {
      while (started < q_tiles && a.first_kv(started) <= k) ++started;
      while (ended < q_tiles && a.last_kv(ended) < k) ++ended;
      add(started - ended);
    }
    return out;
  }
  for (double k = 0; k < edge + period; ++k) add(a.reach(q_tiles, k));
  for (double k = out.kv_tiles - edge; k < out.kv_tiles; ++k) add(a.reach(q_tiles, k));
  return out;
}

double past_end_reverse_visits(double extent, double window, double stride, double q_tile,
                               bool causal) {
  if (causal) return 0;  // no query sees a key past itself
  const Axis a = make_axis(extent, window, stride, q_tile, 1, causal);
  window = a.window;
  stride = a.stride;
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

// What both passes count on the grid, over one head: the Q boxes (row blocks) and their visits
// (the forward's fewest and most), the KV boxes and their reach (the backward's), and the pairs.
struct GridCount {
  double q_boxes = 1, lo = 1, hi = 1, kv_boxes = 1, reach_lo = 1, reach_hi = 1, pairs = 1;
  double blocks_per_box = 1;  // row blocks a box's positions take (packed heads past a block)
};

// The backward (KV-outer) differs only where a dilation pads a shorter sub-grid: a KV tile past
// its end is visited by the Q tiles whose windows hold its last key (none where causal), and no
// padded Q tile is; the forward's padded Q tile visits what its last query's window spans.
GridCount count_grid(const Geometry& g, double tile_m, double tile_n, bool backward) {
  const models::TokenGrid& grid = g.grid;
  // Rows of query heads packed into one row block share their positions; a position whose heads
  // fill more than a row block takes several.
  const double per_position = g.heads == g.kv_heads ? std::max(1.0, g.group) : 1;
  const double positions = tile_m / per_position;
  GridCount out;
  out.blocks_per_box = positions < 1 ? ceil_div(per_position, tile_m) : 1;
  const std::array<double, 3> side = sub_grid_extent(grid);
  const std::array<double, 3> q_box =
      g.q_box[0] > 0 ? g.q_box : tile_box(std::max(1.0, positions), grid.dims, side);
  const std::array<double, 3> kv_box =
      g.kv_box[0] > 0 ? g.kv_box : tile_box(tile_n, grid.dims, side);
  for (int i = 0; i < grid.dims; ++i) {
    // A dimension's counts summed over its dilation sub-grids (each a grid of its own), its
    // fewest and most over all of them.
    double q_tiles = 0, kv_tiles = 0, total = 0;
    std::array<double, 2> visits{HUGE_VAL, 0}, reach{HUGE_VAL, 0};
    const auto extremes = [](std::array<double, 2>& range, double lo, double hi) {
      range = {std::min(range[0], lo), std::max(range[1], hi)};
    };
    for_sub_grids(grid, i, [&](double length, double count) {
      const double w = grid.window[i], st = grid.stride[i];
      const bool causal = grid.causal[i];
      AxisVisits a = axis_visits(length, w, st, q_box[i], kv_box[i], causal);
      const double padded = ceil_div(side[i], q_box[i]) - a.q_tiles;
      const double padded_kv = ceil_div(side[i], kv_box[i]) - ceil_div(length, kv_box[i]);
      if (!backward && padded > 0) {
        const double v = past_end_visits(length, w, st, q_box[i], kv_box[i], causal);
        a.q_tiles += padded;
        a.total += padded * v;
        a.min = std::min(a.min, v);
        a.max = std::max(a.max, v);
      }
      extremes(visits, a.min, a.max);
      q_tiles += count * a.q_tiles;
      total += count * a.total;
      kv_tiles += count * ceil_div(side[i], kv_box[i]);
      if (!backward) return;
      const AxisReach r = axis_reach(length, w, st, q_box[i], kv_box[i], causal);
      extremes(reach, r.min, r.max);
      if (padded_kv > 0) {
        const double v = past_end_reverse_visits(length, w, st, q_box[i], causal);
        total += count * padded_kv * v;
        extremes(reach, v, v);
      }
    });
    out.q_boxes *= q_tiles;
    out.lo *= visits[0];
    out.hi *= visits[1];
    out.kv_boxes *= kv_tiles;
    out.reach_lo *= backward ? reach[0] : 0;
    out.reach_hi *= backward ? reach[1] : 0;
    out.pairs *= total;
  }
  return out;
}

}  // namespace

bool axis_block_sparse(double extent, double window, double stride, double q_tile, double kv_tile) {
  const Axis a = make_axis(extent, window, stride, q_tile, kv_tile, false);
  if (a.window >= extent) return true;
  const auto divides = [](double x, double unit) { return std::fmod(x, unit) == 0; };
  if (!divides(a.stride, q_tile) || !divides(a.window, kv_tile)) return false;
  // A last, partial stride group's window (centred on its middle, at most the last position, and
  // moved inside) must start on a KV tile boundary.
  const double groups = ceil_div(extent, a.stride);
  if (!divides(extent, a.stride) &&
      !divides(a.start(std::floor(extent / a.stride) * a.stride), kv_tile)) {
    return false;
  }
  // The others start window / 2 - stride / 2 (floors) before their group, or with two groups
  // whose windows both touch an end, at the ends.
  return divides(std::floor(a.window / 2) - std::floor(a.stride / 2), kv_tile) ||
         (divides(extent, kv_tile) && groups == 2 &&
          a.stride + std::floor(a.stride / 2) >= extent - a.window);
}

bool grid_block_sparse(const models::TokenGrid& grid, const std::array<double, 3>& q_box,
                       const std::array<double, 3>& kv_box) {
  for (int i = 0; i < grid.dims; ++i) {
    if (grid.causal[i]) return false;  // a causal window ends at its own query
    bool sparse = true;
    for_sub_grids(grid, i, [&](double length, double) {
      sparse =
          sparse && axis_block_sparse(length, grid.window[i], grid.stride[i], q_box[i], kv_box[i]);
    });
    if (!sparse) return false;
  }
  return true;
}

JobStats grid_block_jobs(const Geometry& g, double tile_m, double tile_n) {
  const GridCount c = count_grid(g, tile_m, tile_n, false);
  const double heads = g.batch * g.heads * c.blocks_per_box;
  return {c.q_boxes * heads, c.lo, c.hi, c.pairs * heads};
}

GridColumns grid_column_jobs(const Geometry& g, double tile_m, double tile_n) {
  const GridCount c = count_grid(g, tile_m, tile_n, true);
  const double heads = g.batch * g.heads;
  // A KV box is reached by each of a reaching Q box's row blocks.
  GridColumns out;
  out.jobs = {c.kv_boxes * heads, c.reach_lo * c.blocks_per_box, c.reach_hi * c.blocks_per_box,
              c.pairs * heads * c.blocks_per_box};
  out.row_blocks = c.q_boxes * heads * c.blocks_per_box;
  return out;
}

}  // namespace sim
