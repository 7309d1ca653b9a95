// The hand-written Ascend flash-attention kernels (docs/kernels.md §6): pto_dsl_fa, the PTO-DSL
// kernel of huawei-csl/pto-dsl PR #126, and pto_isa_fa, the C++ manual kernel of the PTO-ISA tile
// library that the DSL kernel was ported from. Both split the queries into blocks of one cube core
// (AIC) and its two vector cores (AIV), walk every key tile in turn and exchange the score,
// probability and P V tiles between cube and vector cores through GM FIFOs.
#include <algorithm>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/price.hpp"
#include "sim/rates.hpp"
#include "sim/schedule_common.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

// Both kernels are softmax prefill forwards with no mask (the ISA one causal or not, the DSL one
// non-causal), over every key of the head: no window, sinks, chosen blocks or summaries.
void require_plain_prefill(const ScheduleInput& in, const char* what, bool causal_ok = false) {
  const models::AttentionShape& a = in.op.attention;
  if (in.workload.phase == models::Phase::decode || (a.causal && !causal_ok) ||
      a.score != models::ScoreFn::softmax || a.window > 0 || a.sinks > 0 || a.visits.blocks > 0 ||
      a.summaries.stride > 0 || a.softcap) {
    throw common::KernelRefusal(fmt::format(
        "kernel '{}' is {}: a {}softmax prefill forward over every key, with no mask or "
        "soft-capping{}; this op is {} ({}, {}); use --kernel ascend or auto",
        in.name, what, causal_ok ? "" : "non-causal ", causal_ok ? " but causal" : "", in.op.name,
        models::to_string(in.workload.phase), a.causal ? "causal" : "non-causal"));
  }
}

// pto_dsl_fa: the hand-written PTO-DSL flash attention of huawei-csl/pto-dsl PR #126 (merge commit
// dd64044, examples/aot/flash_attention/experimental/fa_builder.py; read in
// validate/data/candidates/pto_dsl_fa_notes.md), a hand-written Ascend kernel class: 32-row query
// blocks split in contiguous runs over min(blocks, AI core groups), each block walking every
// 256-key tile in turn; the cube's Q K^T (fp32 out) and P V (fp32 out) and the two vector cores'
// softmax (P fp16 back) exchange their tiles through GM FIFOs. One buffer per operand (K and V
// share L0B), so a step's loads and stores run in series with its matmuls: the bytes a step moves
// through its core's GM path are a wait (TileWork::latency_cycles), and the calibration's
// tile_overhead_cycles, a wait too, is the rest of the step (the three dependent FIFO hops and
// their flags).
constexpr double kPtoRows = 32;   // S0
constexpr double kPtoKeys = 256;  // S1_TILE

// A PTO kernel's launch, one block per AI core group (1 AIC + 2 AIV), each step a `rows` x `keys`
// score tile: its two matmuls, the softmax's exps (P, and the rescale of the running statistics)
// and FP32 work (and O rescaled, added). The caller sets the jobs and the waits.
Launch pto_step_launch(const ScheduleInput& in, const Geometry& g, const char* name, double rows,
                       double keys) {
  Launch l;
  l.name = name;
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = in.mma_class;
  l.cta = {0, 128, 0, 1};
  const double scores = rows * keys;
  l.per_tile.tensor_flops = 2 * scores * (g.d + g.dv);
  l.per_tile.exp_ops = scores + rows;
  l.per_tile.alu_ops = scores * kFwdAluPerScore + 2 * rows * g.dv;
  return l;
}

void lower_pto_dsl_fa(const ScheduleInput& in, Launches& out) {
  require_plain_prefill(in, "the PTO-DSL flash attention of huawei-csl/pto-dsl PR #126");
  const Geometry g = geometry(in.op.attention, in.workload, false);
  const double blocks = g.batch * g.heads * ceil_div(g.rows, kPtoRows);
  const double cores = std::min(blocks, in.profile.compute.sm_count);
  const double tiles = ceil_div(g.keys, kPtoKeys);
  Launch l = pto_step_launch(in, g, "pto_fa", kPtoRows, kPtoKeys);
  l.jobs = {cores, std::floor(blocks / cores) * tiles, std::ceil(blocks / cores) * tiles,
            blocks * tiles};
  const double scores = kPtoRows * kPtoKeys;
  // Per step through the core group's GM path: K^T and V tiles and P into the cube, S and P V
  // (fp32) out of it, the same S and P V into the vector cores and P out of them.
  const double fp32_out = (scores + kPtoRows * g.dv) * 4;
  const double step_bytes = kPtoKeys * (g.d + g.dv) * g.s_kv + 2 * scores * g.s + 2 * fp32_out;
  l.per_tile.latency_cycles =
      step_bytes / sm_load_Bps(in.profile) * in.profile.compute.tensor_clock_hz;
  l.overhead_is_wait = true;
  // From HBM: Q, K and V once (K and V are then re-read from L2 by every block), O out (fp32).
  const models::HbmBytes& need = in.op.bytes;
  l.per_job_hbm_bytes = (need.q + need.k + need.v + g.batch * g.heads * g.rows * g.dv * 4) / cores;
  l.per_job_fixed_cycles = l.calibration->cta_overhead_cycles;
  out.push_back(l);
}

