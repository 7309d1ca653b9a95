// NSA's block selection as compressed_attention.py of github.com/XunhaoLai/native-sparse-attention-
// triton (commit 9bea856) computes it when top_k > 0, after the compressed branch's attention
// (nsa_triton_notes.md §3, "Score + selection"), priced with the nsa_triton_compressed entry:
// - block_scores: the summaries' probabilities recomputed and summed over the G query heads of a
//   KV head (_get_attention_score: a zeroed fp32 score (Hkv, N, M), then score_kernel: one
//   program per (sequence and KV head, 128 tokens, 128 summaries) looping over the G heads, one
//   128 x 128 x d product, exp2 and a masked add per head; fully masked (future) tiles are
//   computed too), then the block scores (transform_score: a zeroed (Hkv, N, NB) buffer, a few
//   small torch launches for the pooling offsets, and _transform_score_kernel, which reads the
//   score tensor about once);
// - top_k_select: torch's topk over the NB block scores of each (KV head, token), a sort of the
//   chosen indices, the causal compare, the masked assignment and the int32 cast.
// The query blocks (a Python loop of arange per sequence, cat, floor division) are built once,
// first. Above 32768 tokens in all, the wrapper loops over the KV heads in Python and runs the
// rest of the chain per head (same work, Hkv times the launches), then concatenates the heads'
// indices. The host waits for the device (Launch::host_waits) where the wrapper reads a device
// value: each sequence's length (its arange), the 32768 check, and histc's bin count (once per KV
// head on the serial path; its upper edge, read right after, finds the device idle). Each torch
// call counts the launches ATen makes for it (topk's gather and in-place sort, or its multi-block
// radix select on long rows; sort's index fill, copy and in-place sort; histc's zeroed bins and
// histogram).
#include <algorithm>
#include <cmath>
#include <string_view>

#include "sim/flash_forward.hpp"
#include "sim/schedule_nsa.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

constexpr double kScoreTile = 128;         // score_kernel: BLOCK_SIZE_Q = BLOCK_SIZE_K
constexpr double kParallelTokens = 32768;  // parallel_topk_compute: total tokens up to here
// transform_score's offsets: arange, arange, add, then histc(offs, bins=offs.max() + 1,
// max=offs.max()) evaluates its arguments first (max, + 1, max).
constexpr double kPoolingLaunches = 6;
// histc reads its bin count from the device (a wait) and then its upper edge (the device is idle
// by then: no wait more; the copy's own host time is not priced), then launches its zeroed output
// and its histogram kernel (ATen's _histc_cuda_template).
constexpr double kPoolingWeightLaunches = 2;
// cat, // block size, and the `cu_seqlens_q[-1] <= 32768` compare that the Python `if` reads
// (plus a subtraction and an arange per sequence).
constexpr double kQueryIndexLaunches = 3;
// torch.topk(sorted=True): the single-block gather, then the in-place key/value sort of the k
// results (ATen cuda/TensorTopK.cpp, should_use_small_sort). Past 4000 slices of 400 or more
// (should_use_multiblock in ATen cuda/TensorTopK.cu, the CUB path) the multi-block radix select
// instead: a fill, two memsets, four 8-bit passes of three kernels (digit counts, their sums, the
// within-k counts), the k-th counts, two CUB scans by key (two kernels each) and the gather, each
// pass and the gather reading the scores; then the same in-place sort of the results.
constexpr double kTopKLaunches = 2;
constexpr double kMultiBlockTopKLaunches = 1 + 2 + 4 * 3 + 1 + 2 * 2 + 1 + 1;
constexpr double kMultiBlockTopKReads = 5;
constexpr double kMultiBlockSlices = 4000;
constexpr double kMultiBlockSliceSize = 400;
// Tensor.sort on k <= 4096 elements a slice: the index fill (arange, copy), the values' copy and
// the in-place bitonic sort (ATen cuda/Sort.cpp, sort_cuda_kernel's small-sort path).
constexpr double kSortLaunches = 4;
// torch.topk's single-block gather (ATen cuda/TensorTopK.cu gatherTopK with radixSelect of
// cuda/SortingRadixSelect.cuh): one block per slice with a thread per score (rounded up to whole
// warps), reading the slice once per pass through L1. radixSelect walks the scores' 32-bit keys two
// bits a pass (RADIX_BITS 2: up to 16 passes, fewer once the k-th value is alone in its digit,
// which the data decides), each pass a ballot and a popcount per radix digit for every score, a
// shared-memory sum and three block barriers; then two scans with block prefix sums write the k
// results. Integer compares and warp votes bind it, not bytes: SM cycles per score (per thread of
// the block) over the whole select, one figure for A100 and H100, whose SMs both issue 64 INT32
// lanes a cycle (NVIDIA's A100 and H100 whitepapers). Chosen with the score kernel's entries over
// a grid on the fitted `nsa-compressed-topk` rows of
// validate/data/measured/nsa_triton_compressed.csv (kv_len 8192 held out; this path runs from 2k to
// 16k tokens there); a count from the source (16 passes of about 40 integer and vote instructions a
// score, plus the block's sums and barriers, at 64 lanes a cycle) gives 10-20.
constexpr double kRadixSelectCyclesPerScore = 16;
constexpr double kMaskAndCastLaunches = 3;  // topk_idx > q_idx, masked assign, .to(int32)

