// Instruction counts and exposed waits of this project's CUDA kernels (schedule_project_cuda*.cpp),
// counted from their source in validate/cuda/cuda_*.cu; latencies() also gives flashinfer_decode
// its per-iteration wait. Counts are lane instructions (a warp
// instruction is 32) on the FP32/INT/load-store issue slots, which the tile engine prices at the
// FP32 pipe's rate (128 lanes per clock per SM = 4 warp instructions issued per clock).
#pragma once

#include <cmath>

#include "hwprofiles/profile.hpp"

namespace sim::project_cuda {

// Latencies in SM clock cycles from Table 3 of doi:10.1016/j.ultsonch.2023.106546
// (https://pmc.ncbi.nlm.nih.gov/articles/PMC10448217/table/t0015): global memory 400, L2 200,
// shared memory 20 on V100, A100 and H100 alike. A warp shuffle is taken to cost a shared-memory
// latency (it goes through the same crossbar); no separate public figure is used.
inline constexpr double kGlobalLatencyCycles = 400;
inline constexpr double kL2LatencyCycles = 200;
inline constexpr double kSharedLatencyCycles = 20;

// One link of each dependent chain the project kernels wait on, in cycles of the profile's clock
// (the tile engine's cycle unit): the device's measured compute.latency_ns where the profile has
// them, else the published figures above (a shuffle and an exp2f at the shared-memory latency, and
// no WMMA chain term, as before the H200 measurements).
struct Latencies {
  double global = kGlobalLatencyCycles, l2 = kL2LatencyCycles, shared = kSharedLatencyCycles;
  double shuffle = kSharedLatencyCycles, exp = kSharedLatencyCycles, mma = 0;
  // Measured on the device: the terms added with the measurements (the flash O-row rescale, the
  // linear kernel's shared pipe) apply.
  bool measured = false;
};
inline Latencies latencies(const hw::Profile& p) {
  if (!p.compute.latency) return {};
  const hw::ChainLatencies& m = *p.compute.latency;
  const double hz = p.compute.tensor_clock_hz;
  return {m.global_s * hz, m.l2_s * hz, m.shared_s * hz, m.shuffle_s * hz, m.exp_s * hz,
          m.mma_s * hz,    true};
}

// flash_kernel, per score (two columns per lane): the visibility test (row/column bounds, causal,
// window: 6), the scaled load from shared memory (2), max (0.5), x - ref (1), the fp16 conversion
// and store of P (2), the row-sum add (1).
inline constexpr double kFlashAluPerScore = 12.5;
// Per row and tile: two 5-step warp reductions (shuffle + max/add: 20 warp instructions) and the
// m/l bookkeeping and rescale factor (about 10), times 32 lanes.
inline constexpr double kFlashAluPerRow = 30 * 32;
// Per row, tile and head dim: the fp32 O row rescaled in shared memory (load, multiply, store)
// and loaded/stored as WMMA accumulator fragments around P V (2).
inline constexpr double kFlashAluPerORow = 5;

// Exposed wait of one flash tile on one CTA: D/8 serial global round trips for K and V
// (load_rows: 2 x 64 x D / 8 vectors over 128 threads, each stored before the next load); per
// warp 16 rows in sequence, each a chain of the S and m_s loads, two 5-step shuffle reductions,
// two exp2f and, where the profile measured its latencies, the O row's D/32 rescales (a shared
// load, a multiply and a store each); and the warp's WMMA products, D/16 dependent ones for each of
// the 4 key blocks of S = Q K^T and 4 for each of the D/16 column blocks of O += P V (D/2 in all).
// Counted in turn: a warp issues in order and stalls at the first instruction that waits, so steps
// that do not depend on each other (the two exp2f, the rescales) still mostly wait one after the
// other; an upper bound where the compiler interleaves them (the H200 runs still found this 4-10 %
// fast on one-CTA launches).
inline double flash_tile_latency_cycles(const Latencies& l, double head_dim) {
  const double rescale = l.measured ? head_dim / 32 * l.shared : 0;
  return head_dim / 8 * l.global + 16 * (2 * l.shared + 10 * l.shuffle + 2 * l.exp + rescale) +
         head_dim / 2 * l.mma;
}

// split_kernel, per key, per lane (E = D/32 K dims, EV = DV/32 V dims per lane): K half2 loads
// (E/2), conversions (E) and FMAs (E); the 5-step reduction (10); max, exp argument, l (3); V
// loads (EV/2), conversions (EV), FMAs (EV) and the rescale once per 4 keys (EV/4).
inline double split_alu_per_key(double d, double dv) {
  const double e = d / 32, ev = dv / 32;
  return 32 * (2.5 * e + 13 + 2.75 * ev);
}
inline constexpr double kSplitExpPerKey = 1.25;  // p, and the rescale factor once per 4 keys

// Global round trips one step (4 keys per warp) waits for, as {from HBM, again through L2}. The
// source asks for two (the 4 keys' K loads, then their V loads), and ptxas batches them so for
// head_dim 64 only; the sm_90 SASS (cuobjdump -sass, CUDA 13.0: the excerpt in
// validate/results/2026-11-30-h200-split-kernel-sass.txt) keeps each key's V loads, or for MLA
// each key's K and V loads, in a branch of their own, so that they wait one after another:
// head_dim 32 waits 3 (one V load ahead of the other three), 128 waits 1 + 4, MLA 576/512 4 + 4,
// whose V loads read again the lines its K loads brought (V is the latent inside K): taken at the
// L2 latency. Other architectures: the source's 2.
struct RoundTrips {
  double global = 2, l2 = 0;
};
inline RoundTrips split_round_trips(bool sm90, double head_dim, double v_head_dim) {
  if (!sm90) return {};
  if (head_dim == 576 && v_head_dim == 512) return {4, 4};
  if (head_dim == 128) return {5, 0};
  return {head_dim == 32 ? 3.0 : 2.0, 0};
}

// One step waits for its round trips, the 5-step reduction, and two exp2f (the rescale factor,
// then the first key's weight). The query rows after the first (q_len > 1) walk the same keys
// again, their loads hitting L2: `rows` rows average that in.
inline double split_step_latency_cycles(const Latencies& l, RoundTrips trips, double rows) {
  const double first = trips.global * l.global + trips.l2 * l.l2;
  const double again = (trips.global + trips.l2) * l.l2;
  const double loads = rows > 1 ? (first + (rows - 1) * again) / rows : first;
  return loads + 5 * l.shuffle + 2 * l.exp;
}

// combine_kernel per split and column: three loads, two FMAs, the exp argument.
inline constexpr double kCombineAluPerPartial = 6;
// Per row: one dependent load per split for the maximum, then one per split per column pass.
inline double combine_row_latency_cycles(const Latencies& l, double splits) {
  return 2 * splits * l.global;
}

// softmax_kernel (unfused) per score: three passes over the row, each testing visibility (6) and
// loading S, then max (1); exp argument and sum (2); exp argument, scale, select, conversion and
// store of P (5).
inline constexpr double kSoftmaxAluPerScore = 3 * 7 + 1 + 2 + 5;
inline constexpr double kSoftmaxExpPerScore = 2;  // exp in the sum pass and again for P
// One row: each thread's loads of a pass wait one after another (first pass from HBM, the next
// two from L2), plus two block reductions (5 shuffles, 2 barriers, the shared loads).
inline double softmax_row_latency_cycles(const Latencies& l, double keys, double threads) {
  const double per_thread = std::ceil(keys / threads);
  return per_thread * (l.global + 2 * l.l2) + 2 * (5 + 2 + 8) * l.shared;
}

// linear_kernel per chunk of n tokens (CUDA cores, operands from shared memory): scores A for
// j <= t (two loads, two conversions, FMA per dim) and the mask/store; the output (intra-chunk
// A V and inter-chunk q S, four instructions per term) and its store; the state update
// (five per term); the loads (K^T element by element, Q and V by 16 bytes).
inline double linear_alu_per_chunk(double d, double n) {
  const double scores = n * (n + 1) / 2 * d * 5 + n * n * 4;
  const double output = n * d * ((n + 1) / 2 * 4 + d * 4 + 4);
  const double state = d * d * (5 * n + 3);
  const double loads = n * d * 3 + 2 * n * d / 8 * 3;
  return scores + output + state + loads;
}

// Shared-memory loads per chunk, lane by lane: two per term of the scores (Q, K^T), of the
// intra-chunk output (A, V), of q S (Q, S) and of the state update (K^T, V); all scalar (LDS,
// LDS.U16 in the sm_90 SASS). The shared pipe serves one warp-wide load (32 lanes) per clock per SM
// (32 banks of 4 bytes; these loads are conflict-free or broadcasts). The schedule adds these
// cycles to the issue time that linear_alu_per_chunk counts (which already gives each load an
// issue slot) rather than taking the longer of the two: on the H200 the sum predicted head_dim 64
// chunks 8-9 % slow, the longer of the two 28 % fast (2026-11-30 runs). An empirical choice, not a
// derivation: what else binds (the half-to-float conversions' pipe, say) was not measured.
inline double linear_shared_loads_per_chunk(double d, double n) {
  return 2 * n * (n + 1) * d + 4 * n * d * d;
}
inline constexpr double kSharedLanesPerClock = 32;

// One chunk waits for its serial global loads: Q and V 16 bytes per iteration, K^T one element
// per iteration (each stored before the next is issued), over 256 threads.
inline double linear_chunk_latency_cycles(const Latencies& l, double d, double n, double threads) {
  const double round_trips = 2 * std::ceil(n * d / 8 / threads) + std::ceil(n * d / threads);
  return round_trips * l.global;
}

}  // namespace sim::project_cuda
