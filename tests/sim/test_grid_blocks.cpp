// Neighbourhood attention on a token grid (sim/grid_blocks.hpp): the KV tiles each Q tile of a
// box-tiled grid visits, worked by hand on small grids, and what a strided GNA costs against its
// blocked bound.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <random>
#include <string>
#include <utility>

#include "common/errors.hpp"
#include "sim/column_blocks.hpp"
#include "sim/engine.hpp"
#include "sim/grid_blocks.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/natten_mask.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::builtin_profile;
using test_support::cost;
using test_support::make;
using test_support::workload;

namespace {

void check_visits(const sim::AxisVisits& a, double q_tiles, double min, double max, double total) {
  CHECK(a.q_tiles == q_tiles);
  CHECK(a.min == min);
  CHECK(a.max == max);
  CHECK(a.total == total);
}

// The forward launch of GNA over a non-causal 4096-token prefill, FA2 on an A100, with `params`
// on top of `heads` (16 query and KV heads of d 64 unless given).
sim::Launch gna_forward(const models::ParamValues& params,
                        const models::ParamValues& heads = {
                            {"heads", 16}, {"kv_heads", 16}, {"head_dim", 64}}) {
  models::ParamValues p = heads;
  p.insert(p.end(), params.begin(), params.end());
  models::Workload w = workload(models::Phase::prefill, 1, 4096, 4096, false);
  w.dtype = w.kv_dtype = models::DType::bf16;
  const hw::Profile& a100 = builtin_profile("a100");
  const sim::ScheduleInfo& fa2 = sim::find_schedule("fa2");
  const models::CostModel c = cost(make("gna", p), w);
  const models::Op& op = test_support::op_named(c, "neighbourhood_attention_fwd");
  sim::Launches out;
  fa2.forward({op, w, a100, sim::forward_calibration(a100, fa2), fa2.name}, out);
  REQUIRE(out.size() == 1);
  return out[0];
}

// A non-causal geometry over a side x side grid, each query seeing a window x window
// neighbourhood (stride 1), one query head per KV head.
sim::Geometry square_grid(double heads, double side, double window) {
  sim::Geometry g;
  g.batch = 1;
  g.heads = g.kv_heads = heads;
  g.group = 1;
  g.rows = g.key_range = side * side;
  g.keys = window * window;
  g.grid.dims = 2;
  g.grid.extent = {side, side, 1};
  g.grid.window = {window, window, 1};
  g.grid.stride = {1, 1, 1};
  return g;
}

}  // namespace

TEST_CASE(
    "a Q tile visits the KV tiles from its first query's window start to its last query's window "
    "end, windows moved inside the extent",
    "[sim][grid]") {
  // Extent 8, window 3, stride 1: window starts 0 0 1 2 3 4 5 5. Q tiles of 2 over KV tiles of 2:
  // queries 0-1 keys 0-3 (tiles 0-1), 2-3 keys 1-4 (0-2), 4-5 keys 3-6 (1-3), 6-7 keys 5-7 (2-3).
  check_visits(sim::axis_visits(8, 3, 1, 2, 2), 4, 2, 3, 10);
  // Extent 10, window 4, stride 2: pairs of queries share the window of centre 1 3 5 7 9, starts
  // 0 1 3 5 6. Q tiles of 2 over KV tiles of 4: keys 0-3 (tile 0), 1-4 (0-1), 3-6 (0-1),
  // 5-8 (1-2), 6-9 (1-2).
  check_visits(sim::axis_visits(10, 4, 2, 2, 4), 5, 1, 2, 9);
  // A window as wide as the extent: every Q tile visits every KV tile.
  check_visits(sim::axis_visits(16, 16, 1, 4, 8), 4, 2, 2, 8);
}

TEST_CASE(
    "a stride that is a multiple of the Q tile with a window a multiple of the KV tile visits "
    "exactly ceil(window / KV tile) tiles per Q tile: the blocked bound",
    "[sim][grid]") {
  // Extent 16, window = stride = 4: each group of 4 queries sees its own 4 keys.
  check_visits(sim::axis_visits(16, 4, 4, 4, 4), 4, 1, 1, 4);
  check_visits(sim::axis_visits(64, 16, 16, 8, 8), 8, 2, 2, 16);
  // Standard neighbourhood attention (stride 1) on the same tiles visits more.
  CHECK(sim::axis_visits(64, 16, 1, 8, 8).total > 16);
}