struct SelectionShape : SelectionSizes {
  double blocks;  // NB = ceil(N / l')
  double top_k;
  double per_head_launches;  // 1, or the KV heads when the wrapper loops over them
};

SelectionShape selection_shape(const ScheduleInput& in) {
  const models::AttentionShape& a = in.op.attention;
  SelectionShape x{};
  static_cast<SelectionSizes&>(x) = selection_sizes(in);
  x.blocks = ceil_div(x.tokens, static_cast<double>(a.visits.block_keys));
  x.top_k = std::min(static_cast<double>(a.visits.blocks), x.blocks);  // topk = min(topk, NB)
  x.per_head_launches = x.batch * x.tokens > kParallelTokens ? x.kv_heads : 1;
  return x;
}

// The score kernel's own entry where the profile has one (sim::kNsaScoresEntry), the compressed
// kernels' forward entry otherwise.
const hw::ScheduleCalibration& score_calibration(const ScheduleInput& in) {
  const auto& entries = in.profile.calibration.schedules;
  const auto it = entries.find(std::string(kNsaScoresEntry));
  return it != entries.end() ? it->second : in.calibration;
}

// score_kernel: per program one K tile of 128 summaries, then per query head of the group its
// 128-token Q tile and LSE (re-read for every summary tile; all heads' Q rarely fits L2), one
// product, exp2 and a masked sum; the fp32 scores stored once. 8 warps; 96 KiB of shared memory
// and 255 registers in the sm_80 compile (nsa_triton_notes.md §3): one program per SM.
Launch score_launch(const ScheduleInput& in, const SelectionShape& x) {
  const hw::ScheduleCalibration& cal = score_calibration(in);
  Launch k;
  k.name = "block_scores";
  k.schedule = in.name;
  k.calibration = &cal;
  k.mma_class = hw::MmaClass::native;  // 128-row tiles: Triton emits wgmma on Hopper
  k.cta = {96 * 1024, 256, 255, 0};
  const double programs =
      x.batch * x.kv_heads * ceil_div(x.tokens, kScoreTile) * ceil_div(x.summaries, kScoreTile);
  k.jobs = uniform_blocks(programs, 1, x.group);
  const double scores = kScoreTile * kScoreTile;
  k.per_tile.tensor_flops = 2 * scores * next_pow2(x.d);  // BLOCK_SIZE_D
  k.per_tile.exp_ops = scores;
  k.per_tile.alu_ops = scores * 3;  // scale and subtract, the causal select, the sum
  const double q_tile = kScoreTile * (x.d * x.s + 4);
  k.per_tile.sm_bytes = q_tile;
  const double q_all = x.batch * x.kv_heads * x.group * x.tokens * (x.d * x.s + 4);
  k.per_tile.hbm_bytes = shared_read_bytes(q_all, k.jobs.total_tiles * q_tile, q_all, in.profile) /
                         std::max(1.0, k.jobs.total_tiles);
  k.per_job_hbm_bytes = kScoreTile * x.d * x.s + scores * 4;  // its K tile in, the scores out
  k.per_job_fixed_cycles = cal.cta_overhead_cycles;
  k.overhead_is_wait = true;
  k.launch_fixed_share = x.per_head_launches;
  k.host_launches = k.host_jit_launches = x.per_head_launches;
  return k;
}

void lower_block_scores(const ScheduleInput& in, const SelectionShape& x, Launches& out) {
  const double rows = x.batch * x.kv_heads * x.tokens;
  const double score_bytes = rows * x.summaries * 4;
  const double block_bytes = rows * x.blocks * 4;
  const double n = x.per_head_launches;
  // Per sequence a subtraction of two offsets and an arange after reading its result from the
  // device; then the cat, the division and the token-count compare.
  out.push_back(torch_launches(in, "query_blocks", x.batch * x.tokens * 8 * 3, x.batch * x.tokens,
                               2 * x.batch + kQueryIndexLaunches, x.batch));
  // The Python `if` on the token count waits before the chain goes on.
  out.push_back(torch_launches(in, "zero_scores", score_bytes, rows, n, 1));
  out.push_back(score_launch(in, x));
  out.push_back(torch_launches(in, "zero_block_scores", block_bytes, rows, n));
  out.push_back(torch_launches(in, "pooling_offsets", 4096, 1, kPoolingLaunches * n));
  // histc, after the host reads its bin count (offs.max() + 1) and upper edge (offs.max()).
  out.push_back(torch_launches(in, "pooling_weights", 4096, 1, kPoolingWeightLaunches * n, n));
  // _transform_score_kernel, a Triton kernel.
  Launch pool = torch_launches(in, "pool_block_scores", score_bytes + block_bytes, rows, n);
  pool.host_jit_launches = n;
  out.push_back(pool);
}

