// flash_nsa's block selection (sim/schedule_flash_nsa.hpp): NSA's block scores and top-k as the
// Hopper Triton kernels of github.com/mdy666/Scalable-Flash-Native-Sparse-Attention compute them
// (commit fcf117c, flash_nsa/ops/topk.py; flash_nsa_notes.md §1b, line numbers there): for kernel
// 32, stride 16, block 64, a zeroed fp16 probabilities buffer, _slc_probs_kernel (the
// probabilities recomputed over the group's heads and pooled into blocks) and _topk_kernel (an
// argmax loop); for other shapes the general path (_attn_probs_kernel, then a pooling and argmax
// kernel).
#include <algorithm>
#include <cmath>
#include <string_view>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/schedule_flash_nsa.hpp"
#include "sim/schedule_nsa.hpp"
#include "sim/schedule_project_latency.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

constexpr double kProbsKeys = 128;  // _slc_probs_kernel: BLOCK_M summaries (Ampere: 64 at d <= 128)
constexpr double kProbsQueries = 64;    // and BLOCK_N queries
constexpr double kTopKRows = 4;         // _topk_kernel: BLOCK_N rows (1 from 2048 blocks)
constexpr double kGeneralTopKRows = 8;  // the general path's: BLOCK_N 8 (4 from 1024)
constexpr double kForcedBlocks = 3;     // slots written before the argmax: 1 init, 2 local

// The shapes its selection kernels are specialised for (TK:684-685): kernel 32, stride 16,
// block 64; others take the general path.
bool efficient_selection(const models::AttentionShape& a) {
  return a.summaries.block == 32 && a.summaries.stride == 16 && a.visits.block_keys == 64;
}

// The selection's sizes: tokens, the group, summaries and the padded block columns.
struct Selection : SelectionSizes {
  double columns;      // of the probabilities buffer: blocks (efficient) or summaries (general)
  double block_width;  // BLOCK_K of the top-k kernels: the blocks, padded (TK:526-534, 735-746)
  double mean_passes;  // argmax passes a row runs, on average
  double l, stride, block;
};

Selection selection_of(const ScheduleInput& in) {
  const models::AttentionShape& a = in.op.attention;
  Selection x{};
  static_cast<SelectionSizes&>(x) = selection_sizes(in);
  x.l = static_cast<double>(a.summaries.block);
  x.stride = static_cast<double>(a.summaries.stride);
  x.block = static_cast<double>(a.visits.block_keys);
  const double blocks = std::max(8.0, next_pow2(ceil_div(x.tokens, x.block)));
  x.columns = efficient_selection(a) ? blocks : next_pow2(x.summaries);
  x.block_width = std::max(16.0, blocks);
  // Each program's rows pick min(top_n, t / block + 1) blocks, the first three (init, local)
  // without a pass (TK:408-425).
  const double cap = static_cast<double>(a.visits.blocks);
  const double last = x.tokens - 1;
  x.mean_passes = (visited_blocks(0, last, x.block, cap) -
                   visited_blocks(0, last, x.block, std::min(cap, kForcedBlocks))) /
                  std::max(1.0, x.tokens);
  return x;
}

// _slc_probs_kernel (TK:227-346), or the general path's _attn_probs_kernel (TK:19-112): per
// program a K tile of 128 summaries (and, efficient, a quarter as many left neighbours) held, then
// per query head of the group a 64-token Q tile, one product, exp2 and a sum; the pooled (or,
// general, the summed) probabilities stored in fp16 into a zeroed buffer. Programs wholly in the
// future return first (counted as nothing). 4 warps; the Ampere build's efficient kernel takes 64
// summaries a program at d <= 128 (AO:1189-1192).
void lower_block_probabilities(const ScheduleInput& in, const Selection& x, bool efficient,
                               Launches& out) {
  const double rows = x.batch * x.kv_heads * x.tokens;
  out.push_back(flash_nsa_memory(in, "zero_block_probs", rows * x.columns * 2, rows));
  Launch k = flash_nsa_kernel(in, flash_nsa_wide_entry(in.profile, false), "block_probs", 4);
  const FlashNsaBuild build = flash_nsa_build(in);
  const bool ampere = !build.hopper;
  const double keys = efficient && ampere && !build.wide_head ? kProbsKeys / 2 : kProbsKeys;
  // 2 stages above d 128; the general kernel takes 2 on Hopper at every d (TK:701-704,
  // AO:1349-1352, TK:539-542).
  const double stages = build.wide_head || (!efficient && !ampere) ? 2 : 3;
  const double left = efficient ? keys / 4 : 0;
  // K and the shifted left tile (read whole, a quarter kept), and the Q tiles in flight.
  k.cta.smem_bytes = (efficient ? 2 : 1) * keys * x.d * x.s + stages * kProbsQueries * x.d * x.s;
  // Live programs of query tile i: summary tiles j with keys j / 4 <= i + 1 (the efficient skip,
  // TK:277-278, AO:996), or whose first summary ends by the tile's last token,
  // keys j d + l <= 64 (i + 1) (the general one, TK:68).
  const double key_tiles = ceil_div(x.summaries, keys);
  JobStats live =
      summarize_blocks(ceil_div(x.tokens, kProbsQueries), x.batch * x.kv_heads, [&](double i) {
        const double end = kProbsQueries * (i + 1);
        const double seen = efficient   ? std::floor((i + 1) / (keys / 4)) + 1
                            : end < x.l ? 0
                                        : std::floor((end - x.l) / (keys * x.stride)) + 1;
        return std::min(key_tiles, seen);
      });
  k.jobs = {live.total_tiles, x.group, x.group, live.total_tiles * x.group};
  const double scores = kProbsQueries * (keys + left);
  k.per_tile.tensor_flops = 2 * scores * x.d;
  k.per_tile.exp_ops = scores;
  k.per_tile.alu_ops = scores * 3;  // scale and subtract, the causal select, the sum
  // Q (and LSE) of a query tile is re-read by every live summary tile of it; the grid's order
  // (KV heads fastest, then summary tiles, query tiles slowest: TK:544) runs them together, so a
  // re-read hits L2 while a couple of query tiles' Q of every head fit it. The summaries' K tiles
  // are small (1/16 of the tokens') and stay in L2 for every query tile.
  const double q_tile = kProbsQueries * (x.d * x.s + 4);
  k.per_tile.sm_bytes = q_tile;
  const double q_all = rows * x.group * (x.d * x.s + 4);
  const double q_in_flight = 2 * x.batch * x.kv_heads * x.group * q_tile;
  k.per_tile.hbm_bytes =
      shared_read_bytes(q_all, k.jobs.total_tiles * q_tile, q_in_flight, in.profile) /
      std::max(1.0, k.jobs.total_tiles);
  const double k_tile = (efficient ? 2 : 1) * keys * x.d * x.s;  // the left rows: a whole tile read
  const double k_all = x.batch * x.kv_heads * x.summaries * x.d * x.s;
  const double stored = kProbsQueries * (efficient ? keys / 4 : keys) * 2;
  k.per_job_hbm_bytes = shared_read_bytes(k_all, k.jobs.count * k_tile, k_all, in.profile) /
                            std::max(1.0, k.jobs.count) +
                        stored;
  out.push_back(k);
}

