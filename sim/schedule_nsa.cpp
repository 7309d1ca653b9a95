// nsa_triton: the Triton kernels of NSA's selected branch in
// github.com/XunhaoLai/native-sparse-attention-triton (commit 9bea856; read in
// validate/data/candidates/nsa_triton_notes.md, docs/kernels.md §11), and its compressed-branch
// forward (compressed_attention.py, below). Other attention ops (NSA's window branch, dense
// attention, a compressed branch in decode) are priced as FlashAttention-2 with the device's fa2
// entries, which the repository calls for its dense baseline.
//
// Forward (topk_sparse_attention.py, forward_kernel and _topk_sparse_attention_fwd):
// - two fills (o = zeros_like(q), lse = zeros) and the kernel;
// - one program per (batch, KV head, token): its rows are the G query heads of that token that
//   share the KV head, padded to a power of two of at least 16 (BLOCK_SIZE_H); from 32768 tokens
//   on, a program walks num_q_loop = N / 32768 + 1 tokens in turn;
// - per valid selected block, one tile of block_size keys: K and V (32 KiB at d 128) are loaded
//   from L2 through the SM (cp.async, two stages in flight), then Q K^T and P V (mma.sync);
//   blocks past the query (-1 or future) cost nothing.
// The tile waits on its index load and its K/V loads (an L2 round trip per 16-row tile: the
// kernel is L2-latency bound, not HBM- or tensor-bound); that wait is the calibration's
// tile_overhead_cycles, a wait co-resident programs fill.
#include "sim/schedule_nsa.hpp"

#include <algorithm>
#include <cmath>

#include "models/sparse_dynamic.hpp"
#include "sim/flash_forward.hpp"
#include "sim/schedules.hpp"

