// flash_nsa: NSA as the Hopper Triton kernels of
// github.com/mdy666/Scalable-Flash-Native-Sparse-Attention (commit fcf117c, the TMA path that runs
// on sm_90 with triton >= 3.4, and its Ampere fallback ampere_ops.py elsewhere (FlashNsaBuild);
// read in validate/data/candidates/flash_nsa_notes.md §1-2, line numbers there, and AO at
// fcf117c; docs/kernels.md §11.2). Forward, in the layer's launch order (the TMA build's
// configuration):
// - compressed attention (_cmp_fwd_kernel): one program per (query head, 128 tokens), 64-key tiles
//   of the summaries the last row sees, 4 warps, 2 stages, no GQA packing;
// - block selection (sim/schedule_flash_nsa_selection.cpp): the probabilities recomputed over the
//   group's heads and pooled into blocks, then an argmax top-k;
// - selected attention (_fwd_kernel): one program per (token, KV head), the G query heads of the
//   token as 16 rows, ONE warp and 2 stages, one 64-key tile per chosen block, the trip count
//   min(top_n, t / 64 + 1);
// - the window branch: FA3 (flash_attn_interface), FlashAttention-2 without it.
// No host syncs: every grid size is a Python int cached by the module.
#include "sim/schedule_flash_nsa.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/flash_forward.hpp"
#include "sim/schedule_nsa.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

constexpr double kWarpsPerSubPartitions = 4;  // an SM's four schedulers
constexpr double kCmpQueries = 128;           // _cmp_fwd_kernel: BLOCK_N queries
constexpr double kCmpKeys = 64;               // and BLOCK_M summaries a tile

bool power_of_two(std::int64_t x) {
  return x > 0 && (x & (x - 1)) == 0;
}

void check_dims(const models::AttentionShape& a) {
  if (!flash_nsa_splits_head_dim(a.head_dim) || !power_of_two(a.v_head_dim)) {
    throw common::KernelRefusal(fmt::format(
        "kernel 'flash_nsa' runs head dims that split into at most two powers of two and a "
        "power-of-two v_head_dim (its kernels assert them); got {} / {}",
        a.head_dim, a.v_head_dim));
  }
}

}  // namespace

bool flash_nsa_splits_head_dim(std::int64_t d) {
  if (power_of_two(d)) return true;
  const std::int64_t high = std::int64_t{1} << static_cast<int>(std::floor(std::log2(d)));
  return power_of_two(d - high);
}

Launch flash_nsa_kernel(const ScheduleInput& in, const hw::ScheduleCalibration& cal,
                        const char* name, double warps) {
  Launch l;
  l.name = name;
  l.schedule = in.name;
  l.calibration = &cal;
  l.mma_class = hw::MmaClass::native;  // Triton on sm_90: wgmma for four warps and 64+ rows
  l.cta.threads = 32 * warps;
  l.issue_share = std::min(1.0, warps / kWarpsPerSubPartitions);
  l.per_job_fixed_cycles = cal.cta_overhead_cycles;
  l.overhead_is_wait = true;
  l.host_jit_launches = 1;
  return l;
}

Launch flash_nsa_memory(const ScheduleInput& in, const char* name, double bytes, double items,
                        double items_per_job) {
  const ScheduleInput as{
      in.op,       in.workload,
      in.profile,  support_calibration(in.profile, SupportKernel::elementwise, in.op),
      in.name,     in.options,
      in.mma_class};
  return memory_launch(as, name, bytes, items, items_per_job);
}

const hw::ScheduleCalibration& flash_nsa_wide_entry(const hw::Profile& p, bool backward) {
  const ScheduleInfo& wide = find_schedule("nsa_triton_compressed");
  return backward ? backward_calibration(p, wide) : forward_calibration(p, wide);
}

namespace {

// Whether its training kernels run a branch of NSA: a whole sequence (prefill or training; their
// causal rules index queries from the sequence's start) in bf16 or fp16 throughout (refused
// otherwise: its kernels are 16-bit only). A decode step or a chunk after cached keys runs its
// inference kernels, which are not modelled: false, whatever the dtype, and lower_flash_nsa_dense
// prices the op.
bool runs_training_kernels(const models::Op& op, const models::Workload& w, const char* branch) {
  if (op.kind != models::OpKind::dense_attention) return false;
  if (!whole_sequence(w) || w.phase == models::Phase::decode) return false;
  if (!sixteen_bit(w)) {
    throw common::KernelRefusal(fmt::format(
        "kernel 'flash_nsa' runs NSA's {} branch in bf16 or fp16 (queries and cache alike) only; "
        "use --kernel auto for another dtype",
        branch));
  }
  return true;
}

}  // namespace

FlashNsaBuild flash_nsa_build(const ScheduleInput& in) {
  return {hopper_build(in.profile), in.op.attention.head_dim > 128};
}

