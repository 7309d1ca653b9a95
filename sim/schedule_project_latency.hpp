// Instruction counts and exposed waits of this project's CUDA kernels (schedule_project_cuda*.cpp),
// counted from their source in validate/cuda/cuda_*.cu. Counts are lane instructions (a warp
// instruction is 32) on the FP32/INT/load-store issue slots, which the tile engine prices at the
// FP32 pipe's rate (128 lanes per clock per SM = 4 warp instructions issued per clock).
#pragma once

#include <cmath>

namespace sim::project_cuda {

// Latencies in SM clock cycles from Table 3 of doi:10.1016/j.ultsonch.2023.106546
// (https://pmc.ncbi.nlm.nih.gov/articles/PMC10448217/table/t0015): global memory 400, L2 200,
// shared memory 20 on V100, A100 and H100 alike. A warp shuffle is taken to cost a shared-memory
// latency (it goes through the same crossbar); no separate public figure is used.
inline constexpr double kGlobalLatencyCycles = 400;
inline constexpr double kL2LatencyCycles = 200;
inline constexpr double kSharedLatencyCycles = 20;

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
// (load_rows: 2 x 64 x D / 8 vectors over 128 threads, each stored before the next load), and per
// warp 16 rows in sequence, each a chain of two 5-step shuffle reductions plus the m_s load and
// two exp2f (14 steps at shared-memory latency).
inline double flash_tile_latency_cycles(double head_dim) {
  return head_dim / 8 * kGlobalLatencyCycles + 16 * 14 * kSharedLatencyCycles;
}

// split_kernel, per key, per lane (E = D/32 K dims, EV = DV/32 V dims per lane): K half2 loads
// (E/2), conversions (E) and FMAs (E); the 5-step reduction (10); max, exp argument, l (3); V
// loads (EV/2), conversions (EV), FMAs (EV) and the rescale once per 4 keys (EV/4).
inline double split_alu_per_key(double d, double dv) {
  const double e = d / 32, ev = dv / 32;
  return 32 * (2.5 * e + 13 + 2.75 * ev);
}
inline constexpr double kSplitExpPerKey = 1.25;  // p, and the rescale factor once per 4 keys

// One step (4 keys per warp) waits for the K loads, the 5-step reduction, then the V loads.
inline double split_step_latency_cycles() {
  return 2 * kGlobalLatencyCycles + 5 * kSharedLatencyCycles;
}

// combine_kernel per split and column: three loads, two FMAs, the exp argument.
inline constexpr double kCombineAluPerPartial = 6;
// Per row: one dependent load per split for the maximum, then one per split per column pass.
inline double combine_row_latency_cycles(double splits) {
  return 2 * splits * kGlobalLatencyCycles;
}

// softmax_kernel (unfused) per score: three passes over the row, each testing visibility (6) and
// loading S, then max (1); exp argument and sum (2); exp argument, scale, select, conversion and
// store of P (5).
inline constexpr double kSoftmaxAluPerScore = 3 * 7 + 1 + 2 + 5;
inline constexpr double kSoftmaxExpPerScore = 2;  // exp in the sum pass and again for P
// One row: each thread's loads of a pass wait one after another (first pass from HBM, the next
// two from L2), plus two block reductions (5 shuffles, 2 barriers, the shared loads).
inline double softmax_row_latency_cycles(double keys, double threads) {
  const double per_thread = std::ceil(keys / threads);
  return per_thread * (kGlobalLatencyCycles + 2 * kL2LatencyCycles) +
         2 * (5 + 2 + 8) * kSharedLatencyCycles;
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

// One chunk waits for its serial global loads: Q and V 16 bytes per iteration, K^T one element
// per iteration (each stored before the next is issued), over 256 threads.
inline double linear_chunk_latency_cycles(double d, double n, double threads) {
  const double round_trips = 2 * std::ceil(n * d / 8 / threads) + std::ceil(n * d / threads);
  return round_trips * kGlobalLatencyCycles;
}

}  // namespace sim::project_cuda
