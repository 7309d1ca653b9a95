// fla_chunk and tileops_gla: chunked gated-linear-attention kernels. fla_chunk is
// flash-linear-attention's (github.com/fla-org/flash-linear-attention, read at bc3b101d:
// fla/ops/gla/chunk.py and fla/ops/common/chunk_h.py). Unlike the Lightning-style scan
// (chunked_scan: one CTA per head carries the state on chip), FLA writes the state of every chunk
// to HBM and splits the work into kernels:
//
//  forward   chunk_local_cumsum (gates)      grid NT x B*H
//            chunk_fwd_h (states, in order)   grid K/BK x V/BV x B*H, a loop over the NT chunks
//            intra-chunk scores A (fp32):     sub_inter  NT x NC*NC x B*H (lower triangle works)
//                                             sub_intra  NT x NC x B*H (elementwise, gate per pair)
//            chunk_gla_fwd_o                  grid V/BV x NT x B*H
//  backward  chunk_fwd_h again (fp32 states), chunk_bwd_dh (in reverse order), bwd_dv, bwd_dA,
//            bwd_dqk_intra (NT x NC x B*H), bwd_dqkg (K/BK x NT x B*H)
//
// A per-head decay (gate_dim 1) is FLA's simple_gla with a constant decay (g_gamma): forward
// chunk_fwd_h and chunk_fwd_o only, backward chunk_fwd_h, chunk_bwd_dh, chunk_bwd_dqkwg and
// chunk_bwd_dv (lower_simple_gla_forward / _backward); no published backward timing checks it.
//
// NT = chunks of BT = chunk tokens, BC = min(16, BT) sub-chunks, NC = BT / BC. The state kernels'
// BK = BV are autotuned from {32, 64} (BKV_LIST); the model takes 64 and 4 warps. Only the state
// kernels run in order; their per-chunk step (load, one small MMA, state update, store) is what
// the calibration's tile_overhead_cycles prices (docs/kernels.md#8-gemms-passes-and-scans).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/flash_forward.hpp"
#include "sim/schedule_common.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

constexpr double kStateTile = 64;  // BK = BV of the state kernels and of the output kernels
constexpr double kSubChunk = 16;   // BC
constexpr double kThreads = 128;   // num_warps = 4
constexpr double kGateBytes = 4;   // cumulative gates are kept in fp32
// The chunk both libraries tile: FLA's chunk_gla / chunk_simple_gla take chunk_size 64, and the
// TileOPs rows ran 64; the variant's `chunk` describes the algorithm, not these kernels.
constexpr double kKernelChunk = 64;
// FLA's layers run fused_recurrent for a step of up to 64 tokens and the chunked kernels above
// (the `q_len <= 64` switch of fla/layers/*.py).
constexpr double kRecurrentMaxTokens = 64;

struct FlaGeometry {
  double bt, bc, nc, nt, bh, nk, nv, dk, dv, s, gates;
  bool per_channel;
};

FlaGeometry fla_geometry(const models::ScanShape& x, const models::Workload& w) {
  FlaGeometry g;
  g.bt = std::min(kKernelChunk, std::max(1.0, x.tokens));
  g.bc = std::min(kSubChunk, g.bt);
  g.nc = ceil_div(g.bt, g.bc);
  g.nt = std::max(1.0, ceil_div(x.tokens, g.bt));
  g.bh = std::max(1.0, x.batch * x.heads);
  g.dk = x.key_dim;
  g.dv = x.value_dim;
  g.nk = ceil_div(g.dk, kStateTile);
  g.nv = ceil_div(g.dv, kStateTile);
  g.s = models::bytes_per_element(w.dtype);
  g.gates = x.gate_dim;
  g.per_channel = x.gate_dim > 1;
  return g;
}

