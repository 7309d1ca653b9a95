// FlashAttention-2 (docs/kernels.md §1): fa2 (one CTA per row block, hardware order), split_kv
// (Flash-Decoding: the split kernel with GQA packing and a combine launch) and lean (LeanAttention
// stream-K: the whole batch's tiles spread evenly over every SM, then a reduction).
#include <algorithm>
#include <cmath>

#include "sim/flash_forward.hpp"
#include "sim/schedules.hpp"
#include "sim/waves.hpp"

namespace sim {

namespace {

// flash_api.cpp mha_fwd: round_multiple(d, d <= 128 ? 32 : 64).
double fa2_rounded_dim(double d) {
  return d <= 128 ? std::ceil(d / 32) * 32 : std::ceil(d / 64) * 64;
}

// run_mha_fwd_hdim* on A100/H100 without dropout (docs/kernels.md#11-forward-tiles).
FlashTile fa2_forward_tile(double d, const hw::Profile& p, double bytes) {
  FlashTile t;
  d = fa2_rounded_dim(d);
  if (d <= 64) {
    t.m = 128, t.n = 128;
  } else if (d <= 128) {
    t.m = 128, t.n = 64;
  } else if (d <= 192) {
    t.m = 128, t.n = 64, t.threads = 256;
  } else if (p.memory.smem_per_block_bytes >= 128 * 1024 &&
             p.memory.smem_per_sm_bytes < 192 * 1024) {
    t.m = 128, t.n = 64, t.threads = 256;  // A100 d256
  } else {
    t.m = 64, t.n = 64;  // H100 d256: two CTAs per SM
  }
  // kSmemSize = (kBlockM d + 2 kBlockN d) x element size; 1 KB reserved per CTA.
  t.smem_bytes = (t.m * d + 2 * t.n * d) * bytes + 1024;
  return t;
}

// flash_fwd_splitkv_kernel tiles: M = 64; N = 256 (d <= 64), 128 (d <= 128), 64 (larger).
FlashTile split_kv_tile(double d, double bytes) {
  FlashTile t;
  d = fa2_rounded_dim(d);
  t.m = 64;
  t.n = d <= 64 ? 256 : d <= 128 ? 128 : 64;
  t.smem_bytes = (t.m * d + 2 * t.n * d) * bytes + 1024;
  return t;
}

// FA2 >= 2.1 packs the G query heads of a KV head into the rows of a decode step (Sq == 1).
bool fa2_packs(const models::AttentionShape& a) {
  return a.q_len == 1 && a.heads_q > a.heads_kv;
}

// Decode kernels pack the q_len x G query rows of a KV head into one M tile whatever q_len is
// (speculative decoding, multi-token prediction): FlashInfer's decode CTA holds all G heads of a
// group (bdy = G, include/flashinfer/attention/decode.cuh) and its append/MLA kernels tile
// packed_qo_len = qo_len x G; FlashMLA tiles 64 rows of Sq x Hq / Hkv (csrc/sm90/decode/dense,
// github.com/deepseek-ai/FlashMLA); FA3 packs when Sq x G fills tiles better (hopper/heuristics.h
// should_pack_gqa). So a second query token costs little more while the rows fit one tile.
bool decode_packs(const models::AttentionShape& a) {
  return a.heads_q > a.heads_kv;
}

// FA2's forward with its key splits. mha_fwd asks num_splits_heuristic for a split count (dropout
// off: flash_api.cpp set_params_splitkv, num_splits = 0) over batch x heads x 64-row blocks against
// twice the SMs, and runs its split-KV kernel (split_kv_tile, a combine launch) when that is more
// than one: never once those blocks reach 0.8 x 2 x SMs, so only a call of few query rows (a
// decode step, a chunk of new tokens after cached ones) splits. The count is priced fastest, as
// for split_kv and FA3 (docs/kernels.md#13-split_kv), up to two waves of split CTAs; one split is
// the unsplit kernel.
// The split kernel is Flash-Decoding's: its launches take split_kv's entry where the profile has
// one (fitted on that kernel's decode timings), fa2's otherwise.
const hw::ScheduleCalibration& split_kernel_calibration(const ScheduleInput& in) {
  const hw::ScheduleCalibration* split_kv = find_calibration(in.profile, find_schedule("split_kv"));
  return split_kv != nullptr ? *split_kv : in.calibration;
}

Launches fa2_forward(const ScheduleInput& in, const Geometry& g) {
  const FlashTile whole_tile = fa2_forward_tile(g.d, in.profile, g.s);
  const Launch whole = flash_forward_launch(in, g, whole_tile, 1, "attention_fwd");
  const double sms = in.profile.compute.sm_count;
  Launches best;
  if (g.batch * g.heads * ceil_div(g.rows, 64) >= 0.8 * 2 * sms) {
    best.push_back(whole);
    return best;
  }
  // The split kernel's own grid (64-row blocks) sets the waves: up to two of split CTAs.
  const FlashTile t = split_kv_tile(g.d, g.s);
  const Launch one_split = flash_forward_launch(in, g, t, 1, "attention_fwd");
  const double key_blocks = one_split.jobs.max_tiles;
  const double useful = std::min(128.0, std::ceil(2 * sms / one_split.jobs.count));
  lower_fastest_split(
      in, key_blocks, useful,
      [&](double s, Launches& launches) {
        if (s <= 1) {
          launches.push_back(whole);
          return;
        }
        FlashTile split = t;
        split.dispatch = Dispatch::in_order;
        const ScheduleInput split_in{
            in.op,   in.workload, in.profile,  split_kernel_calibration(in),
            in.name, in.options,  in.mma_class};
        launches.push_back(flash_forward_launch(split_in, g, split, s, "attention_fwd_splitkv"));
        launches.push_back(split_combine_launch(split_in, g, s * g.batch * g.heads * g.rows));
      },
      best);
  return best;
}

void lower_fa2(const ScheduleInput& in, Launches& out) {
  Launches best = fa2_forward(in, geometry(in.op.attention, in.workload, false));
  // The swap is a choice between two configurations of one kernel (FA2 skips it with a window,
  // ALiBi or dropout), and only a one-token call has it: the model takes the cheaper, so one
  // token never costs more than two, which must run unpacked.
  if (fa2_packs(in.op.attention)) {
    const Launches packed = fa2_forward(in, geometry(in.op.attention, in.workload, true));
    if (launches_time(packed, in.profile, in.workload) <=
        launches_time(best, in.profile, in.workload)) {
      best = packed;
    }
  }
  for (const Launch& l : best) out.push_back(l);
}

// FlashAttention-2 before v2.1 (the Flash-Decoding blog's "FlashAttention v2.0.9" column): the
// same forward kernel without the decode GQA packing, so a one-token call runs one CTA per
// (batch, query head) whose 128-row M tile holds one valid row.
void lower_fa2_unpacked(const ScheduleInput& in, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, false);
  out.push_back(
      flash_forward_launch(in, g, fa2_forward_tile(g.d, in.profile, g.s), 1, "attention_fwd"));
}

void lower_split_kv(const ScheduleInput& in, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, decode_packs(in.op.attention));
  // The split count that prices fastest, up to FA2's limit of 128, not FA2's wave-efficiency
  // num_splits_heuristic (docs/kernels.md#13-split_kv; see lower_best_split).
  lower_best_split(in, g, split_kv_tile(g.d, g.s), 128, "attention_fwd_splitkv", out);
}

