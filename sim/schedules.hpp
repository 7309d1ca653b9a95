// Internal: how each schedule file adds its entries to the table in schedule.cpp.
#pragma once

#include <vector>

#include "sim/schedule.hpp"

namespace sim {

void add_fa2_schedules(std::vector<ScheduleInfo>& table);
void add_hopper_blackwell_schedules(std::vector<ScheduleInfo>& table);
void add_other_schedules(std::vector<ScheduleInfo>& table);
void add_pto_schedules(std::vector<ScheduleInfo>& table);
void add_cpu_schedules(std::vector<ScheduleInfo>& table);
void add_flashmla_schedules(std::vector<ScheduleInfo>& table);
void add_fla_schedules(std::vector<ScheduleInfo>& table);
void add_nsa_schedules(std::vector<ScheduleInfo>& table);
void add_flash_nsa_schedules(std::vector<ScheduleInfo>& table);
void add_fsa_schedules(std::vector<ScheduleInfo>& table);
void add_lightning_schedules(std::vector<ScheduleInfo>& table);
void add_flashinfer_schedules(std::vector<ScheduleInfo>& table);
void add_flashinfer_prefill_schedule(std::vector<ScheduleInfo>& table);
void add_natten_schedule(std::vector<ScheduleInfo>& table);
// NATTEN's FNA kernels run the op's head dims on this device: equal Q/K and V dims, 32, 64, 128 or
// 256 on Hopper, at most 128 on Blackwell in multiples of 8 (16 in fp8) (sim/schedule_natten.cpp).
bool natten_head_dims(const models::AttentionShape& a, models::DType dtype,
                      const hw::Profile& profile);
// What auto prices with natten where the profile calibrates it: a neighbourhood op on a token
// grid (gna with a stride), forward, not causal, in head dims NATTEN runs.
bool natten_runs(const models::Op& op, const models::Workload& w, const hw::Profile& profile);
// True for the scans Lightning Attention-2's kernel runs as written: a whole sequence (no decode
// step, no chunk after a state) of the lightning variant in its 64-token blocks, head_dim a power
// of two up to 128 (sim/schedule_lightning.cpp).
bool lightning2_runs(const models::Op& op, const models::Workload& w);
// Whether the host's linear-attention kernel (cpu_linear) computes this scan: plain linear
// attention (no decay, gates or normaliser), a prefill forward.
bool cpu_linear_runs(const models::Op& op, const models::Workload& w);
void add_project_cuda_schedules(std::vector<ScheduleInfo>& table);
void add_project_cuda_other_schedules(std::vector<ScheduleInfo>& table);

void lower_fa2_backward(const ScheduleInput& in, Launches& out);
void lower_fa3_backward(const ScheduleInput& in, Launches& out);
void lower_ascend_backward(const ScheduleInput& in, Launches& out);
void lower_gemm(const ScheduleInput& in, Launches& out);
void lower_elementwise(const ScheduleInput& in, Launches& out);
void lower_scan(const ScheduleInput& in, Launches& out);
// The attention lowering of a schedule that prices scans only: throws SpecError naming it.
void refuse_attention_ops(const ScheduleInput& in, Launches& out);

// Shared memory the CUDA runtime reserves per CTA on sm_80 and later (CUDA C++ Programming Guide,
// "Shared Memory" of compute capability 8.x / 9.x: 1 KB reserved for system use per block).
inline constexpr double kReservedSmemPerCta = 1024;

// Throws common::KernelRefusal (a SpecError) "kernel '<kernel>': <what>" unless `ok`: a shape a
// schedule's kernel does not run (validate prices such a row with auto instead of skipping it).
void require_kernel(bool ok, std::string_view kernel, const std::string& what);

// A launch named `name` of the op's schedule, priced with its calibration entry (in.calibration)
// and matrix instructions; the rest is the lowering's to fill.
inline Launch schedule_launch(const ScheduleInput& in, const char* name) {
  Launch l;
  l.name = name;
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = in.mma_class;
  return l;
}

// A batched GEMM of `batch` [m x n x k] products (cuBLAS-class 128 x 128 output tiles, 64-deep
// k-steps) moving `bytes` in all, priced with the op's calibration entry (in.calibration).
Launch gemm_launch(const ScheduleInput& in, const char* name, double batch, double m, double n,
                   double k, double bytes);

}  // namespace sim
