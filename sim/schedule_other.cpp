// unfused (GEMM, softmax, GEMM with the score matrix in HBM: the baseline every paper compares
// against), ascend (910B FlashAttentionScore: cube matmuls and vector softmax per 1 AIC + 2 AIV,
// docs/kernels.md §6) and the GEMM lowering used for projections. The hand-written Ascend
// kernels are in schedule_pto.cpp.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "models/projections.hpp"
#include "sim/flash_forward.hpp"
#include "sim/price.hpp"
#include "sim/rates.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

constexpr double kGemmTile = 128;  // output tile of a cuBLAS-class GEMM
constexpr double kGemmDepth = 64;  // k-step per tile iteration
// 910B FlashAttentionScore base blocks (ops-transformer flash_attention_score design doc §3):
// cube block 128 x 128; one cube-to-vector round covers 128 x nRatio 8 = 1024 keys.
constexpr double kCubeBlock = 128;
constexpr double kAscendKeysPerRound = 1024;

void lower_unfused(const ScheduleInput& in, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, false);
  const double bh = g.batch * g.heads;
  const double scores = bh * g.rows * g.keys;  // the whole matrix: cuBLAS does not skip masked
  const double q = bh * g.rows * g.d * g.s, o = bh * g.rows * g.dv * g.s;
  const double k = g.batch * g.kv_heads * g.keys * g.d * g.s_kv;
  const double v = g.batch * g.kv_heads * g.keys * g.dv * g.s_kv;
  out.push_back(gemm_launch(in, "scores_gemm", bh, g.rows, g.keys, g.d, q + k + scores * g.s));
  Launch softmax;
  softmax.name = "softmax";
  softmax.schedule = in.name;
  softmax.calibration = &in.calibration;
  softmax.mma_class = in.mma_class;
  const double rows_per_cta = 4;  // one warp per row, 4 warps per CTA
  softmax.jobs.count = ceil_div(bh * g.rows, rows_per_cta);
  softmax.jobs.min_tiles = softmax.jobs.max_tiles = 1;
  softmax.jobs.total_tiles = softmax.jobs.count;
  // Soft-capping (cap tanh(S / cap)) as one more pass over S before the softmax, fused into one
  // kernel (torch.compile; eager PyTorch runs its divide, tanh and multiply as three).
  const double capped = g.softcap ? 1 : 0;
  softmax.per_tile.exp_ops = rows_per_cta * g.keys * (1 + capped);
  softmax.per_tile.alu_ops =
      rows_per_cta * g.keys * (kFwdAluPerScore + capped * kSoftcapAluPerScore);
  // Read S, write P (and the capped pass's read and write of S).
  softmax.per_tile.hbm_bytes = rows_per_cta * g.keys * 2 * g.s * (1 + capped);
  // Row statistics where the op keeps them (its LSE bytes), and any compulsory bytes beyond
  // Q, K, V and O, from the op: one rule for what the pass must move.
  const models::HbmBytes& need = in.op.bytes;
  const double other = need.total() - (need.q + need.k + need.v + need.o + need.lse);
  softmax.per_job_hbm_bytes = (need.lse + std::max(0.0, other)) / softmax.jobs.count;
  softmax.per_job_fixed_cycles = softmax.calibration->cta_overhead_cycles;
  out.push_back(softmax);
  out.push_back(gemm_launch(in, "pv_gemm", bh, g.rows, g.dv, g.keys, scores * g.s + v + o));
}

