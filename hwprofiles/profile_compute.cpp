#include "hwprofiles/profile_compute.hpp"

#include <array>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "hwprofiles/ranges.hpp"

namespace hw {

namespace {

constexpr double kTera = 1e12;
constexpr double kMega = 1e6;
constexpr double kNano = 1e-9;
// A physically plausible SM count (hwprofiles/SCHEMA.md, "Counts"): several times the largest
// device shipping today, so a typo (1e300, 1.5) is an error and a real device is not.
constexpr double kMaxSmCount = 1024;  // AMD MI300X: 304 CUs; NVIDIA B200: 148 SMs

// compute.tensor_dense_TFLOPS_by_class: per class, peaks no higher than the dense peak of the
// same precision (a class is a way to reach the dense peak, never more).
void parse_class_peaks(JsonObject o, Compute& c) {
  for (MmaClass mma : kListedMmaClasses) {
    const std::string name(to_string(mma));
    std::optional<JsonObject> peaks = o.optional_object(name);
    if (!peaks) continue;
    std::array<double, kAllPrecisions.size()> flops{};
    bool any = false;
    for (Precision p : kAllPrecisions) {
      const std::string key(to_string(p));
      auto tf = peaks->optional_in_range(key, ranges::kPeakTFLOPS);
      if (!tf) continue;
      const double dense = c.tensor_dense_flops[static_cast<std::size_t>(p)];
      if (dense <= 0)
        peaks->fail(key, "the device lists no " + key + " peak in tensor_dense_TFLOPS");
      if (*tf * kTera > dense * (1 + 1e-12)) {
        std::ostringstream limit;
        limit << dense / kTera;
        peaks->fail(key, "a class peak cannot exceed the dense peak (" + limit.str() + " TFLOPS)");
      }
      flops[static_cast<std::size_t>(p)] = *tf * kTera;
      any = true;
    }
    c.class_sources[mma] = peaks->string("source");
    peaks->finish();
    if (!any) o.fail(name, "expected at least one of tf32, fp16, bf16, fp8, fp4");
    c.class_dense_flops[mma] = flops;
  }
  o.finish();
  if (c.class_dense_flops.empty()) {
    o.fail("", "expected at least one of mma_sync, wgmma, tcgen05, cube");
  }
}

ChainLatencies parse_latencies(JsonObject o) {
  ChainLatencies l;
  l.global_s = o.in_range("global", ranges::kLatencyNs) * kNano;
  l.l2_s = o.in_range("l2", ranges::kLatencyNs) * kNano;
  l.shared_s = o.in_range("shared", ranges::kLatencyNs) * kNano;
  l.shuffle_s = o.in_range("shuffle", ranges::kLatencyNs) * kNano;
  l.exp_s = o.in_range("exp", ranges::kLatencyNs) * kNano;
  l.mma_s = o.in_range("mma", ranges::kLatencyNs) * kNano;
  l.source = o.string("source");
  o.finish();
  return l;
}

}  // namespace

Compute parse_compute(JsonObject o) {
  Compute c;
  c.sm_count = o.count("sm_count", kMaxSmCount);
  c.tensor_clock_hz = o.in_range("tensor_clock_MHz", ranges::kClockMHz) * kMega;
  c.max_clock_hz = o.in_range("max_clock_MHz", ranges::kClockMHz) * kMega;
  if (c.max_clock_hz < c.tensor_clock_hz) {
    o.fail("max_clock_MHz",
           fmt::format("({} MHz) must be at least tensor_clock_MHz ({} MHz): it is the boost "
                       "clock, the highest the SMs run at",
                       c.max_clock_hz / kMega, c.tensor_clock_hz / kMega));
  }
  JsonObject peaks = o.object("tensor_dense_TFLOPS");
  bool any = false;
  for (Precision p : kAllPrecisions) {
    std::string key(to_string(p));
    if (auto tf = peaks.optional_in_range(key, ranges::kPeakTFLOPS)) {
      c.tensor_dense_flops[static_cast<std::size_t>(p)] = *tf * kTera;
      any = true;
    }
  }
  peaks.finish();
  if (!any) o.fail("tensor_dense_TFLOPS", "expected at least one of tf32, fp16, bf16, fp8, fp4");
  if (auto by_class = o.optional_object("tensor_dense_TFLOPS_by_class")) {
    parse_class_peaks(*by_class, c);
  }
  c.vector_fp32_flops = o.in_range("vector_fp32_TFLOPS", ranges::kPeakTFLOPS) * kTera;
  c.exp_ops_per_clk_per_sm = o.in_range("exp_ops_per_clk_per_sm", ranges::kExpOpsPerClk);
  if (auto latency = o.optional_object("latency_ns")) c.latency = parse_latencies(*latency);
  o.finish();
  return c;
}

nlohmann::json to_json(const ChainLatencies& l) {
  return {{"global", l.global_s / kNano},
          {"l2", l.l2_s / kNano},
          {"shared", l.shared_s / kNano},
          {"shuffle", l.shuffle_s / kNano},
          {"exp", l.exp_s / kNano},
          {"mma", l.mma_s / kNano},
          {"source", l.source}};
}

}  // namespace hw
