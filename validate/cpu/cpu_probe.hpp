// `attnsim hw probe`: a hardware profile of this machine's one core, from measured ceilings, so
// the predict -> measure -> compare -> calibrate loop runs on any machine (CI included).
#pragma once

#include <string>

#include "hwprofiles/profile.hpp"
#include "validate/cpu/cpu_ceilings.hpp"

namespace validate {

inline constexpr const char* kProbeProfileId = "host-cpu";

// A strict, valid profile (hwprofiles/SCHEMA.md) whose peaks are the measured ceilings: fp32
// matmuls and softmax run on the core's FP32 pipes at the measured GEMM rate, exps at the measured
// exp rate, "HBM" is DRAM at the measured triad bandwidth, shared memory is the private L2.
// `id` names it (kProbeProfileId unless the profile is written to a file of another name).
hw::Profile probe_profile(const cpu::CpuCeilings& ceilings, const std::string& date,
                          const std::string& id = kProbeProfileId);

}  // namespace validate