// The math path's backward as autograd runs it (PyTorch's _scaled_dot_product_attention_math): P
// was saved by the forward, so nothing is recomputed; four batched GEMMs over the whole score
// matrix (dV = P^T dO, dP = dO V^T, dQ = dS K, dK = dS^T Q), the softmax backward between them
// (dS = P o (dP - rowsum(dP o P))), and for grouped heads the sum of the expanded K/V gradients.
void lower_unfused_backward(const ScheduleInput& in, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, false);
  const double bh = g.batch * g.heads;
  const double matrix = bh * g.rows * g.keys * g.s;                        // one of P, dP, dS
  const double q = bh * g.rows * g.d * g.s, o = bh * g.rows * g.dv * g.s;  // dQ, dO likewise
  const double k = g.batch * g.kv_heads * g.keys * g.d * g.s_kv;
  const double v = g.batch * g.kv_heads * g.keys * g.dv * g.s_kv;
  // The K and V gradients of every query head (K and V were expanded to the query heads).
  const double dk = bh * g.keys * g.d * g.s, dv = bh * g.keys * g.dv * g.s;
  out.push_back(gemm_launch(in, "dv_gemm", bh, g.keys, g.dv, g.rows, matrix + o + dv));
  out.push_back(gemm_launch(in, "dp_gemm", bh, g.rows, g.keys, g.dv, o + v + matrix));
  Launch softmax;
  softmax.name = "softmax_bwd";
  softmax.schedule = in.name;
  softmax.calibration = &in.calibration;
  softmax.mma_class = in.mma_class;
  const double rows_per_cta = 4;  // one warp per row, as the forward
  softmax.jobs.count = ceil_div(bh * g.rows, rows_per_cta);
  softmax.jobs.min_tiles = softmax.jobs.max_tiles = 1;
  softmax.jobs.total_tiles = softmax.jobs.count;
  // rowsum(dP o P), then P o (dP - sum): three FP32 operations a score; reads P and dP, writes dS.
  // Soft-capping adds its tanh's derivative from the saved capped scores (one more read).
  const double capped = g.softcap ? 1 : 0;
  softmax.per_tile.alu_ops = rows_per_cta * g.keys * (3 + capped * kSoftcapBwdAluPerScore);
  softmax.per_tile.hbm_bytes = rows_per_cta * g.keys * (3 + capped) * g.s;
  // Compulsory bytes beyond Q, K, V, O and the gradients (the op's own), as the forward.
  const models::HbmBytes& need = in.op.bytes;
  const double other =
      need.total() - (need.q + need.k + need.v + need.o + need.lse + need.grad_out + need.grad_in);
  softmax.per_job_hbm_bytes = std::max(0.0, other) / softmax.jobs.count;
  softmax.per_job_fixed_cycles = softmax.calibration->cta_overhead_cycles;
  out.push_back(softmax);
  out.push_back(gemm_launch(in, "dq_gemm", bh, g.rows, g.d, g.keys, matrix + k + q));
  out.push_back(gemm_launch(in, "dk_gemm", bh, g.keys, g.d, g.rows, matrix + q + dk));
  if (g.heads > g.kv_heads) {
    // Sum the group's gradients into each KV head: read them all, write one per KV head.
    const double elements = (dk + dv) / g.s;
    const models::Op sum = models::elementwise_op("dkv_group_sum", models::Pass::backward, elements,
                                                  g.s + (k + v) / elements, 0, 1);
    lower_elementwise(
        {sum, in.workload, in.profile, in.calibration, in.name, in.options, in.mma_class}, out);
  }
}

// The 910B attention kernels' split of the keys over core groups: at `splits` > 1 every block's
// key range is divided and the fp32 partials are reduced by the vector cores at the end of the
// same kernel (no second launch). The count is the fastest the kernel could run
// (lower_fastest_split), as for the GPU split kernels, so more work is never cheaper than less.
// A split takes whole `key_unit`s of keys, in equal rounds of at most the tile's t.n: with a unit
// as large as the round, a call with few rounds could not run the split counts of a longer one,
// and its reduce (spread over the splits) made 2k-key decode dearer than 16k.
void lower_ascend_split(const ScheduleInput& in, const Geometry& g, const FlashTile& t,
                        double key_unit, Launches& out) {
  const double groups = in.profile.compute.sm_count;  // AI core groups: 1 AIC + 2 AIV
  FlashTile unit = t;
  unit.n = std::min(t.n, key_unit);
  const double units = flash_forward_launch(in, g, unit, 1, "attention_fwd").jobs.max_tiles;
  auto build = [&](double splits, Launches& launches) {
    FlashTile tile = t;
    // A part of whole units, walked in as few rounds of at most t.n keys as hold it, the rounds
    // equal (1027 keys are two rounds of 520, not a round of 1024 and one of 3 priced whole).
    const double part = ceil_div(units, splits) * unit.n;
    tile.n = ceil_div(part, ceil_div(part, t.n) * unit.n) * unit.n;
    // Each block's rounds start at its own first unit (a window's blocks start mid-range): on a
    // grid of rounds from key 0, a window one key longer could take fewer rounds.
    tile.round_unit = unit.n;
    // The splits those tiles fill: no empty split is launched.
    const double tiles = ceil_div(units * unit.n, tile.n);
    splits = ceil_div(tiles, ceil_div(tiles, splits));
    Launch l = flash_forward_launch(in, g, tile, splits, "attention_fwd");
    if (splits > 1) {
      // The in-kernel reduce reads the fp32 partials back and writes O (and the LSE).
      const double partials = splits * g.batch * g.heads * g.rows * (g.dv + 1) * 4;
      l.per_job_hbm_bytes += (partials + in.op.bytes.o + in.op.bytes.lse) / l.jobs.count;
    }
    launches.push_back(l);
  };
  lower_fastest_split(in, units, groups, build, out);
}