// One launch of `ctas` CTAs of `tiles` equal steps each.
Launch fla_launch(const ScheduleInput& in, const char* name, double ctas, double tiles,
                  const TileWork& step, double smem_bytes) {
  Launch l;
  l.name = name;
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = in.mma_class;
  l.cta = {smem_bytes, kThreads, 0, 0};
  l.jobs = {ctas, tiles, tiles, ctas * tiles};
  l.per_tile = step;
  l.per_job_fixed_cycles = in.calibration.cta_overhead_cycles;
  // The fitted per-step cycles are a dependent wait (load, a small MMA, store), which other CTAs
  // on the SM fill: with more (batch, head) pairs than SMs the steps overlap rather than queue.
  l.overhead_is_wait = true;
  return l;
}

// A state kernel (chunk_fwd_h or chunk_bwd_dh): one CTA per (BK x BV block of a head's state)
// walks the NT chunks in order; a step reads the chunk's [BT x BK] keys (or queries) with their
// gates and its [BT x BV] values (or output gradients), adds one [BK x BT] x [BT x BV] product to
// the decayed state and stores the state (`state_bytes` per element).
Launch state_kernel(const ScheduleInput& in, const FlaGeometry& g, const char* name,
                    double state_bytes, double bk = kStateTile, double bv = kStateTile,
                    bool reads_gates = true) {
  bk = std::min(bk, g.dk);
  bv = std::min(bv, g.dv);
  const double gate_cols = g.per_channel ? bk : 1;
  TileWork step;
  step.tensor_flops = 2 * g.bt * bk * bv;
  step.exp_ops = g.bt * gate_cols + gate_cols;  // exp(g_last - g) per row, the decay of the state
  step.alu_ops = g.bt * bk + bk * bv;           // keys scaled, state decayed
  // FLA's simple_gla with a per-head constant decay (g_gamma) reads no gate.
  const double gate_bytes = reads_gates ? g.bt * gate_cols * kGateBytes : 0;
  step.hbm_bytes = g.bt * (bk + bv) * g.s + gate_bytes + bk * bv * state_bytes;
  const double smem = 2 * g.bt * (bk + bv) * g.s + bk * bv * 4;  // two pipeline stages
  return fla_launch(in, name, ceil_div(g.dk, bk) * ceil_div(g.dv, bv) * g.bh, g.nt, step, smem);
}

// The forward's state kernel also loads a CTA's block of a cached prefix's fp32 state once (h0:
// kv_len > q_len) and stores its block of the final fp32 state once (ht) in inference: FLA's
// layers ask for ht with use_cache, which training leaves off (fla/ops/common/chunk_h.py).
Launch forward_state_kernel(const ScheduleInput& in, const FlaGeometry& g, bool reads_gates) {
  Launch l = state_kernel(in, g, "fla_chunk_fwd_h", g.s, kStateTile, kStateTile, reads_gates);
  const models::Workload& w = in.workload;
  const bool final = w.phase == models::Phase::prefill || w.phase == models::Phase::decode;
  const double block = std::min(kStateTile, g.dk) * std::min(kStateTile, g.dv) * 4;
  l.per_job_hbm_bytes = ((w.kv_len > w.q_len ? 1 : 0) + (final ? 1 : 0)) * block;
  return l;
}

// The gates' cumulative sum inside each chunk: one CTA per chunk, read once, written in fp32.
Launch cumsum_kernel(const ScheduleInput& in, const FlaGeometry& g, const char* name) {
  TileWork cumsum;
  cumsum.alu_ops = g.bt * g.gates;
  cumsum.hbm_bytes = g.bt * g.gates * (g.s + kGateBytes);
  return fla_launch(in, name, g.nt * g.bh, 1, cumsum, 0);
}

