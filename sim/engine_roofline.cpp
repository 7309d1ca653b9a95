#include <algorithm>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/engine.hpp"
#include "sim/rates.hpp"

namespace sim {

namespace {

double divide(double work, double rate) {
  return work > 0 ? work / rate : 0.0;
}

// The pipe or memory that is busiest during a launch (ignoring its fixed cost).
std::pair<double, Resource> busiest(const LaunchPrediction& l) {
  const std::array<std::pair<double, Resource>, 5> terms = {{{l.tensor_s, Resource::tensor},
                                                             {l.vector_s, Resource::vector},
                                                             {l.exp_s, Resource::exp},
                                                             {l.hbm_s, Resource::hbm},
                                                             {l.link_s, Resource::link}}};
  return *std::max_element(terms.begin(), terms.end(),
                           [](const auto& a, const auto& b) { return a.first < b.first; });
}

LaunchPrediction roofline_launch(const models::Op& op, const Rates& r, std::int64_t count) {
  LaunchPrediction l;
  l.op = op.name;
  l.name = op.name;
  l.count = count;
  l.flops = op.flops;
  l.hbm_bytes = op.bytes.total();
  if (r.tensor_flops_per_s > 0) {
    l.tensor_s = divide(op.flops.tensor, r.tensor_flops_per_s);
    l.vector_s = divide(op.flops.vector, r.vector_flops_per_s);
  } else {
    // No tensor-core path (fp32): the matmuls run on the same FP32 pipes as the vector work.
    l.vector_s = divide(op.flops.tensor + op.flops.vector, r.vector_flops_per_s);
  }
  l.exp_s = divide(op.flops.exp, r.exp_per_s);
  l.compute_s = std::max({l.tensor_s, l.vector_s, l.exp_s});  // the pipes run side by side
  l.hbm_s = divide(l.hbm_bytes, r.hbm_bytes_per_s);
  if (op.link_bytes > 0 && r.link_bytes_per_s <= 0) {
    throw common::SpecError(fmt::format(
        "'{}' sends {} bytes to other devices, but the profile has no links.scale_up to price "
        "them on; add one to the profile or give the whole object with --hw-set "
        "'links={{\"scale_up\": {{...}}}}' (fields: hwprofiles/SCHEMA.md)",
        op.name, op.link_bytes));
  }
  if (op.link_bytes > 0) {
    // An alpha-beta collective as the layouts price theirs (sim/collectives.hpp): its steps'
    // latency plus the bytes over the bandwidth its group of devices drives.
    const bool group = r.scale_up != nullptr && op.link_devices > 1;
    const double bandwidth =
        group ? r.scale_up->group_bandwidth_Bps(op.link_devices) : r.link_bytes_per_s;
    const double latency = r.scale_up != nullptr ? r.scale_up->latency_s : 0;
    l.link_s = op.link_bytes / bandwidth + op.link_steps * latency;
  }
  l.fixed_s = r.launch_s;
  const auto [busy_s, resource] = busiest(l);
  l.bound = busy_s >= l.fixed_s ? resource : Resource::launch;
  l.time_s = busy_s + l.fixed_s;
  return l;
}

}  // namespace

LaunchPrediction price_on_roofline(const models::Op& op, const models::Workload& w,
                                   const hw::Profile& profile, std::int64_t count) {
  return roofline_launch(op, achievable_rates(profile, w.dtype), count);
}

namespace {

// One form of the cost model on the roofline.
Prediction predict_roofline_form(const models::CostModel& cost, const models::Workload& w,
                                 const hw::Profile& profile, hw::Caller caller) {
  const Rates rates = achievable_rates(profile, w.dtype);
  Prediction p;
  std::array<double, kResourceCount> time_by_bound{};
  for (const models::Op& op : cost.ops) {
    LaunchPrediction l = roofline_launch(op, rates, cost.layers);
    const double n = static_cast<double>(l.count);
    p.time_s += n * l.time_s;
    const auto [busy_s, resource] = busiest(l);
    time_by_bound[static_cast<std::size_t>(resource)] += n * busy_s;
    time_by_bound[static_cast<std::size_t>(Resource::launch)] += n * l.fixed_s;
    p.launches.push_back(l);
  }
  p.bound = static_cast<Resource>(std::max_element(time_by_bound.begin(), time_by_bound.end()) -
                                  time_by_bound.begin());
  p.form = cost.form;
  p.flops = cost.total_flops();
  p.bytes = cost.total_bytes();
  const double hbm = p.bytes.total();
  p.hbm_bytes_moved = hbm;
  p.arithmetic_intensity = hbm > 0 ? p.flops.tensor / hbm : 0;
  const double peak = rates.tensor_flops_per_s > 0
                          ? rates.tensor_flops_per_s / profile.calibration.tensor_fraction
                          : profile.compute.vector_fp32_flops;
  p.tensor_utilization = p.time_s > 0 ? p.flops.tensor / p.time_s / peak : 0;
  apply_caller_floor(p, cost, profile, caller);
  return p;
}

}  // namespace

Prediction predict_roofline(const models::CostModel& cost, const models::Workload& w,
                            const hw::Profile& profile, hw::Caller caller) {
  return fastest_form(cost, [&](const models::CostModel& form) {
    return predict_roofline_form(form, w, profile, caller);
  });
}

}  // namespace sim
