// flashmla: FlashMLA's dense MLA decode (github.com/deepseek-ai/FlashMLA @ 9241ae3; see
// schedule_flashmla.hpp). One call is three kernels: the metadata kernel that balances the
// requests' KV blocks over `num_sm_parts` CTAs per (row tile, KV head), the split-KV main kernel,
// and the combine kernel that reduces the fp32 partials of requests split across parts.
#include "sim/schedule_flashmla.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/flash_forward.hpp"
#include "sim/schedules.hpp"
#include "sim/waves.hpp"

namespace sim {

namespace {

// Shared memory of one CTA (traits.h SharedMemoryPlan): Q, two K blocks, one P tile (16-bit),
// four 64-float row vectors (max, 2 x sum workspace, two scales) and 19 TMA barriers. About
// 225 KiB, so one CTA per SM.
double flashmla_smem_bytes(double element_bytes) {
  const double q_or_k_block = kFlashMlaBlockM * 576 * element_bytes;
  const double p_tile = kFlashMlaBlockM * kFlashMlaPageBlock * element_bytes;
  return 3 * q_or_k_block + p_tile + 5 * kFlashMlaBlockM * 4 + 19 * 8;
}

// One part of the metadata kernel's greedy fill: it takes whole requests while the payload
// covers their blocks plus the fixed overhead, and splits the next one with what is left.
struct Balancer {
  double batch, blocks, payload;
  double request = 0;  // first request not yet fully assigned
  double done = 0;     // its blocks given to earlier parts

  struct Part {
    double blocks = 0, segments = 0, split_segments = 0, new_splits = 0;
  };

