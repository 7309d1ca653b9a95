#include "sim/grid_blocks.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace sim {

namespace {

// First key of the window of query `q` (NATTEN's non-causal window: `left` = window / 2 keys
// before the centre, moved inside the extent).
double window_start(double q, double extent, double window, double stride) {
  const double centre =
      stride <= 1 ? q
                  : std::min(std::floor(q / stride) * stride + std::floor(stride / 2), extent - 1);
  return std::clamp(centre - std::floor(window / 2), 0.0, extent - window);
}

// KV tiles a Q tile spans whose first query's window starts at `first_start` and whose last
// query's window starts at `last_start`.
double span_tiles(double first_start, double last_start, double window, double kv_tile) {
  return std::ceil((last_start + window) / kv_tile) - std::floor(first_start / kv_tile);
}

struct Axis {
  double extent, window, stride, q_tile, kv_tile;

  // KV tiles the Q tile `t` visits.
  double tile_visits(double t) const {
    const double first = t * q_tile;
    const double last = std::min(extent, first + q_tile) - 1;
    return span_tiles(window_start(first, extent, window, stride),
                      window_start(last, extent, window, stride), window, kv_tile);
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
// tile holds at most one group boundary.
void sum_by_group(const Axis& a, Tally& tally) {
  const double q_tiles = tally.out.q_tiles;
  const double groups = ceil_div(a.extent, a.stride);
  for (double g = 0; g < groups; ++g) {
    const double begin = g * a.stride;
    const double end = std::min(a.extent, begin + a.stride);  // one past the group's last query
    const double start = window_start(begin, a.extent, a.window, a.stride);
    const double first_tile = std::ceil(begin / a.q_tile);
    const double last_tile = end == a.extent ? q_tiles - 1 : std::floor(end / a.q_tile) - 1;
    tally.add(span_tiles(start, start, a.window, a.kv_tile), last_tile - first_tile + 1);
    if (end < a.extent && std::fmod(end, a.q_tile) != 0) {
      tally.add(a.tile_visits(std::floor(end / a.q_tile)), 1);
    }
  }
}

}  // namespace

AxisVisits axis_visits(double extent, double window, double stride, double q_tile, double kv_tile,
                       double walk_limit) {
  window = std::clamp(window, 1.0, extent);
  stride = std::clamp(stride, 1.0, window);
  const Axis a{extent, window, stride, q_tile, kv_tile};
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
  const double by_group = stride > 1 && stride >= q_tile ? ceil_div(extent, stride) : kNone;
  if (out.q_tiles <= walk_limit || std::min(by_period, by_group) >= out.q_tiles) {
    for (double t = 0; t < out.q_tiles; ++t) tally.add(a.tile_visits(t), 1);
  } else if (by_period <= by_group) {
    sum_by_period(a, edge, period, tally);
  } else {
    sum_by_group(a, tally);
  }
  return out;
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
    side[open[k]] = std::max(1.0, std::exp2(std::floor(std::log2(std::max(1.0, share)))));
    inner *= side[open[k]];
  }
  side[open[0]] = std::clamp(std::floor(rest / inner), 1.0, extent[open[0]]);
  return side;
}

JobStats grid_block_jobs(const Geometry& g, double tile_m, double tile_n) {
  const models::TokenGrid& grid = g.grid;
  // Rows of query heads packed into one row block share their positions; a position whose heads
  // fill more than a row block takes several.
  const double per_position = g.heads == g.kv_heads ? std::max(1.0, g.group) : 1;
  const double positions = tile_m / per_position;
  const double blocks_per_box = positions < 1 ? ceil_div(per_position, tile_m) : 1;
  const std::array<double, 3> q_box = tile_box(std::max(1.0, positions), grid.dims, grid.extent);
  const std::array<double, 3> kv_box = tile_box(tile_n, grid.dims, grid.extent);
  double boxes = 1, lo = 1, hi = 1, total = 1;
  for (int i = 0; i < grid.dims; ++i) {
    const AxisVisits a =
        axis_visits(grid.extent[i], grid.window[i], grid.stride[i], q_box[i], kv_box[i]);
    boxes *= a.q_tiles;
    lo *= a.min;
    hi *= a.max;
    total *= a.total;
  }
  const double heads = g.batch * g.heads * blocks_per_box;
  return {boxes * heads, lo, hi, total * heads};
}

double grid_kv_tiles(const Geometry& g, double tile_n) {
  const std::array<double, 3> kv_box = tile_box(tile_n, g.grid.dims, g.grid.extent);
  double tiles = 1;
  for (int i = 0; i < g.grid.dims; ++i) tiles *= ceil_div(g.grid.extent[i], kv_box[i]);
  return tiles;
}

}  // namespace sim
