// project_unfused and project_linear: this project's CUDA unfused baseline (validate/
// cuda_unfused.cu) and chunked linear attention kernel (validate/cuda/cuda_decode.cu), priced as
// they are written. Launch geometry (source and `nvcc -O3 -Xptxas -v`, CUDA 13.0, sm_80 and sm_90):
//
//  kernel (grid)                      threads  smem/CTA (B)                 regs  CTAs/SM A100|H100
//  cuBLAS S^T = K Q^T (B*Hkv batches of (Hq/Hkv) x Lq rows, fp32 S out; cuBLAS picks its tiles)
//  softmax_kernel (B*Hq*Lq rows)      256      32 static                    28    8 | 8
//  cuBLAS O^T = V^T P^T (fp16 P in, fp32 O out)
//  linear_kernel<D> (B*H)             256      linear_smem_layout(D, C):    32    d64 c64: 2 | 4
//                                              d64 c64 57344, c128 131072,        c128: 1 | 1
//                                              d32 c37 16688                      d32 c37: 8 | 8
//
// (plus 1 KiB reserved per CTA; no spills.) The softmax kernel reads each fp32 score row three
// times (max, sum, write P) and computes exp twice; each thread's loads in a pass wait one after
// another. The linear kernel walks its chunks in order with barriers between phases (load; scores
// A; output A V + q S; state S += K^T V), all on CUDA cores from shared memory, K^T loaded element
// by element; one CTA per (batch, head), so B x H CTAs fill at most that many SMs.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/schedule_common.hpp"
#include "sim/schedule_project_cuda.hpp"
#include "sim/schedule_project_latency.hpp"
#include "sim/schedules.hpp"

namespace sim {

double project_cuda::linear_smem_bytes(double d, double chunk) {
  auto round16 = [](double bytes) { return std::ceil(bytes / 16) * 16; };
  const double q = round16(d * d * 4 + chunk * chunk * 4);
  const double kt = round16(q + chunk * d * 2);
  const double v = round16(kt + d * chunk * 2);
  return v + chunk * d * 2;
}

namespace {

using namespace project_cuda;

void lower_project_unfused(const ScheduleInput& in, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, false);
  if (g.softcap) {
    throw common::KernelRefusal(fmt::format(
        "kernel '{}' (this project's cuBLAS + softmax baseline) has no logit soft-capping; use "
        "--kernel unfused or auto",
        in.name));
  }
  // cuBLAS batches over (batch, KV head); the query heads of a KV head are rows of one product.
  const double batches = g.batch * g.kv_heads, rows = g.group * g.rows;
  const double score_rows = g.batch * g.heads * g.rows;
  const double scores = score_rows * g.keys;  // the whole matrix: masked entries are computed
  const models::HbmBytes& need = in.op.bytes;
  const double o_fp32 = need.o * 4 / g.s;
  out.push_back(
      gemm_launch(in, "scores_gemm", batches, rows, g.keys, g.d, need.q + need.k + scores * 4));
  Launch softmax;
  softmax.name = "softmax_kernel";
  softmax.schedule = in.name;
  softmax.calibration = &in.calibration;
  softmax.mma_class = in.mma_class;
  softmax.cta = {32 + kReservedSmemPerCta, kSoftmaxThreads, 32, 0};
  softmax.jobs = {score_rows, 1, 1, score_rows};
  softmax.per_tile.exp_ops = g.keys * kSoftmaxExpPerScore;
  softmax.per_tile.alu_ops = g.keys * kSoftmaxAluPerScore;
  softmax.per_tile.hbm_bytes = g.keys * (4 + 2);     // S read once from HBM, P written
  softmax.per_tile.sm_bytes = g.keys * (3 * 4 + 2);  // three passes over S
  softmax.per_tile.latency_cycles =
      softmax_row_latency_cycles(latencies(in.profile), g.keys, kSoftmaxThreads);
  softmax.per_job_fixed_cycles = softmax.calibration->cta_overhead_cycles;
  out.push_back(softmax);
  out.push_back(
      gemm_launch(in, "pv_gemm", batches, rows, g.dv, g.keys, scores * 2 + need.v + o_fp32));
}

void lower_project_linear_attention(const ScheduleInput& in, Launches&) {
  throw common::SpecError(
      fmt::format("kernel '{}' prices the chunked linear-attention kernel (scan ops) only; use "
                  "project_flash, project_split_kv or project_unfused for softmax attention",
                  in.name));
}

void lower_project_linear(const ScheduleInput& in, Launches& out) {
  const models::ScanShape& x = in.op.scan;
  const double d = x.key_dim, n = x.chunk;
  if (!(d == 32 || d == 64 || d == 128) || x.value_dim != d)
    throw common::SpecError(fmt::format(
        "kernel '{}': key/value dims {} / {} are not instantiated (32, 64 or 128, equal)", in.name,
        x.key_dim, x.value_dim));
  if (x.gate_dim > 1)
    throw common::SpecError(
        fmt::format("kernel '{}' runs a per-head scalar decay only (gate_dim 1), not gate_dim {}",
                    in.name, x.gate_dim));
  if (in.workload.phase == models::Phase::decode)
    throw common::SpecError(fmt::format(
        "kernel '{}' runs chunked prefill only (the project has no recurrent decode kernel)",
        in.name));
  const double chunks = std::max(1.0, ceil_div(x.tokens, n));
  const double jobs = std::max(1.0, x.batch * x.heads);
  Launch l;
  l.name = "linear_kernel";
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = in.mma_class;
  l.cta = {linear_smem_bytes(d, n) + kReservedSmemPerCta, kLinearThreads, 32, 0};
  l.jobs = {jobs, chunks, chunks, jobs * chunks};
  l.per_tile.alu_ops = linear_alu_per_chunk(d, n);
  l.per_tile.sm_bytes = 3 * n * d * 2;
  if (latencies(in.profile).measured)  // the shared pipe, added with the measured latencies
    l.per_tile.int_cycles = linear_shared_loads_per_chunk(d, n) / kSharedLanesPerClock;
  l.per_tile.latency_cycles =
      linear_chunk_latency_cycles(latencies(in.profile), d, n, kLinearThreads);
  // O is written as fp32, not in the input format the op counts.
  const double s = models::bytes_per_element(in.workload.dtype);
  const double bytes = in.op.bytes.total() + in.op.bytes.o * (4 / s - 1);
  l.per_tile.hbm_bytes = bytes / l.jobs.total_tiles;
  l.per_job_fixed_cycles = l.calibration->cta_overhead_cycles;
  out.push_back(l);
}

}  // namespace

void add_project_cuda_other_schedules(std::vector<ScheduleInfo>& table) {
  table.push_back({"project_unfused",
                   "this project's CUDA unfused baseline: cuBLAS Q K^T over (batch, KV head) with "
                   "fp32 S, a 3-pass row-softmax kernel (one 256-thread CTA per row), cuBLAS P V "
                   "with fp32 O",
                   lower_project_unfused, nullptr});
  table.push_back({"project_linear",
                   "this project's CUDA chunked linear attention: one 256-thread CTA per (batch, "
                   "head) walking the chunks on CUDA cores, state in shared memory",
                   lower_project_linear_attention, nullptr, lower_project_linear});
}

}  // namespace sim
