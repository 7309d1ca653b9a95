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

// One such dimension seen from its keys (a KV-outer backward, NATTEN's inverse trip count): its KV
// tiles and the fewest and most Q tiles that visit one. Exact: up to `walk_limit` tiles of each
// kind are walked; past that, the tiles near either end and one period of the interior.
struct AxisReach {
  double kv_tiles = 0;
  double min = 0, max = 0;
};
AxisReach axis_reach(double extent, double window, double stride, double q_tile, double kv_tile,
                     bool causal = false, double walk_limit = 4096);

// The Q tiles that visit KV tile `k` of such a dimension.
double kv_tile_reach(double extent, double window, double stride, double q_tile, double kv_tile,
                     bool causal, double k);

// Whether a non-causal dimension under Q tiles of `q_tile` and KV tiles of `kv_tile` positions
// needs no mask inside a visited tile, by NATTEN's rule (is_fully_block_sparse_int in
// csrc/include/natten/cuda/fna/na_utils.cuh at github.com/SHI-Labs/NATTEN 8c8729f): the window
// spans the dimension, or the stride is a whole number of Q tiles, the window of KV tiles, and the
// stride groups' windows start on KV tile boundaries.
bool axis_block_sparse(double extent, double window, double stride, double q_tile, double kv_tile);

// The same for every dimension of a grid (each dilation sub-grid); never where one is causal.
bool grid_block_sparse(const models::TokenGrid& grid, const std::array<double, 3>& q_box,
                       const std::array<double, 3>& kv_box);

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
JobStats grid_block_jobs(const Geometry& g, double tile_m, double tile_n);

// A key-outer backward on g.grid: a CTA per KV box (each dilation sub-grid apart, padded to the
// longest one's whole tiles) over the row blocks that reach it, the fewest and most of them the
// product of its dimensions' reach (NATTEN's inverse trip count). Its pairs are the forward's
// but where a dilation pads a shorter sub-grid: a padded KV box is visited by the Q boxes whose
// windows hold the last key (none where causal), and no padded Q box visits any.
struct GridColumns {
  JobStats jobs;          // a job per KV box, over every head
  double row_blocks = 0;  // the grid's row blocks (not padded), over every head
};
GridColumns grid_column_jobs(const Geometry& g, double tile_m, double tile_n);

}  // namespace sim
