// flash_nsa's backward (NSAFunction.backward of github.com/mdy666/Scalable-Flash-Native-Sparse-
// Attention at fcf117c, MG:129-159; flash_nsa_notes.md §2), in its launch order per branch:
// - selected: the fp32 casts of the window branch's dK/dV that every branch accumulates into,
//   delta (_bwd_preprocess), the index inversion (a zeroed int32 token bitmap per KV head and
//   selection block, _find_to_bind_kernel scattering each (token, chosen block), _reorder_bind
//   compacting each block's tokens with tl.sort over 256-token chunks), _dkdv_kernel (one program
//   per (query head, 64-key block) over the tokens that chose it, 64 gathered rows a step, four
//   MMAs, fp32 atomics into the KV head's dK/dV) and _dq_kernel (the forward's grid, 2 warps,
//   three MMAs a block, atomics into dQ);
// - compressed: delta, zeroed fp32 dK/dV of the summaries, _cmp_dkdv_kernel (one program per
//   (query head, 64 summaries) over the queries from the first that sees them, 64 a step, with
//   fp32 atomics), their bf16 casts, and _cmp_dq_kernel (128 queries over 32-key tiles, 8 warps).
// No host syncs; dQ arrives from the window branch's FA3 backward, so nothing zeroes it.
#include <algorithm>
#include <cmath>

#include "sim/flash_forward.hpp"
#include "sim/schedule_flash_nsa.hpp"
#include "sim/schedule_nsa.hpp"
#include "sim/schedule_project_latency.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

constexpr double kStepRows = 64;       // _dkdv_kernel / _cmp_dkdv_kernel: queries a step
constexpr double kDkdvKeys = 64;       // keys a dK/dV program holds (a block; 64 summaries)
constexpr double kSortChunk = 256;     // _reorder_bind: tokens a chunk
constexpr double kBindChunk = 512;     // _find_to_bind_kernel: index entries a program
constexpr double kCmpDqQueries = 128;  // _cmp_dq_kernel: BLOCK_N queries
constexpr double kCmpDqKeys = 32;      // and BLOCK_M summaries a tile
constexpr double kSectorBytes = 32;    // a scattered 4-byte store writes one sector

// Triton's power-of-two padding of the bitmap's sides (TK:903-906).
double padded(double x) {
  return std::max(8.0, next_pow2(x));
}

// One dK/dV step: 64 query rows (Q, dO, LSE, delta, and their token ids when gathered) against
// the `keys` keys the program holds, MMAs over d + dv.
void set_dkdv_step(const ScheduleInput& in, const Geometry& g, double keys, bool gathered,
                   Launch& l) {
  const double row_bytes = (g.d + g.dv) * g.s + 8 + (gathered ? 4 : 0);
  set_nsa_dkdv_step(in, {kStepRows, keys, g.d + g.dv, row_bytes}, l);
}

