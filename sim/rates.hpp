// Achievable rates of one device for one number format: peak x calibration fraction.
#pragma once

#include <optional>

#include "hwprofiles/profile.hpp"
#include "models/workload.hpp"

namespace sim {

struct Rates {
  double tensor_flops_per_s = 0;  // 0 when the dtype has no tensor-core path (fp32)
  double vector_flops_per_s = 0;
  double exp_per_s = 0;
  double hbm_bytes_per_s = 0;
  double link_bytes_per_s = 0;  // links.scale_up (or a legacy interconnect), one direction
  // The profile's links.scale_up (null with a legacy interconnect or none): a collective's
  // bandwidth over its group (hw::ScaleUpLink::group_bandwidth_Bps) and latency per step.
  const hw::ScaleUpLink* scale_up = nullptr;
  double launch_s = 0;
};

// The tensor-core precision a dtype runs at; nullopt for fp32 (FP32 pipes). Throws
// common::SpecError when the device has no tensor peak for it, naming the dtypes it supports.
std::optional<hw::Precision> tensor_precision(const hw::Profile& profile, models::DType dtype);

// The dense peak a kernel issuing `mma` reaches at `precision` on this device (the profile's
// per-class table; the dense peak where it has none). Throws common::KernelRefusal (a SpecError)
// when the device lacks the class (wgmma on Blackwell) or the class has no path for the
// precision: another kernel may run it.
double class_peak_flops(const hw::Profile& profile, hw::MmaClass mma, hw::Precision precision);

// Throws common::SpecError when the device has no tensor peak for `dtype` (e.g. fp8 on A100),
// naming the dtypes it supports.
Rates achievable_rates(const hw::Profile& profile, models::DType dtype);

}  // namespace sim