namespace {

// The visits by definition: each Q tile's span under NATTEN's mask (tests/support/natten_mask.hpp).
sim::AxisVisits brute_force(long e, long w, long s, long qt, long kv, bool causal = false) {
  sim::AxisVisits out;
  for (const auto& [first, last] : test_support::natten_tile_spans(e, w, s, qt, kv, causal)) {
    const auto n = static_cast<double>(last - first + 1);
    out.min = out.q_tiles == 0 ? n : std::min(out.min, n);
    out.max = std::max(out.max, n);
    out.total += n;
    out.q_tiles += 1;
  }
  return out;
}

}  // namespace

TEST_CASE(
    "the period and stride-group shortcuts give what the definition gives, tile by tile summed, "
    "under the centred and the causal mask",
    "[sim][grid]") {
  struct Case {
    long extent, window, stride, q_tile, kv_tile;
  };
  // Period (stride below the Q tile), stride groups (a stride of a Q tile or more, aligned or
  // not), windows as wide as the extent, Q tiles of one position (packed heads).
  const Case cases[] = {{1000, 13, 1, 16, 8},   {997, 21, 3, 16, 16},  {4099, 7, 5, 8, 16},
                        {2048, 64, 8, 64, 128}, {3001, 40, 37, 8, 16}, {5000, 64, 64, 16, 32},
                        {2500, 99, 97, 1, 176}, {513, 512, 1, 16, 16}, {6000, 13, 13, 13, 8}};
  for (const Case& c : cases) {
    INFO(c.extent << " " << c.window << " " << c.stride << " " << c.q_tile << " " << c.kv_tile);
    const sim::AxisVisits want = brute_force(c.extent, c.window, c.stride, c.q_tile, c.kv_tile);
    const auto d = [](long x) { return static_cast<double>(x); };
    for (double limit : {1e9, 2.0}) {
      check_visits(sim::axis_visits(d(c.extent), d(c.window), d(c.stride), d(c.q_tile),
                                    d(c.kv_tile), false, limit),
                   want.q_tiles, want.min, want.max, want.total);
    }
  }
  // And 1000 drawn at random (a fixed seed), each mask every way: walked, and forced by a walk
  // limit of 2 into the shortcuts (the causal mask: the period alone).
  std::mt19937 draw(20261203);
  const auto pick = [&draw](long lo, long hi) {
    return std::uniform_int_distribution<long>(lo, hi)(draw);
  };
  // The first 500 draw any shape (under a limit of 2 the centred mask mostly takes the
  // stride-group shortcut, the causal one mostly a walk: a wide window or a long period); the next
  // 500 long extents, narrow windows and power-of-two tiles, whose short period the period
  // shortcut takes under both masks.
  for (int i = 0; i < 1000; ++i) {
    const bool any = i < 500;
    const long e = any ? pick(1, 3000) : pick(2000, 5000);
    const long w = any ? pick(1, e) : pick(1, 100), s = any ? pick(1, w) : pick(1, std::min(w, 4L));
    const long qt = any ? pick(1, 64) : 8L << pick(0, 2), kv = any ? pick(1, 64) : 8L << pick(0, 3);
    for (bool causal : {false, true}) {
      INFO(e << " " << w << " " << s << " " << qt << " " << kv << " causal " << causal);
      const sim::AxisVisits want = brute_force(e, w, s, qt, kv, causal);
      for (double limit : {1e9, 2.0}) {
        const sim::AxisVisits got =
            sim::axis_visits(static_cast<double>(e), static_cast<double>(w), static_cast<double>(s),
                             static_cast<double>(qt), static_cast<double>(kv), causal, limit);
        REQUIRE(got.q_tiles == want.q_tiles);
        REQUIRE(got.total == want.total);
        REQUIRE(got.min == want.min);
        REQUIRE(got.max == want.max);
      }
    }
  }
}