// torch.full of the int32 index rows (top_n a row), then _topk_kernel (TK:354-425; the general
// path's _slc_probs_topk_kernel pools each row's summed probabilities into blocks first): per
// program 4 rows of the padded fp16 probabilities in, the init and local blocks written, then up
// to top_n - 3 argmax passes (13 for NSA's 16; fewer for the first tokens, which see fewer
// blocks), each a 5-step warp reduction followed by the where-mask, and the indices out.
void lower_top_k(const ScheduleInput& in, const Selection& x, bool efficient, Launches& out) {
  namespace lat = project_cuda;
  const double rows = x.batch * x.kv_heads * x.tokens;
  const double slots = static_cast<double>(in.op.attention.visits.blocks);
  out.push_back(flash_nsa_memory(in, "fill_top_k", rows * slots * 4, rows));
  const double width = x.block_width;
  const double per_program =
      efficient ? (width >= 2048 ? 1 : kTopKRows) : (width >= 1024 ? kTopKRows : kGeneralTopKRows);
  const double warps = efficient ? (width > 4096 ? 4 : 1) : 4;
  Launch k = flash_nsa_kernel(
      in, support_calibration(in.profile, SupportKernel::elementwise, in.op), "top_k", warps);
  k.overhead_is_wait = false;
  k.cta.smem_bytes = per_program * std::max(width, x.columns) * 2;
  k.jobs = uniform_blocks(ceil_div(x.tokens, per_program), x.batch * x.kv_heads, 1);
  // Per element and pass: a compare and a select in the argmax, the where-mask after it; the
  // general path first pools its summary columns into the blocks (a load and an add each).
  k.per_tile.alu_ops =
      per_program * (width * (x.mean_passes * 3 + 1) + (efficient ? 0 : x.columns * 2));
  k.per_tile.hbm_bytes = per_program * (x.columns * 2 + slots * 4);
  // The load, then per pass the reduction's five shuffles and the mask's dependent step.
  k.per_tile.latency_cycles =
      lat::kGlobalLatencyCycles + x.mean_passes * 6 * lat::kSharedLatencyCycles;
  out.push_back(k);
}

}  // namespace

void lower_flash_nsa_selection(const ScheduleInput& in, Launches& out) {
  // A whole 16-bit sequence's selection (Q and K may differ from V in width: the probabilities
  // read only Q and K); a decode step's or a chunk's is elementwise work.
  const models::AttentionShape& a = in.op.attention;
  const models::Workload& w = in.workload;
  const bool runs = a.summaries.stride > 0 && a.heads_kv > 0 && a.visits.blocks > 0 &&
                    flash_nsa_splits_head_dim(a.head_dim) && whole_sequence(w) && sixteen_bit(w) &&
                    w.phase != models::Phase::decode;
  if (!runs) {
    lower_selection_as_elementwise(in, out);
    return;
  }
  // NSAConfig's asserts (CF:48-52): the selection block covers whole summaries.
  if (a.visits.block_keys < a.summaries.block || a.visits.block_keys % a.summaries.stride != 0) {
    throw common::KernelRefusal(fmt::format(
        "kernel 'flash_nsa' selects blocks of at least compress_block keys, a multiple of "
        "compress_stride (its config asserts it); got select_block={} compress_block={} "
        "compress_stride={}",
        a.visits.block_keys, a.summaries.block, a.summaries.stride));
  }
  const Selection x = selection_of(in);
  const bool efficient = efficient_selection(in.op.attention);
  if (std::string_view(in.op.name) == "top_k_select") {
    lower_top_k(in, x, efficient, out);
  } else {
    lower_block_probabilities(in, x, efficient, out);
  }
}

}  // namespace sim