// A per-head decay (gate_dim 1) runs FLA's simple_gla path with a constant decay
// (fla/ops/simple_gla/chunk.py, chunk_simple_gla_fwd with g_gamma): no cumulative sum, the
// states, then chunk_fwd_o (fla/ops/common/chunk_o.py), which builds each chunk's masked scores
// itself, once per BV block of values, instead of reading them from a scores kernel.
void lower_simple_gla_forward(const ScheduleInput& in, const FlaGeometry& g, Launches& out) {
  const double chunks = g.nt * g.bh;
  out.push_back(forward_state_kernel(in, g, /*reads_gates=*/false));
  const double bv = std::min(kStateTile, g.dv);
  TileWork o;  // Q h, Q K^T with its decay mask, then A V, per BV block
  o.tensor_flops = 2 * g.bt * g.dk * bv + 2 * g.bt * g.bt * g.dk + 2 * g.bt * g.bt * bv;
  o.exp_ops = g.bt * g.bt + g.bt;  // the decay of every (row, key) pair and of each row's state
  o.alu_ops = g.bt * g.bt + g.bt * bv;
  o.hbm_bytes = 2 * g.bt * g.dk * g.s + g.dk * bv * g.s + 2 * g.bt * bv * g.s;
  out.push_back(fla_launch(in, "fla_fwd_o", g.nv * chunks, 1, o,
                           (2 * g.bt * g.dk + g.dk * bv + g.bt * bv) * g.s + g.bt * g.bt * 4));
}

void lower_fla_forward(const ScheduleInput& in, const FlaGeometry& g, Launches& out) {
  if (!g.per_channel) {
    lower_simple_gla_forward(in, g, out);
    return;
  }
  const double chunks = g.nt * g.bh;
  out.push_back(cumsum_kernel(in, g, "fla_cumsum_fwd"));
  out.push_back(forward_state_kernel(in, g, /*reads_gates=*/true));
  // Sub-chunk pairs (i > j): Q and K gated against the boundary gate, one [BC x BC x dk] MMA.
  TileWork inter;
  inter.tensor_flops = 2 * g.bc * g.bc * g.dk;
  inter.exp_ops = 2 * g.bc * g.dk;
  inter.alu_ops = 2 * g.bc * g.dk;
  inter.hbm_bytes = 2 * g.bc * g.dk * (g.s + kGateBytes) + g.bc * g.bc * 4;
  if (g.nc > 1) {  // a chunk of one sub-chunk has no pairs of sub-chunks
    out.push_back(fla_launch(in, "fla_intra_sub_inter", chunks * g.nc * (g.nc - 1) / 2, 1, inter,
                             2 * g.bc * g.dk * (g.s + kGateBytes)));
  }
  // Diagonal sub-chunks: one exp and three FP32 ops per (row, key row, channel).
  TileWork diag;
  diag.exp_ops = g.bc * g.bc * g.dk;
  diag.alu_ops = 3 * g.bc * g.bc * g.dk;
  diag.hbm_bytes = 2 * g.bc * g.dk * (g.s + kGateBytes) + g.bc * g.bc * 4;
  out.push_back(fla_launch(in, "fla_intra_sub_intra", chunks * g.nc, 1, diag,
                           2 * g.bc * g.dk * (g.s + kGateBytes)));
  // Output: gated Q against the chunk's stored state plus A V, per BV block of values.
  const double bv = std::min(kStateTile, g.dv);
  TileWork o;
  o.tensor_flops = 2 * g.bt * g.dk * bv + 2 * g.bt * g.bt * bv;
  o.exp_ops = g.bt * g.dk;
  o.alu_ops = g.bt * g.dk;
  o.hbm_bytes = g.bt * g.dk * g.s + g.bt * g.dk * kGateBytes + g.dk * bv * g.s + g.bt * g.bt * 4 +
                2 * g.bt * bv * g.s;
  out.push_back(fla_launch(in, "fla_fwd_o", g.nv * chunks, 1, o,
                           (g.bt * g.dk + g.dk * bv + g.bt * bv) * g.s + g.bt * g.bt * 4));
}

