#include "sim/column_blocks.hpp"

#include <algorithm>
#include <cmath>

#include "sim/grid_blocks.hpp"
#include "sim/row_blocks.hpp"

namespace sim {

std::pair<double, double> column_row_blocks(const Geometry& g, double tile_m, double tile_n,
                                            double n) {
  const double m_blocks = ceil_div(g.rows, tile_m);
  if (!g.causal) return {0, m_blocks};
  const double first_row = std::max(0.0, n * tile_n - g.row_offset);
  const double first_block = std::floor(first_row / tile_m);
  // A window ends the rows that see this tile window - 1 keys after its last key (none, where
  // that row is before the call's first query); every later row still sees a tile that holds a
  // sink (one of the first g.sinks keys).
  const bool holds_sink = n * tile_n < g.sinks;
  const double last_row = (n + 1) * tile_n - 2 + g.window - g.row_offset;
  const double last_block = g.window <= 0 || holds_sink ? m_blocks
                            : last_row < 0              ? 0
                                           : std::min(m_blocks, std::floor(last_row / tile_m) + 1);
  return {first_block, std::max(first_block, last_block)};
}

namespace {

// `columns` CTAs a head over its `row_blocks` row blocks, `pairs` (row block, CTA) pairs in all,
// the fewest and most a CTA visits `lo` and `hi`.
ColumnBlocks spread_columns(const Geometry& g, double tile_m, double columns, double row_blocks,
                            double pairs, double lo, double hi) {
  const double heads = g.batch * g.heads;
  ColumnBlocks out;
  out.jobs = {columns * heads, lo, hi, pairs * heads};
  out.visited_rows = pairs * g.rows / row_blocks;
  out.longest_rows = hi * std::min(tile_m, g.rows);
  out.busy_per_head = std::min(columns, pairs);
  return out;
}

}  // namespace

ColumnBlocks column_blocks_by_tile(const Geometry& g, double tile_m, double tile_n) {
  const double n_blocks = ceil_div(g.keys, tile_n);
  const double heads = g.batch * g.heads;
  if (g.grid.dims > 0) {
    // On a token grid each KV box's CTA loops over the row blocks whose windows reach it
    // (sim/grid_blocks.hpp), also where a window spans the whole grid (a causal one still skips
    // tiles).
    const GridColumns grid = grid_column_jobs(g, tile_m, tile_n);
    return spread_columns(g, tile_m, grid.jobs.count / heads, grid.row_blocks / heads,
                          grid.jobs.total_tiles / heads, grid.jobs.min_tiles, grid.jobs.max_tiles);
  }
  if (!g.causal && g.key_range > g.keys) {
    // Each row draws its keys from a wider range (chosen spans): a CTA per KV tile of the range,
    // the (row block, tile) pairs of the forward shared evenly among them, as a perfectly
    // block-sparse grid has them (the forward's count: every row block visits ceil(keys / n)
    // tiles).
    const double columns = ceil_div(g.key_range, tile_n);
    const double row_blocks = ceil_div(g.rows, tile_m);
    const double pairs = row_blocks * n_blocks;
    return spread_columns(g, tile_m, columns, row_blocks, pairs, std::floor(pairs / columns),
                          ceil_div(pairs, columns));
  }
  if (!g.causal) {
    return {uniform_blocks(n_blocks, heads, ceil_div(g.rows, tile_m)), n_blocks * g.rows, g.rows,
            n_blocks};
  }
  ColumnBlocks out;
  double most_blocks = 0;
  out.jobs = summarize_blocks(n_blocks, heads, [&](double n) {
    const auto [first, last] = column_row_blocks(g, tile_m, tile_n, n);
    if (last > first) {
      const double rows = std::min(g.rows, last * tile_m) - first * tile_m;
      out.busy_per_head += 1;
      out.visited_rows += rows;
      if (last - first > most_blocks || (last - first == most_blocks && rows > out.longest_rows)) {
        most_blocks = last - first;
        out.longest_rows = rows;
      }
    }
    return last - first;
  });
  return out;
}

std::optional<ColumnBlocks> causal_column_blocks(const Geometry& g, double tile_m, double tile_n) {
  for (double x : {tile_m, tile_n, g.rows, g.keys, g.row_offset}) {
    if (!whole(x)) return std::nullopt;
  }
  if (!g.causal || g.window > 0 || tile_m < 1 || tile_n < 1 || g.rows < 1 ||
      g.rows != g.keys - g.row_offset) {
    return std::nullopt;  // one row per query position, as the backward's unpacked geometry has
  }
  // Every tile's CTA runs to the last row block (the last query sees every key); tile n starts
  // at block F(n) = floor(max(0, n tn - off) / tm), 0 for the tiles the first query already
  // sees (n tn <= off), which include tile 0: the longest CTA holds every row, the shortest is
  // the last tile's, and the starts sum by a floor-sum.
  const long long tm = static_cast<long long>(tile_m), tn = static_cast<long long>(tile_n);
  const long long off = static_cast<long long>(g.row_offset);
  const long long n_blocks = static_cast<long long>(ceil_div(g.keys, tile_n));
  const double m_blocks = ceil_div(g.rows, tile_m);
  const long long at_start = std::min(n_blocks, off / tn + 1);
  const long long rest = n_blocks - at_start;
  const long double starts = rest > 0 ? floor_sum(rest, tn, tn * at_start - off, tm) : 0;
  const double last_start = column_row_blocks(g, tile_m, tile_n, n_blocks - 1.0).first;
  const double heads = g.batch * g.heads;
  const double nb = static_cast<double>(n_blocks);
  ColumnBlocks out;
  out.jobs.count = nb * heads;
  out.jobs.max_tiles = m_blocks;
  out.jobs.min_tiles = m_blocks - last_start;
  out.jobs.total_tiles = (nb * m_blocks - static_cast<double>(starts)) * heads;
  out.visited_rows = nb * g.rows - tile_m * static_cast<double>(starts);
  out.longest_rows = g.rows;
  out.busy_per_head = nb;
  return out;
}

ColumnBlocks column_blocks(const Geometry& g, double tile_m, double tile_n) {
  if (ceil_div(g.keys, tile_n) > kColumnBlocksInClosedForm) {
    if (const auto closed = causal_column_blocks(g, tile_m, tile_n)) return *closed;
  }
  return column_blocks_by_tile(g, tile_m, tile_n);
}

}  // namespace sim