  Part fill() {
    constexpr double overhead = kFlashMlaRequestOverheadBlocks;
    Part part;
    double remain = payload;
    if (done > 0 && remain >= blocks - done + overhead) {  // the rest of a request split earlier
      part.blocks += blocks - done;
      remain -= blocks - done + overhead;
      ++part.segments, ++part.split_segments, ++request;
      done = 0;
    }
    if (done == 0) {
      const double whole = std::min(std::floor(remain / (blocks + overhead)), batch - request);
      part.blocks += whole * blocks;
      part.segments += whole;
      remain -= whole * (blocks + overhead);
      request += whole;
    }
    if (request < batch && remain - overhead > 0) {  // a piece of a request that does not fit
      if (done == 0) ++part.new_splits;
      part.blocks += remain - overhead;
      done += remain - overhead;
      ++part.segments, ++part.split_segments;
    }
    return part;
  }
};

Launch main_launch(const ScheduleInput& in, const Geometry& g, const FlashMlaPlan& plan) {
  Launch l;
  l.name = "flashmla_splitkv";
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = in.mma_class;
  l.cta = {flashmla_smem_bytes(g.s), kFlashMlaThreads, 0, 0};
  l.dispatch = Dispatch::in_order;
  // Every CTA of a part (all row tiles and KV heads) walks the same blocks; parts without work
  // return before touching memory, so only busy parts count as jobs.
  const double ctas_per_part = plan.row_tiles * plan.kv_heads;
  l.jobs = {ctas_per_part * plan.busy_parts, plan.min_blocks, plan.max_blocks,
            ctas_per_part * g.batch * plan.blocks_per_request};
  const double scores = kFlashMlaBlockM * kFlashMlaPageBlock;  // 64 rows padded, as wgmma m64
  l.per_tile.tensor_flops = 2 * scores * (g.d + g.dv);
  l.per_tile.exp_ops = scores;
  l.per_tile.alu_ops = scores * kFwdAluPerScore + kFlashMlaBlockM * g.dv;
  // V is the first 512 columns of the 576-wide block: one load serves both products.
  const double tile_bytes = kFlashMlaPageBlock * g.kv_width * g.s_kv;
  l.per_tile.sm_bytes = tile_bytes;
  // The row tiles of a part stream the same blocks side by side (one wave), so their re-reads
  // hit L2; when the grid takes several waves a block's readers are apart by a whole pass over
  // the head's cache.
  const models::HbmBytes& need = in.op.bytes;
  const double slots = in.profile.compute.sm_count * ctas_per_sm(l.cta, in.profile);
  const double working_set =
      plan.ctas <= slots ? slots * tile_bytes : (need.k + need.v) / plan.kv_heads;
  const double kv_bytes =
      shared_read_bytes(need.k + need.v, l.jobs.total_tiles * tile_bytes, working_set, in.profile);
  // Each piece of a request loads the request's Q. A CTA waits for its first one; the next
  // request's Q is loaded while the current one finishes (launch_q_copy before store_o in
  // splitkv_mla.cuh), so the others stream beside the K blocks.
  const double q_per_request = need.q / g.batch;
  const double first_q = plan.busy_parts * q_per_request;
  const double prefetched_q = q_per_request * plan.segments - first_q;
  l.per_tile.hbm_bytes = (kv_bytes + prefetched_q) / l.jobs.total_tiles;
  // Whole requests write O and the fp32 LSE (written whatever the phase), split pieces write
  // fp32 partial O and LSE instead.
  const double rows = g.batch * g.kv_heads * g.rows;
  const double lse = std::max(need.lse, rows * 4);
  const double whole_share = 1 - plan.split_requests / g.batch;
  const double partial_row = (g.dv + 1) * 4;
  const double bytes = first_q + (need.o + lse) * whole_share +
                       plan.split_segments * g.kv_heads * g.rows * partial_row;
  l.per_job_hbm_bytes = bytes / l.jobs.count;
  const double tile_rows = std::min(kFlashMlaBlockM, g.rows);
  l.max_job_hbm_bytes = tile_rows * (g.d * g.s + plan.max_part_segments * partial_row);
  // Per piece: Q load, pipeline fill and drain, O store (the cost the balancer charges as 5
  // blocks, here a calibrated cycle count).
  l.per_job_fixed_cycles = l.calibration->cta_overhead_cycles * plan.max_part_segments;
  return l;
}

// flash_fwd_mla_combine_kernel: grid (B x Sq, 1, ceil(Hq / 8)) of 256 threads, one warp per query
// head; CTAs of requests that were not split return at once.
Launch combine_launch(const ScheduleInput& in, const Geometry& g, const FlashMlaPlan& plan) {
  constexpr double kHeadsPerCta = 8;  // BLOCK_SIZE_M of run_flash_mla_combine_kernel
  const double rows_per_request = g.kv_heads * g.rows;
  // The partials were written by the main kernel just before; the share that fits the L2 is
  // read back from it (write-back L2) rather than from HBM.
  const double partials = plan.split_segments * rows_per_request * (g.dv + 1) * 4;
  const double bytes = partials * l2_miss_fraction(partials, in.profile) +
                       plan.split_requests * rows_per_request * (g.dv * g.s + 4);
  Launch l = memory_launch(in, "flashmla_combine", bytes, plan.split_requests * rows_per_request,
                           kHeadsPerCta);
  l.cta.threads = kHeadsPerCta * 32;
  // Programmatic dependent launch: the main kernel triggers the combine once each CTA starts its
  // last request (cudaTriggerProgrammaticLaunchCompletion in splitkv_mla.cuh), so the combine is
  // launched and resident before the main kernel ends and waits in cudaGridDependencySynchronize;
  // its launch latency is hidden under the main kernel, its reads of the partials are not.
  l.launch_fixed_share = 0;
  return l;
}

void lower_flashmla(const ScheduleInput& in, Launches& out) {
  const models::AttentionShape& a = in.op.attention;
  if (!flashmla_runs(in.op, in.workload)) {
    throw common::KernelRefusal(fmt::format(
        "kernel 'flashmla' is FlashMLA's dense MLA decode: it runs the forward of absorbed MLA "
        "(values inside the keys, e.g. --variant mla in decode) with head_dim 576 or 512, "
        "v_head_dim 512 and fp16/bf16 queries and cache; this op is {} ({} pass, {}, head_dim "
        "{}, v_head_dim {}, values {}, dtype {}/{}); use --kernel auto or split_kv",
        in.op.name, in.op.pass == models::Pass::forward ? "forward" : "backward",
        models::to_string(in.workload.phase), a.head_dim, a.v_head_dim,
        a.values_in_keys ? "inside the keys" : "separate", models::to_string(in.workload.dtype),
        models::to_string(in.workload.kv_dtype)));
  }
  const Geometry g = geometry(a, in.workload, true);
  const FlashMlaPlan plan = flashmla_plan(a, in.profile.compute.sm_count);
  out.push_back(main_launch(in, g, plan));
  // The metadata kernel runs once per decode step: the interface fills the schedule on the first
  // call and every layer reuses it (flash_mla_interface.py get_mla_metadata), so it is not a
  // per-layer launch. With no split request the combine has nothing to do.
  if (plan.split_requests > 0) out.push_back(combine_launch(in, g, plan));
}

}  // namespace

bool flashmla_runs(const models::Op& op, const models::Workload& w) {
  const models::AttentionShape& a = op.attention;
  const bool sixteen_bit =
      (w.dtype == models::DType::bf16 || w.dtype == models::DType::fp16) && w.kv_dtype == w.dtype;
  // A chunk of new tokens after a cache is the same call (flash_mla_with_kvcache takes any
  // seqlen_q, causal over the last ones), as serving stacks run speculative verification and short
  // extends; a prefill without a cache is not FlashMLA's.
  const bool over_cache =
      w.phase == models::Phase::decode || (w.phase == models::Phase::prefill && w.kv_len > w.q_len);
  return op.kind == models::OpKind::dense_attention && op.pass == models::Pass::forward &&
         over_cache && a.values_in_keys && (a.head_dim == 576 || a.head_dim == 512) &&
         a.v_head_dim == 512 && sixteen_bit && a.heads_kv > 0 && a.heads_q % a.heads_kv == 0 &&
         a.score == models::ScoreFn::softmax;
}

bool flashmla_shape_but_not_dtype(const models::Op& op, const models::Workload& w) {
  models::Workload sixteen_bit = w;
  sixteen_bit.dtype = sixteen_bit.kv_dtype = models::DType::bf16;
  return !flashmla_runs(op, w) && flashmla_runs(op, sixteen_bit);
}

FlashMlaPlan flashmla_plan(const models::AttentionShape& a, double sm_count) {
  FlashMlaPlan p;
  const double batch = static_cast<double>(a.batch);
  const double group = static_cast<double>(a.heads_q / a.heads_kv);
  p.row_tiles = ceil_div(static_cast<double>(a.q_len) * group, kFlashMlaBlockM);
  p.kv_heads = static_cast<double>(a.heads_kv);
  p.sm_parts = std::max(std::floor(std::floor(sm_count / p.kv_heads) / p.row_tiles), 1.0);
  p.ctas = p.row_tiles * p.kv_heads * p.sm_parts;
  p.blocks_per_request = std::max(1.0, ceil_div(static_cast<double>(a.kv_len), kFlashMlaPageBlock));
  const double total = batch * (p.blocks_per_request + kFlashMlaRequestOverheadBlocks);
  p.payload = std::ceil(total / p.sm_parts) + kFlashMlaRequestOverheadBlocks;
  Balancer balancer{batch, p.blocks_per_request, p.payload};
  for (double part = 0; part < p.sm_parts && balancer.request < batch; ++part) {
    const Balancer::Part fill = balancer.fill();
    p.min_blocks = part == 0 ? fill.blocks : std::min(p.min_blocks, fill.blocks);
    p.max_blocks = std::max(p.max_blocks, fill.blocks);
    p.max_part_segments = std::max(p.max_part_segments, fill.segments);
    p.segments += fill.segments;
    p.split_segments += fill.split_segments;
    p.split_requests += fill.new_splits;
    ++p.busy_parts;
  }
  return p;
}

void add_flashmla_schedules(std::vector<ScheduleInfo>& table) {
  // Class native: FlashMLA issues wgmma, the dense path, on SM90; the Blackwell entry prices a
  // FlashMLA-class kernel on that device's own dense path (tcgen05).
  table.push_back({"flashmla",
                   "FlashMLA dense MLA decode (Hopper): 64 packed q_len x head rows per CTA, "
                   "split-KV over the latent cache balanced over the SMs, V read inside K, "
                   "PDL-overlapped combine",
                   lower_flashmla, nullptr});
  table.back().sixteen_bit_inputs = true;  // bf16/fp16 (and fp8 KV) only, its README
}

}  // namespace sim