// simple_gla's backward with a constant decay (chunk_simple_gla_bwd): the states again (fp32), dh
// in reverse order, then chunk_bwd_dqkwg (dQ and dK per BK block: dS = dO V^T, dO h and V dh, then
// dS K and dS^T Q) and chunk_bwd_dv (dV per BV block: K dh plus (K Q^T) dO), all from
// fla/ops/common/chunk_o.py. No gate is read and no gate gradient is made.
void lower_simple_gla_backward(const ScheduleInput& in, const FlaGeometry& g, Launches& out) {
  const double chunks = g.nt * g.bh;
  const double bk = std::min(kStateTile, g.dk), bv = std::min(kStateTile, g.dv);
  out.push_back(state_kernel(in, g, "fla_chunk_fwd_h_recompute", 4, kStateTile, kStateTile, false));
  out.push_back(state_kernel(in, g, "fla_chunk_bwd_dh", 4, kStateTile, kStateTile, false));
  TileWork dqk;
  dqk.tensor_flops = 2 * g.bt * g.dv * g.bt + 2 * 2 * g.bt * g.dv * bk + 2 * 2 * g.bt * g.bt * bk;
  dqk.exp_ops = g.bt * g.bt + g.bt;
  dqk.alu_ops = g.bt * g.bt + 2 * g.bt * bk;
  dqk.hbm_bytes =
      2 * g.bt * bk * g.s + 2 * g.bt * g.dv * g.s + 2 * bk * g.dv * 4 + 2 * g.bt * bk * g.s;
  out.push_back(fla_launch(in, "fla_bwd_dqk", g.nk * chunks, 1, dqk,
                           (2 * g.bt * bk + 2 * g.bt * bv) * g.s + 2 * bk * bv * 4));
  TileWork dv;
  dv.tensor_flops = 2 * g.bt * g.bt * g.dk + 2 * g.bt * g.dk * bv + 2 * g.bt * g.bt * bv;
  dv.exp_ops = g.bt * g.bt + g.bt;
  dv.alu_ops = g.bt * g.bt;
  dv.hbm_bytes = 2 * g.bt * g.dk * g.s + g.dk * bv * 4 + 2 * g.bt * bv * g.s;
  out.push_back(fla_launch(in, "fla_bwd_dv", g.nv * chunks, 1, dv,
                           (2 * g.bt * g.dk + g.bt * bv) * g.s + g.dk * bv * 4));
}

