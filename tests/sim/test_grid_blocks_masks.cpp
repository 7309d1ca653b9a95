// Neighbourhood attention on a token grid (sim/grid_blocks.hpp) under NATTEN's causal mask and
// dilation: the KV tiles a Q tile visits worked by hand (test_grid_blocks.cpp checks them against
// the mask query by query), a dilated grid as the sub-grids it is made of, and a causal window as
// wide as the sequence against causal attention.
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <initializer_list>
#include <random>
#include <utility>

#include "sim/column_blocks.hpp"
#include "sim/engine.hpp"
#include "sim/grid_blocks.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/natten_mask.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::builtin_profile;
using test_support::cost;
using test_support::make;
using test_support::workload;

namespace {

// One head on an extent[0] x extent[1] grid of windows, stride 1, nothing dilated or causal.
sim::Geometry grid_geometry(std::array<double, 2> extent, std::array<double, 2> window) {
  sim::Geometry g;
  g.batch = 1;
  g.heads = g.kv_heads = 1;
  g.group = 1;
  g.rows = g.key_range = extent[0] * extent[1];
  g.keys = window[0] * window[1];
  g.grid.dims = 2;
  g.grid.extent = {extent[0], extent[1], 1};
  g.grid.window = {window[0], window[1], 1};
  g.grid.stride = {1, 1, 1};
  return g;
}

}  // namespace

TEST_CASE("a causal window ends at its own query and starts window - 1 before its group's last",
          "[sim][grid]") {
  // Extent 8, window 3, stride 1: windows [0,1) [0,2) [0,3) [1,4) [2,5) [3,6) [4,7) [5,8). Q tiles
  // of 2 over KV tiles of 2: keys 0-1 (tile 0), 0-3 (0-1), 2-5 (1-2), 4-7 (2-3).
  sim::AxisVisits a = sim::axis_visits(8, 3, 1, 2, 2, true);
  CHECK(a.q_tiles == 4);
  CHECK(a.min == 1);
  CHECK(a.max == 2);
  CHECK(a.total == 7);
  // Stride 2: queries 2k and 2k + 1 share the start of their leader 2k + 1: 0 0 1 1 3 3 5 5, keys
  // [0,1) [0,2) [1,3) [1,4) [3,5) [3,6) [5,7) [5,8): 18 in all (stride 1: 21). With Q tiles of 2
  // over KV tiles of 4: keys 0-1, 1-3, 3-5, 5-7: tiles 1, 1, 2, 1.
  CHECK(sim::axis_visits(8, 3, 2, 1, 1, true).total == 18);
  CHECK(sim::axis_visits(8, 3, 1, 1, 1, true).total == 21);
  a = sim::axis_visits(8, 3, 2, 2, 4, true);
  CHECK(a.total == 5);
  CHECK(a.max == 2);
  // A window as wide as the extent at stride 1 is the causal triangle: Q tile t visits
  // ceil((t + 1) q_tile / kv_tile) tiles: 1 + 1 + 2 + 2 = 6 at 16 tokens, tiles of 4 and 8.
  CHECK(sim::axis_visits(16, 16, 1, 4, 8, true).total == 6);
}

