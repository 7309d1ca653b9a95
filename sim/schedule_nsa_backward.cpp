// nsa_triton's backward of NSA's selected branch: _topk_sparse_attention_bwd of
// github.com/XunhaoLai/native-sparse-attention-triton (commit 9bea856,
// native_sparse_attention/ops/triton/topk_sparse_attention.py; nsa_triton_notes.md §2), in its
// launch order:
// - delta = rowsum(dO o O) (backward_sum_o_do);
// - the index inversion: a per-(KV head) count of the tokens that chose each block
//   (count_kernel, one serial program per KV head over chunks of tokens), an argsort of the
//   indices by block, and about 30 small torch launches around them (cumsums, pads, copies);
// - dK/dV: one program per (query head, KV block) walking the tokens that chose the block, 64
//   gathered query rows at a time (backward_dkdv: four MMAs per step), into per-query-head
//   partial dK and dV buffers that are zeroed first and summed over the group after;
// - dQ: the forward's grid (one program per token and KV head, 16-row tiles), three MMAs per
//   chosen block (backward_dq).
// The four host syncs (.item()) between them are waits (Launch::host_waits): a per-launch caller
// (triton) pays the launches after each one in turn with the device.
//
// And the compressed branch's backward, _compressed_attention_bwd of compressed_attention.py
// (nsa_triton_notes.md §3): zeroed delta and backward_sum_o_do; zeroed per-query-head dK/dV
// partials, backward_dkdv, two sums over the group; zeroed dQ and backward_dq. Nine launches, no
// host syncs.
#include <algorithm>
#include <cmath>

#include "sim/flash_forward.hpp"
#include "sim/schedule_nsa.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

constexpr double kDkdvRows = 64;      // BLOCK_SIZE_Q of backward_dkdv
constexpr double kCountSlots = 4096;  // count_kernel: index slots per step (count_query)
// The wrapper's small torch launches around the index inversion (nsa_triton_notes.md §2).
constexpr double kBlockOffsetLaunches = 11;  // launches 3-13
constexpr double kCountOffsetLaunches = 6;   // launches 16-21
constexpr double kGatherLaunches = 5;        // fill, two gathers, sub, max (27-31)
constexpr double kCmpBlock = 128;  // compressed backward: BLOCK_SIZE_K of dkdv, BLOCK_SIZE_Q of dq
constexpr double kCmpDqKeys = 64;  // compressed backward_dq: BLOCK_SIZE_K

Launch nsa_launch(const ScheduleInput& in, const char* name) {
  Launch l;
  l.name = name;
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = hw::MmaClass::mma_sync;
  l.per_job_fixed_cycles = in.calibration.cta_overhead_cycles;
  l.overhead_is_wait = true;
  l.host_jit_launches = 1;  // each is one Triton kernel (with any torch launches before it)
  return l;
}

// One step of a dK/dV kernel (its jobs set): 64 query rows (Q and dO, with their LSE and delta)
// against the `keys` keys it holds, its MMAs at the padded depth BLOCK_SIZE_D.
void set_dkdv_step(const ScheduleInput& in, const Geometry& g, double keys, Launch& l) {
  set_nsa_dkdv_step(in, {kDkdvRows, keys, 2 * triton_block_d(g), (g.d + g.dv) * g.s + 8}, l);
}

// delta; the index inversion in the wrapper's order (nsa_triton_notes.md §2, launches 1-32): the
// block offsets, count_kernel (one serial program per KV head over chunks of
// next_pow2(4096 / next_pow2(top_k)) tokens), the count offsets, the padded copy of the indices,
// their argsort by block, the gathers and the copy without the padding, with the wrapper's four
// `.item()` waits where they fall.
void push_delta_and_inversion(const ScheduleInput& in, const Geometry& g, const NsaSelection& sel,
                              Launches& out) {
  const models::HbmBytes& need = in.op.bytes;
  const double tokens = g.rows, heads = g.batch * g.heads, kv_heads = g.batch * g.kv_heads;
  Launch delta =
      memory_launch(in, "delta", need.o + need.grad_out + heads * tokens * 4, heads * tokens, 256);
  delta.launch_fixed_share = delta.host_launches = 2;  // torch.zeros, backward_sum_o_do
  delta.host_jit_launches = 1;
  out.push_back(delta);
  // Sequence blocks (sub, div, ceil, cast, zeros, cumsum, cat, cast), then the longest one's
  // count (two subs, max), read by `.item()`.
  out.push_back(
      torch_launches(in, "block_offsets", kv_heads * 4096, kv_heads, kBlockOffsetLaunches, 0));
  const double width = next_pow2(sel.cap);  // the index row, padded
  const double chunk = next_pow2(kCountSlots / width);
  Launch count = nsa_launch(in, "count_blocks");
  count.cta = {0, 128, 0, 0};
  count.jobs = uniform_blocks(1, kv_heads, ceil_div(tokens, chunk));
  count.per_tile.hbm_bytes = chunk * width * 4;
  count.per_tile.alu_ops = chunk * width;
  count.launch_fixed_share = count.host_launches = 2;  // zeroed counts, count_kernel
  count.host_waits = 1;                                // after the first `.item()`
  out.push_back(count);
  // The counts' offsets (zeros, cumsum, cat, cast), then the longest index list (sub, max).
  out.push_back(
      torch_launches(in, "count_offsets", kv_heads * 4096, kv_heads, kCountOffsetLaunches, 0));
  push_reorder_indices(in, kv_heads * tokens, sel.cap, out);
}