// The single-block torch.topk over `rows` slices (see kRadixSelectCyclesPerScore), with the
// in-place sort of its results among its launches. An ATen kernel: the elementwise support entry
// (no tile overhead), its blocks' own fixed work counted in the cycles per score.
Launch radix_select_launch(const ScheduleInput& in, const SelectionShape& x, double rows,
                           double bytes, double launches) {
  Launch k;
  k.name = "top_k";
  k.schedule = in.name;
  k.calibration = &support_calibration(in.profile, SupportKernel::elementwise, in.op);
  // A thread per score in whole warps; past 1024 scores each thread takes several.
  const double lanes = ceil_div(x.blocks, 32) * 32;
  k.cta = {0, std::min(1024.0, lanes), 0, 0};
  k.jobs = uniform_blocks(rows, 1, 1);
  k.per_tile.int_cycles = lanes * kRadixSelectCyclesPerScore;
  k.per_tile.hbm_bytes = bytes / std::max(1.0, rows);
  k.launch_fixed_share = k.host_launches = launches;
  return k;
}

// torch.topk over each row's NB scores (read once; values and int64 indices written, then sorted
// in place: read and written again), the sort of the k indices (the index fill, the keys' copy,
// the in-place sort of keys and indices), then the compare, masked assignment and cast over the
// k indices.
void lower_top_k(const ScheduleInput& in, const SelectionShape& x, Launches& out) {
  const double rows = x.batch * x.kv_heads * x.tokens;
  const double n = x.per_head_launches;
  const bool multi_block = rows / n > kMultiBlockSlices && x.blocks >= kMultiBlockSliceSize;
  const double reads = multi_block ? kMultiBlockTopKReads : 1;
  const double top_k_bytes = rows * (x.blocks * 4 * reads + x.top_k * 12 * 3);
  if (multi_block) {
    out.push_back(torch_launches(in, "top_k", top_k_bytes, rows, kMultiBlockTopKLaunches * n));
  } else {
    out.push_back(radix_select_launch(in, x, rows, top_k_bytes, kTopKLaunches * n));
  }
  out.push_back(torch_launches(in, "sort_top_k", rows * x.top_k * (8 + 8 * 2 + 8 * 4), rows,
                               kSortLaunches * n));
  out.push_back(torch_launches(in, "mask_and_cast", rows * x.top_k * (8 + 1 + 8 + 4), rows,
                               kMaskAndCastLaunches * n));
  if (n > 1) out.push_back(torch_launches(in, "concat_heads", rows * x.top_k * 4 * 2, rows, 1));
}

}  // namespace

double summary_count(const models::AttentionShape& a, double tokens) {
  const double l = static_cast<double>(a.summaries.block);
  const double stride = static_cast<double>(a.summaries.stride);
  return std::max(1.0, std::floor((tokens - l) / stride) + 1);
}

SelectionSizes selection_sizes(const ScheduleInput& in) {
  const models::AttentionShape& a = in.op.attention;
  SelectionSizes x{};
  x.batch = static_cast<double>(a.batch);
  x.kv_heads = static_cast<double>(a.heads_kv);
  x.group = static_cast<double>(a.heads_q / a.heads_kv);
  x.tokens = static_cast<double>(a.q_len);
  x.d = static_cast<double>(a.head_dim);
  x.s = bytes_per_element(in.workload.dtype);
  x.summaries = summary_count(a, x.tokens);
  return x;
}

void lower_selection_as_elementwise(const ScheduleInput& in, Launches& out) {
  lower_elementwise({in.op, in.workload, in.profile,
                     support_calibration(in.profile, SupportKernel::elementwise, in.op),
                     support_schedule_name(SupportKernel::elementwise)},
                    out);
}

bool nsa_selection_runs(const models::Op& op, const models::Workload& w) {
  const models::AttentionShape& a = op.attention;
  return op.kind == models::OpKind::selection && a.summaries.stride > 0 && a.heads_kv > 0 &&
         a.visits.blocks > 0 && one_head_dim(a) && w.phase != models::Phase::decode &&
         w.q_len == w.kv_len && sixteen_bit(w);
}

void lower_nsa_selection(const ScheduleInput& in, Launches& out) {
  if (!nsa_selection_runs(in.op, in.workload)) {
    // A decode step's or a chunk's selection: the elementwise kernel, with its own entry.
    lower_selection_as_elementwise(in, out);
    return;
  }
  const SelectionShape x = selection_shape(in);
  if (std::string_view(in.op.name) == "top_k_select") {
    lower_top_k(in, x, out);
  } else {
    lower_block_scores(in, x, out);
  }
}

}  // namespace sim
