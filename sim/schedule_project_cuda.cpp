// project_flash and project_split_kv: this project's own CUDA kernels (validate/cuda/cuda_flash.cu,
// validate/cuda/cuda_decode.cu), priced as they are written. Their launch geometry, read from the
// source and from `nvcc -O3 -Xptxas -v` (CUDA 13.0) for sm_80 and sm_90:
//
//  kernel            grid              tile       thr  smem/CTA B   regs (spill B)    CTAs/SM
//                                                                  sm_80 | sm_90     A100 | H100
//  flash_kernel<32>  (Lq/64, B*Hq)     64 x 64    128  51712 dyn   39 | 40           3 | 4
//  flash_kernel<64>  (Lq/64, B*Hq)     64 x 64    128  72192 dyn   40 (8) | 40       2 | 3
//  flash_kernel<128> (Lq/64, B*Hq)     64 x 64    128  113152 dyn  46 | 40 (16/24)   1 | 2
//  split_kernel<32>  (splits, B*Hq)    16 keys    128  544 static  64 | 48           8 | 10
//  split_kernel<64>  (splits, B*Hq)    16 keys    128  1056 static 56 | 56           9 | 9
//  split_kernel<128> (splits, B*Hq)    16 keys    128  2080 static 64 | 56           8 | 9
//  split<576,512>    (splits, B*Hq)    16 keys    128  8224 static 90 | 80           5 | 6
//  combine_kernel    (B*Hq)            one row    128  0           48 | 48           10 | 10
//
// (smem/CTA plus the 1 KiB the runtime reserves per CTA; A100 164 KiB and H100/H200 228 KiB of
// shared memory per SM, 2048 threads and 64 K registers per SM. Flash CTAs are limited by shared
// memory, split CTAs by registers. "(8)": 8 bytes of spill stores/loads; sm_90 flash<128> spills
// 16 bytes stored, 24 loaded.)
//
// flash_kernel pipeline, per 64-key tile, nothing overlapped inside a CTA:
//  1. K and V tiles loaded by load_rows: one 16-byte global load per loop iteration, stored to
//     shared memory before the next is issued (no cp.async, no double buffer), so each thread
//     waits D/16 round trips per operand: D/8 global-memory latencies per tile. __syncthreads.
//  2. S = Q K^T by WMMA 16x16x16 from shared memory, S stored to shared memory as fp32.
//  3. Online softmax one row at a time: each warp walks its 16 rows; per row two 5-step shuffle
//     reductions (max, sum), 2 exp2f per lane and one for the rescale factor, P written as fp16,
//     and the fp32 O row in shared memory rescaled element by element.
//  4. O += P V by WMMA with the O accumulator loaded from and stored back to shared memory.
// Co-resident CTAs (2-4 per SM) do not hide one another's waits: each takes issue slots and pipe
// cycles from the others' chains (Launch::chain_shares_issue; on an H200, three d64 CTAs per SM
// took 15 % longer per tile than one). Causal and window tiles outside [lo, hi) are skipped
// (row_block_jobs with M = N = 64); O is written as fp32.
//
// split_kernel pipeline: every CTA walks its split's keys once per query row (q_len passes); each
// warp takes 4 keys per step, lane l holding K dims [l D/32, (l+1) D/32): half2 loads, FMAs, a
// 5-step shuffle reduction per key, online softmax, then the V row's DV/32 dims per lane. Then
// the 4 warp states are merged through shared memory into an fp32 partial (O, m, l). No tensor
// cores, no GQA packing (each query head reads its KV head again, through L2). combine_kernel is
// launched even for one split: per row it reads every split's m (one dependent load per split),
// then per column every split's partial again, and writes fp32 O.
#include "sim/schedule_project_cuda.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/flash_forward.hpp"
#include "sim/schedule_project_latency.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace project_cuda {

double flash_smem_bytes(double d) {
  const double half_tiles = (kFlashBlockM + 2 * kFlashBlockN) * (d + 8) * 2;  // Q, K, V
  const double scores = kFlashBlockM * (kFlashBlockN + 4) * 4;
  const double probs = kFlashBlockM * (kFlashBlockN + 8) * 2;
  const double out = kFlashBlockM * (d + 4) * 4;
  return half_tiles + scores + probs + out + 2 * kFlashBlockM * 4;
}