void lower_lean(const ScheduleInput& in, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, decode_packs(in.op.attention));
  FlashTile t = split_kv_tile(g.d, g.s);
  Launch l = flash_forward_launch(in, g, t, 1, "attention_fwd_lean");
  const double row_tiles = l.jobs.max_tiles;  // the longest row block's
  // Stream-K: every CTA takes an equal contiguous run of the (row block, KV tile) iterations,
  // crossing head boundaries; one CTA per slot.
  const double slots = in.profile.compute.sm_count * ctas_per_sm(l.cta, in.profile);
  const double total = l.jobs.total_tiles;
  const double ctas = std::max(1.0, std::min(slots, total));
  const double row_blocks = l.jobs.count;
  const double q_o_bytes = row_blocks * l.per_job_hbm_bytes;
  l.jobs = {ctas, std::floor(total / ctas), std::ceil(total / ctas), total};
  l.dispatch = Dispatch::persistent_static;
  // Q/O traffic is spread over the CTAs; each CTA that shares a row block with a neighbour
  // writes an fp32 partial that the block's host CTA reads back and reduces in the same kernel.
  const double partial = std::min(t.m, g.rows) * (g.dv + 1) * 4;
  l.per_job_hbm_bytes = q_o_bytes / ctas + 2 * partial;
  l.max_job_hbm_bytes = 0;  // equal runs: the row-block grid's longest job no longer applies
  // A CTA's run is whole key tiles but where it holds a row block's partial first or last one.
  l.max_tile_hbm_scale = whole_tile_scale(g, t, row_tiles);
  out.push_back(l);
}

}  // namespace

// Classes: fa2 issues mma.sync. split_kv and lean stand for the split-KV decode every library
// runs (FA2's split kernel, FA3's split path with wgmma and fp8, FlashInfer), which `auto` picks
// for decode of any dtype, and decode is memory-bound: they are priced at the native ceiling.
// Each takes fp16/bf16 inputs only (the FlashAttention READMEs; LeanAttention builds on FA2).
void add_fa2_schedules(std::vector<ScheduleInfo>& table) {
  table.push_back({"fa2", "FlashAttention-2: one CTA per (row block, batch, head), mma.sync",
                   lower_fa2, lower_fa2_backward, nullptr, hw::MmaClass::mma_sync});
  table.back().sixteen_bit_inputs = true;
  table.back().max_head_dim = 256;  // flash_api.cpp: "head dimension at most 256"
  table.push_back({"fa2_unpacked",
                   "FlashAttention-2 before v2.1: fa2 without decode GQA packing (one CTA per "
                   "query head at Sq = 1)",
                   lower_fa2_unpacked, nullptr, nullptr, hw::MmaClass::mma_sync});
  table.back().sixteen_bit_inputs = true;
  table.back().max_head_dim = 256;  // flash_api.cpp: "head dimension at most 256"
  table.push_back({"split_kv",
                   "Flash-Decoding: KV split across CTAs by wave efficiency, GQA heads packed, "
                   "plus a combine launch",
                   lower_split_kv, nullptr, nullptr, hw::MmaClass::native});
  table.back().sixteen_bit_inputs = true;
  table.back().max_head_dim = 256;  // flash_api.cpp: "head dimension at most 256"
  table.back().latent_decode = true;
  table.push_back({"lean",
                   "LeanAttention stream-K: all (row block, KV tile) work spread evenly over the "
                   "SMs, plus a reduction",
                   lower_lean, nullptr, nullptr, hw::MmaClass::native});
  table.back().sixteen_bit_inputs = true;
  table.back().max_head_dim = 256;    // flash_api.cpp: "head dimension at most 256"
  table.back().latent_decode = true;  // stands for split-KV decode, as split_kv
}

}  // namespace sim
