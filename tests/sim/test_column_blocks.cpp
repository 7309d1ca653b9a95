// sim/column_blocks.cpp: the closed-form summary of a causal backward's column CTAs equals the
// tile-by-tile one, so a 1G-token backward prices without visiting its 2^23 KV tiles a head.
#include <catch2/catch.hpp>

#include <cstdint>
#include <random>

#include "sim/column_blocks.hpp"
#include "sim/schedule_common.hpp"

namespace {

sim::Geometry causal(double q_len, double offset) {
  sim::Geometry g{};
  g.batch = 2;
  g.heads = 3;
  g.kv_heads = 3;
  g.rows = q_len;
  g.keys = q_len + offset;
  g.d = g.dv = 128;
  g.s = g.s_kv = 2;
  g.group = 1;
  g.causal = true;
  g.row_offset = offset;
  return g;
}

void check_same(const sim::Geometry& g, double tile_m, double tile_n) {
  const auto closed = sim::causal_column_blocks(g, tile_m, tile_n);
  REQUIRE(closed);
  const sim::ColumnBlocks loop = sim::column_blocks_by_tile(g, tile_m, tile_n);
  INFO("rows " << g.rows << " offset " << g.row_offset << " tiles " << tile_m << " x " << tile_n);
  CHECK(closed->jobs.count == loop.jobs.count);
  CHECK(closed->jobs.min_tiles == loop.jobs.min_tiles);
  CHECK(closed->jobs.max_tiles == loop.jobs.max_tiles);
  CHECK(closed->jobs.total_tiles == loop.jobs.total_tiles);
  CHECK(closed->visited_rows == loop.visited_rows);
  CHECK(closed->longest_rows == loop.longest_rows);
  CHECK(closed->busy_per_head == loop.busy_per_head);
}

}  // namespace

TEST_CASE("a causal backward's column blocks in closed form equal the tile-by-tile summary",
          "[sim][column_blocks]") {
  // Hand-worked: 129 queries, no prefix, 64 x 96 tiles: tile 0 starts at block 0, tile 1 at row
  // 96 (block 1); 3 + 2 = 5 tiles, rows 129 + 65.
  const auto small = sim::causal_column_blocks(causal(129, 0), 64, 96);
  REQUIRE(small);
  CHECK(small->jobs.total_tiles == 5 * 6);
  CHECK(small->visited_rows == 129 + 65);
  CHECK(small->jobs.min_tiles == 2);
  check_same(causal(129, 0), 64, 96);
  std::mt19937_64 rng(7);
  std::uniform_int_distribution<std::int64_t> len(1, 20000), off(0, 30000), pick(0, 3);
  const double tiles_m[] = {64, 80, 128, 176}, tiles_n[] = {64, 80, 96, 128};
  for (int i = 0; i < 300; ++i) {
    const bool prefix = i % 3 == 0;
    check_same(causal(static_cast<double>(len(rng)), prefix ? static_cast<double>(off(rng)) : 0),
               tiles_m[pick(rng)], tiles_n[pick(rng)]);
  }
}

TEST_CASE("the closed form declines a window, a non-causal grid and packed rows",
          "[sim][column_blocks]") {
  sim::Geometry windowed = causal(4096, 0);
  windowed.window = 1024;
  CHECK_FALSE(sim::causal_column_blocks(windowed, 64, 128));
  sim::Geometry full = causal(4096, 0);
  full.causal = false;
  CHECK_FALSE(sim::causal_column_blocks(full, 64, 128));
  sim::Geometry packed = causal(4096, 0);
  packed.rows *= 4;
  CHECK_FALSE(sim::causal_column_blocks(packed, 64, 128));
}