double split_smem_bytes(double dv) {
  return 2 * 4 * 4 + 4 * dv * 4;
}

bool is_sm80(const hw::Profile& p) {
  return p.arch.rfind("sm_8", 0) == 0;
}

bool is_sm90(const hw::Profile& p) {
  return p.arch.rfind("sm_90", 0) == 0;
}

double flash_regs(const hw::Profile& p, double d) {
  if (is_sm80(p)) return d >= 128 ? 48 : 40;  // 46 | 40 | 39 used
  return 40;
}

double split_regs(const hw::Profile& p, double d) {
  if (d > 128) return is_sm80(p) ? 96 : 80;  // MLA 576 / 512: 90 | 80 used
  if (is_sm80(p)) return d == 64 ? 56 : 64;
  return d == 32 ? 48 : 56;
}

}  // namespace project_cuda

namespace {

using namespace project_cuda;

// What flash_kernel<D> runs: softmax over dense keys, causal or not, with a window, GQA heads
// unpacked; head_dim 32, 64 or 128 with V of the same width (with_head_dim).
void check_flash_op(const ScheduleInput& in, const Geometry& g) {
  const models::AttentionShape& a = in.op.attention;
  require_kernel(g.d == 32 || g.d == 64 || g.d == 128, in.name,
                 fmt::format("head_dim {} is not instantiated (32, 64, 128)", g.d));
  require_kernel(g.dv == g.d && !a.values_in_keys, in.name, "needs v_head_dim == head_dim");
  require_kernel(
      g.score == models::ScoreFn::softmax && a.visits.blocks == 0 && g.sinks == 0 && !a.softcap,
      in.name,
      "runs dense softmax attention only (no selection, sinks, soft-capping or other score "
      "functions)");
}

void lower_project_flash(const ScheduleInput& in, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, false);
  check_flash_op(in, g);
  FlashTile t;
  t.m = kFlashBlockM;
  t.n = kFlashBlockN;
  t.threads = kFlashThreads;
  t.smem_bytes = flash_smem_bytes(g.d) + kReservedSmemPerCta;
  Launch l = flash_forward_launch(in, g, t, 1, "flash_kernel");
  l.cta.regs_per_thread = flash_regs(in.profile, g.d);
  const double scores = t.m * t.n;
  l.per_tile.exp_ops = scores + t.m;  // p per score, the rescale factor per row
  l.per_tile.alu_ops =
      scores * kFlashAluPerScore + t.m * (kFlashAluPerRow + kFlashAluPerORow * g.d);
  l.per_tile.sm_bytes = t.n * g.kv_width * g.s_kv;  // the K/V tile every CTA loads
  l.per_tile.latency_cycles = flash_tile_latency_cycles(latencies(in.profile), g.d);
  l.chain_shares_issue = true;
  // O is written as fp32, not in the input format the op counts.
  l.per_job_hbm_bytes += in.op.bytes.o * (4 / g.s - 1) / std::max(1.0, l.jobs.count);
  out.push_back(l);
}

// Keys [lo, hi) that split_kernel divides among the splits (the range some query row sees).
double split_key_range(const Geometry& g) {
  if (!g.causal || g.window <= 0) return g.keys;
  return g.keys - std::max(0.0, g.row_offset - g.window + 1);
}