// The bitmap inversion: zeroed [KH, P2(NB), P2(N)] int32, the scatter of every (token, chosen
// block), and per block the 256-token chunks from its first token on, each read and sorted.
void push_index_inversion(const ScheduleInput& in, const Geometry& g, const FlashNsaSelection& sel,
                          Launches& out) {
  namespace lat = project_cuda;
  const double kv_heads = g.batch * g.kv_heads, tokens = g.rows;
  const double bitmap = kv_heads * padded(sel.blocks) * padded(tokens) * 4;
  out.push_back(flash_nsa_memory(in, "zero_block_bitmap", bitmap, kv_heads * sel.blocks));
  // Every (token, slot) index is read; the padding is dropped, so the valid ones are scattered.
  const double slots = kv_heads * tokens * sel.cap;
  const double valid = kv_heads * tokens * sel.mean_blocks;
  Launch bind =
      flash_nsa_memory(in, "bind_blocks", slots * 4 + valid * kSectorBytes, slots, kBindChunk);
  bind.host_jit_launches = 1;
  out.push_back(bind);
  const hw::ScheduleCalibration& support =
      support_calibration(in.profile, SupportKernel::elementwise, in.op);
  Launch reorder = flash_nsa_kernel(in, support, "reorder_blocks", 4);
  reorder.overhead_is_wait = false;
  reorder.jobs = summarize_blocks(sel.blocks, kv_heads, [&](double k) {
    return ceil_div(std::max(0.0, tokens - k * sel.block), kSortChunk);
  });
  reorder.dispatch = Dispatch::persistent_lpt;  // block 0, the longest, has the lowest index
  // A chunk: 1 KiB of the bitmap in; a bitonic tl.sort of 256 values (36 compare-exchange stages,
  // a compare and two selects an element each) and the non-zeros appended in place: the valid
  // (token, block) pairs, spread over the chunks. Every chunk is taken to hold one (it skips the
  // sort when empty: few are, as block 0 and the recent blocks are chosen by most tokens).
  const double stages = std::log2(kSortChunk) * (std::log2(kSortChunk) + 1) / 2;
  reorder.per_tile.hbm_bytes = kSortChunk * 4 + valid * 4 / std::max(1.0, reorder.jobs.total_tiles);
  reorder.per_tile.alu_ops = kSortChunk * stages * 3;
  reorder.per_tile.latency_cycles = lat::kGlobalLatencyCycles + stages * lat::kSharedLatencyCycles;
  out.push_back(reorder);
}

// _dkdv_kernel (SA:148-328): (batch, query head, block) programs, the block slowest (block 0,
// chosen by every token, starts first); ceil(count / 64) steps of gathered rows; 4 warps, 2
// stages; the gathered dots as mma.sync, as nsa_triton's entry was fitted.
Launch selected_dkdv(const ScheduleInput& in, const Geometry& g, const FlashNsaSelection& sel) {
  const double heads = g.batch * g.heads, kv_heads = g.batch * g.kv_heads, tokens = g.rows;
  Launch l = flash_nsa_kernel(in, in.calibration, "selected_dkdv", 4);
  l.mma_class = hw::MmaClass::mma_sync;
  const double kv_tile = sel.block * (g.d + g.dv) * g.s_kv;
  // 2 stages on Hopper at d <= 128, 1 otherwise (SA:594-597, AO:2194-2197).
  const FlashNsaBuild build = flash_nsa_build(in);
  const double stages = build.hopper && !build.wide_head ? 2 : 1;
  l.cta.smem_bytes = kv_tile + stages * kStepRows * (g.d + g.dv) * g.s;
  // Steps per (query head, block): its tokens 64 at a time, half a step of rounding per block.
  const double steps = kv_heads * tokens * sel.mean_blocks / kStepRows + sel.blocks * kv_heads / 2;
  l.jobs = {heads * sel.blocks, 1, ceil_div(tokens, kStepRows), steps * (heads / kv_heads)};
  l.dispatch = Dispatch::persistent_lpt;
  set_dkdv_step(in, g, sel.block, true, l);
  // K and V in, fp32 atomic adds of dK and dV (read and written) into the KV head's buffer: the G
  // query-head programs of a block are adjacent in the grid (SA:188-192) and share both in L2, so
  // HBM sees them once per block.
  l.per_job_hbm_bytes = (kv_tile + sel.block * (g.d + g.dv) * 4 * 2) / std::max(1.0, g.group);
  return l;
}

