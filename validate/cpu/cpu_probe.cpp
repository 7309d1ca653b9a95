#include "validate/cpu/cpu_probe.hpp"

#include <algorithm>
#include <fstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwprofiles/profile_loader.hpp"

namespace validate {

namespace {

double memory_total_bytes() {
  std::ifstream in("/proc/meminfo");
  std::string key;
  double kib = 0;
  while (in >> key) {
    if (key == "MemTotal:") {
      in >> kib;
      return kib * 1024;
    }
    std::getline(in, key);
  }
  return 1e9;  // unknown: a placeholder the profile notes say nothing about
}

nlohmann::json schedule(double mma_fraction) {
  return {{"mma_fraction", mma_fraction},
          {"softmax_overlap", 0.0},
          {"tile_overhead_cycles", 0},
          {"cta_overhead_cycles", 0}};
}

}  // namespace

hw::Profile probe_profile(const cpu::CpuCeilings& c, const std::string& date,
                          const std::string& id) {
  const double clock_mhz = c.clock_hz > 0 ? c.clock_hz / 1e6 : 1000;
  const double gemm_tf = c.gemm_flops / 1e12;
  const double l2_kib = std::max(64.0, c.l2_bytes / 1024);
  const double llc_mib = std::max(1.0, (c.llc_bytes > 0 ? c.llc_bytes : c.l2_bytes) / 1048576);
  // One "SM" is the one core the CPU kernels use; everything runs on its FP32 pipes, so the
  // vector peak is the measured GEMM rate and fp32 is the dtype the cases use.
  nlohmann::json doc = {
      {"id", id},
      {"name",
       c.cpu_name.empty() ? std::string("host CPU (one core)") : c.cpu_name + " (one core)"},
      {"vendor", "other"},
      {"arch", "cpu"},
      {"compute",
       {{"sm_count", 1},
        {"tensor_clock_MHz", clock_mhz},
        {"max_clock_MHz", clock_mhz},
        {"tensor_dense_TFLOPS", {{"tf32", gemm_tf}}},
        {"vector_fp32_TFLOPS", gemm_tf},
        {"exp_ops_per_clk_per_sm", std::max(1e-3, c.exp_per_s / (clock_mhz * 1e6))}}},
      {"memory",
       {{"hbm_capacity_GB", memory_total_bytes() / 1e9},
        {"hbm_bandwidth_GBps", c.stream_Bps / 1e9},
        {"l2_MiB", llc_mib},
        {"smem_per_sm_KiB", l2_kib},
        {"smem_per_block_KiB", l2_kib},
        {"max_ctas_per_sm", 1},
        {"cache_read_GBps_per_sm", std::max(c.cache_read_Bps, c.stream_Bps) / 1e9}}},
      {"calibration",
       {{"tensor_fraction", 1.0},
        {"hbm_fraction", 1.0},
        {"vector_fraction", 1.0},
        {"exp_fraction", 1.0},
        {"kernel_launch_us", c.call_overhead_s * 1e6},
        {"l2_reuse_fraction", 0.64},
        {"sm_bandwidth_fraction", 1.0},
        {"schedules",
         {{"cpu_flash", schedule(1.0)},
          {"cpu_linear", schedule(1.0)},
          {"chunked_scan", schedule(1.0)},
          {"unfused", schedule(1.0)},
          {"gemm", schedule(1.0)}}}}},
      {"default_schedule", "cpu_flash"},
      {"unofficial",
       {{"compute.vector_fp32_TFLOPS", "measured: one-core float32 Eigen GEMM at 512^3"},
        {"memory.hbm_bandwidth_GBps", "measured: one-core triad bandwidth (DRAM)"},
        {"memory.cache_read_GBps_per_sm",
         "measured: one-core read bandwidth from the LLC (a buffer four times the L2)"},
        {"links.scale_up.bandwidth_GBps_per_dir", "no link: set to the DRAM bandwidth"}}},
      {"notes",
       {fmt::format("Probed {}: GEMM {:.2f} GFLOP/s, triad {:.2f} GB/s, LLC read {:.2f} GB/s, exp "
                    "{:.3g}/s, FMA {:.2f} GFLOP/s, L1d {:.0f} KiB, L2 {:.0f} KiB, LLC {:.1f} MiB.",
                    date, c.gemm_flops / 1e9, c.stream_Bps / 1e9, c.cache_read_Bps / 1e9,
                    c.exp_per_s, c.fma_flops / 1e9, c.l1d_bytes / 1024, c.l2_bytes / 1024,
                    c.llc_bytes / 1048576),
        "Calibration fractions start at 1 (peaks are measured); attnsim validate --backend cpu "
        "--calibrate refits the per-kernel entries."}},
      {"sources", {"measured on this machine by attnsim hw probe (validate/cpu/cpu_ceilings.cpp)"}},
      // One device: a scale-up "link" only so that a collective op (TPLA's all-reduce) has a rate.
      {"links",
       {{"scale_up",
         {{"name", "none (one core)"},
          {"topology", "pcie"},
          {"devices_per_node", 1},
          {"bandwidth_GBps_per_dir", c.stream_Bps / 1e9},
          {"latency_us", 0},
          {"source", "no link: the measured DRAM triad bandwidth stands in"}}}}}};
  return hw::parse_profile(doc, "attnsim hw probe");
}

}  // namespace validate