// backward_dkdv: one program per (query head, block) walking the tokens that chose the block, 64
// gathered rows of Q and dO (with their LSE and delta) a step, four MMAs per step.
Launch dkdv_launch(const ScheduleInput& in, const Geometry& g, const NsaSelection& sel,
                   bool hopper) {
  const models::HbmBytes& need = in.op.bytes;
  const double tokens = g.rows, heads = g.batch * g.heads, kv_heads = g.batch * g.kv_heads;
  const double blocks = ceil_div(g.keys, sel.block);
  Launch dkdv = nsa_launch(in, "selected_dkdv");
  // sm_80 compile: 8 warps, 177 registers (one program per SM); Hopper: 4 warps
  // (get_num_warps_stages with one dimension above 64), registers not compiled.
  dkdv.cta = hopper ? CtaResources{82944, 128, 0, 0} : CtaResources{82944, 256, 177, 0};
  // Steps per (query head, block): the tokens that chose it, 64 at a time (half a step of
  // rounding per block); block 0, every query's first, is chosen by all of them.
  const double selections = kv_heads * tokens * sel.mean_blocks;
  const double steps = selections / kDkdvRows + blocks * kv_heads / 2;
  dkdv.jobs = {heads * blocks, 1, ceil_div(tokens, kDkdvRows), steps * (heads / kv_heads)};
  set_dkdv_step(in, g, sel.block, dkdv);
  const double partials = heads * tokens * (g.d + g.dv) * g.s;
  dkdv.per_job_hbm_bytes = (need.k + need.v + partials) / std::max(1.0, dkdv.jobs.count);
  return dkdv;
}

// backward_dq: the forward's programs and tiles, three MMAs per chosen block.
Launch dq_launch(const ScheduleInput& in, const Geometry& g, const NsaSelection& sel, bool hopper,
                 double dq_bytes) {
  const models::HbmBytes& need = in.op.bytes;
  Launch dq = nsa_launch(in, "selected_dq");
  // sm_80 compile: 8 warps, 97 registers; Hopper: 4 warps (get_num_warps_stages).
  dq.cta = hopper ? CtaResources{75776, 128, 0, 0} : CtaResources{75776, 256, 97, 0};
  dq.jobs = sel.jobs;
  dq.per_tile.tensor_flops = 2 * sel.rows * sel.block * 3 * triton_block_d(g);
  dq.per_tile.exp_ops = sel.rows * sel.block;
  dq.per_tile.alu_ops = sel.rows * sel.block * kBwdAluPerScore;
  dq.per_tile.sm_bytes = sel.block * (g.d + g.dv) * g.s_kv;
  const double kv = need.k + need.v;
  dq.per_tile.hbm_bytes =
      shared_read_bytes(kv, dq.jobs.total_tiles * dq.per_tile.sm_bytes, kv, in.profile) /
      std::max(1.0, dq.jobs.total_tiles);
  dq.per_job_hbm_bytes =
      (need.q + need.grad_out + need.lse + dq_bytes) / std::max(1.0, dq.jobs.count);
  return dq;
}

// compressed_attention.py's backward over the summary keys: l tokens every d, M of them.
struct Summaries {
  double l, d, count;
};

