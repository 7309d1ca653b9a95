#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "models/errors.hpp"
#include "sim/engine.hpp"
#include "sim/rates.hpp"
#include "sim/schedule.hpp"
#include "sim/schedules.hpp"
#include "sim/waves.hpp"

namespace sim {

namespace {

// Throughput of one SM for one kernel class.
struct SmRates {
  double tensor = 0;  // FLOP/s; 0 = no tensor path (fp32): matmuls go to the FP32 pipes
  double exp = 0;     // exp/s
  double alu = 0;     // FP32 lane instructions/s
  double hbm = 0;     // B/s: the SM's share of achievable HBM bandwidth
  double clock = 0;   // Hz, for cycle counts
};

SmRates sm_rates(const hw::Profile& p, const models::Workload& w,
                 const hw::ScheduleCalibration& cal) {
  const hw::Calibration& c = p.calibration;
  const double sms = p.compute.sm_count;
  SmRates r;
  if (auto precision = tensor_precision(p, w.dtype)) {
    r.tensor = p.tensor_peak_flops(*precision) / sms * cal.mma_fraction;
  }
  r.exp = p.compute.exp_ops_per_clk_per_sm * p.compute.tensor_clock_hz * c.exp_fraction;
  r.alu = p.compute.vector_fp32_flops / 2 / sms * c.vector_fraction;  // an FMA is 2 FLOPs
  r.hbm = p.memory.hbm_bandwidth_Bps * c.hbm_fraction / sms;  // fair share when all SMs stream
  r.clock = p.compute.tensor_clock_hz;
  return r;
}

// CTAs stacked on one SM: the block scheduler spreads a small grid over SMs before stacking, so
// co-residency only reaches the occupancy limit when the grid needs it.
double sm_stacking(double ctas, double sms, double occupancy) {
  return std::clamp(std::ceil(ctas / sms), 1.0, occupancy);
}

// One SM's HBM bandwidth when `busy_sms` stream: its fair share, or more when few are busy, up to
// what one SM can draw.
double sm_bandwidth(const hw::Profile& p, double busy_sms) {
  const double total = p.memory.hbm_bandwidth_Bps * p.calibration.hbm_fraction;
  const double sms = p.compute.sm_count;
  return std::max(total / sms, std::min(total / std::max(1.0, busy_sms),
                                        total * p.calibration.sm_bandwidth_fraction));
}

LaunchPrediction price(const Launch& l, const hw::Profile& p, const models::Workload& w,
                       std::int64_t count) {
  const hw::ScheduleCalibration& cal = *l.calibration;
  SmRates r = sm_rates(p, w, cal);
  const double sms = p.compute.sm_count;
  const double occupancy = ctas_per_sm(l.cta, p);
  const double k = sm_stacking(l.jobs.count, sms, occupancy);
  r.hbm = sm_bandwidth(p, std::min(sms, std::ceil(l.jobs.count / k)));
  const TileWork& t = l.per_tile;

  const double alu_ops = t.alu_ops + (r.tensor > 0 ? 0 : t.tensor_flops / 2);
  const double tensor_s = r.tensor > 0 ? t.tensor_flops / r.tensor : 0;
  const double exp_s = t.exp_ops / r.exp;
  const double alu_s = alu_ops / r.alu;
  const bool has_tiles = l.jobs.total_tiles > 0;
  const double compute_s = has_tiles ? overlapped(tensor_s, exp_s + alu_s, cal.softmax_overlap) +
                                           cal.tile_overhead_cycles / r.clock
                                     : 0;
  // Duration of a job of `tiles` iterations when `stacked` CTAs share an SM whose bandwidth
  // share is `hbm`.
  auto job_s = [&](double tiles, double stacked, double hbm) {
    const double tile_s = std::max(compute_s, t.hbm_bytes / hbm) * stacked;
    return tiles * tile_s + l.per_job_fixed_cycles / r.clock + l.per_job_hbm_bytes / hbm * stacked;
  };
  const double mean_tiles = l.jobs.count > 0 ? l.jobs.total_tiles / l.jobs.count : 0;
  // The partial last wave runs on fewer SMs, each drawing more bandwidth (in-order and static
  // persistent dispatch; longest-first has no such tail).
  const double slots = sms * k;
  const double tail_ctas = l.jobs.count - (waves(l.jobs.count, slots) - 1) * slots;
  const double tail_k = sm_stacking(tail_ctas, sms, occupancy);
  const double tail_s = job_s(l.jobs.max_tiles, tail_k,
                              sm_bandwidth(p, std::min(sms, std::ceil(tail_ctas / tail_k))));
  const double span = makespan(
      l.dispatch, l.jobs.count, job_s(l.jobs.min_tiles, k, r.hbm), job_s(mean_tiles, k, r.hbm),
      l.dispatch == Dispatch::persistent_lpt ? job_s(l.jobs.max_tiles, k, r.hbm) : tail_s, slots);
  const double mem_s = t.hbm_bytes / r.hbm;

  LaunchPrediction out;
  out.name = l.name;
  out.schedule = l.schedule;
  out.count = count;
  out.ctas = l.jobs.count;
  out.ctas_per_sm = k;
  out.waves = waves(l.jobs.count, sms * k);
  out.flops.tensor = l.jobs.total_tiles * t.tensor_flops;
  out.flops.exp = l.jobs.total_tiles * t.exp_ops;
  out.flops.vector = l.jobs.total_tiles * t.alu_ops * 2;
  out.hbm_bytes = l.jobs.total_tiles * t.hbm_bytes + l.jobs.count * l.per_job_hbm_bytes;
  out.tensor_s = l.jobs.total_tiles * tensor_s / sms;
  out.exp_s = l.jobs.total_tiles * exp_s / sms;
  out.vector_s = l.jobs.total_tiles * alu_s / sms;
  out.hbm_s = out.hbm_bytes / (p.memory.hbm_bandwidth_Bps * p.calibration.hbm_fraction);
  out.fixed_s = p.calibration.kernel_launch_s;
  out.time_s = span + out.fixed_s;
  const std::array<std::pair<double, Resource>, 4> terms = {
      {{tensor_s, Resource::tensor},
       {exp_s, Resource::exp},
       {alu_s, Resource::vector},
       {has_tiles ? mem_s : 1, Resource::hbm}}};
  out.bound = std::max_element(terms.begin(), terms.end(), [](const auto& a, const auto& b) {
                return a.first < b.first;
              })->second;
  if (out.fixed_s > span) out.bound = Resource::launch;
  return out;
}

void lower(const models::Op& op, const models::Workload& w, const hw::Profile& p,
           std::string_view kernel, Launches& out) {
  switch (op.kind) {
    case models::OpKind::gemm:
      lower_gemm({op, w, p, "gemm"}, out);
      return;
    case models::OpKind::elementwise:
      lower_elementwise({op, w, p, "elementwise"}, out);
      return;
    case models::OpKind::scan:
      lower_scan({op, w, p, "chunked_scan"}, out);
      return;
    case models::OpKind::dense_attention:
    case models::OpKind::collective:
      break;
  }
  const ScheduleInfo* info = &choose_schedule(kernel, op, w, p);
  if (op.pass == models::Pass::forward) {
    info->forward({op, w, p, info->name}, out);
    return;
  }
  if (info->backward == nullptr) info = &choose_schedule(p.default_schedule, op, w, p);
  if (info->backward == nullptr) {
    throw models::SpecError(fmt::format(
        "kernel '{}' on {} has no backward model; use --engine roofline for bwd/train there",
        info->name, p.id));
  }
  info->backward({op, w, p, info->name}, out);
}

}  // namespace

Prediction predict_tile(const models::CostModel& cost, const models::Workload& w,
                        const hw::Profile& profile, std::string_view kernel) {
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
    lower(op, w, profile, kernel, launches);
    for (const Launch& l : launches) {
      LaunchPrediction lp = price(l, profile, w, cost.layers);
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
  return p;
}

}  // namespace sim
