// fsa_triton: Flash Sparse Attention's selected-branch forward as the Triton kernels of
// github.com/Relaxed-System-Lab/Flash-Sparse-Attention (commit 1da34f3,
// fsa/ops/FSA_topk_sparse_attention.py, _topk_sparse_attention_fwd_opt; read in
// validate/data/candidates/fsa_selected_notes.md, docs/kernels.md §11). The loop order is the
// opposite of NSA's kernel: KV block outer, the tokens that chose the block inner.
// Per sequence (the wrapper loops over sequences in Python):
// - setup: about 19 small torch launches and eleven fills (the outputs, three dense
//   (blocks x tokens) tables, the partial buffers), and per KV head a count of the tokens that
//   chose each block (a compaction and a bincount); the host reads device values 11 + 3 Hkv
//   times (slices bounded by device tensors, the compaction, bincount, buffer shapes);
// - per KV head: block_to_token_kernel scatters each token into a dense (blocks x tokens) table,
//   a compaction turns it into per-block token lists, index_mapping_kernel writes each token's
//   rank in its block's list, qk_kernel (the statistics pre-pass: Q K^T of the group's first
//   query head over every (block, 128 chosen tokens) tile, row maxima stored), a cummax over the
//   blocks, two broadcast copies and a fill that resets the dense tables; two host reads;
// - per query head (one head per launch: the group's heads are not stacked into the MMA rows):
//   forward_kernel_opt for block 0 (every token chose it), a host read of the longest list,
//   forward_kernel_opt for the other blocks (one program per (block, 1024 chosen tokens), K and
//   V loaded once, eight 128-token tiles of gathered Q rows, Q K^T and P V, the unnormalised
//   bf16 partial O and its row sum stored per (block, rank)), then reduce_kernel (one 1-warp
//   program per token merging its top-k partials);
// - the outputs copied into the batch's tensors (four host reads).
// The grids of qk_kernel and of the other blocks' forward_kernel_opt are sized by the longest
// list and the whole sequence, and their programs past a block's list return after two loads:
// only the working programs are priced. The backward is sim/schedule_fsa_backward.cpp. Priced
// with the profile's fsa_triton and fsa_triton_bwd entries (copied from nsa_triton_compressed's:
// the same repository lineage's 128-row Triton tiles; nothing is fitted on FSA timings).
#include <algorithm>
#include <cmath>

#include "models/sparse_dynamic.hpp"
#include "sim/flash_forward.hpp"
#include "sim/schedule_fsa.hpp"
#include "sim/schedule_nsa.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

// Torch launches and host reads of the wrapper (fsa_selected_notes.md §1a, §1b, §1c).
constexpr double kSetupLaunches = 17;            // slices' subs, counts, max, eleven fills
constexpr double kSetupWaits = 11;               // eight slice bounds, the partial buffers' shapes
constexpr double kCountLaunchesPerKvHead = 10;   // compare, compaction, bincount, copy
constexpr double kCountWaitsPerKvHead = 3;       // nonzero, bincount's min and max
constexpr double kListLaunchesPerKvHead = 11;    // compaction, cumsum, pad, max, cdiv
constexpr double kListWaitsPerKvHead = 1;        // nonzero (the grid's read: index_mapping)
constexpr double kGridLaunchesPerQueryHead = 3;  // max, cdiv: the other blocks' grid
constexpr double kCopyOutWaits = 4;              // o and lse slice bounds

}  // namespace

