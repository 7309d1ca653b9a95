#include "sim/grid_blocks.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

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

// KV tiles the Q tile `t` visits.
double tile_visits(double t, double extent, double window, double stride, double q_tile,
                   double kv_tile) {
  const double first = t * q_tile;
  const double last = std::min(extent, first + q_tile) - 1;
  const double start = std::floor(window_start(first, extent, window, stride) / kv_tile);
  const double end = std::ceil((window_start(last, extent, window, stride) + window) / kv_tile);
  return end - start;
}

}  // namespace

AxisVisits axis_visits(double extent, double window, double stride, double q_tile, double kv_tile,
                       double loop_limit) {
  window = std::clamp(window, 1.0, extent);
  stride = std::clamp(stride, 1.0, window);
  AxisVisits out;
  out.q_tiles = ceil_div(extent, q_tile);
  auto add = [&](double t, double times) {
    const double n = tile_visits(t, extent, window, stride, q_tile, kv_tile);
    out.min = out.total == 0 ? n : std::min(out.min, n);
    out.max = std::max(out.max, n);
    out.total += n * times;
  };
  // Tiles within this many of either end may see a window moved inside the extent; between them
  // the visits repeat with the period of the tile, stride and KV tile alignments.
  const double edge = ceil_div(window + 2 * stride + kv_tile, q_tile) + 1;
  const auto whole = [](double x) { return static_cast<long long>(x); };
  const double period_keys =
      static_cast<double>(std::lcm(std::lcm(whole(q_tile), whole(stride)), whole(kv_tile)));
  const double period = period_keys / q_tile;
  const double interior = out.q_tiles - 2 * edge;
  if (out.q_tiles <= loop_limit || period > loop_limit || interior < 2 * period) {
    for (double t = 0; t < out.q_tiles; ++t) add(t, 1);
    return out;
  }
  for (double t = 0; t < edge; ++t) add(t, 1);
  for (double t = out.q_tiles - edge; t < out.q_tiles; ++t) add(t, 1);
  const double repeats = std::floor(interior / period);
  for (double t = edge; t < edge + period; ++t) add(t, repeats);
  for (double t = edge + repeats * period; t < out.q_tiles - edge; ++t) add(t, 1);
  return out;
}

std::array<double, 3> tile_box(double tokens, int dims) {
  tokens = std::max(1.0, std::floor(tokens));
  if (dims <= 1) return {tokens, 1, 1};
  const double side = std::max(1.0, std::exp2(std::floor(std::log2(std::pow(tokens, 1.0 / dims)))));
  if (dims == 2) return {ceil_div(tokens, side), side, 1};
  return {ceil_div(tokens, side * side), side, side};
}

JobStats grid_block_jobs(const Geometry& g, double tile_m, double tile_n) {
  const models::TokenGrid& grid = g.grid;
  // Rows of query heads packed into one row block share their positions.
  const double per_position = g.heads == g.kv_heads ? std::max(1.0, g.group) : 1;
  const std::array<double, 3> q_box = tile_box(tile_m / per_position, grid.dims);
  const std::array<double, 3> kv_box = tile_box(tile_n, grid.dims);
  double blocks = 1, lo = 1, hi = 1, total = 1;
  for (int i = 0; i < grid.dims; ++i) {
    const AxisVisits a =
        axis_visits(grid.extent[i], grid.window[i], grid.stride[i], q_box[i], kv_box[i]);
    blocks *= a.q_tiles;
    lo *= a.min;
    hi *= a.max;
    total *= a.total;
  }
  const double heads = g.batch * g.heads;
  return {blocks * heads, lo, hi, total * heads};
}

}  // namespace sim
