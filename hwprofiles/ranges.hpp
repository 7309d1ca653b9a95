// The allowed range of every number in a hardware profile (hwprofiles/SCHEMA.md, "Ranges").
// Each range is generous: its low end is at most 1/100 of the smallest value a built-in or probed
// profile has, its high end at least 100 times the largest (the figures and their public sources
// are in the built-in files named below), so a real device loads and a typo (1e-300, 1e300) that
// would price a kernel at 1e299 s is refused.
#pragma once

#include <string>

namespace hw {

// Numbers from `low` (excluded unless `low_included`) to `high` (included).
struct Range {
  double low;
  bool low_included;
  double high;

  bool contains(double x) const { return (low_included ? x >= low : x > low) && x <= high; }
};

// "(0.1, 1000000]": the range as the errors and SCHEMA.md write it.
std::string to_string(const Range& range);

namespace ranges {

// Dense, per-class and vector peaks, TFLOP/s: one probed CPU core runs ~0.05 (attnsim hw probe);
// the largest is GB300's fp4, 15000 (gb300.json).
inline constexpr Range kPeakTFLOPS{1e-4, false, 1e7};
// Special-function results per clock per SM: the probe floors a core's at 1e-3
// (validate/cpu/cpu_probe.cpp); GPUs have 16 (A100) to 32 (GB300).
inline constexpr Range kExpOpsPerClk{1e-4, false, 1e5};
// Tensor and boost clocks, MHz: 1410 (A100 PCIe) to 2070 (GB300 boost); a probe without a clock
// writes 1000.
inline constexpr Range kClockMHz{1, false, 1e6};
// One link of a dependent chain, ns: 14.4 (shared) to 347.4 (global) on H100 (h100-sxm5-80gb.json).
inline constexpr Range kLatencyNs{0.01, false, 1e5};
// Device memory, GB: 32 (Ascend 910B4) to 279 (GB300); a probe of a host may see terabytes.
inline constexpr Range kCapacityGB{1e-3, false, 1e6};
// Bandwidths, GB/s: HBM 800 (910B4) to 8000 (GB300); one probed core's DRAM or cache read, a
// few to tens; scale-up links 32 (A100 PCIe) to 900 per direction (NVLink5); scale-out links,
// in Gb/s, 200 to 800 (ConnectX-8).
inline constexpr Range kBandwidthGBps{0.1, false, 1e6};
inline constexpr Range kCacheReadGBps{0.1, false, 1e5};
inline constexpr Range kScaleUpGBps{0.1, false, 1e5};
inline constexpr Range kScaleOutGbps{0.1, false, 1e5};
// Last-level cache, MiB: 40 (A100) to 192 (Ascend 910B3); a probed host's LLC, 1 or more.
inline constexpr Range kCacheMiB{0.01, false, 1e5};
// Shared memory (Ascend L1) per SM and per block, KiB: 163 to 512; a probed core's L2, up to MiBs.
inline constexpr Range kSmemKiB{1, false, 1e6};
// Efficiencies and shares of a peak: 0.05 (sm_bandwidth_fraction) to 1 today.
inline constexpr Range kFraction{1e-4, false, 1};
// Fixed cycles of a schedule entry: up to 20000 in the built-in files; validate --calibrate
// searches host-core CTAs up to 5e6 (validate/calibrate.cpp).
inline constexpr Range kCycles{0, true, 1e8};
// Kernel launch and host floors, us: 0 to 58.5 (torch_npu); calibrate searches up to 300.
inline constexpr Range kFixedCostUs{0, true, 1e4};
// Latency of one collective step, us: 3.4 (NVLink) to 14 (network), NCCL's cost model.
inline constexpr Range kLinkLatencyUs{0, true, 1e4};

}  // namespace ranges

}  // namespace hw