// IncreFlashAttention, the 910B decode kernel (hicann/ops-transformer
// attention/incre_flash_attention/docs, design doc): the cores are split over B x N2 (KV heads),
// G is tiled only on the vector side, so one cube matmul takes the G query heads (times the
// q_len tokens) of a KV head as its rows; when B x N2 is under 0.4 x the cores, S2 is split too
// (FlashDecoding) and the parts are reduced by the vector cores at the end of the same kernel.
void lower_ascend_decode(const ScheduleInput& in, Launches& out) {
  const models::AttentionShape& a = in.op.attention;
  Geometry g = geometry(a, in.workload, a.heads_q > a.heads_kv);
  if (g.causal && g.window > 0 && g.row_offset - g.window + 1 > g.sinks) {
    // The parts of a windowed context start at the first key a query sees, not at key 0 (IFA
    // splits the keys it walks): the keys between the sinks (if any) and the window are dropped,
    // so the sinks and the window are one range and the parts' tiles do not depend on where the
    // window falls.
    const double before = g.row_offset - g.window + 1 - g.sinks;
    g.keys -= before;
    g.row_offset -= before;
  }
  FlashTile t;
  // Rows padded to the cube's 16-row fractal, at most one 128-row cube block per matmul.
  t.m = std::min(kCubeBlock, ceil_div(g.rows, kMmaMinRows) * kMmaMinRows);
  t.n = std::min(kAscendKeysPerRound, ceil_div(g.keys, kCubeBlock) * kCubeBlock);
  t.max_ctas_per_sm = 1;
  // IFA's tiling splits S2 by floor(cores / items) when items < 0.4 x AIVs, into parts of any
  // length (not whole 1024-key rounds); the model takes the fastest count instead, each part
  // whole 16-key units (the cube's fractal) of the keys (lower_ascend_split).
  lower_ascend_split(in, g, t, kMmaMinRows, out);
}

void lower_ascend(const ScheduleInput& in, Launches& out) {
  if (in.workload.phase == models::Phase::decode) {
    lower_ascend_decode(in, out);
    return;
  }
  const Geometry g = geometry(in.op.attention, in.workload, false);
  // FlashAttentionScoreTilingS1s2Bn2gs1: s1Basic 64, 128 when the row blocks outnumber the AIVs;
  // one C->V round covers 128 x nRatio 8 = 1024 keys.
  const double aiv = 2 * in.profile.compute.sm_count;
  FlashTile t;
  t.m = g.batch * g.heads * ceil_div(g.rows, 64) > aiv ? kCubeBlock : 64;
  // Fewer query rows than a basic block: the block holds the real rows (s1RealSize), which the
  // cube pads to its 16-row fractal, as IFA's rows below (a 1-token prefill is one fractal).
  t.m = std::min(t.m, ceil_div(g.rows, kMmaMinRows) * kMmaMinRows);
  t.n = std::min(kAscendKeysPerRound, ceil_div(g.keys, kCubeBlock) * kCubeBlock);
  t.max_ctas_per_sm = 1;  // one block per AI core group (1 AIC + 2 AIV)
  // Too few row blocks to fill the core groups: the keys are split as in decode. The split is
  // inferred from measurements, not read from source (docs/kernels.md#6-ascend): torch_npu's
  // one-head prefill rows (validate/data/measured/ascend_910b_torch_npu.csv) grow with Sq x Sk from
  // one 128-row block up (at 8192 keys on the x86_64 host of the same table, 1024 rows, 8 blocks
  // each with a core group of its own, take 103.3 us against 52.6 us for 128 rows). The inference
  // kernels measured and the training forward alike: neither design read splits the keys, and a
  // training step's forward is priced as the same call as a forward alone. A split (and the
  // whole key range) takes whole 128-key cube blocks in equal rounds of at most 1024 keys: a tail
  // of one key past a round costs a block, not a second round (1025 keys priced twice 1024).
  lower_ascend_split(in, g, t, kCubeBlock, out);
}

}  // namespace