// pto_isa_fa: the PTO-ISA manual flash attention (hw-native-sys/pto-isa 3186c38,
// kernels/manual/common/flash_atten/fa_performance_kernel.cpp; read in
// validate/data/candidates/pto_isa_fa_notes.md). One block per 128 query rows (the grid runs in
// waves of one block per core group), each walking every 256-key step; preload 4, K, P and V
// double-buffered in L1, L0A/L0B ping-pong and separate L0C accumulators for S and P V, so a
// step's loads and stores overlap its matmuls within each of its two stages. The cube runs the
// Q K^T stage (K in, S out in fp32) and then the P V stage (P and V in, P V out in fp32), one after
// the other (pipeline_schedule_gen.py); each stage takes the longest of its matmul, its GM loads
// and its accumulator stores. The vector cores' softmax and O update run beside them and are
// shorter (pto-isa's own cost model, scripts/fa_cost_model.py L99-107: softmax 2,489 and update
// 834 cycles against the cube's 2,487 + 1,617 per step at d 128), so they add nothing: the launch
// reports their work, with the exps and FP32 work on concurrent pipes, under the matmuls
// (calibration softmax_overlap 1), which is how the engine says that they hide.
constexpr double kIsaRows = 128;  // CUBE_S0
constexpr double kIsaKeys = 256;  // TILE_S1 (two 128-key cube sub-tiles)
// GM loads (MTE2) and accumulator stores (FIXPIPE) per cube core, bytes per cycle, with every core
// group streaming, on a device with 1.6 TB/s of HBM (910B1-B3): an assumption (no source gives it)
// that reproduces pto-isa's own cost model's stage cycles (4,096 for its 4,105 per step at d 128).
// The rate scales with the profile's HBM bandwidth: that model halves GM throughput on the 910B4
// (gm_scale 2.0, scripts/fa_cost_model.py L65), whose HBM is half. The core groups share it: with
// fewer blocks in flight each takes its share of the whole (docs/kernels.md#6-ascend), which the
// kernel's measured one-head rows need (validate/data/measured/ascend_910b_pto_isa_jit.csv: a
// step of one block takes 1.9 us, of 16 blocks 3.0 us). Approximations: no per-core ceiling is
// modelled beyond that share (at d 128 a group keeps up with its matmuls at 128 B a cycle, which
// the share gives up to 12 blocks in flight on 24 groups; at d 64 it needs 256, so a few blocks
// at d 64 may price too fast), and a partial last wave runs at the rate of a full one.
constexpr double kIsaGmBytesPerCycle = 64;
constexpr double kIsaGmRateHbmBps = 1.6e12;

