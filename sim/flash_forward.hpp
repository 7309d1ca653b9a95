// The launch shapes shared by the FlashAttention-style forward schedules (fa2, split_kv, lean,
// fa3, fa4, ascend): a grid of row-block CTAs streaming K/V tiles, optional split-KV with its
// combine launch, and memory-only launches.
#pragma once

#include <algorithm>
#include <cmath>

#include "sim/price.hpp"
#include "sim/schedule.hpp"
#include "sim/schedule_common.hpp"

namespace sim {

struct FlashTile {
  double m = 128;  // query rows per CTA
  double n = 64;   // keys per tile iteration
  double threads = 128;
  double smem_bytes = 0;
  double max_ctas_per_sm = 0;  // 1 for persistent kernels
  Dispatch dispatch = Dispatch::in_order;
  double exp_emulated_share = 0;    // exps computed by a polynomial on the FMA pipes (FA4)
  bool exp_alu_concurrent = false;  // Launch::exp_alu_concurrent (FA4's softmax warpgroups)
  double tiles_in_flight = 1;       // Launch::tiles_in_flight
  // Causal diagonal tiles run with the pipes in turn (Launch::serial_tiles_per_job).
  bool serial_masked_tiles = false;
  // > 0: each row block walks its own key range in rounds of n keys made of whole blocks of this
  // many keys (sim/row_blocks.hpp round_row_block_jobs), not the grid of n-key tiles from key 0.
  double round_unit = 0;
  // Bytes an element of a split's partial O (fp32 in FlashAttention's splits; FlashInfer writes
  // them in the output type); the LSE is fp32 either way.
  double partial_o_bytes = 4;
};

// FP32-pipe instructions per exp emulated by FA4's Cody-Waite + degree-3 polynomial on packed
// FP32x2 FMAs (docs/kernels.md#3-fa4): about 8 operations at two lanes per instruction.
inline constexpr double kPolyAluPerExp = 4;

// Fewest rows an MMA instruction computes (mma.sync m16; Triton's tl.dot minimum), so a tile with
// fewer real rows is padded to this.
inline constexpr double kMmaMinRows = 16;

// The main forward launch; `splits` > 1 divides every CTA's KV range (split-KV).
Launch flash_forward_launch(const ScheduleInput& in, const Geometry& g, FlashTile t, double splits,
                            const char* name);

// A launch that only moves `bytes` (combine, pre/post-processing) for `items` rows (or keys), one
// CTA per `items_per_job` of them: every CTA takes a whole chunk but the last.
Launch memory_launch(const ScheduleInput& in, const char* name, double bytes, double items,
                     double items_per_job);

// Small torch launches (or a kernel a Python loop repeats) priced as one: `launches` device
// launch costs and host launches, `waits` host reads of device values before them
// (Launch::host_waits), and `bytes` moved over `items` (1024 a CTA).
Launch torch_launches(const ScheduleInput& in, const char* name, double bytes, double items,
                      double launches, double waits = 0);

// Bytes of whole key tiles over the mean tile's, for a job that holds only whole tiles of a row
// block that visits `row_block_tiles` tiles (a split, a stream-K run): the mean tile holds the
// share of a range that starts or ends inside one (Launch::max_tile_hbm_scale; at least 1).
double whole_tile_scale(const Geometry& g, const FlashTile& t, double row_block_tiles);

// Reduction of split partials (fp32 O and LSE) into O.
Launch split_combine_launch(const ScheduleInput& in, const Geometry& g, double partial_rows);

// A split-KV forward (main launch, plus the combine when split) at the split count that prices
// fastest among 1 .. `max_splits` (and the KV tiles): FA2's and FA3's flash_attn_with_kvcache take
// num_splits from the caller (0 = their heuristic; at most 128, csrc/flash_attn/flash_api.cpp,
// github.com/Dao-AILab/flash-attention), so every count is a configuration the kernel runs. The
// heuristic's pick (or a count with the same tiles per split) is one of them and can make more
// work cheaper than less (B x H crossing 0.8 x slots drops to one split; a larger batch takes
// fewer splits and a cheaper combine); the best count cannot, because the smaller call could run
// the larger call's count. Counts that leave the tiles per split unchanged only add empty CTAs
// and partials, so they are skipped (FA2's heuristic skips them too). Split CTAs run in hardware
// order (FA3: SingleTileScheduler).
void lower_best_split(const ScheduleInput& in, const Geometry& g, const FlashTile& t,
                      double max_splits, const char* name, Launches& out);

// The same choice for any split kernel: `build(s, launches)` lowers it with s splits of a KV range
// of `n_blocks` tiles (the most a CTA visits: FA3 splits the valid n-range of a row block, and a
// split past the keys a window or a selection visits is empty); the fastest count in
// 1 .. min(max_splits, n_blocks) is kept.
template <typename Build>
void lower_fastest_split(const ScheduleInput& in, double n_blocks, double max_splits, Build build,
                         Launches& out) {
  n_blocks = std::max(1.0, n_blocks);
  Launches best;
  double best_s = 0;
  for (double s = 1; s <= std::min(max_splits, n_blocks); ++s) {
    if (s > 1 && std::ceil(n_blocks / s) == std::ceil(n_blocks / (s - 1))) continue;
    Launches candidate;
    build(s, candidate);
    const double time = launches_time(candidate, in.profile, in.workload);
    if (s == 1 || time < best_s) best = candidate, best_s = time;
  }
  for (const Launch& l : best) out.push_back(l);
}

}  // namespace sim
