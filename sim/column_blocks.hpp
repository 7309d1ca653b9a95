// The column CTAs of a flash backward (one per KV tile, looping over the row blocks that see it):
// which row blocks each visits, summarised over the grid, with the rows they hold. A causal grid
// without a window is summed in closed form above kColumnBlocksInClosedForm KV tiles a head (a
// 1G-token backward has 2^23 of them), block by block otherwise.
#pragma once

#include <optional>
#include <utility>

#include "sim/launch.hpp"
#include "sim/schedule_common.hpp"

namespace sim {

inline constexpr double kColumnBlocksInClosedForm = 4096;

// Row blocks [first, last) the CTA of KV tile `n` visits: causal starts at the first row that
// sees the tile, a window ends at the last.
std::pair<double, double> column_row_blocks(const Geometry& g, double tile_m, double tile_n,
                                            double n);

struct ColumnBlocks {
  JobStats jobs;
  // Rows of one head the CTAs visit, summed over them (a partial last row block counts the rows
  // it holds), and those of the CTA with the most row blocks (of several, the one with the most
  // rows).
  double visited_rows = 0;
  double longest_rows = 0;
  double busy_per_head = 0;  // KV tiles whose CTA visits a row block
};

// The grid's summary, in closed form where causal_column_blocks applies and the grid is large.
ColumnBlocks column_blocks(const Geometry& g, double tile_m, double tile_n);

// The same, tile by tile.
ColumnBlocks column_blocks_by_tile(const Geometry& g, double tile_m, double tile_n);

// The same in closed form for a causal geometry without a window; nullopt otherwise (a window, a
// non-integer size).
std::optional<ColumnBlocks> causal_column_blocks(const Geometry& g, double tile_m, double tile_n);

}  // namespace sim
