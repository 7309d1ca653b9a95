// nsa_triton (sim/schedule_nsa.cpp): which ops its own kernels price, for `--kernel auto`.
#pragma once

#include "models/cost_model.hpp"
#include "models/workload.hpp"
#include "sim/schedule.hpp"
#include "sim/schedule_common.hpp"

namespace sim {

// True for the ops of a whole 16-bit sequence (prefill or training) that the Triton kernels of
// XunhaoLai/native-sparse-attention-triton run rather than fa2, forward and backward: NSA's
// selected branch (blocks chosen per token for the query heads of a KV head; nsa_triton's own
// entries) and its compressed branch (summary keys; nsa_triton_compressed's entries).
bool nsa_triton_runs(const models::Op& op, const models::Workload& w);
bool nsa_compressed_runs(const models::Op& op, const models::Workload& w);
// FSA's extras (selection ops) where auto runs FSA's selected branch with NSA's kernel (more than
// 8 query heads a KV head, as FSA's module does): that kernel does their work itself, so
// nsa_triton prices them as nothing.
bool nsa_kernel_runs_fsa_extras(const models::Op& op, const models::Workload& w);
// The same for NSA's block scores and top-k (selection ops) over a whole 16-bit sequence, which
// compressed_attention.py computes with its own kernels (sim/schedule_nsa_scores.cpp).
bool nsa_selection_runs(const models::Op& op, const models::Workload& w);
void lower_nsa_selection(const ScheduleInput& in, Launches& out);
// A selection op as elementwise work, with the device's elementwise entry (where no schedule's own
// kernels run it).
void lower_selection_as_elementwise(const ScheduleInput& in, Launches& out);

// The summary keys of a whole sequence of `tokens` (the compressed branch's l tokens every d):
// M = floor((N - l) / d) + 1, at least one.
double summary_count(const models::AttentionShape& a, double tokens);
// A selection op's sizes as the selection kernels of either repository see them (nsa_triton's,
// flash_nsa's): sequences, KV heads, the group, tokens, head_dim, element bytes and summaries.
struct SelectionSizes {
  double batch, kv_heads, group, tokens, d, s, summaries;
};
SelectionSizes selection_sizes(const ScheduleInput& in);

// Sum over query positions t in [first, last] of min(floor(t / block) + 1, cap): the selected
// blocks a causal query visits (its own block and every earlier one, at most top_k).
double visited_blocks(double first, double last, double block, double cap);

// The selected kernel's grid, shared by its forward and its dQ kernel: one program per (sequence,
// KV head, token) (num_q_loop tokens each from 32768 tokens on), BLOCK_SIZE_H rows, one tile per
// visited block.
struct NsaSelection {
  double rows = 16;        // BLOCK_SIZE_H: the group's query heads, padded
  double block = 64;       // keys per selected block
  double cap = 16;         // top_k
  double mean_blocks = 0;  // blocks a query visits, on average (causal: fewer early on)
  JobStats jobs;           // programs and their tiles
};
NsaSelection nsa_selection(const ScheduleInput& in);

// The repository's kernels take one head_dim for Q, K and V (the wrappers read it from each in
// turn) and compute their products at BLOCK_SIZE_D = next_pow2(head_dim), loading zero-padded
// tiles (topk_sparse_attention.py, compressed_attention.py): the depth and width of the MMAs they
// issue. Their bytes stay those of the real dims.
inline double triton_block_d(const Geometry& g) {
  return next_pow2(g.d);
}
// The repository's kernels are bf16/fp16 (mma.sync has no fp8 on Hopper).
inline bool sixteen_bit(const models::Workload& w) {
  return (w.dtype == models::DType::bf16 || w.dtype == models::DType::fp16) &&
         w.kv_dtype == w.dtype;
}
// The shapes they run: Q, K and V of one head_dim.
inline bool one_head_dim(const models::AttentionShape& a) {
  return a.head_dim == a.v_head_dim;
}

// The repository's Triton kernels compiled for Hopper (the profile lists wgmma), whose warps and
// registers differ from the sm_80 build's.
inline bool hopper_build(const hw::Profile& p) {
  return p.class_peak_flops(hw::MmaClass::wgmma, hw::Precision::bf16) > 0;
}

// Which lowering of another schedule an op takes.
enum class Lowering { forward, backward, selection };
// The op as another schedule lowers it, priced with that schedule's own entry for the pass (its
// forward entry for a selection op): fa2 (the dense baseline's kernel) for the ops the Triton
// kernels do not run, nsa_triton_compressed for the compressed branch under nsa_triton and
// fsa_triton.
void lower_as(const char* schedule, Lowering how, const ScheduleInput& in, Launches& out);
// Whether the profile has nsa_triton_compressed's entry for the lowering's pass (a profile written
// before those entries prices the compressed branch as fa2 and the selection as elementwise work).
bool compressed_entry(const ScheduleInput& in, Lowering how);
// NSA's whole-sequence selection over 32-256-key blocks (nsa_triton's kernels run it: the query
// heads of one token share a KV head's chosen blocks), and the forward fills of every wrapper.
bool whole_sequence(const models::Workload& w);
bool is_compressed_prefill(const models::Op& op, const models::Workload& w);
void lower_nsa_selection_as_compressed(const ScheduleInput& in, Launches& out);

// fsa_triton (sim/schedule_fsa.cpp): FSA's selected-branch forward kernels run the op (FSA's
// variant, a group of up to 8 query heads as FSA's module runs them, a whole 16-bit sequence); and
// FSA's extras (selection ops whose work those kernels do).
bool fsa_triton_runs(const models::Op& op, const models::Workload& w);
bool fsa_extra_runs(const models::Op& op, const models::Workload& w);
// FSA's module runs its own kernels for the group (up to 8 query heads a KV head), NSA's above:
// where auto runs fsa_triton.
bool fsa_module_runs_kernel(const models::AttentionShape& a);

// One step of an NSA dK/dV kernel (either repository's; its jobs set): `rows` query rows of
// `row_bytes` each (Q and dO, their LSE and delta, any token ids) against the `keys` keys the
// program holds, four MMAs (S, dP, dV += P^T dO, dK += dS^T Q) whose depths sum to 2 x
// `mma_width`. Re-reads of Q and dO across programs hit L2 while they fit it, else HBM.
struct DkdvStep {
  double rows = 0, keys = 0, mma_width = 0, row_bytes = 0;
};
void set_nsa_dkdv_step(const ScheduleInput& in, const DkdvStep& step, Launch& l);

// The selected branch's backward (sim/schedule_nsa_backward.cpp), and its dK/dV kernel alone
// (backward_dkdv, which FSA's backward runs too), priced with in.calibration.
Launch nsa_selected_dkdv_launch(const ScheduleInput& in, const NsaSelection& sel);
// The second half of its index inversion (reorder_topk_idx), which FSA's backward runs too: after
// the second `.item()` the padded copy of the (rows x top_k) indices, their argsort by block, and
// after the third and fourth the gathers and the copy without the padding.
void push_reorder_indices(const ScheduleInput& in, double kv_rows, double top_k, Launches& out);
void lower_nsa_selected_backward(const ScheduleInput& in, const NsaSelection& sel, Launches& out);
// The compressed branch's backward (sim/schedule_nsa_backward.cpp).
void lower_nsa_compressed_backward(const ScheduleInput& in, Launches& out);

}  // namespace sim
