#include "sim/engine.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "common/errors.hpp"

namespace sim {

std::string_view to_string(Resource r) {
  switch (r) {
    case Resource::tensor:
      return "tensor";
    case Resource::vector:
      return "vector";
    case Resource::exp:
      return "exp";
    case Resource::hbm:
      return "hbm";
    case Resource::link:
      return "link";
    case Resource::latency:
      return "latency";
    case Resource::launch:
      return "launch";
    case Resource::host:
      return "host";
  }
  return "?";
}

std::string_view to_string(EngineKind e) {
  switch (e) {
    case EngineKind::roofline:
      return "roofline";
    case EngineKind::tile:
      return "tile";
  }
  return "?";
}

EngineKind parse_engine(std::string_view name) {
  if (name == "roofline") return EngineKind::roofline;
  if (name == "tile") return EngineKind::tile;
  throw common::SpecError(fmt::format("unknown engine '{}'; known: roofline, tile", name));
}

std::optional<std::string_view> named_kernel(EngineKind engine, std::string_view kernel) {
  if (engine == EngineKind::roofline) return std::nullopt;
  return kernel;
}

double host_calls(const models::CostModel& cost) {
  bool forward = false, backward = false;
  for (const models::Op& op : cost.ops) {
    if (op.kind == models::OpKind::collective) continue;
    (op.pass == models::Pass::forward ? forward : backward) = true;
  }
  return static_cast<double>(cost.layers) * ((forward ? 1 : 0) + (backward ? 1 : 0));
}

double host_launch_count(const Prediction& p) {
  double launches = 0;
  for (const LaunchPrediction& l : p.launches) {
    // Collectives are the communication runtime's launches, not the caller's.
    if (l.link_s == 0) launches += static_cast<double>(l.count) * l.host_launches;
  }
  return launches;
}

double host_units(const Prediction& p, const models::CostModel& cost, hw::Caller caller) {
  return hw::caller_per_launch(caller) ? host_launch_count(p) : host_calls(cost);
}

HostCost host_cost(const hw::Profile& profile, hw::Caller caller) {
  return {profile.caller_floor_s(caller), profile.caller_jit_s(caller)};
}

double launch_host_s(const LaunchPrediction& l, HostCost cost) {
  if (l.link_s != 0) return 0;
  return l.host_launches * cost.per_launch_s + l.host_jit_launches * cost.per_jit_launch_s;
}

double caller_host_s(const Prediction& p, const models::CostModel& cost, const hw::Profile& profile,
                     hw::Caller caller) {
  double host_s = host_units(p, cost, caller) * profile.caller_floor_s(caller);
  if (!hw::caller_per_launch(caller)) {
    const double extra = std::max(0.0, host_launch_count(p) - host_calls(cost));
    return host_s + extra * profile.caller_extra_launch_s(caller);
  }
  const HostCost jit_only{0, profile.caller_jit_s(caller)};
  for (const LaunchPrediction& l : p.launches) {
    host_s += static_cast<double>(l.count) * launch_host_s(l, jit_only);
  }
  return host_s;
}

double call_time_s(double device_s, double host_s, bool in_turn) {
  return in_turn ? device_s + host_s : std::max(device_s, host_s);
}

void apply_caller_floor(Prediction& p, const models::CostModel& cost, const hw::Profile& profile,
                        hw::Caller caller) {
  p.caller = caller;
  p.caller_floor_s = caller_host_s(p, cost, profile, caller);
  const double device_s = p.time_s;
  p.time_s = call_time_s(device_s, p.caller_floor_s, profile.caller_in_turn(caller));
  if (hw::caller_per_launch(caller) && !profile.caller_in_turn(caller)) {
    p.time_s += host_wait_excess_s(p, host_cost(profile, caller));
  }
  if (device_s > 0 && p.time_s > device_s) p.tensor_utilization *= device_s / p.time_s;
  // (Exposed waits never outlast the device alone: they are at most the host's own time.)
  if (p.caller_floor_s > device_s) p.bound = Resource::host;
}

Prediction predict(EngineKind engine, const models::CostModel& cost, const models::Workload& w,
                   const hw::Profile& profile, const KernelChoice& kernel, hw::Caller caller) {
  switch (engine) {
    case EngineKind::roofline:
      return predict_roofline(cost, w, profile, caller);
    case EngineKind::tile: {
      ScheduleOptions options;
      options.caller = caller;
      return predict_tile(cost, w, profile, kernel, options);
    }
  }
  throw common::SpecError("unknown engine");
}

Prediction predict(EngineKind engine, const models::CostModel& cost, const models::Workload& w,
                   const hw::Profile& profile, std::string_view kernel, hw::Caller caller) {
  return predict(engine, cost, w, profile, KernelChoice::parse(kernel), caller);
}

}  // namespace sim