TEST_CASE(
    "a dilated grid is its dilation sub-grids side by side, each padded to the longest one's whole "
    "tiles: their row blocks and KV tiles summed, boxes shaped on the longest",
    "[sim][grid]") {
  // 64 x 64 dilated 2 x 2: four 32 x 32 grids.
  sim::Geometry dilated = grid_geometry({64, 64}, {5, 5});
  dilated.grid.dilation = {2, 2, 1};
  const sim::JobStats four = sim::grid_block_jobs(dilated, 64, 64);
  const sim::JobStats one = sim::grid_block_jobs(grid_geometry({32, 32}, {5, 5}), 64, 64);
  CHECK(four.count == 4 * one.count);
  CHECK(four.total_tiles == 4 * one.total_tiles);
  CHECK(four.min_tiles == one.min_tiles);
  CHECK(four.max_tiles == one.max_tiles);
  // 65 x 64 dilated 2 x 2: one sub-grid of 33 rows and one of 32 (NATTEN: extent mod dilation of
  // them one longer), each 2 x 32 columns; 8 x 8 boxes. A window of 5 at stride 1 starts at
  // clamp(i - 2, 0, L - 5). Rows, 33: Q tiles visit 2 3 3 3 2 KV tiles (13); 32: 2 3 3 2 (10),
  // padded to the 33 rows' five tiles, the fifth visiting what query 31's window spans, one tile
  // (11). Columns, 32: 10 each. Row blocks (5 + 5) x (4 + 4) = 80, tiles (13 + 11) x (10 + 10).
  sim::Geometry odd = grid_geometry({65, 64}, {5, 5});
  odd.grid.dilation = {2, 2, 1};
  const sim::JobStats mixed = sim::grid_block_jobs(odd, 64, 64);
  CHECK(mixed.count == 80);
  CHECK(mixed.total_tiles == 24 * 20);
  CHECK(mixed.min_tiles == 1 * 2);
  CHECK(sim::past_end_visits(32, 5, 1, 8, 8, false) == 1);
  CHECK(sim::past_end_visits(32, 5, 1, 8, 8, true) == 1);  // keys 27-31 (leader 31): tile 3
  // A KV-outer backward walks no padded Q box; a padded KV box is visited by the Q boxes whose
  // windows hold the last key (queries 29-31: one box), none where causal. Centred: rows 13 and
  // 10 + 1 again. Causal along x: rows 33 visit 1 2 2 2 2 (9), rows 32 1 2 2 2 (7), the forward
  // adding its padded Q box (keys 27-31: 1), the backward nothing: 17 x 20 and 16 x 20 pairs.
  CHECK(sim::grid_column_jobs(odd, 64, 64).jobs.total_tiles == 24 * 20);
  odd.grid.causal = {true, false, false};
  CHECK(sim::grid_block_jobs(odd, 64, 64).total_tiles == 17 * 20);
  CHECK(sim::grid_column_jobs(odd, 64, 64).jobs.total_tiles == 16 * 20);
  CHECK(sim::column_blocks_by_tile(odd, 64, 64).jobs.total_tiles == 16 * 20);
  CHECK(sim::past_end_reverse_visits(32, 5, 1, 8, false) == 1);
  CHECK(sim::past_end_reverse_visits(32, 5, 1, 8, true) == 0);
  // A key-outer backward's CTAs: 100 x 100 dilated 2 x 2 is four 50 x 50 grids of 16 x 8 boxes,
  // 4 x 7 = 28 each (undilated: 7 x 13 = 91).
  sim::Geometry big = grid_geometry({100, 100}, {13, 13});
  CHECK(sim::grid_column_jobs(big, 128, 128).jobs.count == 91);
  big.grid.dilation = {2, 2, 1};
  CHECK(sim::grid_column_jobs(big, 128, 128).jobs.count == 4 * 28);
  CHECK(sim::column_blocks_by_tile(big, 128, 128).jobs.count == 4 * 28);
  // 97 x 100 dilated 2 x 2: rows of 49 and 48, both padded to ceil(49 / 16) = 4 boxes (48 alone
  // takes 3); columns 2 x 7: 8 x 14 KV boxes a head.
  sim::Geometry uneven = grid_geometry({97, 100}, {13, 13});
  uneven.grid.dilation = {2, 2, 1};
  CHECK(sim::grid_column_jobs(uneven, 128, 128).jobs.count == 8 * 14);
}

TEST_CASE(
    "causal along one dimension of a 64 x 64 map, a 13 x 13 window at stride 1 visits fewer KV "
    "tiles than the centred window",
    "[sim][grid]") {
  sim::Geometry g = grid_geometry({64, 64}, {13, 13});
  const sim::JobStats centred = sim::grid_block_jobs(g, 128, 128);
  g.grid.causal = {true, false, false};
  const sim::JobStats causal = sim::grid_block_jobs(g, 128, 128);
  CHECK(causal.count == centred.count);
  CHECK(causal.total_tiles < centred.total_tiles);
  CHECK(causal.max_tiles <= centred.max_tiles);
}