void lower_fla_backward(const ScheduleInput& in, const FlaGeometry& g, Launches& out) {
  if (!g.per_channel) {
    lower_simple_gla_backward(in, g, out);
    return;
  }
  const double chunks = g.nt * g.bh;
  const double gate_cols = g.dk;
  out.push_back(state_kernel(in, g, "fla_chunk_fwd_h_recompute", 4));
  out.push_back(state_kernel(in, g, "fla_chunk_bwd_dh", 4));
  const double bv = std::min(kStateTile, g.dv), bk = std::min(kStateTile, g.dk);
  TileWork dv;  // dV = A^T dO + gated K dh, per BV block
  dv.tensor_flops = 2 * g.bt * g.bt * bv + 2 * g.bt * g.dk * bv;
  dv.exp_ops = g.bt * gate_cols;
  dv.alu_ops = g.bt * g.dk;
  dv.hbm_bytes = g.bt * g.dk * g.s + g.bt * gate_cols * kGateBytes + g.bt * g.bt * 4 +
                 2 * g.bt * bv * g.s + g.dk * bv * 4;
  out.push_back(fla_launch(in, "fla_bwd_dv", g.nv * chunks, 1, dv,
                           (g.bt * g.dk + g.bt * bv) * g.s + g.dk * bv * 4));
  TileWork da;  // dA = dO V^T, masked
  da.tensor_flops = 2 * g.bt * g.bt * g.dv;
  da.hbm_bytes = 2 * g.bt * g.dv * g.s + g.bt * g.bt * 4;
  out.push_back(fla_launch(in, "fla_bwd_dA", chunks, 1, da, 2 * g.bt * bv * g.s));
  // dQ, dK inside the chunk: earlier (dQ) and later (dK) sub-chunks by MMA, the diagonal
  // sub-chunk elementwise twice.
  TileWork intra;
  intra.tensor_flops = 2 * 2 * g.bc * g.bc * g.dk * (g.nc - 1) / 2;
  intra.exp_ops = 2 * g.bc * g.bc * g.dk + 4 * g.bc * g.dk;
  intra.alu_ops = 6 * g.bc * g.bc * g.dk;
  intra.hbm_bytes =
      g.bc * g.dk * (2 * g.s + kGateBytes) + 2 * g.bc * g.bt * 4 + 2 * g.bc * g.dk * 4;
  out.push_back(fla_launch(in, "fla_bwd_dqk_intra", chunks * g.nc, 1, intra,
                           2 * g.bc * g.dk * (g.s + kGateBytes)));
  // dQ += dO h^T, dK += V dh^T, and the gate gradient (a reverse cumulative sum), per BK block.
  TileWork dqkg;
  dqkg.tensor_flops = 2 * 2 * g.bt * g.dv * bk;
  dqkg.exp_ops = 2 * g.bt * bk;
  dqkg.alu_ops = 6 * g.bt * bk;
  dqkg.hbm_bytes = 2 * g.bt * bk * g.s + 2 * g.bt * g.dv * g.s + 2 * bk * g.dv * 4 +
                   g.bt * bk * kGateBytes + 2 * g.bt * bk * 4 + 3 * g.bt * bk * g.s;
  out.push_back(fla_launch(in, "fla_bwd_dqkg", g.nk * chunks, 1, dqkg,
                           (2 * g.bt * bk + 2 * g.bt * g.dv) * g.s + 2 * bk * g.dv * 4));
}

// TileOPs' GLA (github.com/tile-ai/TileOPs, read at 52dbc086:
// src/tileops/kernels/linear_attention/gla/gla_fwd.py, gla_bwd.py), TileLang kernels of the same
// chunk algorithm, split differently. Forward: the gate cumulative sum (one CTA per chunk), the
// states in order (one CTA per (batch, head) with the whole dk x dv state, stored fp32), then one
// output kernel per chunk that builds the chunk's scores elementwise over all BT x BT pairs (an
// exp and a product per pair and channel) before its two GEMMs. Backward: dh in reverse order
// from the saved states (no recompute), then one fused kernel per chunk (256 threads) for the
// intra-chunk (sub-chunks of 16) and inter-chunk dQ, dK, dV and dg.
void lower_tileops_forward(const ScheduleInput& in, const FlaGeometry& g, Launches& out) {
  const double chunks = g.nt * g.bh;
  out.push_back(cumsum_kernel(in, g, "tileops_gla_cumsum"));
  out.push_back(state_kernel(in, g, "tileops_gla_fwd_h", 4, g.dk, g.dv));
  const double gate_cols = g.per_channel ? g.dk : 1;
  TileWork o;
  o.tensor_flops = 2 * g.bt * g.dk * g.dv + 2 * g.bt * g.bt * g.dv;
  o.exp_ops = g.bt * g.bt * gate_cols + g.bt * gate_cols;
  o.alu_ops = 3 * g.bt * g.bt * g.dk + g.bt * g.dk;
  o.hbm_bytes =
      g.bt * (2 * g.dk + 2 * g.dv) * g.s + g.bt * gate_cols * kGateBytes + g.dk * g.dv * 4;
  out.push_back(fla_launch(in, "tileops_gla_fwd_o", chunks, 1, o,
                           g.bt * (2 * g.dk + g.dv) * g.s + g.bt * g.dk * kGateBytes +
                               g.dk * g.dv * g.s + g.bt * g.bt * g.s));
}

