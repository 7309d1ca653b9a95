// Microbenchmarks of the host's ceilings for one core: streaming memory bandwidth, GEMM FLOP/s,
// exp throughput; plus what the OS says about the CPU (name, clock, caches).
#pragma once

#include <string>

namespace validate::cpu {

struct CpuCeilings {
  std::string cpu_name;
  double clock_hz = 0;        // nominal or current MHz from /proc/cpuinfo
  double stream_Bps = 0;      // one-core triad bandwidth over a buffer far larger than the LLC
  double cache_read_Bps = 0;  // one-core read bandwidth from the LLC (a buffer 4 x L2 in size)
  double gemm_flops = 0;      // one-core float32 Eigen GEMM at 512^3
  double exp_per_s = 0;       // one-core float32 exp throughput (Eigen's vectorised array exp)
  double fma_flops = 0;       // one-core float32 FMA throughput (vectorised loop)
  double l1d_bytes = 0, l2_bytes = 0, llc_bytes = 0;  // from sysfs; 0 when unknown
  // One smallest attention call (one query, one key) right after a cache flush, as validate times
  // every case: what any call pays before its first useful work (code, allocator and page-table
  // state back from memory).
  double call_overhead_s = 0;
};

// Bytes validate writes between timed runs to evict the caches: twice the LLC, at least 16 MiB.
double cache_flush_bytes(double llc_bytes);

// What the OS says about the CPU (name, clock, cache sizes), nothing timed: the rates stay 0.
CpuCeilings describe_cpu();

// describe_cpu(), then each microbenchmark for about `budget_s / 6` seconds (median of repeats).
CpuCeilings measure_cpu_ceilings(double budget_s);

}  // namespace validate::cpu
