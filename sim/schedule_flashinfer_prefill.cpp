// flashinfer_prefill: FlashInfer's batch prefill kernel on a paged K/V cache (its FA2 backend,
// mma.sync), which BatchDecodeWithPagedKVCacheWrapper runs when use_tensor_cores=True, for one
// query token a request or several, and the prefill wrappers with backend "fa2" (their default off
// sm_90, where they default to the FA3 backend: flashinfer/utils.py). Read
// from flashinfer-ai/flashinfer at fb28d72 and v0.2.5 (the same for what is priced here):
//
//  - Backend: fp16/bf16 decode with tensor cores plans the "fa2" module on Hopper and Blackwell
//    alike (flashinfer/decode.py plan(); FA3 ran it on Hopper only between 2026-01-05 and
//    2026-02-17), non-causal for one query token, causal for more.
//  - Rows: the query heads of a KV head are packed as rows, q_len x group per request
//    (scheduler.cuh), so a KV head's K/V are read once for its whole group.
//  - Tile (FA2DetermineCtaTileQ, utils.cuh): 128 query rows when the packed length passes 64
//    (head_dim under 256), 64 past 16, else 16. Warps (prefill.cuh get_num_warps_q/kv): a 16-row
//    tile has 1 x 4 warps, the four splitting each key block; 64 and 128 rows 4 x 1. 128 threads.
//  - Keys a loop iteration (BatchPrefillWithPagedKVCacheDispatched): NUM_MMA_KV x 16 x the KV
//    warps, NUM_MMA_KV the largest power of two up to 8 / NUM_MMA_Q whose K and V fit the shared
//    memory of one of the two CTAs an SM is meant to hold: 128 keys at a 16-row tile and
//    head_dim 128 (69,632 bytes), 64 at head_dim 256.
//  - Split (PrefillPlan, PrefillSplitQOKVIndptr): a grid budget of 2 CTAs an SM; the smallest
//    chunk of pages, at least 128 tokens, that keeps batch x query tiles x chunks within it per
//    KV head; no split where no chunk fits or one chunk holds the whole request (without CUDA
//    graphs). Split partials are merged by VariableLengthMergeStates, the decode kernel's merge.
//  - Loads: cp.async of 16 bytes with a page-table lookup per row; K and V single-buffered, each
//    issued one step ahead (K of the next block under this block's P.V), so a CTA keeps one
//    iteration's K or V in flight.
//  - Not modelled: the CUDA-graph mode (always split, padded grid), the end-of-job exchange of
//    the four KV warps' partial O through shared memory, registers (not compiled: occupancy is
//    shared memory's), RoPE in the kernel, fp8 K/V, and page sizes (chunks are counted in
//    16-token pages, as for flashinfer_decode).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/flash_forward.hpp"
#include "sim/schedule_flashinfer.hpp"
#include "sim/schedule_project_latency.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

constexpr double kPlannedCtasPerSm = 2;  // PrefillPlan's num_blocks_per_sm
constexpr double kPrefillThreads = 128;

// The jobs of a grid whose query tiles all walk `walked` keys, in chunks of whole pages
// (chunk_jobs: each chunk its own iterations, the last one masked; flash_forward_launch divides
// whole key tiles among splits instead, which prices a chunk of 144 keys as 256 at 128 keys an
// iteration). The launch's K/V bytes, which flash_forward_launch puts on its tiles, are kept.
void set_chunk_jobs(const Geometry& g, double tile_n, const PrefillSplit& split, double walked,
                    double q_tiles, Launch& l) {
  const double groups = g.batch * g.heads * q_tiles;
  const double kv_bytes = l.jobs.total_tiles * l.per_tile.hbm_bytes;
  l.jobs = chunk_jobs(groups, walked, split, tile_n);
  l.per_tile.hbm_bytes = kv_bytes / l.jobs.total_tiles;
  // A full chunk's tiles hold its keys' bytes; the mean tile, the walk's over all its tiles.
  const double full_keys = std::min(walked, split.chunk_tokens);
  l.max_tile_hbm_scale =
      std::max(1.0, (full_keys / l.jobs.max_tiles) / (walked * groups / l.jobs.total_tiles));
}