bool flash_nsa_selected_runs(const models::Op& op, const models::Workload& w) {
  const models::AttentionShape& a = op.attention;
  if (a.visits.blocks <= 0 || a.heads_kv <= 0) return false;
  if (a.visits.row_group != a.heads_q / a.heads_kv) {
    throw common::KernelRefusal(
        "kernel 'flash_nsa' runs NSA's selection (the query heads of one token share its "
        "blocks), not FSA's 32-token groups; use --kernel fsa_triton or auto");
  }
  if (!runs_training_kernels(op, w, "selected")) return false;
  check_dims(a);
  if (!power_of_two(a.visits.block_keys) || a.visits.block_keys < 16) {
    throw common::KernelRefusal(fmt::format(
        "kernel 'flash_nsa' loads a selected block as one tile (a Triton tl.arange of its keys: a "
        "power of two, at least the 16 an MMA takes); got select_block={}",
        a.visits.block_keys));
  }
  return true;
}

bool flash_nsa_compressed_runs(const models::Op& op, const models::Workload& w) {
  const models::AttentionShape& a = op.attention;
  if (a.summaries.stride <= 0 || !runs_training_kernels(op, w, "compressed")) return false;
  check_dims(a);
  // NSAConfig's asserts (CF:48-52): a power-of-two stride that divides the kernel.
  if (!power_of_two(a.summaries.stride) || a.summaries.block % a.summaries.stride != 0) {
    throw common::KernelRefusal(fmt::format(
        "kernel 'flash_nsa' compresses with a power-of-two stride that divides the kernel size "
        "(its config asserts it); got compress_block={} compress_stride={}",
        a.summaries.block, a.summaries.stride));
  }
  return true;
}

void lower_flash_nsa_dense(const ScheduleInput& in, bool backward, Launches& out) {
  // A decode step: split-KV decode, as auto prices one, where the device calibrates it.
  const ScheduleInfo& split_kv = find_schedule("split_kv");
  if (!backward && in.workload.phase == models::Phase::decode &&
      find_calibration(in.profile, split_kv) != nullptr) {
    lower_as("split_kv", Lowering::forward, in, out);
    return;
  }
  const models::Pass pass = backward ? models::Pass::backward : models::Pass::forward;
  const bool has_fa3 = find_calibration(in.profile, find_schedule("fa3"), pass) != nullptr;
  lower_as(has_fa3 ? "fa3" : "fa2", backward ? Lowering::backward : Lowering::forward, in, out);
}

FlashNsaSelection flash_nsa_selection(const ScheduleInput& in) {
  const NsaSelection base = nsa_selection(in);  // the same rows, blocks and visits
  const Geometry g = geometry(in.op.attention, in.workload, false);
  FlashNsaSelection sel;
  sel.rows = base.rows;
  sel.block = base.block;
  sel.cap = base.cap;
  sel.mean_blocks = base.mean_blocks;
  sel.blocks = ceil_div(g.keys, sel.block);
  // One token a program (no num_q_loop); the first token visits one block.
  const double programs = g.batch * g.kv_heads * g.rows;
  sel.jobs = {programs, g.causal ? 1 : sel.mean_blocks, std::min(sel.cap, sel.blocks),
              programs * sel.mean_blocks};
  return sel;
}

namespace {

// _fwd_kernel (SA:21-108): TMA boxes of the token's G query heads and of each chosen block's K
// and V, 1 warp and 2 stages at d <= 128, 1 stage above (SA:475-478); its dot is mma.sync (a
// warpgroup MMA needs four warps). The Ampere build loads through pointers at 4 warps and 2
// stages, 1 warp and 1 stage above d 128 (AO:2072-2077). The per-tile wait on the index and the
// K/V loads is the entry's tile_overhead_cycles, which co-resident programs fill.
void lower_selected_forward(const ScheduleInput& in, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, false);
  const FlashNsaSelection sel = flash_nsa_selection(in);
  const FlashNsaBuild build = flash_nsa_build(in);
  const double stages = build.wide_head ? 1 : 2;
  const double warps = build.hopper || build.wide_head ? 1 : 4;
  Launch l = flash_nsa_kernel(in, in.calibration, "selected_attention_fwd", warps);
  l.mma_class = hw::MmaClass::mma_sync;
  const double kv_tile = sel.block * (g.d + g.dv) * g.s_kv;
  l.cta.smem_bytes = stages * kv_tile + sel.rows * g.d * g.s;
  l.jobs = sel.jobs;
  const double scores = sel.rows * sel.block;
  l.per_tile.tensor_flops = 2 * scores * (g.d + g.dv);  // split_d: no padding to a power of two
  l.per_tile.exp_ops = scores + 3 * sel.rows;
  l.per_tile.alu_ops = scores * kFwdAluPerScore + sel.rows * g.dv;
  l.per_tile.sm_bytes = kv_tile + 4;  // the block's K and V, and its index
  // Every K and V byte reaches HBM once; a re-read of a chosen block hits L2 while one KV
  // head's K/V fits it: the token is the grid's fastest axis (SA:48-52), so the programs in
  // flight are consecutive tokens of one KV head of one sequence.
  const models::HbmBytes& need = in.op.bytes;
  const double kv = need.k + need.v;
  const double one_head = kv / std::max(1.0, g.batch * g.kv_heads);
  l.per_tile.hbm_bytes = shared_read_bytes(kv, l.jobs.total_tiles * kv_tile, one_head, in.profile) /
                         std::max(1.0, l.jobs.total_tiles);
  const double other = need.total() - (need.q + need.k + need.v + need.o + need.lse);
  const double indices = l.jobs.count * sel.cap * 4;  // the top-k row
  l.per_job_hbm_bytes =
      (need.q + need.o + need.lse + std::max(0.0, other) + indices) / std::max(1.0, l.jobs.count);
  out.push_back(l);
}

