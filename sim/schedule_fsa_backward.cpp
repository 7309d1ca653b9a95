// fsa_triton's backward of FSA's selected branch: _topk_sparse_attention_bwd_opt of
// github.com/Relaxed-System-Lab/Flash-Sparse-Attention (commit 1da34f3,
// fsa/ops/FSA_topk_sparse_attention.py; validate/data/candidates/fsa_selected_notes.md §2), in
// its launch order:
// - delta = rowsum(dO o O) (NSA's backward_sum_o_do), the block offsets and the counts (from the
//   forward's bincount);
// - NSA's index inversion for dK/dV (the padded copy of the indices, their argsort by block, the
//   gathers and the unpadded copy, with its three `.item()` reads), zeroed per-query-head dK/dV
//   partials, NSA's backward_dkdv kernel unchanged (priced with the device's nsa_triton_bwd entry)
//   and the two sums over the group;
// - dQ, FSA's own path, per sequence and query head: the tokens' ranks in their blocks
//   (index_mapping_kernel, rebuilt for every head), dq_compute_kernel for block 0 and for the
//   other blocks (one program per (block, 1024 chosen tokens), 128-token tiles of gathered Q and
//   dO rows, three products, the bf16 partial dQ stored per (block, rank)), then
//   dq_reduce_kernel (a warp per token summing its top-k partials);
// - 22 + 2 Hq host reads (slices bounded by device tensors, the partial buffer's shape, the
//   grids sized by device maxima, NSA's three `.item()`); the last two end the call and cost
//   nothing, so 20 + 2 Hq are priced.
#include <algorithm>
#include <cmath>
#include <string>

#include "sim/flash_forward.hpp"
#include "sim/schedule_fsa.hpp"
#include "sim/schedule_nsa.hpp"

