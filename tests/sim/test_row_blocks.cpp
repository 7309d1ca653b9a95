// sim/row_blocks.cpp: the closed-form summary of a causal grid's row blocks equals the block-by-
// block one, so a 1G-token packed prefill prices in microseconds instead of hours.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>

#include "sim/row_blocks.hpp"
#include "sim/schedule_common.hpp"

namespace {

sim::Geometry causal_geometry(double q_len, double group, double offset, double window,
                              double sinks) {
  sim::Geometry g{};
  g.batch = 2;
  g.heads = 3;
  g.kv_heads = 3;
  g.rows = q_len * group;
  g.keys = q_len + offset;
  g.d = g.dv = 128;
  g.s = g.s_kv = 2;
  g.group = group;
  g.causal = true;
  g.row_offset = offset;
  g.window = window;
  g.sinks = sinks;
  return g;
}

sim::JobStats block_by_block(const sim::Geometry& g, double tile_m, double tile_n) {
  return sim::summarize_blocks(sim::ceil_div(g.rows, tile_m), g.batch * g.heads, [&](double m) {
    return sim::row_block_tiles(g, tile_m, tile_n, m);
  });
}

// One of `values`, uniformly.
double one_of(std::mt19937_64& rng, std::initializer_list<double> values) {
  std::uniform_int_distribution<std::size_t> i(0, values.size() - 1);
  return *(values.begin() + i(rng));
}

}  // namespace

TEST_CASE("floor_sum equals the sum of floors, negative offsets included", "[sim][row_blocks]") {
  for (long long n : {0, 1, 2, 7, 100}) {
    for (long long a : {0, 1, 3, 64, 128}) {
      for (long long b : {-1000, -129, -1, 0, 5, 127, 999}) {
        for (long long c : {1, 2, 64, 80, 8192}) {
          long double sum = 0;
          for (long long i = 0; i < n; ++i) {
            sum += std::floor(static_cast<long double>(a * i + b) / c);
          }
          INFO(n << " " << a << " " << b << " " << c);
          CHECK(sim::floor_sum(n, a, b, c) == sum);
        }
      }
    }
  }
}

TEST_CASE(
    "the closed-form row-block summary equals the block-by-block one (windows, sinks, "
    "packed heads, cached keys)",
    "[sim][row_blocks]") {
  std::mt19937_64 rng(20261201);
  const auto pick = [&](std::initializer_list<double> values) { return one_of(rng, values); };
  std::uniform_int_distribution<int> q_len(1, 3000), offset(0, 5000);
  int compared = 0;
  for (int i = 0; i < 3000; ++i) {
    const double q = q_len(rng), off = pick({0, 0, 1, 63}) > 0 ? offset(rng) : 0;
    const sim::Geometry g =
        causal_geometry(q, pick({1, 2, 3, 4, 7, 8, 16}), off, pick({0, 0, 1, 17, 100, 513, 4096}),
                        pick({0, 0, 1, 4, 130}));
    const double tile_m = pick({16, 64, 80, 128, 176, 192}), tile_n = pick({32, 64, 80, 112, 128});
    const auto closed = sim::causal_row_block_jobs(g, tile_m, tile_n);
    REQUIRE(closed.has_value());
    const sim::JobStats loop = block_by_block(g, tile_m, tile_n);
    INFO("q " << q << " group " << g.group << " offset " << off << " window " << g.window
              << " sinks " << g.sinks << " tile " << tile_m << "x" << tile_n);
    CHECK(closed->count == loop.count);
    CHECK(closed->min_tiles == loop.min_tiles);
    CHECK(closed->max_tiles == loop.max_tiles);
    CHECK(closed->total_tiles == loop.total_tiles);
    ++compared;
  }
  CHECK(compared == 3000);
}