// _cmp_fwd_kernel (CA:18-152): program i of a query head walks the summaries its last row sees,
// end = min(M, (128 i + 128 - l) / d + 1), in 64-key tiles (only the diagonal ones masked); 4
// warps and 2 stages, or on Ampere 8 warps and 3 stages; 4 warps and 1 stage above d 128 on both.
void lower_compressed_forward(const ScheduleInput& in, Launches& out) {
  const models::AttentionShape& a = in.op.attention;
  const Geometry g = geometry(a, in.workload, false);
  const double tokens = g.rows;
  const double l_blk = static_cast<double>(a.summaries.block);
  const double stride = static_cast<double>(a.summaries.stride);
  const double summaries = summary_count(a, tokens);
  const FlashNsaBuild build = flash_nsa_build(in);
  const bool ampere_narrow = !build.hopper && !build.wide_head;
  Launch k = flash_nsa_kernel(in, flash_nsa_wide_entry(in.profile, false),
                              "compressed_attention_fwd", ampere_narrow ? 8 : 4);
  const double kv_tile = kCmpKeys * (g.d + g.dv) * g.s_kv;
  const double stages = build.wide_head ? 1 : build.hopper ? 2 : 3;  // CA:560-563, AO:547-550
  k.cta.smem_bytes = kCmpQueries * g.d * g.s + stages * kv_tile;
  k.jobs = summarize_blocks(ceil_div(tokens, kCmpQueries), g.batch * g.heads, [&](double i) {
    const double end = std::floor((kCmpQueries * i + kCmpQueries - l_blk) / stride) + 1;
    return ceil_div(std::clamp(end, 0.0, summaries), kCmpKeys);
  });
  const double scores = kCmpQueries * kCmpKeys;
  k.per_tile.tensor_flops = 2 * scores * (g.d + g.dv);
  k.per_tile.exp_ops = scores + 3 * kCmpQueries;
  k.per_tile.alu_ops = scores * kFwdAluPerScore + kCmpQueries * g.dv;
  k.per_tile.sm_bytes = kv_tile;
  // The summaries' K and V are small (1/d of the tokens') and stay in L2 for every head.
  const models::HbmBytes& need = in.op.bytes;
  const double kv = need.k + need.v;
  k.per_tile.hbm_bytes = shared_read_bytes(kv, k.jobs.total_tiles * kv_tile, kv, in.profile) /
                         std::max(1.0, k.jobs.total_tiles);
  k.per_job_hbm_bytes = (need.q + need.o + need.lse) / std::max(1.0, k.jobs.count);
  out.push_back(k);
}

void lower_flash_nsa_forward(const ScheduleInput& in, Launches& out) {
  if (flash_nsa_compressed_runs(in.op, in.workload)) {
    lower_compressed_forward(in, out);
  } else if (flash_nsa_selected_runs(in.op, in.workload)) {
    lower_selected_forward(in, out);
  } else {
    lower_flash_nsa_dense(in, false, out);
  }
}

}  // namespace

void add_flash_nsa_schedules(std::vector<ScheduleInfo>& table) {
  table.push_back({"flash_nsa",
                   "NSA as the Triton kernels of mdy666/Scalable-Flash-Native-Sparse-Attention "
                   "(its TMA build on Hopper, its Ampere build elsewhere): programs per (token, "
                   "KV head) over the chosen 64-key blocks (one warp on Hopper), 128 x 64 "
                   "compressed tiles, a fused block-probability and argmax top-k, no host syncs; "
                   "the window branch as fa3 (fa2 without it)",
                   lower_flash_nsa_forward, lower_flash_nsa_backward, nullptr,
                   hw::MmaClass::mma_sync, lower_flash_nsa_selection, hw::Caller::triton});
}

}  // namespace sim