namespace sim {

void lower_as(const char* schedule, Lowering how, const ScheduleInput& in, Launches& out) {
  const ScheduleInfo& other = find_schedule(schedule);
  const bool backward = how == Lowering::backward;
  const ScheduleInput as{
      in.op,
      in.workload,
      in.profile,
      backward ? backward_calibration(in.profile, other) : forward_calibration(in.profile, other),
      other.name,
      in.options,
      other.mma_class};
  (how == Lowering::forward ? other.forward : backward ? other.backward : other.selection)(as, out);
}

double visited_blocks(double first, double last, double block, double cap) {
  // prefix(x) = sum over t in [0, x) of (floor(t / block) + 1).
  auto prefix = [block](double x) {
    const double q = std::floor(x / block), r = x - q * block;
    return block * q * (q + 1) / 2 + r * (q + 1);
  };
  const double saturated = (cap - 1) * block;  // from here on a query visits `cap` blocks
  const double end = last + 1;
  const double below = prefix(std::min(end, saturated)) - prefix(std::min(first, saturated));
  return below + cap * std::max(0.0, end - std::max(first, saturated));
}

namespace {

constexpr double kTokensPerProgramStep = 32768;  // num_q_loop = max_seqlen_q // 32768 + 1
// Shared memory of forward_kernel at d 128, block 64: two K/V stages (2 x 32 KiB), Q 4 KiB,
// P 2 KiB (71,680 B), and its registers per thread at 8 warps: 108 for sm_80, 142 for sm_90, in
// a triton 3.2.0 compile (nsa_triton_notes.md §1): two programs per SM on A100, one on Hopper.
// 8 warps: get_num_warps_stages at d 128 (utils.py) on Ampere, and on Hopper in the README's runs
// (before commit 5702c3d moved Hopper to 4 warps).
constexpr double kSelectThreads = 256;
constexpr double kSelectRegsAmpere = 108, kSelectRegsHopper = 142;

// The fills every forward wrapper of the repository launches first: o = zeros_like(q) and an
// fp32 lse (zeros, or -inf for the compressed kernel).
void push_output_fills(const ScheduleInput& in, const Geometry& g, Launches& out) {
  const double rows = g.batch * g.heads * g.rows;
  out.push_back(memory_launch(in, "zero_o", in.op.bytes.o, rows, 1024));
  out.push_back(memory_launch(in, "zero_lse", rows * 4, rows, 1024));
}

// compressed_attention.py forward_kernel: one program per (sequence, query head, 128 tokens), no
// GQA packing; rows start at token l - 1 (the first whole summary). Program i walks 128-key tiles
// of the summaries its last row sees, min(M, floor((128 i + 127) / d) + 1) of the M =
// floor((N - l) / d) + 1 summaries, every tile fully computed under a where-mask. 8 warps; 160
// KiB of shared memory at d 128 in a triton 3.2.0 compile, so one program per SM; Triton emits
// wgmma for its 128-row tiles on Hopper (nsa_triton_notes.md §3).
constexpr double kCmpTile = 128;

void lower_compressed_forward(const ScheduleInput& in, Launches& out) {
  const models::AttentionShape& a = in.op.attention;
  const Geometry g = geometry(a, in.workload, false);
  const double tokens = static_cast<double>(in.workload.q_len);
  const double d = static_cast<double>(a.summaries.stride);
  const double summaries = summary_count(a, tokens);
  const double blocks = ceil_div(tokens, kCmpTile);
  Launch k;
  k.name = "compressed_attention_fwd";
  k.schedule = in.name;
  k.calibration = &in.calibration;
  k.mma_class = hw::MmaClass::native;
  k.cta = {160 * 1024, 256, 0, 1};
  k.jobs = summarize_blocks(blocks, g.batch * g.heads, [&](double i) {
    const double seen = std::min(summaries, std::floor((kCmpTile * i + kCmpTile - 1) / d) + 1);
    return ceil_div(seen, kCmpTile);
  });
  const double scores = kCmpTile * kCmpTile;
  k.per_tile.tensor_flops = 2 * scores * 2 * triton_block_d(g);
  k.per_tile.exp_ops = scores + 3 * kCmpTile;
  k.per_tile.alu_ops = scores * kFwdAluPerScore + kCmpTile * g.dv;
  k.per_tile.sm_bytes = kCmpTile * (g.d + g.dv) * g.s_kv;  // a tile of summaries' K and V
  // The summaries' K and V are small (1/d of the tokens') and stay in L2 for every head.
  const models::HbmBytes& need = in.op.bytes;
  const double kv = need.k + need.v;
  k.per_tile.hbm_bytes =
      shared_read_bytes(kv, k.jobs.total_tiles * k.per_tile.sm_bytes, kv, in.profile) /
      std::max(1.0, k.jobs.total_tiles);
  k.per_job_hbm_bytes = (need.q + need.o + need.lse) / std::max(1.0, k.jobs.count);
  k.per_job_fixed_cycles = in.calibration.cta_overhead_cycles;
  k.overhead_is_wait = true;
  k.host_jit_launches = 1;  // a Triton kernel
  push_output_fills(in, g, out);
  out.push_back(k);
}

}  // namespace

// The kernels place query i at token i of its sequence (their causal rules compare a block with
// the query's index in the call), so they price a whole sequence: prefill or training, not a
// chunk after cached keys nor a decode step.
bool whole_sequence(const models::Workload& w) {
  return w.q_len == w.kv_len;
}

bool is_compressed_prefill(const models::Op& op, const models::Workload& w) {
  return op.attention.summaries.stride > 0 && one_head_dim(op.attention) && whole_sequence(w);
}

namespace {

// NSA's selection over a whole sequence: the query heads of one token share a KV head's chosen
// blocks. FSA's variant describes the same selection with 32 tokens batched per block (its own
// kernel's order); NSA's kernel runs it per token all the same (FSA's module calls it above 8
// query heads a KV head), so it is a token selection here too.
// Its block sizes: 32, 64, 128 or 256 keys (asserted by _topk_sparse_attention_fwd).
bool is_token_selection(const models::AttentionShape& a, const models::Workload& w) {
  const std::int64_t block = a.visits.block_keys;
  const bool kernel_block = block == 32 || block == 64 || block == 128 || block == 256;
  if (a.visits.blocks <= 0 || a.heads_kv <= 0) return false;
  const std::int64_t group = a.heads_q / a.heads_kv;
  const bool per_token =
      a.visits.row_group == group || a.visits.row_group == models::kFsaQueryBlock * group;
  return per_token && kernel_block && one_head_dim(a) && whole_sequence(w);
}

// FSA's extras: selection ops (no summaries) with FSA's 32-token row groups.
bool is_fsa_extra(const models::Op& op) {
  const models::AttentionShape& a = op.attention;
  return op.kind == models::OpKind::selection && a.summaries.stride == 0 && a.heads_kv > 0 &&
         a.visits.row_group == models::kFsaQueryBlock * (a.heads_q / a.heads_kv);
}

// nsa_triton's selection ops: NSA's block scores and top-k as nsa_triton_compressed prices them;
// FSA's extras (its statistics pre-pass, partials and indices) are work of FSA's own kernel that
// NSA's does not do, so they add nothing.
void lower_nsa_triton_selection(const ScheduleInput& in, Launches& out) {
  // Only where NSA's kernel runs the selected branch (lower_nsa_forward; fa2 prices it otherwise,
  // and FSA's extras are then the model's elementwise work).
  if (is_fsa_extra(in.op) && is_token_selection(in.op.attention, in.workload)) return;
  lower_nsa_selection_as_compressed(in, out);
}

// nsa_triton_compressed: the compressed branch's kernels, other ops as fa2.
void lower_compressed_only_forward(const ScheduleInput& in, Launches& out) {
  if (is_compressed_prefill(in.op, in.workload)) {
    lower_compressed_forward(in, out);
  } else {
    lower_as("fa2", Lowering::forward, in, out);
  }
}

void lower_compressed_only_backward(const ScheduleInput& in, Launches& out) {
  if (is_compressed_prefill(in.op, in.workload)) {
    lower_nsa_compressed_backward(in, out);
  } else {
    lower_as("fa2", Lowering::backward, in, out);
  }
}

}  // namespace

// nsa_triton: the selected branch's kernels, the compressed branch's with their own entries where
// the profile has them (a profile written before those entries prices that branch as fa2, and its
// block scores and top-k as elementwise work, as `auto` does there).
bool compressed_entry(const ScheduleInput& in, Lowering how) {
  const models::Pass pass =
      how == Lowering::backward ? models::Pass::backward : models::Pass::forward;
  return find_calibration(in.profile, find_schedule("nsa_triton_compressed"), pass) != nullptr;
}

namespace {

void lower_nsa_backward(const ScheduleInput& in, Launches& out) {
  if (is_token_selection(in.op.attention, in.workload)) {
    lower_nsa_selected_backward(in, nsa_selection(in), out);
  } else if (is_compressed_prefill(in.op, in.workload) &&
             compressed_entry(in, Lowering::backward)) {
    lower_as("nsa_triton_compressed", Lowering::backward, in, out);
  } else {
    lower_as("fa2", Lowering::backward, in, out);
  }
}

}  // namespace

void lower_nsa_selection_as_compressed(const ScheduleInput& in, Launches& out) {
  if (nsa_selection_runs(in.op, in.workload) && compressed_entry(in, Lowering::selection)) {
    lower_as("nsa_triton_compressed", Lowering::selection, in, out);
  } else {
    lower_selection_as_elementwise(in, out);
  }
}

namespace {

void lower_nsa_forward(const ScheduleInput& in, Launches& out) {
  const models::AttentionShape& a = in.op.attention;
  if (is_compressed_prefill(in.op, in.workload) && compressed_entry(in, Lowering::forward)) {
    lower_as("nsa_triton_compressed", Lowering::forward, in, out);
    return;
  }
  if (!is_token_selection(in.op.attention, in.workload)) {
    lower_as("fa2", Lowering::forward, in, out);
    return;
  }
  const Geometry g = geometry(a, in.workload, false);
  const NsaSelection sel = nsa_selection(in);
  const double tokens = g.rows, cap = sel.cap, block = sel.block, rows = sel.rows;

  Launch l;
  l.name = "selected_attention_fwd";
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = in.mma_class;
  const double kv_tile = block * (g.d + g.dv) * g.s_kv;
  // The register count of the compile for the device's architecture.
  l.cta = {2 * kv_tile + rows * (g.d * g.s + block * g.s), kSelectThreads,
           hopper_build(in.profile) ? kSelectRegsHopper : kSelectRegsAmpere, 0};
  l.jobs = sel.jobs;
  const double programs = sel.jobs.count;
  const double scores = rows * block;
  l.per_tile.tensor_flops = 2 * scores * 2 * triton_block_d(g);
  l.per_tile.exp_ops = scores + 3 * rows;  // P, and the running max / LSE updates
  l.per_tile.alu_ops = scores * kFwdAluPerScore + rows * g.dv;
  l.per_tile.sm_bytes = kv_tile;  // through L2: every program loads its blocks' K and V
  // Every K and V byte reaches HBM once; the chosen blocks are spread over the whole sequence,
  // so a re-read hits L2 only while all the K/V in flight (every KV head of every sequence:
  // the grid walks tokens with heads and sequences innermost) fits it.
  const models::HbmBytes& need = in.op.bytes;
  const double kv = need.k + need.v;
  l.per_tile.hbm_bytes = shared_read_bytes(kv, l.jobs.total_tiles * kv_tile, kv, in.profile) /
                         std::max(1.0, l.jobs.total_tiles);
  const double other = need.total() - (need.q + need.k + need.v + need.o + need.lse);
  // int32 block indices: the kernel loads next_pow2(top_k) per row; top_k of them count here.
  const double index_bytes = g.batch * g.kv_heads * tokens * cap * 4;
  l.per_job_hbm_bytes =
      (need.q + need.o + need.lse + std::max(0.0, other) + index_bytes) / programs;
  l.per_job_fixed_cycles = in.calibration.cta_overhead_cycles;
  l.overhead_is_wait = true;
  l.host_jit_launches = 1;  // a Triton kernel
  push_output_fills(in, g, out);
  out.push_back(l);
}

}  // namespace

NsaSelection nsa_selection(const ScheduleInput& in) {
  const models::AttentionShape& a = in.op.attention;
  const Geometry g = geometry(a, in.workload, false);
  NsaSelection sel;
  sel.rows = std::max(kMmaMinRows, next_pow2(g.heads / g.kv_heads));  // BLOCK_SIZE_H
  sel.block = static_cast<double>(a.visits.block_keys);
  sel.cap = static_cast<double>(a.visits.blocks);
  const double tokens = g.rows;
  const double first = g.keys - tokens;  // causal: query i sits at key position first + i
  sel.mean_blocks = g.causal ? visited_blocks(first, g.keys - 1, sel.block, sel.cap) / tokens
                             : std::min(sel.cap, ceil_div(g.keys, sel.block));
  const double per_program = std::floor(tokens / kTokensPerProgramStep) + 1;
  // The first token visits one block (causal); every program at most top_k per token.
  const double min_tiles = g.causal ? per_program : sel.mean_blocks * per_program;
  sel.jobs = {g.batch * g.kv_heads * ceil_div(tokens, per_program), min_tiles,
              sel.cap * per_program, g.batch * g.kv_heads * tokens * sel.mean_blocks};
  return sel;
}

namespace {

// The kernels are bf16/fp16 (mma.sync has no fp8 on Hopper); no decode step.
bool triton_attention(const models::Op& op, const models::Workload& w) {
  return op.kind == models::OpKind::dense_attention && w.phase != models::Phase::decode &&
         sixteen_bit(w);
}

}  // namespace

bool nsa_triton_runs(const models::Op& op, const models::Workload& w) {
  // FSA's variant: NSA's kernel where FSA's module calls it (more than 8 query heads a KV head).
  const models::AttentionShape& a = op.attention;
  const bool fsa = a.heads_kv > 0 && a.visits.row_group != a.heads_q / a.heads_kv;
  return triton_attention(op, w) && is_token_selection(op.attention, w) &&
         !(fsa && fsa_module_runs_kernel(a));
}

bool nsa_kernel_runs_fsa_extras(const models::Op& op, const models::Workload& w) {
  return is_fsa_extra(op) && !fsa_module_runs_kernel(op.attention) && sixteen_bit(w) &&
         w.phase != models::Phase::decode && is_token_selection(op.attention, w);
}

bool nsa_compressed_runs(const models::Op& op, const models::Workload& w) {
  return triton_attention(op, w) && is_compressed_prefill(op, w);
}

void add_nsa_schedules(std::vector<ScheduleInfo>& table) {
  table.push_back({"nsa_triton",
                   "NSA's selected branch as the Triton kernels of "
                   "XunhaoLai/native-sparse-attention-triton: one program per (token, KV head), "
                   "16-row tiles over the chosen 64-key blocks, and its compressed branch; other "
                   "ops as fa2",
                   lower_nsa_forward, lower_nsa_backward, nullptr, hw::MmaClass::mma_sync,
                   lower_nsa_triton_selection, hw::Caller::triton});
  // Its own entries: 128-row tiles through block pointers, not the selected kernels' gathered
  // 16-row ones, so the two fit apart.
  table.push_back({"nsa_triton_compressed",
                   "NSA's compressed branch as the Triton kernels of "
                   "XunhaoLai/native-sparse-attention-triton: one program per (query head, 128 "
                   "tokens) over 128-key tiles of the summaries, forward and backward, and its "
                   "block scores and top-k; other ops as fa2",
                   lower_compressed_only_forward, lower_compressed_only_backward, nullptr,
                   hw::MmaClass::native, lower_nsa_selection, hw::Caller::triton});
}

}  // namespace sim