TEST_CASE("the closed form declines what it cannot price exactly (fractional rows per position)",
          "[sim][row_blocks]") {
  sim::Geometry g = causal_geometry(1000, 4, 10, 0, 0);
  g.rows = 3999;  // not a whole number of rows per query position
  CHECK_FALSE(sim::causal_row_block_jobs(g, 128, 128).has_value());
  g = causal_geometry(1000, 4, 10, 0, 0);
  g.causal = false;
  CHECK_FALSE(sim::causal_row_block_jobs(g, 128, 128).has_value());
}

TEST_CASE("a 1G-token prefill with 256 packed query heads summarises 2^31 row blocks exactly",
          "[sim][row_blocks]") {
  // A position holds 256 rows (two blocks of 128) and a key tile 128 positions, so key tile t
  // closes the 256 blocks 256 t .. 256 t + 255, each visiting t + 1 tiles: in all
  // 256 x N (N + 1) / 2 per head, N = 2^30 / 128.
  const double len = 1 << 30;
  const sim::Geometry g = causal_geometry(len, 256, 0, 0, 0);
  const auto jobs = sim::causal_row_block_jobs(g, 128, 128);
  REQUIRE(jobs.has_value());
  const double n = len / 128;
  CHECK(jobs->min_tiles == 1);
  CHECK(jobs->max_tiles == n);
  CHECK(jobs->total_tiles == g.batch * g.heads * 256 * n * (n + 1) / 2);
  CHECK(jobs->count == g.batch * g.heads * len * 256 / 128);
}

TEST_CASE(
    "rounds from each block's own first unit: the closed-form sum over a long windowed grid (a "
    "prefix from key 0, then periods) equals the block-by-block one",
    "[sim][row_blocks]") {
  std::mt19937_64 rng(20261202);
  const auto pick = [&](std::initializer_list<double> values) { return one_of(rng, values); };
  std::uniform_int_distribution<int> q_len(600000, 700000), offset(0, 5000);
  const auto by_block = [](const sim::Geometry& g, double tile_m, double unit, double round) {
    return sim::summarize_blocks(sim::ceil_div(g.rows, tile_m), g.batch * g.heads, [&](double m) {
      return sim::ceil_div(sim::row_block_tiles(g, tile_m, unit, m), round / unit);
    });
  };
  for (int i = 0; i < 60; ++i) {
    const double q = q_len(rng), off = pick({0, 1}) > 0 ? offset(rng) : 0;
    // Windows short and long, one past the whole sequence (every block before the window's
    // entry), sinks that the window passes late or never.
    const sim::Geometry g = causal_geometry(q, pick({1, 2, 3}), off,
                                            pick({1, 17, 897, 898, 4096, 300000, 650000, 1 << 30}),
                                            pick({0, 4, 130, 400000}));
    const double tile_m = pick({64, 128}), unit = pick({16, 128}), round = unit * pick({1, 5, 8});
    const sim::JobStats loop = by_block(g, tile_m, unit, round);
    const sim::JobStats jobs = sim::round_row_block_jobs(g, tile_m, unit, round);
    INFO("q " << q << " group " << g.group << " offset " << off << " window " << g.window
              << " sinks " << g.sinks << " tile " << tile_m << " unit " << unit << " round "
              << round);
    CHECK(jobs.count == loop.count);
    CHECK(jobs.min_tiles == loop.min_tiles);
    CHECK(jobs.max_tiles == loop.max_tiles);
    CHECK(jobs.total_tiles == loop.total_tiles);
  }
  // Without a window every range starts at key 0: block by block, rounds of 640 keys from 0.
  const sim::Geometry full = causal_geometry(5000, 2, 7, 0, 0);
  const sim::JobStats rounds = sim::round_row_block_jobs(full, 128, 128, 640);
  const sim::JobStats loop = by_block(full, 128, 128, 640);
  CHECK(rounds.total_tiles == loop.total_tiles);
  CHECK(rounds.min_tiles == loop.min_tiles);
  CHECK(rounds.max_tiles == loop.max_tiles);
}
