// Backward passes of FA2, FA3 and FA4 (docs/kernels.md §1.5, §2.5, §3): a preprocess launch
// (rowsum(dO o O), clear dQ accumulator), the main launch with one CTA per KV tile looping over the
// row blocks that see it (dQ accumulated in fp32 through L2), the dQ conversion, and for GQA the
// reduction of per-query-head dK/dV.
#include <algorithm>
#include <cmath>

#include "sim/column_blocks.hpp"
#include "sim/flash_forward.hpp"
#include "sim/schedules.hpp"
#include "sim/waves.hpp"

namespace sim {

namespace {

struct BwdTile {
  double m, n, threads, smem_kib;
  Dispatch dispatch;
};

void lower_flash_backward(const ScheduleInput& in, const BwdTile& t, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, false);
  const double rows = g.batch * g.heads * g.rows;
  // What the pass must move comes from the op (models::Op::bytes), so there is one rule for the
  // row statistics: a softmax reads the LSE and writes and reads delta = rowsum(dO o O), a sigmoid
  // has neither (and reads no O).
  const models::HbmBytes& need = in.op.bytes;
  // Preprocess: read O and dO for delta where the op has it, clear the fp32 dQ accumulator.
  const double delta_inputs = need.o > 0 ? need.o + need.grad_out : 0;
  out.push_back(
      memory_launch(in, "attention_bwd_preprocess", delta_inputs + rows * 4 * g.d, rows, t.m));

  Launch main;
  main.name = "attention_bwd";
  main.schedule = in.name;
  main.calibration = &in.calibration;
  main.mma_class = in.mma_class;
  main.cta = {t.smem_kib * 1024, t.threads, 0, 1};
  main.dispatch = t.dispatch;
  const ColumnBlocks columns = column_blocks(g, t.m, t.n);
  main.jobs = columns.jobs;
  const double scores = t.m * t.n;
  main.per_tile.tensor_flops = 2 * scores * (3 * g.d + 2 * g.dv);
  main.per_tile.exp_ops = scores * (g.softcap ? 2 : 1);  // the soft-capping tanh, recomputed
  main.per_tile.alu_ops = scores * (kBwdAluPerScore + (g.softcap ? kSoftcapBwdAluPerScore : 0));
  // Q, dO and the row statistics of a row block are re-read by every KV tile's CTA that sees it
  // (under a causal mask about half of them); the fp32 dQ accumulator is read-modified-written
  // per tile, both through L2. The op's bytes reach HBM once, re-reads when they miss L2.
  const double row_side = need.q + need.grad_out + need.lse + 8 * g.d * rows;
  // A partial last row block moves only the rows it holds. The longest CTA moves its own rows'
  // share of the bytes (Launch::max_tile_hbm_scale): a CTA's rows grow with the sequence while
  // the mean tile's thin as a row block of one row joins, so a longer sequence never gives it
  // fewer bytes.
  const double heads = g.batch * g.heads;
  const double visited = heads * columns.visited_rows * row_side / std::max(1.0, rows);
  if (columns.visited_rows > 0 && main.jobs.max_tiles > 0) {
    main.max_tile_hbm_scale = columns.longest_rows / main.jobs.max_tiles /
                              (heads * columns.visited_rows / main.jobs.total_tiles);
  }
  const double n_blocks = ceil_div(std::max(g.keys, g.key_range), t.n);
  const double slots = in.profile.compute.sm_count * ctas_per_sm(main.cta, in.profile);
  const double heads_in_flight = std::max(1.0, slots / n_blocks);
  // Column blocks of a head are adjacent in the grid and walk the row blocks nearly in step, so
  // as in the forward (sim::streamed_read_bytes) resident CTAs share a row tile while the window
  // of tiles in flight stays in L2; only later passes need a head's whole rows to stay there.
  const double window = slots * t.m * row_side / std::max(1.0, rows);
  const double pass = heads_in_flight * g.rows * (g.d + g.dv) * g.s + 4 * g.rows * g.d;
  const double row_bytes = streamed_read_bytes(row_side, visited, slots, window, pass, in.profile);
  main.per_tile.hbm_bytes = main.jobs.total_tiles > 0 ? row_bytes / main.jobs.total_tiles : 0;
  // K and V tile in, dK and dV tile out (per query head; GQA reduces them afterwards), never
  // less than the op's K, V and gradients (the dQ part is written by the convert launch).
  const double ctas = std::max(1.0, main.jobs.count);
  // A CTA that visits no row block (a window's tile no query of the call sees) loads nothing and
  // writes zero dK and dV (FA2's and FA3's early exit, the epilogue's store_zero); the longest
  // CTA loads its tile and writes its gradients.
  const double kv_in =
      std::max(heads * columns.busy_per_head * t.n * (g.d + g.dv) * g.s_kv, need.k + need.v);
  const double dkdv_out =
      std::max(ctas * t.n * (g.d + g.dv) * g.s, need.grad_in - rows * g.d * g.s);
  main.per_job_hbm_bytes = (kv_in + dkdv_out + (main.jobs.total_tiles > 0 ? 0 : row_bytes)) / ctas;
  main.max_job_hbm_bytes = t.n * (g.d + g.dv) * (g.s_kv + g.s);
  main.per_job_fixed_cycles = main.calibration->cta_overhead_cycles;
  out.push_back(main);