void lower_pto_isa_fa(const ScheduleInput& in, Launches& out) {
  require_plain_prefill(in, "the PTO-ISA manual flash attention (hw-native-sys/pto-isa)", true);
  // Its causal mask compares a key's index with a query's, both from 0 (top-left), and a block's
  // steps ignore the key count: with fewer keys than queries it would read past K and V, with more
  // it never visits the rest. Causal work needs as many queries as keys.
  const models::AttentionShape& shape = in.op.attention;
  if (shape.causal && shape.q_len != shape.kv_len) {
    throw common::KernelRefusal(fmt::format(
        "kernel '{}' masks causally from the first key, so it is causal only with as many queries "
        "as keys; this op has {} queries and {} keys; allowed: --no-causal, or --q-len equal to "
        "--kv-len",
        in.name, shape.q_len, shape.kv_len));
  }
  const Geometry g = geometry(in.op.attention, in.workload, false);
  // The kernel is one fp16 template with one head dim for Q, K and V, built at 128 and 64.
  const auto& a = in.op.attention;
  if ((a.head_dim != 64 && a.head_dim != 128) || a.v_head_dim != a.head_dim ||
      in.workload.dtype != models::DType::fp16) {
    throw common::KernelRefusal(fmt::format(
        "kernel '{}' is built for fp16 with one head dim of 64 or 128 for Q, K and V; this op "
        "has head dim {}, value head dim {} and {}; allowed: --dtype fp16, head dims 64 or 128",
        in.name, a.head_dim, a.v_head_dim, models::to_string(in.workload.dtype)));
  }
  // One block per 128 rows of a head, each walking every 256-key step, or when causal stopping at
  // the diagonal: with as many queries as keys the row-block tiles give block b's 1 + b x 128 /
  // 256 steps (integer division; fa_performance_kernel.cpp L759-760), the diagonal step priced
  // whole (the cube skips the second 128-key half of the last step on even blocks, the vector
  // softmax still covers all 256 keys).
  const JobStats jobs = row_block_jobs(g, kIsaRows, kIsaKeys);
  const double blocks = jobs.count;
  const hw::Profile& p = in.profile;
  const double scores = kIsaRows * kIsaKeys;
  Launch l = pto_step_launch(in, g, "pto_isa_fa", kIsaRows, kIsaKeys);
  l.jobs = jobs;
  l.exp_alu_concurrent = true;
  // One cube core's multiply-accumulates per cycle, at the rate the engine prices its matmuls.
  const double macs_per_cycle = sm_tensor_flops(p, in.workload, l) / 2 / p.compute.tensor_clock_hz;
  // The transfers each stage's matmul does not hide, with `in_flight` blocks sharing the GM path:
  // Q K^T (K in, S out as fp32), then P V (P and V in, P V out as fp32).
  auto step_wait = [&](double in_flight) {
    const double gm_bytes_per_cycle = kIsaGmBytesPerCycle * p.compute.sm_count / in_flight *
                                      p.memory.hbm_bandwidth_Bps / kIsaGmRateHbmBps;
    auto stage_excess = [&](double macs, double loads, double stores) {
      const double math = macs / macs_per_cycle;
      return std::max({math, loads / gm_bytes_per_cycle, stores / gm_bytes_per_cycle}) - math;
    };
    return stage_excess(scores * g.d, kIsaKeys * g.d * g.s_kv, scores * 4) +
           stage_excess(scores * g.dv, scores * g.s + kIsaKeys * g.dv * g.s_kv,
                        kIsaRows * g.dv * 4);
  };
  double wait = step_wait(std::min(blocks, p.compute.sm_count));
  if (g.causal && blocks <= p.compute.sm_count) {
    // One causal wave: the longest block's later steps run beside fewer blocks as the shorter
    // ones finish; its steps take the mean of their waits (step k beside the blocks of at least
    // k steps). More waves: every step at the full share, as without the mask.
    std::vector<double> steps;  // of each row block of one head
    for (double b = 0; b < ceil_div(g.rows, kIsaRows); ++b) {
      steps.push_back(row_block_tiles(g, kIsaRows, kIsaKeys, b));
    }
    double sum = 0;
    for (double k = 1; k <= jobs.max_tiles; ++k) {
      const auto running =
          std::count_if(steps.begin(), steps.end(), [&](double n) { return n >= k; });
      sum += step_wait(std::max(1.0, static_cast<double>(running) * g.batch * g.heads));
    }
    wait = sum / jobs.max_tiles;
  }
  l.per_tile.latency_cycles = wait;
  l.overhead_is_wait = true;  // the cross-core flags of a step (tile_overhead_cycles)
  // From HBM: Q, K and V once, O out as fp32. Every block reads its head's K and V step by step
  // (shared through L2), so their HBM share comes with the steps, overlapped with them; a block's
  // own Q rows and O rows come with the block.
  const models::HbmBytes& need = in.op.bytes;
  l.per_tile.hbm_bytes = (need.k + need.v) / l.jobs.total_tiles;
  l.per_job_hbm_bytes = (need.q + g.batch * g.heads * g.rows * g.dv * 4) / blocks;
  // pto-isa's cost model starts the blocks one after another (cta_overhead_cycles each).
  l.serial_cycles_per_job = l.calibration->cta_overhead_cycles;
  out.push_back(l);
}

}  // namespace

void add_pto_schedules(std::vector<ScheduleInfo>& table) {
  table.push_back({"pto_dsl_fa",
                   "hand-written PTO-DSL flash attention (Ascend, huawei-csl/pto-dsl PR #126): "
                   "32-row blocks, 256-key tiles, single-buffered steps through GM FIFOs",
                   lower_pto_dsl_fa, nullptr, nullptr, hw::MmaClass::cube});
  table.push_back({"pto_isa_fa",
                   "PTO-ISA manual flash attention (Ascend, hw-native-sys/pto-isa): 128-row "
                   "blocks, 256-key steps, double-buffered, two cube stages per step",
                   lower_pto_isa_fa, nullptr, nullptr, hw::MmaClass::cube});
}

}  // namespace sim
