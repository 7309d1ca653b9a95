#include <algorithm>
#include <array>
#include <cmath>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/engine.hpp"
#include "sim/price.hpp"
#include "sim/rates.hpp"
#include "sim/schedule.hpp"
#include "sim/schedule_nsa.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

// A launch set of an op other than attention, priced with its support entry.
void lower_support(LowerFn lowering, SupportKernel kernel, const models::Op& op,
                   const models::Workload& w, const hw::Profile& p, Launches& out) {
  lowering({op, w, p, support_calibration(p, kernel, op), support_schedule_name(kernel)}, out);
}

// The schedule that lowers a scan op itself: the one named, if it has a scan lowering; under
// auto, cpu_linear where a host profile calibrates it and it runs the scan, lightning2 for
// Lightning Attention-2's block-decay scans and fla_chunk for the linear variant's where the device
// calibrates them; otherwise none (chunked_scan's support entry).
const ScheduleInfo* scan_schedule(const KernelChoice& kernel, const models::Op& op,
                                  const models::Workload& w, const hw::Profile& p) {
  if (const ScheduleInfo* info = kernel.schedule()) return info->scan != nullptr ? info : nullptr;
  auto calibrated = [&](const ScheduleInfo& s) { return find_calibration(p, s) != nullptr; };
  // A host profile (attnsim hw probe) prices its plain linear attention with the host's kernel.
  const ScheduleInfo& host = find_schedule("cpu_linear");
  if (cpu_linear_runs(op, w) && calibrated(host)) return &host;
  const ScheduleInfo& lightning = find_schedule("lightning2");
  if (lightning2_runs(op, w) && calibrated(lightning)) return &lightning;
  // Linear attention with a per-head decay (Lightning's too, where lightning2 does not run it:
  // FLA's simple_gla with g_gamma computes the same) or GLA's gates, as flash-linear-attention
  // runs it where the device calibrates its kernels: the chunked kernels, or fused_recurrent for
  // a decode step. LightNet's normalised recurrence stays with chunked_scan.
  const ScheduleInfo& fla = find_schedule("fla_chunk");
  if (!op.scan.normaliser && calibrated(fla)) return &fla;
  return nullptr;
}

// The schedule that runs a selection op's own kernels: the one named, if it has a selection
// lowering; under auto, nsa_triton_compressed where it runs the op and the device calibrates it;
// otherwise none (the elementwise kernel).
const ScheduleInfo* selection_schedule(const KernelChoice& kernel, const models::Op& op,
                                       const models::Workload& w, const hw::Profile& p) {
  if (const ScheduleInfo* info = kernel.schedule()) {
    return info->selection != nullptr ? info : nullptr;
  }
  const ScheduleInfo& nsa = find_schedule("nsa_triton_compressed");
  const ScheduleInfo& fsa = find_schedule("fsa_triton");
  auto calibrated = [&](const ScheduleInfo& s) { return find_calibration(p, s) != nullptr; };
  // FSA's extras go with its selected kernels, where auto runs them (choose_schedule), and with
  // NSA's where FSA's module calls that one instead.
  if (nsa_kernel_runs_fsa_extras(op, w)) {
    const ScheduleInfo& nsa_kernel = find_schedule("nsa_triton");
    return calibrated(nsa_kernel) ? &nsa_kernel : nullptr;
  }
  if (fsa_extra_runs(op, w)) {
    return fsa_module_runs_kernel(op.attention) && calibrated(fsa) ? &fsa : nullptr;
  }
  return nsa_selection_runs(op, w) && calibrated(nsa) ? &nsa : nullptr;
}

void lower(const models::Op& op, const models::Workload& w, const hw::Profile& p,
           const KernelChoice& kernel, const ScheduleOptions& options, Launches& out) {
  switch (op.kind) {
    case models::OpKind::gemm:
      lower_support(lower_gemm, SupportKernel::gemm, op, w, p, out);
      return;
    case models::OpKind::elementwise:
      lower_support(lower_elementwise, SupportKernel::elementwise, op, w, p, out);
      return;
    case models::OpKind::scan:
      // A schedule with its own lowering of scans (project_linear) prices them with its entry;
      // auto prices Lightning Attention-2's scans with its kernels where the device calibrates
      // them (lightning2), the linear variant's with FLA's (fla_chunk), others with chunked_scan.
      if (const ScheduleInfo* info = scan_schedule(kernel, op, w, p); info != nullptr) {
        info->scan({op, w, p, forward_calibration(p, *info), info->name, options, info->mma_class},
                   out);
        return;
      }
      lower_support(lower_scan, SupportKernel::scan, op, w, p, out);
      return;
    case models::OpKind::selection:
      if (const ScheduleInfo* info = selection_schedule(kernel, op, w, p); info != nullptr) {
        info->selection(
            {op, w, p, forward_calibration(p, *info), info->name, options, info->mma_class}, out);
        return;
      }
      lower_support(lower_elementwise, SupportKernel::elementwise, op, w, p, out);
      return;
    case models::OpKind::dense_attention:
    case models::OpKind::collective:
      break;
  }
  const ScheduleInfo* info = &choose_schedule(kernel, op, w, p);
  if (op.pass == models::Pass::forward) {
    info->forward({op, w, p, forward_calibration(p, *info), info->name, options, info->mma_class},
                  out);
    return;
  }
  if (info->backward == nullptr) {
    info = &choose_schedule(KernelChoice::parse(p.default_schedule), op, w, p);
  }
  if (info->backward == nullptr) {
    throw common::SpecError(fmt::format(
        "kernel '{}' on {} has no backward model; use --engine roofline for bwd/train there",
        info->name, p.id));
  }
  info->backward({op, w, p, backward_calibration(p, *info), info->name, options, info->mma_class},
                 out);
}

// One form of the cost model on the tile engine.
Prediction predict_tile_form(const models::CostModel& cost, const models::Workload& w,
                             const hw::Profile& profile, const KernelChoice& kernel,
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
      lp.op = op.name;  // the kernel's launch names say how, not which op (lp.name)
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
  p.form = cost.form;
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

}  // namespace

Prediction predict_tile(const models::CostModel& cost, const models::Workload& w,
                        const hw::Profile& profile, std::string_view kernel,
                        const ScheduleOptions& options) {
  return predict_tile(cost, w, profile, KernelChoice::parse(kernel), options);
}

Prediction predict_tile(const models::CostModel& cost, const models::Workload& w,
                        const hw::Profile& profile, const KernelChoice& kernel,
                        const ScheduleOptions& options) {
  return fastest_form(cost, [&](const models::CostModel& form) {
    return predict_tile_form(form, w, profile, kernel, options);
  });
}

}  // namespace sim
