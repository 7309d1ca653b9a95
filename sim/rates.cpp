#include "sim/rates.hpp"

#include <string>

#include <fmt/format.h>

#include "common/errors.hpp"

namespace sim {

namespace {

std::optional<hw::Precision> precision_of(models::DType t) {
  switch (t) {
    case models::DType::fp32:
      return std::nullopt;  // CUDA-core FP32, no tensor path
    case models::DType::tf32:
      return hw::Precision::tf32;
    case models::DType::fp16:
      return hw::Precision::fp16;
    case models::DType::bf16:
      return hw::Precision::bf16;
    case models::DType::fp8:
      return hw::Precision::fp8;
  }
  return std::nullopt;
}

}  // namespace

std::optional<hw::Precision> tensor_precision(const hw::Profile& p, models::DType dtype) {
  auto precision = precision_of(dtype);
  if (precision && !p.supports(*precision)) {
    std::string supported = "fp32";
    for (hw::Precision q : hw::kAllPrecisions) {
      if (p.supports(q)) supported += ", " + std::string(hw::to_string(q));
    }
    throw common::SpecError(fmt::format("{} has no {} tensor peak; dtypes it supports: {}", p.id,
                                        models::to_string(dtype), supported));
  }
  return precision;
}

double class_peak_flops(const hw::Profile& p, hw::MmaClass mma, hw::Precision precision) {
  const double peak = p.class_peak_flops(mma, precision);
  if (peak > 0) return peak;
  std::string listed;
  for (const auto& [listed_class, flops] : p.compute.class_dense_flops) {
    if (flops[static_cast<std::size_t>(precision)] <= 0) continue;
    listed += (listed.empty() ? "" : ", ") + std::string(hw::to_string(listed_class));
  }
  // The kernel cannot run this precision on this device: a refusal (another kernel may).
  throw common::KernelRefusal(fmt::format(
      "{} ({}) has no {} path for {} matrix instructions; classes with {}: {} (pick a kernel "
      "that issues one of them, or use --engine roofline)",
      p.id, p.arch, hw::to_string(precision), hw::to_string(mma), hw::to_string(precision),
      listed.empty() ? "none" : listed));
}

Rates achievable_rates(const hw::Profile& p, models::DType dtype) {
  const hw::Calibration& c = p.calibration;
  Rates r;
  if (auto precision = tensor_precision(p, dtype)) {
    r.tensor_flops_per_s = p.tensor_peak_flops(*precision) * c.tensor_fraction;
  }
  r.vector_flops_per_s = p.compute.vector_fp32_flops * c.vector_fraction;
  r.exp_per_s = p.exp_peak_ops_per_s() * c.exp_fraction;
  r.hbm_bytes_per_s = p.memory.hbm_bandwidth_Bps * c.hbm_fraction;
  r.link_bytes_per_s = p.scale_up_bandwidth_Bps();
  if (p.links) r.scale_up = &p.links->scale_up;
  r.launch_s = c.kernel_launch_s;
  return r;
}

}  // namespace sim