void lower_tileops_backward(const ScheduleInput& in, const FlaGeometry& g, Launches& out) {
  const double chunks = g.nt * g.bh;
  out.push_back(state_kernel(in, g, "tileops_gla_bwd_dh", 4, g.dk, g.dv));
  const double gate_cols = g.per_channel ? g.dk : 1;
  const double diag = g.per_channel ? g.nc * g.bc * g.bc * g.dk : 0;  // elementwise sub-chunks
  TileWork fused;
  fused.tensor_flops = 3 * 2 * g.bt * g.dk * g.dv + 2 * 2 * g.bt * g.bt * g.dv +
                       2 * 2 * g.bc * g.bc * g.dk * g.nc * (g.nc - 1) / 2;
  fused.exp_ops = 2 * diag + 4 * g.bt * gate_cols;
  fused.alu_ops = 6 * diag + 8 * g.bt * g.dk;
  fused.hbm_bytes = g.bt * (2 * g.dk + 2 * g.dv) * g.s + g.bt * gate_cols * kGateBytes +
                    2 * g.dk * g.dv * 4 + g.bt * (3 * g.dk + g.dv) * 4;
  Launch l = fla_launch(in, "tileops_gla_bwd_fused", chunks, 1, fused,
                        g.bt * (2 * g.dk + 2 * g.dv) * g.s + 2 * g.dk * g.dv * 4);
  l.cta.threads = 256;
  out.push_back(l);
}

// The host queues a pass's kernels while the earlier ones run, so only the first launch of a pass
// pays the device's launch cost; the later ones start as their predecessor drains. The published
// rows agree: fwd+bwd time is about linear in the length through the origin (FLA: 0.23, 0.47,
// 0.94, 1.85 ms at 2k-16k tokens on H200; a least-squares line meets length 0 at about +6 us,
// for eleven launches).
void pay_launch_once(Launches& out, std::size_t first) {
  for (std::size_t i = first + 1; i < out.size(); ++i) out[i].launch_fixed_share = 0;
}

// A decode step, as FLA's fused_recurrent_fwd (fla/ops/common/fused_recurrent.py) runs it: one
// program per (BV block, BK block, sequence and head), BK = BV = min(next_pow2(dim), 64),
// autotuned over 4 and 8 warps (the model takes 4); per token it decays its fp32 block of the
// state (by the head's decay, or by GLA's gate per key channel: gk, read in fp32), adds k v^T,
// reads q h out as an fp32 partial, and it stores the state block at the end. Then o.sum(0) adds
// the NK partials (a torch launch, a copy when NK is 1), 1024 values a CTA as a reduction over
// the outer dim runs.
void lower_fla_recurrent(const ScheduleInput& in, Launches& out) {
  const models::ScanShape& x = in.op.scan;
  const double s = models::bytes_per_element(in.workload.dtype);
  const double bh = std::max(1.0, x.batch * x.heads), steps = std::max(1.0, x.tokens);
  const double bk = std::min(next_pow2(x.key_dim), kStateTile);
  const double bv = std::min(next_pow2(x.value_dim), kStateTile);
  const double nk = ceil_div(x.key_dim, bk), nv = ceil_div(x.value_dim, bv);
  const double gates = x.gate_dim > 1 ? bk : 1;  // per key channel (GLA), or the head's decay
  TileWork step;
  step.exp_ops = gates;
  step.alu_ops = 3 * bk * bv;  // decay, outer-product add, readout
  // q, k and v in (and GLA's gates), the fp32 partial out.
  step.hbm_bytes = (2 * bk + bv) * s + (x.gate_dim > 1 ? bk * kGateBytes : 0) + bv * 4;
  Launch l = fla_launch(in, "fla_fused_recurrent", nk * nv * bh, steps, step, 0);
  l.per_job_hbm_bytes = 2 * bk * bv * 4;  // the fp32 state block in and out
  out.push_back(l);
  const double values = bh * steps * x.value_dim;
  out.push_back(memory_launch(in, "fla_sum_partials", values * 4 * (nk + 1), values, 1024));
}