// _dq_kernel (SA:337-437): the forward's programs, 2 warps and 3 stages, three MMAs a block, and
// a 16-bit atomic add of the rows' dQ.
Launch selected_dq(const ScheduleInput& in, const Geometry& g, const FlashNsaSelection& sel) {
  // 3 stages at d <= 128, 2 above; 2 warps, but 4 on Ampere at d <= 128 (SA:659-662,
  // AO:2250-2253).
  const FlashNsaBuild build = flash_nsa_build(in);
  const bool ampere_narrow = !build.hopper && !build.wide_head;
  Launch l = flash_nsa_kernel(in, in.calibration, "selected_dq", ampere_narrow ? 4 : 2);
  l.mma_class = hw::MmaClass::mma_sync;
  const double kv_tile = sel.block * (g.d + g.dv) * g.s_kv;
  const double stages = build.wide_head ? 2 : 3;
  l.cta.smem_bytes = stages * kv_tile + sel.rows * (g.d + g.dv) * g.s;
  l.jobs = sel.jobs;
  const double scores = sel.rows * sel.block;
  l.per_tile.tensor_flops = 2 * scores * (2 * g.d + g.dv);
  l.per_tile.exp_ops = scores;
  l.per_tile.alu_ops = scores * kBwdAluPerScore;
  l.per_tile.sm_bytes = kv_tile + 4;
  // As in the forward, the programs in flight are consecutive tokens of one KV head.
  const models::HbmBytes& need = in.op.bytes;
  const double kv = need.k + need.v;
  const double one_head = kv / std::max(1.0, g.batch * g.kv_heads);
  l.per_tile.hbm_bytes = shared_read_bytes(kv, l.jobs.total_tiles * kv_tile, one_head, in.profile) /
                         std::max(1.0, l.jobs.total_tiles);
  // Q, dO, LSE and delta of the token's G heads in, their dQ added (read and written).
  l.per_job_hbm_bytes = sel.rows * ((g.d + g.dv) * g.s + 8) + sel.rows * g.d * g.s * 2;
  return l;
}

void lower_selected_backward(const ScheduleInput& in, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, false);
  const FlashNsaSelection sel = flash_nsa_selection(in);
  const double heads = g.batch * g.heads, tokens = g.rows;
  const double kv_rows = g.batch * g.kv_heads * tokens;
  // _dk.float(), _dv.float() (MG:152): the accumulators every branch adds into.
  Launch casts = flash_nsa_memory(in, "dkdv_to_fp32", kv_rows * (g.d + g.dv) * (g.s + 4), kv_rows);
  casts.launch_fixed_share = casts.host_launches = 2;
  out.push_back(casts);
  const models::HbmBytes& need = in.op.bytes;
  Launch delta =
      flash_nsa_memory(in, "delta", need.o + need.grad_out + heads * tokens * 4, heads * tokens);
  delta.host_jit_launches = 1;
  out.push_back(delta);
  push_index_inversion(in, g, sel, out);
  out.push_back(selected_dkdv(in, g, sel));
  out.push_back(selected_dq(in, g, sel));
}

// _cmp_dkdv_kernel (CA:194-376): (query head, 64 summaries, batch) programs, query heads
// fastest, so every head's longest program (the first summaries) starts first; steps from the
// first query that sees its first summary (64 m d + l - 1) to the end, masked throughout.
Launch compressed_dkdv(const ScheduleInput& in, const Geometry& g, double l_blk, double stride,
                       double summaries) {
  const double heads = g.batch * g.heads, tokens = g.rows;
  Launch l = flash_nsa_kernel(in, flash_nsa_wide_entry(in.profile, true), "compressed_dkdv", 4);
  const double kv_tile = kDkdvKeys * (g.d + g.dv) * g.s_kv;
  // 3 stages above d 128; at d <= 128 2 on Hopper, 1 on Ampere (CA:650-653, AO:636-639).
  const FlashNsaBuild build = flash_nsa_build(in);
  const double stages = build.wide_head ? 3 : build.hopper ? 2 : 1;
  l.cta.smem_bytes = kv_tile + stages * kStepRows * (g.d + g.dv) * g.s;
  l.jobs = summarize_blocks(ceil_div(summaries, kDkdvKeys), heads, [&](double m) {
    return ceil_div(std::max(0.0, tokens - (kDkdvKeys * m * stride + l_blk - 1)), kStepRows);
  });
  l.dispatch = Dispatch::persistent_lpt;
  set_dkdv_step(in, g, kDkdvKeys, false, l);
  // As in the selected dK/dV: the query heads of a KV head are adjacent (query heads fastest,
  // CA:654) and share the summaries' K/V and their fp32 dK/dV in L2.
  l.per_job_hbm_bytes = (kv_tile + kDkdvKeys * (g.d + g.dv) * 4 * 2) / std::max(1.0, g.group);
  return l;
}