  out.push_back(memory_launch(in, "attention_bwd_convert_dq", rows * g.d * (4 + g.s), rows, t.m));
  if (g.group > 1) {
    const double keys = std::max(g.keys, g.key_range);  // every key the rows drew from
    const double expanded = g.batch * g.heads * keys * (g.d + g.dv) * g.s;
    out.push_back(memory_launch(in, "attention_bwd_reduce_dkdv", expanded * (1 + 1 / g.group),
                                g.batch * g.kv_heads * keys, t.n));
  }
}

}  // namespace

void lower_fa2_backward(const ScheduleInput& in, Launches& out) {
  // flash_bwd_launch_template.h with >= 144 KB of opt-in smem (A100, H100;
  // docs/kernels.md#15-backward).
  const double d = in.op.attention.head_dim;
  const bool big_smem = in.profile.memory.smem_per_block_bytes >= 144 * 1024;
  const auto tile = [&]() -> BwdTile {
    if (d <= 64) {
      return big_smem ? BwdTile{128, 128, 256, 144, Dispatch::in_order}
                      : BwdTile{64, 128, 256, 72, Dispatch::in_order};
    }
    if (d <= 128) {
      return big_smem ? BwdTile{64, 128, 256, 144, Dispatch::in_order}
                      : BwdTile{64, 64, 256, 80, Dispatch::in_order};
    }
    return {64, 64, 256, 144, Dispatch::in_order};
  };
  lower_flash_backward(in, tile(), out);
}

void lower_fa3_backward(const ScheduleInput& in, Launches& out) {
  // hopper/flash_bwd_launch_template.h (docs/kernels.md#25-backward); causal uses the LPT
  // scheduler.
  const double d = in.op.attention.head_dim;
  const bool causal = in.op.attention.causal;
  const Dispatch order = causal ? Dispatch::persistent_lpt : Dispatch::in_order;
  BwdTile t{64, 80, 384, 200, order};
  if (d <= 64) {
    t = {128, 128, 384, 200, order};
  } else if (d <= 96) {
    t = {64, 128, 384, 200, order};
  } else if (d <= 128) {
    t = {causal ? 64.0 : 80.0, 128, 384, 200, order};
  } else if (d <= 192) {
    t = {64, 96, 512, 200, order};
  }
  lower_flash_backward(in, t, out);
}

void lower_ascend_backward(const ScheduleInput& in, Launches& out) {
  // FlashAttentionScoreGrad on 910B: cube 128 x 128 blocks per AI core group, one block per core
  // (docs/kernels.md#6-ascend; the grad kernel's own tiling was not extracted).
  lower_flash_backward(in, {128, 128, 1, 0, Dispatch::in_order}, out);
}

void lower_fa4_backward(const ScheduleInput& in, Launches& out) {
  // flash_attn/cute sm100 backward: 128 x 128 tiles (docs/kernels.md#3-fa4).
  const Dispatch order = in.op.attention.causal ? Dispatch::persistent_lpt : Dispatch::in_order;
  lower_flash_backward(in, {128, 128, 512, 200, order}, out);
}

}  // namespace sim