void lower_flashinfer_prefill(const ScheduleInput& in, Launches& out) {
  const models::AttentionShape& a = in.op.attention;
  const Geometry g = geometry(a, in.workload, true);
  require_kernel(!a.values_in_keys, in.name, "needs separate K and V (no latent MLA form)");
  require_kernel(g.d == 64 || g.d == 128 || g.d == 256, in.name,
                 fmt::format("head_dim {} is not instantiated (64, 128, 256)", g.d));
  require_kernel(g.dv == g.d, in.name, "needs v_head_dim == head_dim");
  require_kernel(g.score == models::ScoreFn::softmax && a.visits.blocks == 0 && g.grid.dims == 0 &&
                     g.sinks == 0,
                 in.name,
                 "runs dense or windowed softmax attention only (no selection, sinks or token "
                 "grid)");
  const PrefillShape s =
      prefill_shape(g.rows, g.d, g.dv, g.s, g.s_kv, in.profile.memory.smem_per_sm_bytes,
                    in.profile.memory.smem_per_block_bytes);
  require_kernel(s.mma_kv >= 1, in.name,
                 fmt::format("its smallest K/V tile does not fit {} bytes of shared memory a CTA",
                             in.profile.memory.smem_per_block_bytes));
  const double q_tiles = ceil_div(g.rows, s.cta_tile_q);
  // The keys a query tile walks: all of them, or under a window the pages of its last
  // window_left + tile rows (scheduler.cuh's effective_kv_len_arr), which are also what is split.
  const double walked =
      g.window > 0 ? std::min(g.keys, ceil_div(g.window - 1 + s.cta_tile_q, kFlashInferPageTokens) *
                                          kFlashInferPageTokens)
                   : g.keys;
  const PrefillSplit split =
      prefill_split(g.batch, q_tiles, walked, g.kv_heads, in.profile.compute.sm_count);

  FlashTile t;
  t.m = s.cta_tile_q;
  t.n = s.cta_tile_kv;
  t.threads = kPrefillThreads;
  t.smem_bytes = s.smem_bytes + kReservedSmemPerCta;
  t.partial_o_bytes = g.s;  // tmp_v is DTypeO (csrc/batch_prefill.cu), as the merge reads it
  Launch l = flash_forward_launch(in, g, t, split.chunks, "batch_prefill");
  // One iteration's K or V in flight a CTA: co-resident CTAs fill its wait, a CTA alone on its
  // SM (a short grid, a last wave) waits about a global-memory latency an iteration, as
  // flashinfer_decode's (sim/schedule_flashinfer.cpp).
  l.overhead_is_wait = true;
  l.per_tile.latency_cycles = project_cuda::latencies(in.profile).global;
  l.whole_jobs_but_last = split.chunks > 1;
  // Every query tile walks the same keys (one tile, or no causal mask): its chunks are priced as
  // the kernel runs them, and the grid in the hardware's waves.
  l.equal_jobs = !g.causal || q_tiles == 1;
  if (l.equal_jobs) set_chunk_jobs(g, t.n, split, walked, q_tiles, l);
  out.push_back(l);
  if (split.chunks > 1) out.push_back(flashinfer_merge_launch(in, g, split.chunks));
}

}  // namespace

PrefillShape prefill_shape(double packed_rows, double d, double dv, double q_bytes, double kv_bytes,
                           double smem_per_sm, double smem_per_block) {
  PrefillShape s;
  s.cta_tile_q = packed_rows > 64 && d < 256 ? 128 : (packed_rows > 16 ? 64 : 16);
  s.warps_q = s.cta_tile_q == 16 ? 1 : 4;
  s.warps_kv = s.cta_tile_q == 16 ? 4 : 1;
  s.mma_q = s.cta_tile_q / (16 * s.warps_q);
  const double per_mma_kv = (d + dv) * 16 * s.warps_kv * kv_bytes;
  const double fixed = s.cta_tile_q * d * q_bytes;
  const double ctas = smem_per_sm >= 2 * (fixed + per_mma_kv) ? 2 : 1;
  const double budget = std::min(smem_per_sm / ctas, smem_per_block);
  const double fits = std::floor((budget - fixed) / per_mma_kv);
  s.mma_kv = fits < 1 ? 0 : prev_pow2(std::min(fits, 8 / s.mma_q));
  s.cta_tile_kv = s.mma_kv * 16 * s.warps_kv;
  s.smem_bytes = fixed + s.mma_kv * per_mma_kv;
  return s;
}

PrefillSplit prefill_split(double batch, double q_tiles, double keys, double kv_heads,
                           double sm_count) {
  // The decode plan's chunk search over (request, query tile) pairs against this budget.
  return decode_split(keys, batch * q_tiles, std::floor(kPlannedCtasPerSm * sm_count / kv_heads));
}

void add_flashinfer_prefill_schedule(std::vector<ScheduleInfo>& table) {
  ScheduleInfo info{"flashinfer_prefill",
                    "FlashInfer's batch prefill kernel on paged K/V (FA2 backend, mma.sync), also "
                    "its tensor-core decode: GQA heads packed as rows in 16-128-row tiles, split "
                    "only when the batch leaves a 2-CTA-an-SM grid short, plus a merge launch",
                    lower_flashinfer_prefill,
                    nullptr,
                    nullptr,
                    hw::MmaClass::mma_sync};
  info.sixteen_bit_inputs = true;
  info.max_head_dim = 256;
  info.caller = hw::Caller::direct;  // as flashinfer_decode (schedule_flashinfer.cpp)
  table.push_back(info);
}

}  // namespace sim