// _cmp_dq_kernel (CA:386-528): the forward's programs over 32-key tiles, 8 warps, 3 stages, three
// MMAs a tile, an atomic add of dQ.
Launch compressed_dq(const ScheduleInput& in, const Geometry& g, double l_blk, double stride,
                     double summaries) {
  const double heads = g.batch * g.heads, tokens = g.rows;
  // Above d 128: 64 queries, 4 warps, 3 stages on both; at d <= 128 128 queries, with 8 warps and 3
  // stages on Hopper, 4 and 2 on Ampere (CA:701-704, AO:687-690).
  const FlashNsaBuild build = flash_nsa_build(in);
  const double queries = build.wide_head ? kCmpDqQueries / 2 : kCmpDqQueries;
  const double stages = !build.hopper && !build.wide_head ? 2 : 3;
  Launch l = flash_nsa_kernel(in, flash_nsa_wide_entry(in.profile, true), "compressed_dq",
                              build.hopper && !build.wide_head ? 8 : 4);
  const double kv_tile = kCmpDqKeys * (g.d + g.dv) * g.s_kv;
  l.cta.smem_bytes = queries * (g.d + g.dv) * g.s + stages * kv_tile;
  l.jobs = summarize_blocks(ceil_div(tokens, queries), heads, [&](double i) {
    const double end = std::floor((queries * i + queries - l_blk) / stride) + 1;
    return ceil_div(std::clamp(end, 0.0, summaries), kCmpDqKeys);
  });
  const double scores = queries * kCmpDqKeys;
  l.per_tile.tensor_flops = 2 * scores * (2 * g.d + g.dv);
  l.per_tile.exp_ops = scores;
  l.per_tile.alu_ops = scores * kBwdAluPerScore;
  l.per_tile.sm_bytes = kv_tile;
  const models::HbmBytes& need = in.op.bytes;
  const double kv = need.k + need.v;
  l.per_tile.hbm_bytes = shared_read_bytes(kv, l.jobs.total_tiles * kv_tile, kv, in.profile) /
                         std::max(1.0, l.jobs.total_tiles);
  l.per_job_hbm_bytes = queries * ((g.d + g.dv) * g.s + 8 + g.d * g.s * 2);
  return l;
}

void lower_compressed_backward(const ScheduleInput& in, Launches& out) {
  const models::AttentionShape& a = in.op.attention;
  const Geometry g = geometry(a, in.workload, false);
  const double heads = g.batch * g.heads, tokens = g.rows;
  const double l_blk = static_cast<double>(a.summaries.block);
  const double stride = static_cast<double>(a.summaries.stride);
  const double summaries = summary_count(a, tokens);
  const models::HbmBytes& need = in.op.bytes;
  Launch delta =
      flash_nsa_memory(in, "delta", need.o + need.grad_out + heads * tokens * 4, heads * tokens);
  delta.host_jit_launches = 1;
  out.push_back(delta);
  const double kv_rows = g.batch * g.kv_heads * summaries;
  Launch zero = flash_nsa_memory(in, "zero_dkdv", kv_rows * (g.d + g.dv) * 4, kv_rows);
  zero.launch_fixed_share = zero.host_launches = 2;
  out.push_back(zero);
  out.push_back(compressed_dkdv(in, g, l_blk, stride, summaries));
  Launch cast = flash_nsa_memory(in, "dkdv_to_16bit", kv_rows * (g.d + g.dv) * (4 + g.s), kv_rows);
  cast.launch_fixed_share = cast.host_launches = 2;
  out.push_back(cast);
  out.push_back(compressed_dq(in, g, l_blk, stride, summaries));
}

}  // namespace

void lower_flash_nsa_backward(const ScheduleInput& in, Launches& out) {
  if (flash_nsa_compressed_runs(in.op, in.workload)) {
    lower_compressed_backward(in, out);
  } else if (flash_nsa_selected_runs(in.op, in.workload)) {
    lower_selected_backward(in, out);
  } else {
    lower_flash_nsa_dense(in, true, out);
  }
}

}  // namespace sim
