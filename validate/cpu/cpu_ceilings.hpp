// Microbenchmarks of the host's ceilings for one core: streaming memory bandwidth, GEMM FLOP/s,
// exp throughput; plus what the OS says about the CPU (name, clock, caches).
#pragma once

#include <string>

namespace validate::cpu {

struct CpuCeilings {
  std::string cpu_name;
  double clock_hz = 0;    // nominal or current MHz from /proc/cpuinfo
  double stream_Bps = 0;  // one-core triad bandwidth over a buffer far larger than the LLC
  double gemm_flops = 0;  // one-core float32 Eigen GEMM at 512^3
  double exp_per_s = 0;   // one-core float32 std::exp throughput (vectorised loop)
  double fma_flops = 0;   // one-core float32 FMA throughput (vectorised loop)
  double l1d_bytes = 0, l2_bytes = 0, llc_bytes = 0;  // from sysfs; 0 when unknown
  double call_overhead_s = 0;  // cost of invoking an empty kernel through the runner
};

// Runs each microbenchmark for about `budget_s / 4` seconds (median of repeats).
CpuCeilings measure_cpu_ceilings(double budget_s);

}  // namespace validate::cpu