// split_kernel's launch with `splits` equal key ranges (its own rounding), q_len passes each.
Launch split_launch(const ScheduleInput& in, const Geometry& g, double splits, double len) {
  Launch l = schedule_launch(in, "split_kernel");
  l.cta = {split_smem_bytes(g.dv) + kReservedSmemPerCta, kSplitThreads, split_regs(in.profile, g.d),
           0};
  const double heads = g.batch * g.heads;
  double total = 0, lo = 0, hi = 0;
  for (double s = 0; s < splits; ++s) {
    const double keys = std::floor(len * (s + 1) / splits) - std::floor(len * s / splits);
    const double steps = g.rows * ceil_div(keys, kSplitKeysPerStep);
    total += steps;
    lo = s == 0 ? steps : std::min(lo, steps);
    hi = std::max(hi, steps);
  }
  l.jobs = {splits * heads, lo, hi, total * heads};
  const double keys = kSplitKeysPerStep;
  l.per_tile.exp_ops = keys * kSplitExpPerKey;
  l.per_tile.alu_ops = keys * split_alu_per_key(g.d, g.dv);
  l.per_tile.sm_bytes = keys * (g.d + g.dv) * g.s_kv;
  l.per_tile.latency_cycles = split_step_latency_cycles(
      latencies(in.profile), split_round_trips(is_sm90(in.profile), g.d, g.dv), g.rows);
  // K (and V, unless V is the latent inside K: MLA reads it in place) once from HBM; re-reads by
  // the other query heads of a KV head and the other query rows hit L2 while it holds them.
  const models::HbmBytes& need = in.op.bytes;
  const bool v_in_k = g.d == 576 && g.dv == 512;
  const double kv_need = need.k + (v_in_k ? 0 : need.v);
  const double visited = l.jobs.total_tiles * keys * g.kv_width * g.s_kv;
  const double kv_bytes = shared_read_bytes(kv_need, visited, kv_need, in.profile);
  l.per_tile.hbm_bytes = l.jobs.total_tiles > 0 ? kv_bytes / l.jobs.total_tiles : 0;
  const double partials = splits * heads * g.rows * (g.dv + 2) * 4;
  l.per_job_hbm_bytes = (need.q * splits + partials) / l.jobs.count;
  l.per_job_fixed_cycles = l.calibration->cta_overhead_cycles;
  return l;
}

// combine_kernel: one CTA per (batch, head), one "tile" per query row.
Launch combine_launch(const ScheduleInput& in, const Geometry& g, double splits) {
  Launch l = schedule_launch(in, "combine_kernel");
  l.cta = {kReservedSmemPerCta, kCombineThreads, 48, 0};
  const double heads = g.batch * g.heads;
  l.jobs = {heads, g.rows, g.rows, heads * g.rows};
  l.per_tile.exp_ops = splits * (g.dv + 1);
  l.per_tile.alu_ops = splits * g.dv * kCombineAluPerPartial;
  l.per_tile.hbm_bytes = splits * (g.dv + 2) * 4 + g.dv * 4;  // partials in, fp32 O out
  l.per_tile.latency_cycles = combine_row_latency_cycles(latencies(in.profile), splits);
  l.per_job_fixed_cycles = l.calibration->cta_overhead_cycles;
  return l;
}

void lower_project_split_kv(const ScheduleInput& in, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, false);
  const models::AttentionShape& a = in.op.attention;
  const bool mla = g.d == 576 && g.dv == 512;
  require_kernel(
      mla || ((g.d == 32 || g.d == 64 || g.d == 128) && g.dv == g.d), in.name,
      fmt::format("head_dim {} / v_head_dim {} is not instantiated (32, 64, 128 with equal V, "
                  "or MLA 576 / 512)",
                  g.d, g.dv));
  require_kernel(
      g.score == models::ScoreFn::softmax && a.visits.blocks == 0 && g.sinks == 0 && !a.softcap,
      in.name,
      "runs dense softmax attention only (no selection, sinks, soft-capping or other score "
      "functions)");
  const double len = std::max(1.0, split_key_range(g));
  auto build = [&](double splits, Launches& launches) {
    launches.push_back(split_launch(in, g, splits, len));
    launches.push_back(combine_launch(in, g, splits));
  };
  if (in.options.splits > 0) {
    build(in.options.splits, out);
    return;
  }
  // Not fixed by the caller: the count that prices fastest (the launcher takes any count).
  lower_fastest_split(in, ceil_div(len, kSplitKeysPerStep), 128, build, out);
}

}  // namespace

void add_project_cuda_schedules(std::vector<ScheduleInfo>& table) {
  table.push_back(
      {"project_flash",
       "this project's CUDA flash kernel (validate --backend cuda): 64 x 64 WMMA tiles, "
       "128 threads, 51-113 KB smem (2-4 CTAs/SM), synchronous K/V loads, row-at-a-"
       "time softmax with O in fp32 shared memory",
       lower_project_flash, nullptr, nullptr, hw::MmaClass::mma_sync});  // WMMA lowers to mma.sync
  table.push_back({"project_split_kv",
                   "this project's CUDA split-KV decode: grid (splits, B x Hq) of 128 threads on "
                   "CUDA cores, 16 keys per step, q_len passes, no GQA packing, plus a combine "
                   "launch (also for one split)",
                   lower_project_split_kv, nullptr});
  add_project_cuda_other_schedules(table);
}

}  // namespace sim