// backward_dkdv: one program per (sequence, query head, 128 summaries), K and V held, walking the
// queries from the first that sees its first summary (128 i d + l - 1) to the end, 64 a step,
// every step fully computed under the causal mask; dK and dV partials per query head.
Launch compressed_dkdv_launch(const ScheduleInput& in, const Geometry& g, const Summaries& m) {
  const double tokens = g.rows, heads = g.batch * g.heads;
  Launch dkdv = nsa_launch(in, "compressed_dkdv");
  dkdv.mma_class = hw::MmaClass::native;  // 128-row tiles: Triton emits wgmma on Hopper
  // 8 warps (get_num_warps_stages at d 128, block 128); sm_80 compile: 128 KiB of shared memory,
  // 255 registers (nsa_triton_notes.md §3): one program per SM.
  dkdv.cta = {128 * 1024, 256, 255, 0};
  dkdv.jobs = summarize_blocks(ceil_div(m.count, kCmpBlock), heads, [&](double i) {
    return ceil_div(std::max(0.0, tokens - (kCmpBlock * i * m.d + m.l - 1)), kDkdvRows);
  });
  // The grid's slowest axis is the summary block (grid (B, Hq, blocks)), so in-order dispatch
  // starts every head's longest program first and the shorter ones fill in after: longest first.
  dkdv.dispatch = Dispatch::persistent_lpt;
  set_dkdv_step(in, g, kCmpBlock, dkdv);
  // K and V of its summaries in, its query head's partial dK and dV out.
  const double kv_tile = kCmpBlock * (g.d + g.dv);
  dkdv.per_job_hbm_bytes = kv_tile * (g.s_kv + g.s);
  return dkdv;
}

// backward_dq: the forward's programs (128 tokens of one query head from token l - 1), 64-key
// tiles of the summaries the last row sees, three MMAs a tile.
Launch compressed_dq_launch(const ScheduleInput& in, const Geometry& g, const Summaries& m) {
  const models::HbmBytes& need = in.op.bytes;
  const double tokens = g.rows, heads = g.batch * g.heads;
  Launch dq = nsa_launch(in, "compressed_dq");
  dq.mma_class = hw::MmaClass::native;
  dq.cta = {128 * 1024, 256, 255, 0};  // sm_80 compile (nsa_triton_notes.md §3)
  const double programs = ceil_div(std::max(1.0, tokens - (m.l - 1)), kCmpBlock);
  dq.jobs = summarize_blocks(programs, heads, [&](double i) {
    const double seen = std::min(m.count, std::floor((kCmpBlock * i + kCmpBlock - 1) / m.d) + 1);
    return ceil_div(seen, kCmpDqKeys);
  });
  const double scores = kCmpBlock * kCmpDqKeys;
  dq.per_tile.tensor_flops = 2 * scores * 3 * triton_block_d(g);
  dq.per_tile.exp_ops = scores;
  dq.per_tile.alu_ops = scores * kBwdAluPerScore;
  dq.per_tile.sm_bytes = kCmpDqKeys * (g.d + g.dv) * g.s_kv;
  // The summaries' K and V are small (1/d of the tokens') and stay in L2 for every head.
  const double kv = need.k + need.v;
  dq.per_tile.hbm_bytes =
      shared_read_bytes(kv, dq.jobs.total_tiles * dq.per_tile.sm_bytes, kv, in.profile) /
      std::max(1.0, dq.jobs.total_tiles);
  // Q, dO, LSE and delta in, dQ out.
  dq.per_job_hbm_bytes = kCmpBlock * ((2 * g.d + g.dv) * g.s + 8);
  return dq;
}

}  // namespace

void set_nsa_dkdv_step(const ScheduleInput& in, const DkdvStep& step, Launch& l) {
  const double scores = step.rows * step.keys;
  l.per_tile.tensor_flops = 2 * scores * 2 * step.mma_width;
  l.per_tile.exp_ops = scores;
  l.per_tile.alu_ops = scores * kBwdAluPerScore;
  const double rows = step.rows * step.row_bytes;
  const double q_do = in.op.bytes.q + in.op.bytes.grad_out;
  l.per_tile.sm_bytes = rows;
  l.per_tile.hbm_bytes = shared_read_bytes(q_do, l.jobs.total_tiles * rows, q_do, in.profile) /
                         std::max(1.0, l.jobs.total_tiles);
}

