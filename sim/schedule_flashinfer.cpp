// flashinfer_decode: FlashInfer's batch decode on CUDA cores (BatchDecodeWithPagedKVCacheWrapper
// with use_tensor_cores off, its default), read from flashinfer-ai/flashinfer at fb28d72
// (include/flashinfer/attention/decode.cuh, scheduler.cuh, cascade.cuh, utils.cuh):
//
//  - Shape (BatchDecodeWithPagedKVCacheDispatched): vec = max(16 / KV bytes, d / 32) elements per
//    thread, bdx = d / vec threads across the head, bdy = the GQA group (1, 2, 3, 4, 6 or 8:
//    DISPATCH_GQA_GROUP_SIZE), threads = max(128, bdx bdy), bdz = threads / (bdx bdy) slices of
//    keys; tile_size_per_bdx 4 for a group of 1 (2 for fp8 KV), else 1. One loop iteration of a
//    CTA covers tile_size_per_bdx x bdy x bdz keys (32 for d 128 at group 1, 8 at groups 4 and 8).
//    Shared memory: two cp.async stages of K and of V for those keys, plus the page offsets.
//  - Grid (padded_batch_size, num_kv_heads): a CTA per (request, KV chunk) and KV head, its bdy
//    query heads sharing every K/V row it loads (K/V read once per KV head). Per key and query
//    head: d FMAs for q.k on bdx lanes, a log2(bdx)-step shuffle reduction that leaves the score
//    on every lane, the online softmax there (one exp2 per score on each of the bdx lanes), d FMAs
//    for p.v; K and V converted to fp32 as they are read. A page-table index per key.
//  - Split (BatchDecodeWithPagedKVCacheWorkEstimationDispatched): none while batch x KV heads
//    fill the grid the occupancy allows (CTAs per SM x SMs, from
//    cudaOccupancyMaxActiveBlocksPerMultiprocessor: shared memory, threads and registers);
//    otherwise the smallest chunk, in pages and at least 128 tokens, that keeps batch x chunks x KV
//    heads within it; no split if that leaves one chunk per request (without CUDA graphs). The
//    partial outputs (16-bit) and their LSEs are merged by VariableLengthMergeStates, a persistent
//    grid over (request, query head) pairs, launched with programmatic dependent launch on sm_90
//    and later.
//  - Not modelled: q_len > 1 (the CUDA-core wrapper refuses it), the CUDA-graph mode that always
//    splits, RoPE applied in the kernel, and page sizes (chunks are counted in 16-token pages;
//    FA3's and FlashInfer's decode on an H20 do not move between pages of 8, 16 and 256:
//    validate/data/candidates/h200_decode_timings_notes.md).
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <string>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/schedule_common.hpp"
#include "sim/schedule_flashinfer.hpp"
#include "sim/schedule_project_latency.hpp"
#include "sim/schedules.hpp"
#include "sim/waves.hpp"

