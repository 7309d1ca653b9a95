// Achievable rates of one device for one number format: peak x calibration fraction.
#pragma once

#include "hwprofiles/profile.hpp"
#include "models/workload.hpp"

namespace sim {

struct Rates {
  double tensor_flops_per_s = 0;  // 0 when the dtype has no tensor-core path (fp32)
  double vector_flops_per_s = 0;
  double exp_per_s = 0;
  double hbm_bytes_per_s = 0;
  double launch_s = 0;
};

// Throws models::SpecError when the device has no tensor peak for `dtype` (e.g. fp8 on A100),
// naming the dtypes it supports.
Rates achievable_rates(const hw::Profile& profile, models::DType dtype);

}  // namespace sim