TEST_CASE(
    "a 1-D neighbourhood as long as the sequence, causal or not, and a window as wide as the "
    "whole grid are plain attention, as NATTEN calls it: same tiles, FLOPs and time",
    "[sim][grid][gna]") {
  const models::ParamValues heads = {{"heads", 16}, {"kv_heads", 16}, {"head_dim", 64}};
  const auto with = [&heads](std::initializer_list<std::pair<const char*, double>> params) {
    models::ParamValues p = heads;
    for (const auto& [name, value] : params) p.emplace_back(name, value);
    return p;
  };
  struct Case {
    models::ParamValues gna;
    bool causal;
  };
  const Case cases[] = {
      {with({{"window_x", 4096}, {"window_y", 1}, {"stride", 1}, {"causal_x", 1}}), true},
      {with({{"window_x", 4096}, {"window_y", 1}, {"stride", 3}, {"causal_x", 1}}), true},
      {with({{"window_x", 4096}, {"window_y", 1}, {"stride", 1}}), false},
      {with({{"window_x", 64}, {"window_y", 64}, {"stride", 5}}), false}};
  for (const Case& c : cases) {
    for (const auto& [device, kernel] :
         {std::pair<const char*, const char*>{"a100", "fa2"}, {"h100", "fa2"}, {"h100", "fa3"}}) {
      for (models::Phase phase : {models::Phase::fwd, models::Phase::train}) {
        INFO(device << " " << kernel << " " << models::to_string(phase) << " causal " << c.causal);
        const models::Workload nc = workload(phase, 2, 4096, 4096, false);
        const models::Workload dense = workload(phase, 2, 4096, 4096, c.causal);
        const hw::Profile& p = builtin_profile(device);
        const sim::Prediction gna = sim::predict_tile(cost(make("gna", c.gna), nc), nc, p, kernel);
        const sim::Prediction mha =
            sim::predict_tile(cost(make("mha", heads), dense), dense, p, kernel);
        CHECK(gna.flops.tensor == mha.flops.tensor);
        REQUIRE(gna.launches.size() == mha.launches.size());
        for (std::size_t i = 0; i < gna.launches.size(); ++i) {
          INFO(mha.launches[i].name);
          CHECK(gna.launches[i].tiles == mha.launches[i].tiles);
        }
        CHECK(gna.time_s == Approx(mha.time_s).epsilon(1e-12));
      }
    }
  }
  // Causal along a dimension of a 2-D grid, its windows as wide as the grid: still the grid.
  const auto w = workload(models::Phase::prefill, 1, 4096, 4096, false);
  const models::CostModel grid = cost(
      make("gna", with({{"window_x", 64}, {"window_y", 64}, {"stride", 1}, {"causal_x", 1}})), w);
  CHECK(test_support::op_named(grid, "neighbourhood_attention_fwd").attention.grid.dims == 2);
}

TEST_CASE(
    "a KV tile past the end is visited, in a KV-outer backward, by the Q tiles whose centred "
    "windows hold the last key",
    "[sim][grid]") {
  // Against NATTEN's centred window, query by query: the least query whose window ends at the
  // last key, its Q tile to the last.
  for (long e = 1; e <= 60; ++e) {
    for (long w = 1; w <= e; ++w) {
      for (long s = 1; s <= w; ++s) {
        for (long qt : {1L, 3L, 8L}) {
          long first = e - 1;
          for (long q = e - 1; q >= 0; --q) {
            if (test_support::natten_window(q, e, w, s, false).second < e) break;
            first = q;
          }
          INFO(e << " " << w << " " << s << " " << qt);
          REQUIRE(sim::past_end_reverse_visits(static_cast<double>(e), static_cast<double>(w),
                                               static_cast<double>(s), static_cast<double>(qt),
                                               false) ==
                  static_cast<double>((e + qt - 1) / qt - first / qt));
        }
      }
    }
  }
}

