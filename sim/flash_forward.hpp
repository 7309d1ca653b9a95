// The launch shapes shared by the FlashAttention-style forward schedules (fa2, split_kv, lean,
// fa3, fa4, ascend): a grid of row-block CTAs streaming K/V tiles, optional split-KV with its
// combine launch, and memory-only launches.
#pragma once

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
  double exp_emulated_share = 0;  // exps computed by a polynomial on the FMA pipes (FA4)
};

// FP32-pipe instructions per exp emulated by FA4's Cody-Waite + degree-3 polynomial on packed
// FP32x2 FMAs (kernels.md §3): about 8 operations at two lanes per instruction.
inline constexpr double kPolyAluPerExp = 4;

// Fewest rows an MMA instruction computes (mma.sync m16; Triton's tl.dot minimum), so a tile with
// fewer real rows is padded to this.
inline constexpr double kMmaMinRows = 16;

// The main forward launch; `splits` > 1 divides every CTA's KV range (split-KV).
Launch flash_forward_launch(const ScheduleInput& in, const Geometry& g, FlashTile t,
                            double splits, const char* name);

// A launch that only moves `bytes` (combine, pre/post-processing), spread over `jobs` CTAs.
Launch memory_launch(const ScheduleInput& in, const char* name, double bytes, double jobs,
                     const std::string& calibration_key);

// Reduction of split partials (fp32 O and LSE) into O.
Launch split_combine_launch(const ScheduleInput& in, const Geometry& g, double partial_rows);

// FA2's num_splits_heuristic (kernels.md §1.4; FA3 uses it without the eligibility skip):
// the fewest splits whose wave efficiency is within 85 % of the best.
double splits_for_waves(double row_blocks, double slots, double n_blocks, bool skip_ineligible);

}  // namespace sim