namespace sim {

namespace {

// Registers per thread of BatchDecodeWithPagedKVCacheKernel, from `ptxas -v` for sm_90 (CUDA 13.0,
// -O3 -use_fast_math as FlashInfer's JIT builds it; fp16 Q, KV and O, no positional encoding, the
// default attention variant) at fb28d72 and at v0.2.3 (within 8 registers: the same CTAs per SM
// but at a group of 8 and head_dim 128, 62 there). No spills and no __launch_bounds__. A group of 1
// is bound by its shared memory (6 CTAs per SM on sm_90), a group of 8 by these registers (8 CTAs
// at head_dim 128, 4 at 256). Head_dim 64 was not compiled: it takes head_dim 128's (the same 8
// elements per thread over fewer lanes).
double decode_registers(double d, double group) {
  const bool wide = d > 128;
  if (group == 1) return wide ? 68 : 69;
  if (group == 2) return 50;
  if (group == 3) return 56;
  if (group == 4) return wide ? 60 : 56;
  if (group == 6) return wide ? 60 : 62;
  return wide ? 56 : 64;  // a group of 8
}

// PersistentVariableLengthMergeStatesKernel, the same build: 40 registers at head_dim 128 and 256.
constexpr double kMergeRegs = 40;

constexpr double kMergeThreads = 128;

// The decode loop's instructions per thread and trip (one CTA iteration), from its SASS: the
// kernel above compiled with FlashInfer's JIT flags (-O3 -use_fast_math) by nvcc 13.0 for sm_90
// and sm_80 (within 1 % of each other) and read with nvdisasm. A thread handles k = bdy x tile
// keys a trip (4 at a group of one, the group otherwise), each a q.k of 2 vec FMAs' worth with
// p.v, log2(bdx) shuffles, one exp2 and 2 vec 16-to-32-bit conversions (HADD2.F32).
//  - FP32 pipe (FFMA, FMUL, FADD, FMNMX, FSEL): k (2 vec + log2(bdx) + 6) plus 6 a trip at a group
//    of one, 2 otherwise: 110, 114, 210 and 218 at d 128 and 256, groups 1 and 8, as counted.
//  - The rest: k (2 vec + log2(bdx) + 1) and one exp2 more a trip, plus the trip's loads, barriers,
//    page-offset and address arithmetic and branches: 91 at a group of one (four cp.async rows a
//    lane, with 64-bit address math each) and 68 otherwise. Totals 286, 294, 447 and 463 against
//    287.6, 292.1, 447.7 and 462.8 counted. bf16 K and V take 1.5 instructions an element to
//    widen (__bfloat1622float2: a shift for the low half, a PRMT and a shift for the high), fp16
//    one (HADD2.F32): 8 more a key at d 128, as counted at groups 1 and 8 (79.9 and 64.0 a key).
//    sm_100a's loop is within 2 % of sm_90's.
// Groups 2 to 6 (one key row a lane, as at 8), head_dim 64 and fp8 or fp32 K and V were not
// disassembled: the same structure (the schedule takes 16-bit inputs only).
// The exps' instructions are among those issued; their pipe (MUFU) runs beside the FP32 one
// (Launch::exp_alu_concurrent). The schedulers sustain kSustainedIssue of their peak on this
// loop: fitted by hand on the H20's head_dim-128 rows, with the host costs (the loop binds at a
// group of 8), the best of 0.75, 0.78, 0.8, 0.82, 0.85 and 0.9 (6.1, 5.6, 5.4, 5.5, 6.0 and
// 6.9 %); checked on rows the fit did not see: the head_dim-256 rows (4.8 %), and A800 SXM4 and
// H100 PCIe at 128 x 128/16 heads, 16384 keys (validate/data/candidates/h200_decode_timings.csv),
// -0.4 % and -14 %, where the FP32 pipe alone priced them +52 % and -16 %.
constexpr double kSustainedIssue = 0.8;
void count_loop_instructions(DecodeShape& s, bool bf16) {
  const double k = s.bdy * s.tile_per_bdx;
  const double shuffles = std::log2(s.bdx);
  const double widen = (bf16 ? 1.5 : 1) * 2 * s.vec;  // K's and V's elements to fp32
  const bool group_of_one = s.bdy == 1;
  s.fp32_per_trip = k * (2 * s.vec + shuffles + 6) + (group_of_one ? 6 : 2);
  s.instructions_per_trip =
      s.fp32_per_trip + k * (widen + shuffles + 1) + 1 + (group_of_one ? 91 : 68);
}

// The reduction's shuffles, log2(bdx) per lane, issued at one warp instruction (32 lanes) per SM
// cycle (CUDA C++ Programming Guide, arithmetic instruction throughput: warp shuffle, 32 results
// per clock per SM on compute capability 8.x and 9.x): SM cycles per key and query head.
double shuffle_cycles_per_key_head(const DecodeShape& s) {
  return s.bdx * std::log2(s.bdx) / 32;
}

// Programmatic dependent launch, which FlashInfer enables on sm_90 and later (device_support_pdl):
// the merge starts under the decode kernel, hiding its launch.
bool pdl(const hw::Profile& p) {
  if (p.arch.rfind("sm_", 0) != 0) return false;
  return std::atoi(p.arch.c_str() + 3) >= 90;
}

}  // namespace

Launch flashinfer_merge_launch(const ScheduleInput& in, const Geometry& g, double chunks) {
  Launch l = schedule_launch(in, "merge_states");
  // PersistentVariableLengthMergeStatesKernel: 128 threads, 4 cp.async stages of 16 bytes a thread.
  l.cta = {kReservedSmemPerCta + 4 * kMergeThreads * 16, kMergeThreads, kMergeRegs, 0};
  const double pairs = g.batch * g.heads * g.rows;
  const double sms = in.profile.compute.sm_count;
  const double ctas = std::max(1.0, std::min(pairs, sms * ctas_per_sm(l.cta, in.profile)));
  l.jobs = {ctas, std::floor(pairs / ctas), ceil_div(pairs, ctas), pairs};
  // Per pair: each chunk's partial O (16-bit) and LSE read and merged (2 exp2, dv FMAs), O
  // written once.
  l.per_tile.hbm_bytes = chunks * (g.dv * g.s + 4) + g.dv * g.s;
  l.per_tile.alu_ops = chunks * (g.dv + 8);  // dv FMAs, and an estimate of 8 for m, d and scales
  l.per_tile.exp_ops = 2 * chunks;
  l.per_job_fixed_cycles = in.calibration.cta_overhead_cycles;
  l.launch_fixed_share = pdl(in.profile) ? 0 : 1;
  return l;
}

namespace {

void lower_flashinfer_decode(const ScheduleInput& in, Launches& out) {
  const models::AttentionShape& a = in.op.attention;
  const Geometry g = geometry(a, in.workload, false);
  require_kernel(
      a.q_len == 1, in.name,
      fmt::format("runs one query token per request (got q_len {}): FlashInfer's CUDA-core "
                  "decode refuses more; its tensor-core path is its prefill kernel "
                  "(--kernel flashinfer_prefill)",
                  a.q_len));
  require_kernel(g.d == g.dv && !a.values_in_keys, in.name, "needs v_head_dim == head_dim");
  require_kernel(g.d == 64 || g.d == 128 || g.d == 256, in.name,
                 fmt::format("head_dim {} is not instantiated (64, 128, 256)", g.d));
  const double group = g.group;
  require_kernel(
      group == 1 || group == 2 || group == 3 || group == 4 || group == 6 || group == 8, in.name,
      fmt::format("a group of {} query heads per KV head is not instantiated (1, 2, 3, 4, 6, 8)",
                  group));
  require_kernel(
      g.score == models::ScoreFn::softmax && a.visits.blocks == 0 && g.sinks == 0, in.name,
      "runs dense softmax attention only (no selection, sinks or other score functions)");
  const DecodeShape s =
      decode_shape(g.d, group, g.s_kv, in.workload.kv_dtype == models::DType::bf16);
  // A window masks the logits of the keys outside it; the loop still walks every key of the
  // request (decode.cuh's loop over chunk_size, as read in a later release than fb28d72).
  const double keys = g.keys;
  const double kv_jobs = g.batch * g.kv_heads;
  const CtaResources cta{s.smem_bytes + kReservedSmemPerCta, s.block_threads, s.regs_per_thread, 0};
  const double grid = ctas_per_sm(cta, in.profile) * in.profile.compute.sm_count;
  const DecodeSplit split = decode_split(keys, kv_jobs, grid);
  const double chunks = split.chunks;

  Launch l = schedule_launch(in, "batch_decode");
  l.cta = cta;
  l.jobs = chunk_jobs(kv_jobs, keys, split, s.keys_per_iter);
  const double kpi = s.keys_per_iter;
  // A tile is one iteration of the CTA: its FP32 pipe work, the shuffles on their pipe, and
  // every instruction at the schedulers' issue rate, whichever binds (a group of 8 at about 9
  // SM cycles a key and query head on Ampere and Hopper alike, whatever their FP32 width). A CTA
  // of three warps (groups 3 and 6) issues to three of the four schedulers when alone.
  const double warps = std::ceil(s.block_threads / 32);
  l.per_tile.alu_ops = s.block_threads * s.fp32_per_trip;
  l.per_tile.issue_slots = warps * s.instructions_per_trip / kSustainedIssue;
  l.issue_share = std::min(1.0, warps / 4);
  l.per_tile.int_cycles = kpi * group * shuffle_cycles_per_key_head(s);
  l.per_tile.exp_ops = kpi * group * s.bdx + s.bdz * group * s.bdx;
  if (a.softcap) l.per_tile.exp_ops += kpi * group * s.bdx;  // tanh, on every lane too
  // K and V once per KV head, and a page-table index per key (loads past a chunk's end are
  // predicated off: the bytes are the keys', shared over the tiles).
  l.per_tile.hbm_bytes = kv_jobs * keys * ((g.d + g.dv) * g.s_kv + 4) / l.jobs.total_tiles;
  l.per_tile.sm_bytes = kpi * (g.d + g.dv) * g.s_kv;
  // Q in; O out (and, split, the 16-bit partial O and the fp32 LSE of every query head).
  l.per_job_hbm_bytes = group * (g.d * g.s + g.dv * g.s + (chunks > 1 ? 4 : 0));
  l.per_job_fixed_cycles = in.calibration.cta_overhead_cycles;
  // Each iteration waits on its cp.async stage and four barriers: co-resident CTAs fill it. With
  // two stages a CTA keeps one iteration's K and V in flight (16 KB at a group of one), so a CTA
  // alone on its SM, as those of a short last wave are, waits about one global-memory latency
  // an iteration (the profile's, or the published 400 cycles: sim/schedule_project_latency.hpp),
  // priced in turn with the iteration's work (the engine adds a tile's wait to its pipe time for
  // a lone CTA; the rows below agree with the sum): a one-wave grid's tail is latency-bound. On
  // the H20, 512 MHA CTAs on 468 slots (16 x 32/32 and 128 x 4/4 heads) ran 14-17 % (head_dim
  // 256) and 6-8 % (128) over what their bytes take at full bandwidth; priced so, 2-5 % fast and
  // 5-7 % slow, where the grid priced at fewer CTAs an SM spread the tail and priced the bytes
  // alone. The group-of-8 rows, whose grids have partial waves too, moved 2-6 % up; the file
  // went from 6.1 % to 5.1 %.
  l.overhead_is_wait = true;
  l.per_tile.latency_cycles = project_cuda::latencies(in.profile).global;
  l.whole_jobs_but_last = chunks > 1;
  l.equal_jobs = true;
  l.exp_alu_concurrent = true;
  out.push_back(l);
  if (chunks > 1) out.push_back(flashinfer_merge_launch(in, g, chunks));
}

}  // namespace

DecodeShape decode_shape(double d, double group, double kv_bytes, bool bf16) {
  DecodeShape s;
  s.vec = std::max(16 / kv_bytes, d / 32);
  s.bdx = d / s.vec;
  s.bdy = group;
  s.threads = std::max(128.0, s.bdx * s.bdy);
  s.bdz = std::floor(s.threads / (s.bdx * s.bdy));  // integer division in the dispatch
  s.block_threads = s.bdx * s.bdy * s.bdz;
  s.tile_per_bdx = group == 1 ? (kv_bytes == 1 ? 2 : 4) : 1;
  s.keys_per_iter = s.tile_per_bdx * s.bdy * s.bdz;
  const double stages = 2;
  s.smem_bytes = 2 * stages * s.keys_per_iter * d * kv_bytes +
                 std::max(s.tile_per_bdx * s.threads * 8, 2 * s.bdy * s.bdz * 4);
  s.regs_per_thread = decode_registers(d, group);
  count_loop_instructions(s, bf16);
  return s;
}

JobStats chunk_jobs(double groups, double keys, const DecodeSplit& split, double per_iter) {
  const double full_keys = std::min(keys, split.chunk_tokens);
  const double full = ceil_div(full_keys, per_iter);
  const double last = ceil_div(keys - (split.chunks - 1) * full_keys, per_iter);
  return {groups * split.chunks, last, full, groups * ((split.chunks - 1) * full + last)};
}

DecodeSplit decode_split(double keys, double kv_jobs, double grid) {
  const double pages = ceil_div(keys, kFlashInferPageTokens);
  if (kv_jobs >= grid) return {1, pages * kFlashInferPageTokens};
  const double most = std::floor(grid / kv_jobs);  // chunks a request may take
  const double chunk =
      std::max(kFlashInferMinChunkTokens / kFlashInferPageTokens, ceil_div(pages, most));
  return {ceil_div(pages, chunk), chunk * kFlashInferPageTokens};
}

void add_flashinfer_schedules(std::vector<ScheduleInfo>& table) {
  ScheduleInfo info{"flashinfer_decode",
                    "FlashInfer's batch decode on CUDA cores (use_tensor_cores off): a CTA per "
                    "request, KV chunk and KV head, its GQA group sharing each K/V row, FP32 FMAs, "
                    "split only when the batch leaves the grid short, plus a merge launch",
                    lower_flashinfer_decode, nullptr};
  info.sixteen_bit_inputs = true;
  info.max_head_dim = 256;
  // A row that names no caller is a kernel time: FlashInfer's own benchmarks time the kernels
  // (nvbench in src/bench_batch_decode.cu from its first releases; CUDA graphs or CUPTI in
  // benchmarks/flashinfer_benchmark.py), and so do the other published rows found
  // (validate/data/candidates/flashinfer_decode_more_notes.md). Timings around the Python wrapper
  // name the flashinfer caller (validate/data/measured/flashinfer_h20_decode.csv).
  info.caller = hw::Caller::direct;
  table.push_back(info);
}

}  // namespace sim