TEST_CASE(
    "in a KV-outer backward each KV tile is visited by the Q tiles whose spans hold it: the fewest "
    "and most per tile, as NATTEN's inverse trip count, summing to the forward's pairs",
    "[sim][grid]") {
  // Extent 8, window 3, stride 1, tiles of 2: Q tiles span KV tiles 0-1, 0-2, 1-3, 2-3, so KV
  // tiles 0-3 are reached by 2, 3, 3 and 2 of them (10, the forward's total).
  const sim::AxisReach r = sim::axis_reach(8, 3, 1, 2, 2);
  CHECK(r.kv_tiles == 4);
  CHECK(r.min == 2);
  CHECK(r.max == 3);
  // Against the mask, tile by tile, on drawn shapes (a fixed seed): every KV tile's reach, their
  // sum (the forward's pairs), and the fewest and most walked and by the period shortcut (a walk
  // limit of 2; long extents and narrow windows, so that the period fits).
  std::mt19937 draw(20261204);
  const auto pick = [&draw](long lo, long hi) {
    return std::uniform_int_distribution<long>(lo, hi)(draw);
  };
  const auto d = [](long x) { return static_cast<double>(x); };
  for (int i = 0; i < 600; ++i) {
    const bool any = i < 300;
    const long e = any ? pick(1, 1500) : pick(1500, 4000);
    const long w = any ? pick(1, e) : pick(1, 80), s = pick(1, any ? w : std::min(w, 4L));
    const long qt = any ? pick(1, 64) : 8L << pick(0, 2), kv = any ? pick(1, 64) : 8L << pick(0, 3);
    for (bool causal : {false, true}) {
      INFO(e << " " << w << " " << s << " " << qt << " " << kv << " causal " << causal);
      const auto spans = test_support::natten_tile_spans(e, w, s, qt, kv, causal);
      const long kv_tiles = (e + kv - 1) / kv;
      double lo = HUGE_VAL, hi = 0, sum = 0;
      for (long k = 0; k < kv_tiles; ++k) {
        const auto reach =
            static_cast<double>(std::count_if(spans.begin(), spans.end(), [k](const auto& span) {
              return span.first <= k && k <= span.second;
            }));
        REQUIRE(sim::kv_tile_reach(d(e), d(w), d(s), d(qt), d(kv), causal, d(k)) == reach);
        lo = std::min(lo, reach);
        hi = std::max(hi, reach);
        sum += reach;
      }
      REQUIRE(sum == sim::axis_visits(d(e), d(w), d(s), d(qt), d(kv), causal).total);
      for (double limit : {1e9, 2.0}) {
        const sim::AxisReach got = sim::axis_reach(d(e), d(w), d(s), d(qt), d(kv), causal, limit);
        REQUIRE(got.kv_tiles == d(kv_tiles));
        REQUIRE(got.min == lo);
        REQUIRE(got.max == hi);
      }
    }
  }
}

TEST_CASE(
    "a key-outer backward's longest CTA on a grid is its most-reached KV box, not an even share "
    "of the pairs",
    "[sim][grid]") {
  // 64 x 64, 13 x 13 windows, 128-token tiles as 16 x 8 boxes. Along x (16-wide): Q tiles span
  // KV tiles 0-1, 0-2, 1-3, 2-3, reach 2 3 3 2 (10); along y (8-wide): spans 0-1, 0-2, then j-1
  // to j+1, and 6-7, reach 2 3 3 3 3 3 3 2 (22). 32 KV boxes, 220 pairs: 4 to 9 row blocks a
  // box (an even share: 6 to 7).
  const sim::ColumnBlocks cols =
      sim::column_blocks_by_tile(grid_geometry({64, 64}, {13, 13}), 128, 128);
  CHECK(cols.jobs.count == 32);
  CHECK(cols.jobs.total_tiles == 220);
  CHECK(cols.jobs.min_tiles == 4);
  CHECK(cols.jobs.max_tiles == 9);
  CHECK(cols.longest_rows == 9 * 128);
  // Dilated 2 x 2 on 65 x 64: the 32-row sub-grid's padded KV tile is reached by one Q tile
  // (queries 29-31), fewer than any other; causal along x, by none.
  sim::Geometry odd = grid_geometry({65, 64}, {5, 5});
  odd.grid.dilation = {2, 2, 1};
  const sim::GridColumns centred = sim::grid_column_jobs(odd, 64, 64);
  CHECK(centred.jobs.min_tiles == 1 * 2);
  odd.grid.causal = {true, false, false};
  CHECK(sim::grid_column_jobs(odd, 64, 64).jobs.min_tiles == 0);
}