namespace fsa {

double Shape::first_programs() const {
  return ceil_div(tokens, kTokensPerProgram);
}
double Shape::first_tiles() const {
  return ceil_div(tokens, kTokenTile);
}
double Shape::rest_programs() const {
  return std::max(0.0, real_blocks - 1) * ceil_div(rest_len, kTokensPerProgram);
}
double Shape::rest_tiles() const {
  return std::max(0.0, real_blocks - 1) * ceil_div(rest_len, kTokenTile);
}

Shape shape(const ScheduleInput& in) {
  const models::AttentionShape& a = in.op.attention;
  const Geometry g = geometry(a, in.workload, false);
  const NsaSelection sel = nsa_selection(in);
  Shape x{};
  x.seqs = g.batch;
  x.tokens = g.rows;
  x.heads = g.heads;
  x.kv_heads = g.kv_heads;
  x.d = g.d;
  x.s = g.s;
  x.s_kv = g.s_kv;
  x.block = sel.block;
  x.top_k = sel.cap;
  x.real_blocks = ceil_div(x.tokens, x.block);
  x.blocks = std::max(x.real_blocks, sel.cap);
  x.selections = x.tokens * sel.mean_blocks;
  // Block 0 (the initial block) is every token's; the other blocks of the sequence share the
  // rest. The longest list is taken as twice the mean (an estimate: a token's own and previous
  // blocks are forced, and earlier blocks can be chosen by more tokens).
  x.rest_len = std::max(0.0, x.selections - x.tokens) / std::max(1.0, x.real_blocks - 1);
  x.rest_max = std::min(x.tokens, 2 * x.rest_len);
  return x;
}

Launch token_tiles(const ScheduleInput& in, const Shape& x, const TokenTiles& t) {
  Launch l;
  l.name = t.name;
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = in.mma_class;
  const double bd = next_pow2(x.d), scores = kTokenTile * x.block;
  const bool v = t.products > 1;  // the kernels past the pre-pass load the block's V too
  const double kv_tile = x.block * x.d * x.s_kv * (v ? 2 : 1);
  // Shared memory: the block's K (and V) and the rows of a 128-token tile per stage in flight
  // (an estimate, not a compile).
  l.cta = {kv_tile + 2 * t.rows * kTokenTile * x.d * x.s, 32 * t.warps, 0, 0};
  const double per_program = std::min(kTokensPerProgram / kTokenTile, std::max(1.0, t.tiles));
  l.jobs = {t.programs, 1, per_program, t.tiles};
  l.per_tile.tensor_flops = 2 * scores * bd * t.products;
  l.per_tile.exp_ops = t.softmax ? scores + kTokenTile : 0;
  // The causal mask and row max; the softmax's, and the backward's dS, per score.
  l.per_tile.alu_ops = scores * (!t.softmax       ? 2
                                 : t.products > 2 ? kBwdAluPerScore
                                                  : kFwdAluPerScore);
  // Each launch is one head: its gathered rows (re-read by every block its tokens chose) stay
  // in L2 while they fit; the tokens' ids, statistics and outputs stream.
  const double head_rows = t.rows * x.tokens * x.d * x.s;
  const double visited = t.tiles * kTokenTile * t.rows * x.d * x.s;
  const double row_reads =
      shared_read_bytes(head_rows * t.launches, visited, head_rows, in.profile);
  l.per_tile.hbm_bytes = row_reads / std::max(1.0, t.tiles) + kTokenTile * t.row_bytes;
  l.per_job_hbm_bytes = kv_tile;
  l.per_job_fixed_cycles = in.calibration.cta_overhead_cycles;
  l.overhead_is_wait = true;
  l.launch_fixed_share = t.launches;
  l.host_launches = l.host_jit_launches = t.launches;
  return l;
}

}  // namespace fsa

