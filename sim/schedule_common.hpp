// Helpers every schedule uses: tile geometry of an attention op, per-CTA work distributions under
// causal masks, and the L2 reuse of K/V between concurrently running CTAs.
#pragma once

#include <algorithm>
#include <array>
#include <cmath>

#include "hwprofiles/profile.hpp"
#include "models/cost_model.hpp"
#include "models/workload.hpp"
#include "sim/launch.hpp"

namespace sim {

// The smallest power of two at least x (and at least 1): Triton's block sizes (next_power_of_2).
inline double next_pow2(double x) {
  return std::exp2(std::ceil(std::log2(std::max(1.0, x))));
}

// The largest power of two at most x (and at least 1).
inline double prev_pow2(double x) {
  return std::exp2(std::floor(std::log2(std::max(1.0, x))));
}

// Whole tiles (or CTAs) covering `a` items of `b` each. Counts may be fractional (a compression
// GEMM that runs once every 16 tokens has 1/16 of a row per decode step), so this is a true
// ceiling: any positive amount of work takes at least one tile, never zero.
inline double ceil_div(double a, double b) {
  return b <= 0 || a <= 0 ? 0 : std::ceil(a / b);
}

// An attention op as a kernel sees it, after optional GQA packing (the G query heads of a KV head
// become G x q_len rows of one "head").
struct Geometry {
  double batch = 0, heads = 0, kv_heads = 0, rows = 0, keys = 0, d = 0, dv = 0, s = 0, s_kv = 0,
         group = 1;
  bool causal = false;
  // Causal: keys visible to row r are 0 .. r + row_offset (rows of a packed head share one query
  // position, so packing keeps the offset per position).
  double row_offset = 0;
  double window = 0;  // causal sliding window (keys per query); 0 = unlimited
  double sinks = 0;   // leading keys every query also sees
  models::ScoreFn score = models::ScoreFn::softmax;
  bool softcap = false;  // tanh logit soft-capping: one more transcendental per score
  double kv_width = 0;   // elements read per key: d + dv, or d when V lives inside K
  // Non-causal: the distinct keys the rows draw their `keys` each from (AttentionShape::
  // key_range); at least `keys`.
  double key_range = 0;
  models::TokenGrid grid;  // non-causal: the token grid a neighbourhood slides over (dims 0: none)
  // On a grid, a kernel's own tile shapes (NATTEN's configurations: the Q and KV boxes along each
  // dimension); zeros: boxes shaped by tile_box (sim/grid_blocks.hpp).
  std::array<double, 3> q_box{0, 0, 0}, kv_box{0, 0, 0};
};

Geometry geometry(const models::AttentionShape& a, const models::Workload& w, bool pack_gqa);

// KV tiles the M-row block `m` of one head visits (causal: up to the diagonal, partly masked tiles
// paid in full).
double row_block_tiles(const Geometry& g, double tile_m, double tile_n, double m);

// row_block_tiles summarised over the blocks of every head.
JobStats row_block_jobs(const Geometry& g, double tile_m, double tile_n);

// Summarises per-CTA tile counts: `tiles_of(i)` for the CTAs i = 0 .. blocks-1 of one head, the
// grid repeating that pattern `heads` times.
template <typename TilesOf>
JobStats summarize_blocks(double blocks, double heads, TilesOf tiles_of) {
  JobStats jobs;
  jobs.count = blocks * heads;
  double total = 0, lo = 0, hi = 0;
  for (double i = 0; i < blocks; ++i) {
    const double tiles = tiles_of(i);
    total += tiles;
    lo = i == 0 ? tiles : std::min(lo, tiles);
    hi = i == 0 ? tiles : std::max(hi, tiles);
  }
  jobs.min_tiles = lo;
  jobs.max_tiles = hi;
  jobs.total_tiles = total * heads;
  return jobs;
}

// The same, when every CTA runs `tiles` iterations (no loop).
inline JobStats uniform_blocks(double blocks, double heads, double tiles) {
  return {blocks * heads, tiles, tiles, blocks * heads * tiles};
}

// Fraction of re-reads that miss L2 when `working_set` bytes must stay in the L2 share the
// profile's calibration allows.
double l2_miss_fraction(double working_set_bytes, const hw::Profile& p);

// HBM bytes of data that CTAs read `visited` bytes of in total (tile loads, every reader counted)
// when the op must read `compulsory` bytes of it once: the first read of each byte reaches HBM,
// re-reads only when they miss L2. Never below `compulsory`, whatever the mask does to the
// number of readers of a tile.
double shared_read_bytes(double compulsory, double visited, double working_set_bytes,
                         const hw::Profile& p);

// The same for data its readers stream in passes: `co_resident` readers of a tile run at once and
// walk the tiles nearly in step (a head's row blocks are adjacent in the grid order of FA2 and FA3
// and in FA3's L2-sectioned persistent scheduler), so among them a tile must stay in L2 only while
// the window of tiles in flight passes (`window_bytes`: every resident CTA's current tile). Readers
// beyond them come in later passes, each a whole sweep over the shared range later, so a pass's
// first load of a tile hits only if `pass_bytes` (the range the next pass re-reads) stays in L2.
// With r = visited / compulsory mean readers and P = max(1, r / co_resident) passes:
//   compulsory + (P - 1) compulsory miss(pass_bytes) + (visited - P compulsory) miss(window_bytes).
// One pass (r <= co_resident) is shared_read_bytes with the window as the working set.
double streamed_read_bytes(double compulsory, double visited, double co_resident,
                           double window_bytes, double pass_bytes, const hw::Profile& p);

// FP32-pipe instructions per score of a sigmoid (FlashSigmoid: two FMAs around the MUFU tanh, and
// the conversion of P), with no row statistics.
inline constexpr double kSigmoidAluPerScore = 3;
// FP32-pipe instructions per score in the forward softmax: running max, scale-and-subtract FMA,
// row-sum add and the conversion of P to 16 bits (FA2 softmax_rescale_o / FA3 softmax.h).
inline constexpr double kFwdAluPerScore = 4;
// Backward: recompute P (FMA), dS = P * (dP - D) (2), conversion of P and dS (2).
inline constexpr double kBwdAluPerScore = 5;
// Logit soft-capping (FlashAttention's softcap): a multiply before and after the tanh, which runs
// on the exp unit; the backward recomputes it and scales dS by its derivative (3).
inline constexpr double kSoftcapAluPerScore = 2;
inline constexpr double kSoftcapBwdAluPerScore = 3;

}  // namespace sim