void push_reorder_indices(const ScheduleInput& in, double kv_rows, double top_k, Launches& out) {
  // After the second `.item()`: the -1-filled (B, Hkv, longest, top_k) index buffer, and
  // pad_topk_idx_kernel copying the indices into it (the fill, a read and a write).
  const double padded = kv_rows * top_k * 4;
  Launch pad = torch_launches(in, "pad_indices", 3 * padded, kv_rows, 2, 1);
  pad.host_jit_launches = 1;
  out.push_back(pad);
  // Radix passes over the padded int32 keys and int64 values, each read and written; the division
  // by top_k, the cast, and the max of the longest query list that the third `.item()` reads.
  Launch sort =
      memory_launch(in, "argsort_indices", kv_rows * top_k * (4 + 8) * 2 * 4, kv_rows, 4096);
  sort.launch_fixed_share = sort.host_launches = 4;
  out.push_back(sort);
  // After it: the -1-filled query-index buffer, two gathers, a sub and a max, read by the fourth
  // `.item()`; then save_topk_idx_kernel copies the sorted indices without the padding.
  out.push_back(torch_launches(in, "index_gathers", padded, kv_rows, kGatherLaunches, 1));
  Launch save = torch_launches(in, "save_indices", 2 * padded, kv_rows, 1, 1);
  save.host_jit_launches = 1;
  out.push_back(save);
}

Launch nsa_selected_dkdv_launch(const ScheduleInput& in, const NsaSelection& sel) {
  const Geometry g = geometry(in.op.attention, in.workload, false);
  return dkdv_launch(in, g, sel, hopper_build(in.profile));
}

void lower_nsa_compressed_backward(const ScheduleInput& in, Launches& out) {
  const models::AttentionShape& a = in.op.attention;
  const Geometry g = geometry(a, in.workload, false);
  const double tokens = g.rows, heads = g.batch * g.heads;
  Summaries m{static_cast<double>(a.summaries.block), static_cast<double>(a.summaries.stride), 0};
  m.count = summary_count(a, tokens);
  const models::HbmBytes& need = in.op.bytes;
  // delta: zeroed, then rowsum(dO o O) (backward_sum_o_do).
  out.push_back(memory_launch(in, "zero_delta", heads * tokens * 4, heads * tokens, 1024));
  Launch delta =
      memory_launch(in, "delta", need.o + need.grad_out + heads * tokens * 4, heads * tokens, 256);
  delta.host_jit_launches = 1;
  out.push_back(delta);
  // Per-query-head dK and dV partials (two torch.zeros), written by backward_dkdv, summed over
  // the group (two sums).
  const double partial = heads * m.count * g.d * g.s;
  const double dk_dv = g.batch * g.kv_heads * m.count * (g.d + g.dv) * g.s;
  out.push_back(memory_launch(in, "zero_dk_partials", partial, heads * m.count, 1024));
  out.push_back(memory_launch(in, "zero_dv_partials", partial, heads * m.count, 1024));
  out.push_back(compressed_dkdv_launch(in, g, m));
  out.push_back(memory_launch(in, "sum_dk_partials", partial + dk_dv / 2, heads * m.count, 1024));
  out.push_back(memory_launch(in, "sum_dv_partials", partial + dk_dv / 2, heads * m.count, 1024));
  const double dq_bytes = heads * tokens * g.d * g.s;
  out.push_back(memory_launch(in, "zero_dq", dq_bytes, heads * tokens, 1024));
  out.push_back(compressed_dq_launch(in, g, m));
}

void lower_nsa_selected_backward(const ScheduleInput& in, const NsaSelection& sel, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, false);
  const bool hopper = hopper_build(in.profile);
  const double tokens = g.rows, heads = g.batch * g.heads;
  const double dq_bytes = heads * tokens * g.d * g.s;
  const double dk_dv_bytes = std::max(0.0, in.op.bytes.grad_in - dq_bytes);
  push_delta_and_inversion(in, g, sel, out);
  // Per-query-head dK/dV partials: zeroed, written by backward_dkdv, summed over the group.
  const double partials = heads * tokens * (g.d + g.dv) * g.s;
  Launch zero = memory_launch(in, "zero_dkdv_partials", partials, heads * tokens, 1024);
  zero.launch_fixed_share = zero.host_launches = 2;  // dK, dV
  out.push_back(zero);
  out.push_back(dkdv_launch(in, g, sel, hopper));
  Launch sum = memory_launch(in, "sum_dkdv_partials", partials + dk_dv_bytes, heads * tokens, 1024);
  sum.launch_fixed_share = sum.host_launches = 2;
  out.push_back(sum);
  out.push_back(memory_launch(in, "zero_dq", dq_bytes, heads * tokens, 1024));
  out.push_back(dq_launch(in, g, sel, hopper, dq_bytes));
}

}  // namespace sim