namespace {

void lower_fsa_selected_forward(const ScheduleInput& in, Launches& out) {
  const fsa::Shape x = fsa::shape(in);
  const double b = x.seqs, hkv = b * x.kv_heads, hq = b * x.heads;
  const double n = x.tokens, dense = x.blocks * n * 4;  // one int32/fp32 (blocks x tokens) table
  // Setup: o and lse, three dense tables, the partial O (bf16), row sums and scales (every block
  // but 0 times the longest list), the counts.
  const double partial_rows = n + std::max(0.0, x.blocks - 1) * x.rest_max;
  const double setup_bytes =
      b * (n * x.heads * (x.d * x.s + 4) + 3 * dense + partial_rows * (x.d * 2 + 8)) +
      hkv * x.selections * 4 * 3;
  out.push_back(torch_launches(in, "fsa_setup", setup_bytes, hq * n,
                               b * (kSetupLaunches + kCountLaunchesPerKvHead * x.kv_heads),
                               b * (kSetupWaits + kCountWaitsPerKvHead * x.kv_heads)));
  // Per KV head: the index inversion and the statistics pre-pass.
  // block_to_token_kernel, index_mapping_kernel and fused_fill_kernel (in running_max) are Triton
  // kernels.
  Launch to_token =
      torch_launches(in, "block_to_token", hkv * x.selections * 4 * 2, hkv * n, hkv, 0);
  to_token.host_jit_launches = hkv;
  out.push_back(to_token);
  out.push_back(torch_launches(in, "token_lists", hkv * (x.blocks * n * 6 + x.selections * 12),
                               hkv * n, hkv * kListLaunchesPerKvHead, hkv * kListWaitsPerKvHead));
  Launch mapping =
      torch_launches(in, "index_mapping", hkv * x.selections * 8, hkv * x.selections, hkv, hkv);
  mapping.host_jit_launches = hkv;
  out.push_back(mapping);
  // Token ids in, the row maxima scattered out (4 B each); 8 warps (fsa_selected_notes.md §1c).
  out.push_back(
      fsa::token_tiles(in, x,
                       {"stats_prepass", hkv * (x.first_programs() + x.rest_programs()),
                        hkv * (x.first_tiles() + x.rest_tiles()), 1, 1, 8, 8, hkv, false}));
  // cummax (values and int64 indices), two broadcast copies, the fill that resets two tables.
  Launch running_max = torch_launches(
      in, "running_max", hkv * (dense * 4 + dense + n * 4 + 2 * dense), hkv * n, hkv * 4, 0);
  running_max.host_jit_launches = hkv;
  out.push_back(running_max);
  // Per query head: block 0, the host read of the longest list, the other blocks, the merge.
  // Per token: id, two maxima, rank, row sum and scale (24 B) and the bf16 partial O.
  // 4 warps (§1c).
  const double row_bytes = 24 + x.d * 2;
  out.push_back(fsa::token_tiles(in, x,
                                 {"selected_first_block", hq * x.first_programs(),
                                  hq * x.first_tiles(), 2, 1, row_bytes, 4, hq, true}));
  // The other blocks' grid: the longest list's max and cdiv, read back before the kernel.
  out.push_back(torch_launches(in, "rest_grid", hq * 64, hq, hq * kGridLaunchesPerQueryHead, 0));
  Launch other = fsa::token_tiles(in, x,
                                  {"selected_other_blocks", hq * x.rest_programs(),
                                   hq * x.rest_tiles(), 2, 1, row_bytes, 4, hq, true});
  other.host_waits = hq;
  out.push_back(other);
  // reduce_kernel: per token its top-k indices, its partials (bf16 O, rank, maximum, row sum and
  // scale), its output row and LSE written.
  const double per_token = x.top_k * 4 + (x.selections / n) * (x.d * 2 + 16) + x.d * x.s * 2 + 8;
  Launch merge = torch_launches(in, "merge_partials", hq * n * per_token, hq * n, hq, 0);
  merge.jobs = {hq * n, 0, 0, 0};
  merge.per_job_hbm_bytes = per_token;
  merge.max_job_hbm_bytes = merge.per_job_hbm_bytes;
  merge.cta.threads = 32;  // one warp a token
  merge.per_job_fixed_cycles = 0;
  merge.host_jit_launches = hq;
  out.push_back(merge);
  out.push_back(torch_launches(in, "copy_out", 2 * b * n * x.heads * (x.d * x.s + 4), hq * n, 2 * b,
                               b * kCopyOutWaits));
}

// FSA's selected branch, or NSA's (the same algorithm: FSA runs NSA's selection): blocks chosen
// per token over a whole 16-bit sequence, 32-256 keys each, one head_dim a power of two
// (reduce_kernel loads whole rows).
bool is_fsa_selection(const models::AttentionShape& a, const models::Workload& w) {
  const std::int64_t block = a.visits.block_keys;
  const bool kernel_block = block == 32 || block == 64 || block == 128 || block == 256;
  if (a.visits.blocks <= 0 || a.heads_kv <= 0 || !kernel_block || !sixteen_bit(w)) return false;
  const std::int64_t group = a.heads_q / a.heads_kv;
  const bool selection =
      a.visits.row_group == group || a.visits.row_group == models::kFsaQueryBlock * group;
  return selection && one_head_dim(a) &&
         next_pow2(static_cast<double>(a.head_dim)) == static_cast<double>(a.head_dim) &&
         whole_sequence(w) && w.phase != models::Phase::decode;
}

void lower_fsa_backward(const ScheduleInput& in, Launches& out) {
  if (in.op.kind == models::OpKind::dense_attention &&
      is_fsa_selection(in.op.attention, in.workload)) {
    fsa::lower_selected_backward(in, out);
  } else if (is_compressed_prefill(in.op, in.workload) &&
             compressed_entry(in, Lowering::backward)) {
    lower_as("nsa_triton_compressed", Lowering::backward, in, out);
  } else {
    lower_as("fa2", Lowering::backward, in, out);
  }
}

void lower_fsa_forward(const ScheduleInput& in, Launches& out) {
  if (in.op.kind == models::OpKind::dense_attention &&
      is_fsa_selection(in.op.attention, in.workload)) {
    lower_fsa_selected_forward(in, out);
  } else if (is_compressed_prefill(in.op, in.workload) && compressed_entry(in, Lowering::forward)) {
    lower_as("nsa_triton_compressed", Lowering::forward, in, out);
  } else {
    lower_as("fa2", Lowering::forward, in, out);
  }
}

// FSA's own extras (the model's pre-pass, partials and indices): their work is in the selected
// branch's launches above, so they add none; NSA's block scores and top-k (FSA's module scores
// blocks with NSA's compressed attention) as nsa_triton_compressed prices them.
void lower_fsa_selection(const ScheduleInput& in, Launches& out) {
  if (fsa_extra_runs(in.op, in.workload)) return;
  lower_nsa_selection_as_compressed(in, out);
}

}  // namespace