TEST_CASE(
    "a box covers a dimension narrower than its share whole, gives the other inner sides powers of "
    "two and the first side the rest, never more tokens than its tile",
    "[sim][grid]") {
  using Box = std::array<double, 3>;
  const Box wide{4096, 4096, 4096};
  CHECK(sim::tile_box(128, 1, wide) == Box{128, 1, 1});
  CHECK(sim::tile_box(128, 2, wide) == Box{16, 8, 1});
  CHECK(sim::tile_box(64, 2, wide) == Box{8, 8, 1});
  CHECK(sim::tile_box(80, 2, wide) == Box{10, 8, 1});
  CHECK(sim::tile_box(128, 3, wide) == Box{8, 4, 4});
  CHECK(sim::tile_box(1, 3, wide) == Box{1, 1, 1});
  // 18 positions (128 rows of 7 packed heads): 4 x 4, not 5 x 4 = 20.
  CHECK(sim::tile_box(128.0 / 7, 2, wide) == Box{4, 4, 1});
  // A dimension of one token, either one: the 1-D box.
  CHECK(sim::tile_box(128, 2, {1, 4096, 1}) == Box{1, 128, 1});
  CHECK(sim::tile_box(128, 2, {4096, 1, 1}) == Box{128, 1, 1});
  // A 3 x 4096 x 4096 volume: the first dimension whole; the other two share 128 / 3 = 42.7,
  // the last 4 (the power of two below its square root), the second 10: 120 tokens.
  CHECK(sim::tile_box(128, 3, {3, 4096, 4096}) == Box{3, 10, 4});
  // A grid smaller than the tile: the whole grid.
  CHECK(sim::tile_box(128, 2, {4, 5, 1}) == Box{4, 5, 1});
}

TEST_CASE(
    "on a grid a row block's KV tiles are the product of its dimensions' visits; packed query "
    "heads share a row block's positions",
    "[sim][grid]") {
  // 8 x 8 grid, 3 x 3 window, stride 1: per axis (2-token sides) 4 Q tiles visiting 2-3 KV
  // tiles, 10 in all (the first case above). Two heads: 2 x 16 row blocks, 2 x 100 tiles.
  sim::Geometry g = square_grid(2, 8, 3);
  const sim::JobStats jobs = sim::grid_block_jobs(g, 4, 4);
  CHECK(jobs.count == 32);
  CHECK(jobs.min_tiles == 4);
  CHECK(jobs.max_tiles == 9);
  CHECK(jobs.total_tiles == 200);
  // Two query heads per KV head packed in a row block of 8 rows: still 4 positions a block.
  g.group = 2;
  g.rows = 128;
  const sim::JobStats packed = sim::grid_block_jobs(g, 8, 4);
  CHECK(packed.count == jobs.count);
  CHECK(packed.total_tiles == jobs.total_tiles);
  // Sixteen packed heads in row blocks of 8 rows: a position's heads take two row blocks, each a
  // one-position box visiting 2 KV tiles along each axis (window starts 0 0 1 2 3 4 5 5 over
  // 2-key tiles): 2 heads x 64 positions x 2 blocks, 4 tiles each.
  g.group = 16;
  g.rows = 64 * 16;
  const sim::JobStats split = sim::grid_block_jobs(g, 8, 4);
  CHECK(split.count == 256);
  CHECK(split.min_tiles == 4);
  CHECK(split.max_tiles == 4);
  CHECK(split.total_tiles == 1024);
}

TEST_CASE("a key-outer backward on a grid has a CTA per KV box of the grid", "[sim][grid]") {
  // 100 x 100 grid, 128-key tiles as 16 x 8 boxes: 7 x 13 = 91 boxes a head (a sequence of
  // 10000 keys would have 79 tiles).
  const sim::Geometry g = square_grid(4, 100, 13);
  CHECK(sim::grid_column_jobs(g, 128, 128).jobs.count == 4 * 91);
  const sim::ColumnBlocks cols = sim::column_blocks_by_tile(g, 128, 128);
  CHECK(cols.jobs.count == 4 * 91);
  CHECK(cols.jobs.total_tiles == sim::grid_block_jobs(g, 128, 128).total_tiles);
}

TEST_CASE(
    "gna with a stride prices the tiles its windows span: at least the blocked bound, equal to "
    "it when stride and window align with the tiles",
    "[sim][grid][gna]") {
  // 2-D 13 x 13 on a 64 x 64 map: standard neighbourhood attention visits more tiles than the
  // blocked bound and takes longer; stride 13 shares windows but still straddles tiles.
  const sim::Launch blocked = gna_forward({});
  const sim::Launch standard = gna_forward({{"stride", 1}});
  const sim::Launch strided = gna_forward({{"stride", 13}});
  CHECK(standard.jobs.total_tiles > blocked.jobs.total_tiles);
  CHECK(strided.jobs.total_tiles > blocked.jobs.total_tiles);
  CHECK(standard.jobs.max_tiles >= blocked.jobs.max_tiles);
  CHECK(standard.jobs.count == blocked.jobs.count);
  CHECK(standard.per_tile.tensor_flops == blocked.per_tile.tensor_flops);
  // 1-D, window = stride = 256 on 4096 tokens: every Q tile of FA2's (a multiple of 256's
  // divisors) sees the 256 keys of its group, 256 / N whole KV tiles: the blocked count.
  const models::ParamValues one_d = {{"window_x", 256}, {"window_y", 1}};
  models::ParamValues aligned = one_d;
  aligned.emplace_back("stride", 256);
  CHECK(gna_forward(aligned).jobs.total_tiles == gna_forward(one_d).jobs.total_tiles);
  CHECK(gna_forward(aligned).jobs.max_tiles == gna_forward(one_d).jobs.max_tiles);
}