// A batched GEMM of `batch` [m x n x k] products; compulsory `bytes` spread over its tiles.
Launch gemm_launch(const ScheduleInput& in, const char* name, double batch, double m, double n,
                   double k, double bytes) {
  Launch l;
  l.name = name;
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = in.mma_class;
  l.cta = {0, 256, 0, 0};
  const double tiles_per_job = std::max(1.0, ceil_div(k, kGemmDepth));
  // Skinny products (decode: a few rows) use a row tile rounded up to the 16-row MMA granularity.
  const double tile_m = std::clamp(ceil_div(m, 16) * 16, 16.0, kGemmTile);
  // At least one CTA: a product of a fraction of a row per step (a compression GEMM that runs
  // once every few tokens) still launches.
  l.jobs.count = std::max(1.0, batch * ceil_div(m, tile_m) * ceil_div(n, kGemmTile));
  l.jobs.min_tiles = l.jobs.max_tiles = tiles_per_job;
  l.jobs.total_tiles = l.jobs.count * tiles_per_job;
  l.per_tile.tensor_flops = 2 * tile_m * kGemmTile * std::min(k, kGemmDepth);
  l.per_tile.hbm_bytes = bytes / l.jobs.total_tiles;
  // Each k-step loads a row tile of A and a column tile of B and the last writes the C tile. The
  // HBM share above divides shared operands among the CTAs that reuse them through L2; a CTA
  // still waits for its whole tiles, so a GEMM that gains a second row tile (and halves its share
  // of B) is never faster than the same rows in one tile.
  const double s = models::bytes_per_element(in.workload.dtype);
  const double rows = std::min(m, tile_m), cols = std::min(n, kGemmTile);
  l.per_tile.sm_bytes = ((rows + cols) * std::min(k, kGemmDepth) + rows * cols / tiles_per_job) * s;
  l.per_job_fixed_cycles = l.calibration->cta_overhead_cycles;
  return l;
}

void lower_gemm(const ScheduleInput& in, Launches& out) {
  const models::GemmShape& s = in.op.gemm;
  const double passes = in.op.pass == models::Pass::backward ? 2 : 1;  // dX and dW
  out.push_back(gemm_launch(in, in.op.name, passes * s.batch, s.m, s.n, s.k, in.op.bytes.total()));
}

