// lightning2: the Triton kernels of Lightning Attention-2 (lightning_attn2.py in
// github.com/OpenNLPLab/lightning-attention at d15c385, the default `chunk_loop` path of
// lightning_attn_func; read in validate/data/candidates/lightning2_notes.md, docs/kernels.md §12).
//
// Forward (_fwd_kernel): one program per (sequence x head, 32-wide slice of the value dim e);
// each walks every block of BLOCK = 64 tokens in turn, carrying its fp32 d x 32 slice of the
// state: Q K^T (64 x d x 64, recomputed by every slice), its product with V, Q times the state
// and the state update K^T V. Tiles are converted to fp32 before each tl.dot, so the products
// run as TF32; no num_warps is set (Triton's default, 4 warps).
// Backward: _bwd_intra_kernel, one program per (sequence x head, block), no loop (five
// products); then _bwd_inter_kernel, one program per sequence x head, walking the blocks forward
// (dQ from the state) and then backward (dK and dV from the state's gradient), adding into dQ, dK
// and dV in HBM.
// Each in-order step waits on the one before (the carried state): the calibration's
// tile_overhead_cycles is that wait, which co-resident programs fill.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/flash_forward.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

constexpr double kSliceMax = 32;  // BLOCK_MODEL = min(next_pow2(e), 32)
constexpr double kBlock = 64;     // BLOCK, fixed in the wrapper

Launch scan_launch(const ScheduleInput& in, const char* name) {
  Launch l;
  l.name = name;
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = in.mma_class;
  l.cta = {0, 128, 0, 0};  // 4 warps
  l.tf32_operands = true;
  l.overhead_is_wait = true;
  l.per_job_fixed_cycles = in.calibration.cta_overhead_cycles;
  l.host_jit_launches = 1;  // a Triton kernel
  return l;
}

void lower_forward(const ScheduleInput& in, Launches& out) {
  const models::ScanShape& x = in.op.scan;
  const double s = models::bytes_per_element(in.workload.dtype);
  const double b = kBlock, d = x.key_dim, e = next_pow2(x.value_dim);
  const double slice = std::min(e, kSliceMax), slices = ceil_div(e, slice);
  const double blocks = ceil_div(x.tokens, b);
  Launch l = scan_launch(in, "lightning_fwd");
  l.jobs = uniform_blocks(1, x.batch * x.heads * slices, blocks);
  // Q K^T, its product with V, Q times the state, and the state update, per block and slice.
  l.per_tile.tensor_flops = 2 * (b * d * b + b * b * slice + b * d * slice + d * b * slice);
  // The decay masks on the scores, the inter-block output and K, and the state's decay.
  l.per_tile.alu_ops = b * b + b * slice + b * d + d * slice + b * slice;
  l.per_tile.hbm_bytes = (2 * b * d + 2 * b * slice) * s;  // Q, K, V and O tiles
  l.per_job_hbm_bytes = d * slice * 4;                     // the state slice, stored once
  l.cta.smem_bytes = 3 * (2 * b * d + b * slice) * s;      // three pipelined stages
  out.push_back(l);
}

void lower_backward(const ScheduleInput& in, Launches& out) {
  const models::ScanShape& x = in.op.scan;
  const double s = models::bytes_per_element(in.workload.dtype);
  const double b = kBlock, d = x.key_dim, e = next_pow2(x.value_dim);
  const double blocks = ceil_div(x.tokens, b), bh = x.batch * x.heads;
  // Intra: dO V^T, its products with K and Q, K Q^T and its product with dO.
  Launch intra = scan_launch(in, "lightning_bwd_intra");
  intra.jobs = uniform_blocks(blocks, bh, 1);
  intra.per_tile.tensor_flops = 2 * b * b * (3 * d + 2 * e);
  intra.per_tile.alu_ops = 2 * b * b;  // decay mask on the scores and their gradient
  intra.per_tile.hbm_bytes = b * (2 * d + 2 * e) * s + b * (2 * d + e) * s;
  out.push_back(intra);
  // Inter: per block, forward (dQ += dO S^T; S update) then backward (dK, dV from dS; dS
  // update): 640 d e FLOPs per block over the two walks, dQ, dK, dV read, added to and written.
  Launch inter = scan_launch(in, "lightning_bwd_inter");
  inter.jobs = uniform_blocks(1, bh, 2 * blocks);
  inter.per_tile.tensor_flops = 320 * d * e * (b / 64);
  inter.per_tile.alu_ops = b * (d + e);
  inter.per_tile.hbm_bytes = b * (7 * d + 6 * e) * s / 2;
  out.push_back(inter);
}

void lower_lightning_scan(const ScheduleInput& in, Launches& out) {
  if (!lightning2_runs(in.op, in.workload)) {
    throw common::KernelRefusal(fmt::format(
        "kernel 'lightning2' is Lightning Attention-2's Triton kernel (lightning_attn2): a whole "
        "sequence (no decode step, no chunk after a state) in 64-token blocks, head_dim a power "
        "of two up to 128 and a per-head decay; this op is {} ({}, chunk {}, head_dim {}); use "
        "--kernel auto",
        in.op.name, models::to_string(in.workload.phase), in.op.scan.chunk, in.op.scan.key_dim));
  }
  (in.op.pass == models::Pass::forward ? lower_forward : lower_backward)(in, out);
}

}  // namespace

bool lightning2_runs(const models::Op& op, const models::Workload& w) {
  const models::ScanShape& x = op.scan;
  const bool pow2_d = x.key_dim <= 128 && next_pow2(x.key_dim) == x.key_dim;
  return op.kind == models::OpKind::scan && x.block_decay && x.gate_dim == 1 && x.chunk == kBlock &&
         pow2_d && w.phase != models::Phase::decode && w.q_len == w.kv_len;
}

void add_lightning_schedules(std::vector<ScheduleInfo>& table) {
  table.push_back({"lightning2",
                   "Lightning Attention-2's Triton kernels (OpenNLPLab lightning_attn2): one "
                   "program per head and 32-wide value slice walking 64-token blocks in turn, "
                   "TF32 products; backward intra and inter kernels",
                   refuse_attention_ops, refuse_attention_ops, lower_lightning_scan,
                   hw::MmaClass::mma_sync, nullptr, hw::Caller::triton});
}

}  // namespace sim
