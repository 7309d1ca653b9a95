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
// last group's centre at most the last token), moved inside the extent; `causal`: the window ends
// at the group's last query (at most the last token), cut at the first token, and no query sees a
// key after itself (NATTEN's causal mask). Queries are tiled `q_tile` and keys `kv_tile` at a
// time, and a Q tile visits every KV tile from its first query's window start to its last query's
// window end. Exact. Up to `walk_limit` Q tiles are walked one by one; past it, the cheaper of two
// shortcuts: the interior tiles summed by their period, or (a stride of at least a Q tile, not
// causal) the stride groups walked instead, each group's inner tiles counted at once. The tests
// set a low limit to compare them with the walk.
AxisVisits axis_visits(double extent, double window, double stride, double q_tile, double kv_tile,
                       bool causal = false, double walk_limit = 4096);

// KV tiles a Q tile past the end of such a dimension visits (a padded one: NATTEN pads a dilation
// sub-grid to the longest one's whole tiles): its queries' windows are the last query's.
double past_end_visits(double extent, double window, double stride, double q_tile, double kv_tile,
                       bool causal);

// Q tiles that visit a KV tile past the end of such a dimension in a KV-outer backward (NATTEN's
// inverse trip count, its keys clamped to the last): those whose queries' windows hold the last
// key; none where causal.
double past_end_reverse_visits(double extent, double window, double stride, double q_tile,
                               bool causal);

// The box a tile of `tokens` tokens covers on a `dims`-dimensional grid of `extent`: a dimension
// narrower than its share is covered whole, the other inner sides are the largest power of two at
// most their share, and the first free dimension takes what is left (rounded down, so a box never
// holds more than its tile). Every side is at least 1 and at most its extent.
std::array<double, 3> tile_box(double tokens, int dims, const std::array<double, 3>& extent);

// row_block_jobs on g.grid: a row block is a box of tile_m rows (tile_m / G positions where G
// query heads share a row block; a position's heads over several row blocks where G > tile_m), a
// KV tile a box of tile_n keys; the KV tiles a row block visits are the product of its
// dimensions' visits. A dilated dimension is its dilation sub-grids side by side (NATTEN folds
// them into the batch), each padded to the longest one's whole tiles, the boxes shaped on it.
// Which pass walks the grid: the forward's Q-outer visits, or the (row block, KV tile) pairs of a
// KV-outer backward, which differ only where a dilation pads a shorter sub-grid.
enum class GridPass { forward, backward };

JobStats grid_block_jobs(const Geometry& g, double tile_m, double tile_n,
                         GridPass pass = GridPass::forward);

// The KV boxes of tile_n keys that cover g.grid (each dilation sub-grid apart, padded to the
// longest one's whole tiles): a key-outer backward's CTAs per head.
double grid_kv_tiles(const Geometry& g, double tile_n);

}  // namespace sim