namespace sim::fsa {

namespace {

constexpr double kOffsetLaunches = 15;  // cu_seqblocks (8), counts (1), offsets (4), sub, max
constexpr double kSliceWaits = 16;  // q, k, v, topk_idx, lse, delta, do, dq sliced by device bounds
constexpr double kGridLaunches = 3;  // max, cdiv (two ops): a grid sized by the longest list

// The dK/dV half: NSA's inversion, partials, kernel and sums.
void push_dkdv(const ScheduleInput& in, const Shape& x, Launches& out) {
  const models::HbmBytes& need = in.op.bytes;
  const double b = x.seqs, kv_rows = b * x.kv_heads * x.tokens, rows = b * x.heads * x.tokens;
  Launch delta = memory_launch(in, "delta", need.o + need.grad_out + rows * 4, rows, 256);
  delta.launch_fixed_share = delta.host_launches = 2;  // torch.zeros, backward_sum_o_do
  delta.host_jit_launches = 1;
  out.push_back(delta);
  out.push_back(torch_launches(in, "block_offsets", b * x.kv_heads * 4096, b * x.kv_heads,
                               kOffsetLaunches, 0));
  push_reorder_indices(in, kv_rows, x.top_k, out);   // NSA's, with its three `.item()`
  const double partials = rows * x.d * (x.s + x.s);  // dK and dV per query head
  Launch zero = memory_launch(in, "zero_dkdv_partials", partials, rows, 1024);
  zero.launch_fixed_share = zero.host_launches = 2;
  out.push_back(zero);
  // NSA's kernel, with the entry its repository's timings fitted where the device has it.
  const hw::ScheduleCalibration* nsa_bwd =
      find_calibration(in.profile, find_schedule("nsa_triton"), models::Pass::backward);
  const hw::ScheduleCalibration& calibration = nsa_bwd != nullptr ? *nsa_bwd : in.calibration;
  const ScheduleInput as{in.op,      in.workload,           in.profile, calibration, in.name,
                         in.options, hw::MmaClass::mma_sync};
  out.push_back(nsa_selected_dkdv_launch(as, nsa_selection(as)));
  const double dk_dv = b * x.kv_heads * x.tokens * x.d * (x.s_kv + x.s_kv);
  Launch sum = memory_launch(in, "sum_dkdv_partials", partials + dk_dv, rows, 1024);
  sum.launch_fixed_share = sum.host_launches = 2;
  out.push_back(sum);
}

// The dQ half: FSA's per-head, KV-block-outer kernels and their reduction.
void push_dq(const ScheduleInput& in, const Shape& x, Launches& out) {
  const double b = x.seqs, hq = b * x.heads, n = x.tokens;
  const double dq = hq * n * x.d * x.s;
  out.push_back(torch_launches(in, "zero_dq", dq, hq * n, 1, 0));  // once for the batch
  // Per sequence: two subs, the slices (sixteen bounds read back to back), the bf16 partial dQ of
  // block 0, the other blocks' (its shape read first, by the longest list) and the dense
  // (blocks x tokens) rank table.
  out.push_back(torch_launches(in, "dq_slices", 0, 1, 2 * b, 0));
  out.push_back(torch_launches(in, "dq_first_buffer", b * n * x.d * 2, b * n, b, b * kSliceWaits));
  const double rest = std::max(0.0, x.blocks - 1) * x.rest_max * x.d * 2 + x.blocks * n * 4;
  out.push_back(torch_launches(in, "dq_buffers", b * rest, b * n, 2 * b, b));
  // Per query head: the longest list's max and cdiv, then (after the host reads them for the
  // grid) index_mapping_kernel, rebuilt for every head; two debug fills.
  out.push_back(torch_launches(in, "dq_rank_grid", hq * 64, hq, hq * kGridLaunches, 0));
  Launch ranks = torch_launches(in, "dq_ranks", hq * x.selections * 8, hq * x.selections, hq, hq);
  ranks.host_jit_launches = hq;  // index_mapping_kernel
  out.push_back(ranks);
  out.push_back(torch_launches(in, "dq_debug_fills", hq * 1024, hq, 2 * hq, 0));
  // Per token: Q and dO gathered (rows 2), id, LSE, delta and rank (16 B), the bf16 partial dQ
  // and the debug store; 8 warps (4 on Hopper at d up to 64; fsa_selected_notes.md §2).
  const double row_bytes = 16 + x.d * 2 + 4;
  const double warps = hopper_build(in.profile) && x.d <= 64 ? 4 : 8;
  out.push_back(token_tiles(in, x,
                            {"dq_first_block", hq * x.first_programs(), hq * x.first_tiles(), 3, 2,
                             row_bytes, warps, hq, true}));
  // The other blocks' grid: the longest list's max and cdiv, read back before the kernel.
  out.push_back(torch_launches(in, "dq_rest_grid", hq * 64, hq, hq * kGridLaunches, 0));
  Launch other = token_tiles(in, x,
                             {"dq_other_blocks", hq * x.rest_programs(), hq * x.rest_tiles(), 3, 2,
                              row_bytes, warps, hq, true});
  other.host_waits = hq;
  out.push_back(other);
  // dq_reduce_kernel: per token its top-k indices, ranks and bf16 partials, its dQ row written.
  const double per_token = x.top_k * 4 + (x.selections / n) * (4 + x.d * 2) + x.d * x.s;
  Launch reduce = torch_launches(in, "dq_reduce", hq * n * per_token, hq * n, hq, 0);
  reduce.jobs = {hq * n, 0, 0, 0};
  reduce.per_job_hbm_bytes = reduce.max_job_hbm_bytes = per_token;
  reduce.cta.threads = 32;  // one warp a token
  reduce.per_job_fixed_cycles = 0;
  reduce.host_jit_launches = hq;
  out.push_back(reduce);
  // The copy back into the batch's dQ reads two slice bounds at the end: nothing follows them.
}

}  // namespace

void lower_selected_backward(const ScheduleInput& in, Launches& out) {
  const Shape x = shape(in);
  push_dkdv(in, x, out);
  push_dq(in, x, out);
}

}  // namespace sim::fsa