TEST_CASE(
    "on a grid a window as wide as the grid visits every tile, as dense attention does, whatever "
    "the packing of query heads",
    "[sim][grid]") {
  // 64 x 64 tokens, a 64 x 64 window: each row block visits all 32 of the 128-key tiles. (gna
  // itself prices such a window as plain attention, as NATTEN runs it: this is the grid walk.)
  const auto jobs = [](double group, bool on_grid) {
    sim::Geometry g = square_grid(1, 64, 64);
    g.group = group;
    g.rows = 4096 * group;
    if (!on_grid) g.grid = {};
    g.keys = 4096;
    return sim::row_block_jobs(g, 128, 128);
  };
  // 256 packed heads: a position's heads fill two 128-row blocks.
  CHECK(jobs(256, true).count == jobs(256, false).count);
  CHECK(jobs(256, true).total_tiles == jobs(256, false).total_tiles);
  CHECK(jobs(256, true).max_tiles == 32);
  // 7 heads a KV head: 18 positions a block do not make a box; 16 do, so no fewer tiles.
  CHECK(jobs(7, true).total_tiles >= jobs(7, false).total_tiles);
  CHECK(jobs(7, true).count >= jobs(7, false).count);
  CHECK(jobs(1, true).total_tiles == jobs(1, false).total_tiles);
}

TEST_CASE("a grid dimension of one token prices as the sequence it leaves", "[sim][grid][gna]") {
  const sim::Launch line = gna_forward({{"stride", 1}, {"window_x", 13}, {"window_y", 1}});
  const sim::Launch row =
      gna_forward({{"stride", 1}, {"window_x", 1}, {"window_y", 13}, {"extent_y", 4096}});
  const sim::Launch column =
      gna_forward({{"stride", 1}, {"window_x", 13}, {"window_y", 1}, {"extent_y", 1}});
  CHECK(row.jobs.total_tiles == line.jobs.total_tiles);
  CHECK(column.jobs.total_tiles == line.jobs.total_tiles);
  CHECK(row.jobs.count == line.jobs.count);
  CHECK(row.jobs.max_tiles == line.jobs.max_tiles);
}

TEST_CASE(
    "gna with a stride needs a grid: a square or cube length or extents that divide it, windows "
    "no wider than their dimension, and self-attention over the whole grid",
    "[gna][bad-input]") {
  const auto w = [](std::int64_t q, std::int64_t kv) {
    return workload(models::Phase::prefill, 1, q, kv, false);
  };
  const models::ParamValues strided = {{"stride", 1}};
  CHECK_THROWS_WITH(cost(make("gna", strided), w(4000, 4000)),
                    Catch::Contains("do not form a 2-D grid") && Catch::Contains("extent_y"));
  CHECK_THROWS_WITH(cost(make("gna", {{"stride", 1}, {"extent_y", 1024}}), w(4096, 4096)),
                    Catch::Contains("window_x (13) is wider than the grid's 4 tokens") &&
                        Catch::Contains("at most 4"));
  CHECK_THROWS_WITH(cost(make("gna", strided), w(1024, 4096)),
                    Catch::Contains("q_len 1024 and kv_len 4096") && Catch::Contains("stride 0"));
  // Extents given: a 32 x 128 map is fine, and so is a 16 x 16 x 16 volume from the length.
  CHECK_NOTHROW(cost(make("gna", {{"stride", 1}, {"extent_y", 128}}), w(4096, 4096)));
  CHECK_NOTHROW(
      cost(make("gna", {{"stride", 2}, {"window_z", 5}, {"window_x", 5}, {"window_y", 5}}),
           w(4096, 4096)));
  // Without a stride, any length prices (the blocked bound needs no grid).
  CHECK_NOTHROW(cost(make("gna", {}), w(4000, 4000)));
}