using GlaPassFn = void (*)(const ScheduleInput&, const FlaGeometry&, Launches&);

void lower_chunked_gla(const ScheduleInput& in, Launches& out, GlaPassFn forward,
                       GlaPassFn backward) {
  const FlaGeometry g = fla_geometry(in.op.scan, in.workload);
  const std::size_t first = out.size();
  (in.op.pass == models::Pass::forward ? forward : backward)(in, g, out);
  pay_launch_once(out, first);
}

void lower_fla_scan(const ScheduleInput& in, Launches& out) {
  const std::size_t first = out.size();
  if (in.workload.phase == models::Phase::decode && in.op.scan.tokens <= kRecurrentMaxTokens) {
    lower_fla_recurrent(in, out);
    out[first].host_jit_launches = 1;  // the Triton kernel; its partials' sum is a torch launch
    return;
  }
  // A longer decode step (speculative tokens, a chunk after the state) runs the chunked kernels.
  lower_chunked_gla(in, out, lower_fla_forward, lower_fla_backward);
  // Every kernel of flash-linear-attention's chunked path is a Triton kernel.
  for (std::size_t i = first; i < out.size(); ++i) out[i].host_jit_launches = out[i].host_launches;
}

void lower_tileops_scan(const ScheduleInput& in, Launches& out) {
  if (in.workload.phase == models::Phase::decode) {
    throw common::KernelRefusal(fmt::format(
        "kernel '{}' prices chunked prefill and training kernels; a decode step runs a recurrent "
        "kernel: use --kernel auto (or fla_chunk, FLA's fused_recurrent, where the profile "
        "calibrates it)",
        in.name));
  }
  const std::size_t first = out.size();
  lower_chunked_gla(in, out, lower_tileops_forward, lower_tileops_backward);
  // Its state kernels keep a head's whole dk x dv state on chip; where that and the chunk's
  // operands exceed a CTA's shared memory, what TileOPs does is not known.
  for (std::size_t i = first; i < out.size(); ++i) {
    const double smem = out[i].cta.smem_bytes, cap = in.profile.memory.smem_per_block_bytes;
    if (cap > 0 && smem > cap) {
      throw common::KernelRefusal(fmt::format(
          "kernel '{}' keeps a head's whole {} x {} state on chip: its {} kernel needs {:.0f} KiB "
          "of shared memory, more than the {:.0f} KiB a CTA has on {}; allowed: head dims whose "
          "state and chunk operands fit (128 x 128 does); use --kernel fla_chunk or auto",
          in.name, in.op.scan.key_dim, in.op.scan.value_dim, out[i].name, smem / 1024, cap / 1024,
          in.profile.id));
    }
  }
}

}  // namespace

void refuse_attention_ops(const ScheduleInput& in, Launches&) {
  throw common::KernelRefusal(fmt::format(
      "kernel '{}' prices linear attention's chunked kernels (scan ops) only; use --kernel auto "
      "for softmax attention",
      in.name));
}

void add_fla_schedules(std::vector<ScheduleInfo>& table) {
  table.push_back({"fla_chunk",
                   "flash-linear-attention's chunked GLA kernels: per-chunk states written by an "
                   "in-order state kernel, intra-chunk scores, output; the backward recomputes "
                   "the states; a decode step as its fused_recurrent kernel",
                   refuse_attention_ops, refuse_attention_ops, lower_fla_scan, hw::MmaClass::native,
                   nullptr, hw::Caller::triton});
  table.push_back({"tileops_gla",
                   "TileOPs' TileLang GLA kernels: in-order states kept for the backward, one "
                   "output kernel per chunk scoring all pairs elementwise, a fused backward",
                   refuse_attention_ops, refuse_attention_ops, lower_tileops_scan});
}

}  // namespace sim
