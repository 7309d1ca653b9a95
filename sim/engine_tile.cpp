#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/engine.hpp"
#include "sim/price.hpp"
#include "sim/rates.hpp"
#include "sim/schedule.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

// The schedule named `kernel` when it has its own lowering of scan ops (project_linear).
const ScheduleInfo* scan_schedule(std::string_view kernel) {
  for (const ScheduleInfo& s : schedules()) {
    if (s.name == kernel && s.scan != nullptr) return &s;
  }
  return nullptr;
}

// Ops other than attention are priced with fixed support entries of calibration.schedules
// (hwprofiles/SCHEMA.md, "Support calibrations"): gemm for GEMMs, unfused for elementwise ops
// (they run as the unfused baseline's memory-bound softmax-class kernels), chunked_scan for
// scans. There is no built-in default: a profile without the entry cannot price the op.
void require_support_entry(const hw::Profile& p, const char* key, const char* kind,
                           const models::Op& op) {
  if (p.calibration.schedules.count(key) > 0) return;
  throw common::SpecError(fmt::format(
      "{} has no calibration.schedules.{} entry, which prices {} ops (here '{}'); add one to "
      "the profile (hwprofiles/SCHEMA.md, \"Support calibrations\": copy "
      "calibration.schedules.{} from a built-in profile, `attnsim hw show h100`), or use "
      "--engine roofline",
      p.id, key, kind, op.name, key));
}

void lower(const models::Op& op, const models::Workload& w, const hw::Profile& p,
           std::string_view kernel, const ScheduleOptions& options, Launches& out) {
  switch (op.kind) {
    case models::OpKind::gemm:
      require_support_entry(p, "gemm", "GEMM", op);
      lower_gemm({op, w, p, "gemm"}, out);
      return;
    case models::OpKind::elementwise:
      require_support_entry(p, "unfused", "elementwise", op);
      lower_elementwise({op, w, p, "elementwise"}, out);
      return;
    case models::OpKind::scan:
      if (const ScheduleInfo* info = scan_schedule(kernel)) {
        schedule_calibration(p, std::string(info->name));  // throws if the device lacks it
        info->scan({op, w, p, info->name, options, info->mma_class}, out);
        return;
      }
      require_support_entry(p, "chunked_scan", "scan (linear-attention)", op);
      lower_scan({op, w, p, "chunked_scan"}, out);
      return;
    case models::OpKind::dense_attention:
    case models::OpKind::collective:
      break;
  }
  const ScheduleInfo* info = &choose_schedule(kernel, op, w, p);
  if (op.pass == models::Pass::forward) {
    info->forward({op, w, p, info->name, options, info->mma_class}, out);
    return;
  }
  if (info->backward == nullptr) info = &choose_schedule(p.default_schedule, op, w, p);
  if (info->backward == nullptr) {
    throw common::SpecError(fmt::format(
        "kernel '{}' on {} has no backward model; use --engine roofline for bwd/train there",
        info->name, p.id));
  }
  info->backward({op, w, p, info->name, options, info->mma_class}, out);
}

}  // namespace

Prediction predict_tile(const models::CostModel& cost, const models::Workload& w,
                        const hw::Profile& profile, std::string_view kernel,
                        const ScheduleOptions& options) {
  Prediction p;
  std::array<double, kResourceCount> time_by_bound{};
  for (const models::Op& op : cost.ops) {
    if (op.kind == models::OpKind::collective) {
      // Link-bound transfers: no tiles to schedule; priced like the roofline.
      LaunchPrediction lp = price_on_roofline(op, w, profile, cost.layers);
      const double n = static_cast<double>(lp.count);
      p.time_s += n * lp.time_s;
      time_by_bound[static_cast<std::size_t>(lp.bound)] += n * (lp.time_s - lp.fixed_s);
      time_by_bound[static_cast<std::size_t>(Resource::launch)] += n * lp.fixed_s;
      p.hbm_bytes_moved += n * lp.hbm_bytes;  // what the op reads and writes locally
      p.launches.push_back(lp);
      continue;
    }
    Launches launches;
    lower(op, w, profile, kernel, options, launches);
    for (const Launch& l : launches) {
      LaunchPrediction lp = price_launch(l, profile, w, cost.layers);
      const double n = static_cast<double>(lp.count);
      p.time_s += n * lp.time_s;
      time_by_bound[static_cast<std::size_t>(lp.bound)] += n * (lp.time_s - lp.fixed_s);
      time_by_bound[static_cast<std::size_t>(Resource::launch)] += n * lp.fixed_s;
      p.hbm_bytes_moved += n * lp.hbm_bytes;
      p.launches.push_back(lp);
    }
  }
  p.bound = static_cast<Resource>(std::max_element(time_by_bound.begin(), time_by_bound.end()) -
                                  time_by_bound.begin());
  p.flops = cost.total_flops();
  p.bytes = cost.total_bytes();
  const double hbm = p.bytes.total();
  p.arithmetic_intensity = hbm > 0 ? p.flops.tensor / hbm : 0;
  const auto precision = tensor_precision(profile, w.dtype);
  const double peak =
      precision ? profile.tensor_peak_flops(*precision) : profile.compute.vector_fp32_flops;
  p.tensor_utilization = p.time_s > 0 ? p.flops.tensor / p.time_s / peak : 0;
  apply_caller_floor(p, cost, profile, options.caller);
  return p;
}

}  // namespace sim