void lower_elementwise(const ScheduleInput& in, Launches& out) {
  // A CTA per 64 KiB of traffic, dispatched in waves as SMs free up (PyTorch launches its
  // elementwise grids whole, without a grid-stride cap). A grid-stride loop capped at 8 CTAs an SM
  // priced the CTAs with a second chunk as if all 8 still shared their SM, so twice the work took
  // up to three times as long.
  const models::Op& op = in.op;
  const double bytes = op.bytes.total();
  // Iterations of 64 KiB of traffic, or of the work one SM does in the time it draws 64 KiB
  // (its share of the vector, exp and tensor rates against the bandwidth one SM can draw),
  // whichever is more. Sizing by traffic alone gave a compute-bound op fewer CTAs when its bytes
  // shrank: an fp8 KV cache made the same FP32 work up to 22 % slower. PyTorch's elementwise
  // kernels launch a CTA per 512 elements (num_threads() 128 x thread_work_size() 4 in
  // aten/src/ATen/native/cuda/thread_constants.h), so vector-heavy work spreads over the device.
  // Every CTA holds a whole chunk but the last (a fraction), and a full wave runs whole chunks
  // (Launch::whole_jobs_but_last), so no CTA gets shorter as the op grows: splitting the same work
  // into equal parts would make more work faster whenever it crossed a chunk boundary and gained
  // a CTA.
  const Rates r = achievable_rates(in.profile, in.workload.dtype);
  const double tensor_rate = r.tensor_flops_per_s > 0 ? r.tensor_flops_per_s : r.vector_flops_per_s;
  // Each vector FLOP is one lane instruction here, as the price counts it (TileWork::alu_ops, at
  // half the FP32 FLOP rate, an FMA being 2 FLOPs): sized at the FLOP rate, a compute-bound op's
  // chunk took twice the time of its 64 KiB, and an fp8 KV cache that halved the bytes left the
  // work on fewer, slower CTAs (superlinear's span search on 910B 2 % slower than at bf16).
  const double work_s_per_sm =
      std::max({op.flops.vector / (r.vector_flops_per_s / 2), op.flops.exp / r.exp_per_s,
                op.flops.tensor / tensor_rate}) *
      in.profile.compute.sm_count;
  const double work_bytes = work_s_per_sm * sm_load_Bps(in.profile);
  const double chunks = std::max(bytes, work_bytes) / 65536;
  const double tiles = chunks > 0 ? chunks : 1;
  const double ctas = std::ceil(tiles);
  Launch l;
  l.name = op.name;
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = in.mma_class;
  l.cta = {0, 256, 0, 0};
  l.jobs = {ctas, tiles - (ctas - 1), std::min(tiles, 1.0), tiles};
  l.whole_jobs_but_last = true;
  l.dispatch = Dispatch::in_order;
  l.per_tile.tensor_flops = op.flops.tensor / tiles;  // e.g. a score recompute pre-pass
  l.per_tile.exp_ops = op.flops.exp / tiles;
  l.per_tile.alu_ops = op.flops.vector / tiles;
  l.per_tile.hbm_bytes = bytes / tiles;
  out.push_back(l);
}

void lower_scan(const ScheduleInput& in, Launches& out) {
  // Lightning-Attention-2 style (docs/kernels.md#8-gemms-passes-and-scans): one CTA per
  // (batch, head) walks the chunks in order with the state on chip, so parallelism is B x H.
  const models::Op& op = in.op;
  const models::ScanShape& x = op.scan;
  const double chunks =
      in.workload.phase == models::Phase::decode ? 1 : std::max(1.0, ceil_div(x.tokens, x.chunk));
  const double jobs = std::max(1.0, x.batch * x.heads);
  Launch l;
  l.name = op.name;
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = in.mma_class;
  const double s = models::bytes_per_element(in.workload.dtype);
  l.cta = {x.chunk * (x.key_dim + x.value_dim) * s * 2 + x.key_dim * x.value_dim * 4, 128, 0, 0};
  l.jobs = {jobs, chunks, chunks, jobs * chunks};
  const double tiles = l.jobs.total_tiles;
  l.per_tile.tensor_flops = op.flops.tensor / tiles;
  l.per_tile.exp_ops = op.flops.exp / tiles;
  l.per_tile.alu_ops = op.flops.vector / tiles;
  l.per_tile.hbm_bytes = op.bytes.total() / tiles;
  l.per_job_fixed_cycles = l.calibration->cta_overhead_cycles;
  out.push_back(l);
}

void add_other_schedules(std::vector<ScheduleInfo>& table) {
  table.push_back({"unfused", "GEMM, softmax, GEMM with the full score matrix in HBM (no fusion)",
                   lower_unfused, lower_unfused_backward});
  table.back().backward_on_forward_entry = true;
  table.push_back({"ascend",
                   "Ascend 910B FlashAttentionScore: cube matmuls and vector softmax pipelined per "
                   "AI core group",
                   lower_ascend, lower_ascend_backward, nullptr, hw::MmaClass::cube, nullptr,
                   hw::Caller::torch_npu});
}

}  // namespace sim
