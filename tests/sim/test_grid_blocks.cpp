// Neighbourhood attention on a token grid (sim/grid_blocks.hpp): the KV tiles each Q tile of a
// box-tiled grid visits, worked by hand on small grids, and what a strided GNA costs against its
// blocked bound.
#include <catch2/catch.hpp>

#include <string>

#include "common/errors.hpp"
#include "sim/engine.hpp"
#include "sim/grid_blocks.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"
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

// The forward launch of GNA (heads 16, d 64) over a non-causal 4096-token prefill, FA2 on an
// A100, with `params` on top.
sim::Launch gna_forward(const models::ParamValues& params) {
  models::ParamValues p = {{"heads", 16}, {"kv_heads", 16}, {"head_dim", 64}};
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

TEST_CASE("the interior summed by its period gives what the full loop gives", "[sim][grid]") {
  struct Case {
    double extent, window, stride, q_tile, kv_tile;
  };
  for (const Case c : {Case{1000, 13, 1, 16, 8}, Case{997, 21, 3, 16, 16}, Case{4099, 7, 5, 8, 16},
                       Case{2048, 64, 8, 64, 128}, Case{513, 512, 1, 16, 16}}) {
    INFO(c.extent << " " << c.window << " " << c.stride << " " << c.q_tile << " " << c.kv_tile);
    const sim::AxisVisits full =
        sim::axis_visits(c.extent, c.window, c.stride, c.q_tile, c.kv_tile);
    const sim::AxisVisits periodic =
        sim::axis_visits(c.extent, c.window, c.stride, c.q_tile, c.kv_tile, 10);
    check_visits(periodic, full.q_tiles, full.min, full.max, full.total);
  }
}

TEST_CASE("a tile covers a box with power-of-two inner sides, the first side the rest",
          "[sim][grid]") {
  using Box = std::array<double, 3>;
  CHECK(sim::tile_box(128, 1) == Box{128, 1, 1});
  CHECK(sim::tile_box(128, 2) == Box{16, 8, 1});
  CHECK(sim::tile_box(64, 2) == Box{8, 8, 1});
  CHECK(sim::tile_box(80, 2) == Box{10, 8, 1});
  CHECK(sim::tile_box(128, 3) == Box{8, 4, 4});
  CHECK(sim::tile_box(1, 3) == Box{1, 1, 1});
}

TEST_CASE(
    "on a grid a row block's KV tiles are the product of its dimensions' visits; packed query "
    "heads share a row block's positions",
    "[sim][grid]") {
  // 8 x 8 grid, 3 x 3 window, stride 1: per axis (2-token sides) 4 Q tiles visiting 2-3 KV
  // tiles, 10 in all (the first case above). Two heads: 2 x 16 row blocks, 2 x 100 tiles.
  sim::Geometry g;
  g.batch = 1;
  g.heads = g.kv_heads = 2;
  g.group = 1;
  g.rows = 64;
  g.keys = 9;
  g.grid.dims = 2;
  g.grid.extent = {8, 8, 1};
  g.grid.window = {3, 3, 1};
  g.grid.stride = {1, 1, 1};
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
