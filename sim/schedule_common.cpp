#include "sim/schedule_common.hpp"

#include <algorithm>
#include <cmath>
#include <optional>

#include "sim/grid_blocks.hpp"
#include "sim/row_blocks.hpp"

namespace sim {

Geometry geometry(const models::AttentionShape& a, const models::Workload& w, bool pack_gqa) {
  Geometry g;
  g.batch = static_cast<double>(a.batch);
  g.kv_heads = static_cast<double>(a.heads_kv);
  g.group = static_cast<double>(a.heads_q / a.heads_kv);
  g.heads = pack_gqa ? g.kv_heads : static_cast<double>(a.heads_q);
  g.rows = static_cast<double>(a.q_len) * (pack_gqa ? g.group : 1);
  g.keys = static_cast<double>(a.kv_len);
  g.d = static_cast<double>(a.head_dim);
  g.dv = static_cast<double>(a.v_head_dim);
  g.s = models::bytes_per_element(w.dtype);
  g.s_kv = models::bytes_per_element(w.kv_dtype);
  g.causal = a.causal;
  g.row_offset = static_cast<double>(a.kv_len - a.q_len);
  g.window = static_cast<double>(a.window);
  g.sinks = static_cast<double>(a.sinks);
  g.score = a.score;
  g.softcap = a.softcap;
  g.kv_width = a.values_in_keys ? g.d : g.d + g.dv;
  g.key_range = a.causal ? g.keys : std::max(g.keys, a.key_range);
  if (!a.causal) g.grid = a.grid;
  return g;
}

double row_block_tiles(const Geometry& g, double tile_m, double tile_n, double m) {
  const double n_blocks = ceil_div(g.keys, tile_n);
  if (!g.causal) return n_blocks;
  // Rows of a packed head are (position, head) pairs: a block's last position is its last row
  // divided by the group size.
  const double per_position = g.rows / std::max(1.0, g.keys - g.row_offset);
  const double last_row = std::min((m + 1) * tile_m, g.rows) - 1;
  const double last_key = std::floor(last_row / per_position) + g.row_offset;
  const double end_tile = std::min(n_blocks, ceil_div(last_key + 1, tile_n));
  if (g.window <= 0) return end_tile;
  // A window starts at the block's first query position minus window - 1; sink tiles are
  // visited too when the window has moved past them.
  const double first_key = std::floor(m * tile_m / per_position) + g.row_offset - g.window + 1;
  const double first_tile = std::floor(std::max(0.0, first_key) / tile_n);
  const double sink_tiles = g.sinks > 0 ? std::min(ceil_div(g.sinks, tile_n), first_tile) : 0;
  return end_tile - first_tile + sink_tiles;
}

JobStats row_block_jobs(const Geometry& g, double tile_m, double tile_n) {
  const double m_blocks = ceil_div(g.rows, tile_m);
  if (!g.causal && g.grid.dims > 0) return grid_block_jobs(g, tile_m, tile_n);
  if (!g.causal) return uniform_blocks(m_blocks, g.batch * g.heads, ceil_div(g.keys, tile_n));
  // Past a few thousand blocks (a long packed prefill), the closed form: the same numbers.
  if (m_blocks > kRowBlocksInClosedForm) {
    if (std::optional<JobStats> jobs = causal_row_block_jobs(g, tile_m, tile_n)) return *jobs;
  }
  return summarize_blocks(m_blocks, g.batch * g.heads,
                          [&](double m) { return row_block_tiles(g, tile_m, tile_n, m); });
}

double l2_miss_fraction(double working_set_bytes, const hw::Profile& p) {
  const double l2 = p.memory.l2_bytes * p.calibration.l2_reuse_fraction;
  return working_set_bytes <= l2 ? 0 : 1 - l2 / working_set_bytes;
}

double shared_read_bytes(double compulsory, double visited, double working_set_bytes,
                         const hw::Profile& p) {
  return compulsory + std::max(0.0, visited - compulsory) * l2_miss_fraction(working_set_bytes, p);
}

double streamed_read_bytes(double compulsory, double visited, double co_resident,
                           double window_bytes, double pass_bytes, const hw::Profile& p) {
  if (compulsory <= 0) return std::max(0.0, visited) * l2_miss_fraction(window_bytes, p);
  const double readers = std::max(1.0, visited / compulsory);
  const double passes = std::max(1.0, readers / std::max(1.0, co_resident));
  const double pass_loads = std::min(visited, passes * compulsory);
  return compulsory + std::max(0.0, pass_loads - compulsory) * l2_miss_fraction(pass_bytes, p) +
         std::max(0.0, visited - pass_loads) * l2_miss_fraction(window_bytes, p);
}

}  // namespace sim
