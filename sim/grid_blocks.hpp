// Neighbourhood attention on a token grid (models::TokenGrid): the (row block, KV tile) work of a
// kernel that tiles the grid in boxes, as NATTEN's fused neighbourhood kernels do
// (docs/kernels.md#13-neighbourhood-tiles).
#pragma once

#include <array>

#include "sim/launch.hpp"
#include "sim/schedule_common.hpp"

namespace sim {

// One dimension of the grid: its Q tiles and the KV tiles they visit along it.
struct AxisVisits {
  double q_tiles = 0;
  double min = 0, max = 0;  // fewest and most KV tiles one Q tile visits
  double total = 0;         // summed over the Q tiles
};

// Along a dimension of `extent` tokens each query sees `window` keys: the window of its stride
// group (`stride` consecutive queries share the window centred on the group's middle query, the
// last group's centre at most the last token), moved inside the extent. Queries are tiled `q_tile`
// and keys `kv_tile` at a time, and a Q tile visits every KV tile from its first query's window
// start to its last query's window end. Exact; past `loop_limit` Q tiles the interior tiles are
// summed by their period (the tests set a low limit to compare both).
AxisVisits axis_visits(double extent, double window, double stride, double q_tile, double kv_tile,
                       double loop_limit = 1 << 20);

// The box a tile of `tokens` tokens covers on a `dims`-dimensional grid: inner sides of the
// largest power of two at most the dims-th root, the first side the rest (rounded up).
std::array<double, 3> tile_box(double tokens, int dims);

// row_block_jobs on g.grid: a row block is a box of tile_m rows (tile_m / G positions where G
// query heads share a row block), a KV tile a box of tile_n keys; the KV tiles a row block visits
// are the product of its dimensions' visits.
JobStats grid_block_jobs(const Geometry& g, double tile_m, double tile_n);

}  // namespace sim
