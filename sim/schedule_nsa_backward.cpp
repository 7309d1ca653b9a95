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
// The four host syncs (.item()) between them are not priced.
#include <algorithm>
#include <cmath>

#include "sim/flash_forward.hpp"
#include "sim/schedule_nsa.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

constexpr double kDkdvRows = 64;            // BLOCK_SIZE_Q of backward_dkdv
constexpr double kCountSlots = 4096;        // count_kernel: index slots per step (count_query)
constexpr double kSmallTorchLaunches = 30;  // cumsums, pads, gathers, fills around the inversion

Launch nsa_launch(const ScheduleInput& in, const char* name) {
  Launch l;
  l.name = name;
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = hw::MmaClass::mma_sync;
  l.per_job_fixed_cycles = in.calibration.cta_overhead_cycles;
  l.overhead_is_wait = true;
  return l;
}

// delta; the index inversion: count_kernel (one serial program per KV head over chunks of
// next_pow2(4096 / next_pow2(top_k)) tokens), the argsort of the padded indices by block, and the
// small launches around them.
void push_delta_and_inversion(const ScheduleInput& in, const Geometry& g, const NsaSelection& sel,
                              Launches& out) {
  const models::HbmBytes& need = in.op.bytes;
  const double tokens = g.rows, heads = g.batch * g.heads, kv_heads = g.batch * g.kv_heads;
  out.push_back(
      memory_launch(in, "delta", need.o + need.grad_out + heads * tokens * 4, heads * tokens, 256));
  const double width = next_pow2(sel.cap);  // the index row, padded
  const double chunk = next_pow2(kCountSlots / width);
  Launch count = nsa_launch(in, "count_blocks");
  count.cta = {0, 128, 0, 0};
  count.jobs = uniform_blocks(1, kv_heads, ceil_div(tokens, chunk));
  count.per_tile.hbm_bytes = chunk * width * 4;
  count.per_tile.alu_ops = chunk * width;
  out.push_back(count);
  // Radix passes over int32 keys and int64 values, each read and written.
  out.push_back(memory_launch(in, "argsort_indices", kv_heads * tokens * width * (4 + 8) * 2 * 4,
                              kv_heads * tokens, 4096));
  // The small launches, as one that pays their launch costs (they move almost nothing).
  Launch small = memory_launch(in, "index_bookkeeping", kv_heads * 4096, kv_heads, 1);
  small.launch_fixed_share = kSmallTorchLaunches;
  out.push_back(small);
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
  const double scores = kDkdvRows * sel.block;
  dkdv.per_tile.tensor_flops = 2 * scores * 2 * (g.d + g.dv);
  dkdv.per_tile.exp_ops = scores;
  dkdv.per_tile.alu_ops = scores * kBwdAluPerScore;
  // Q and dO of all heads rarely fit L2: the gathered rows mostly come from HBM.
  const double gathered = kDkdvRows * (g.d + g.dv) * g.s + kDkdvRows * 8;
  const double q_do = need.q + need.grad_out;
  dkdv.per_tile.sm_bytes = gathered;
  dkdv.per_tile.hbm_bytes =
      shared_read_bytes(q_do, dkdv.jobs.total_tiles * gathered, q_do, in.profile) /
      std::max(1.0, dkdv.jobs.total_tiles);
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
  dq.per_tile.tensor_flops = 2 * sel.rows * sel.block * (2 * g.d + g.dv);
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

}  // namespace

void lower_nsa_selected_backward(const ScheduleInput& in, const NsaSelection& sel, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, false);
  const bool hopper = hopper_build(in.profile);
  const double tokens = g.rows, heads = g.batch * g.heads;
  const double dq_bytes = heads * tokens * g.d * g.s;
  const double dk_dv_bytes = std::max(0.0, in.op.bytes.grad_in - dq_bytes);
  push_delta_and_inversion(in, g, sel, out);
  // Per-query-head dK/dV partials: zeroed, written by backward_dkdv, summed over the group.
  const double partials = heads * tokens * (g.d + g.dv) * g.s;
  out.push_back(memory_launch(in, "zero_dkdv_partials", partials, heads * tokens, 1024));
  out.push_back(dkdv_launch(in, g, sel, hopper));
  out.push_back(
      memory_launch(in, "sum_dkdv_partials", partials + dk_dv_bytes, heads * tokens, 1024));
  out.push_back(memory_launch(in, "zero_dq", dq_bytes, heads * tokens, 1024));
  out.push_back(dq_launch(in, g, sel, hopper, dq_bytes));
}

}  // namespace sim