bool fsa_module_runs_kernel(const models::AttentionShape& a) {
  // FSA's module runs its kernel for groups of up to 8 query heads, NSA's above
  // (fsa/module/fsa.py).
  return a.heads_kv > 0 && a.heads_q / a.heads_kv <= 8;
}

bool fsa_triton_runs(const models::Op& op, const models::Workload& w) {
  const models::AttentionShape& a = op.attention;
  if (op.kind != models::OpKind::dense_attention || a.heads_kv <= 0) return false;
  const std::int64_t group = a.heads_q / a.heads_kv;
  return a.visits.row_group == models::kFsaQueryBlock * group && fsa_module_runs_kernel(a) &&
         is_fsa_selection(a, w);
}

bool fsa_extra_runs(const models::Op& op, const models::Workload& w) {
  const models::AttentionShape& a = op.attention;
  return op.kind == models::OpKind::selection && a.summaries.stride == 0 && a.heads_kv > 0 &&
         a.visits.row_group == models::kFsaQueryBlock * (a.heads_q / a.heads_kv) &&
         is_fsa_selection(a, w);
}

void add_fsa_schedules(std::vector<ScheduleInfo>& table) {
  table.push_back(
      {"fsa_triton",
       "FSA's selected branch as the Triton kernels of "
       "Relaxed-System-Lab/Flash-Sparse-Attention: per query head, one program per "
       "(chosen KV block, 1024 tokens that chose it) over 128-token tiles, a "
       "statistics pre-pass and a merge of per-block partials, with the index "
       "bookkeeping and host reads around them, and its backward (NSA's dK/dV kernel, its "
       "own per-head dQ); its compressed branch "
       "and block selection as nsa_triton_compressed, other ops as fa2",
       lower_fsa_forward, lower_fsa_backward, nullptr, hw::MmaClass::native, lower_fsa_selection,
       hw::Caller::triton});
}

}  // namespace sim
