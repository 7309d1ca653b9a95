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

double host_calls(const models::CostModel& cost) {
  bool forward = false, backward = false;
  for (const models::Op& op : cost.ops) {
    if (op.kind == models::OpKind::collective) continue;
    (op.pass == models::Pass::forward ? forward : backward) = true;
  }
  return static_cast<double>(cost.layers) * ((forward ? 1 : 0) + (backward ? 1 : 0));
}

double host_units(const Prediction& p, const models::CostModel& cost, hw::Caller caller) {
  if (!hw::caller_per_launch(caller)) return host_calls(cost);
  double launches = 0;
  for (const LaunchPrediction& l : p.launches) {
    // Collectives are the communication runtime's launches, not the caller's.
    if (l.link_s == 0) launches += static_cast<double>(l.count) * l.host_launches;
  }
  return launches;
}

namespace {

// The host/device timeline of host_wait_excess_s, one segment (the work between two waits) at a
// time.
class WaitTimeline {
 public:
  explicit WaitTimeline(double per_launch_s) : per_launch_s_(per_launch_s) {}

  void add(double device_s, double host_s, double waits) {
    if (waits <= 0) {
      device_s_ += device_s;
      host_s_ += host_s;
      return;
    }
    const double device_piece = device_s / waits, host_piece = host_s / waits;
    close();  // the first wait: everything issued so far finishes
    // The pieces between two of this launch's waits, each a segment of its own.
    total_s_ += (waits - 1) * segment_s(device_piece, host_piece);
    device_s_ = device_piece;
    host_s_ = host_piece;
  }

  double finish() {
    close();
    return total_s_;
  }

 private:
  // Host and device overlap inside a segment. The first segment's host work can run ahead of
  // the device from before the call (the harness's previous work); after a wait the device idles
  // until the host issues the segment's first launch.
  double segment_s(double device_s, double host_s) const {
    if (device_s <= 0 && host_s <= 0) return 0;
    return std::max(host_s, device_s + (after_wait_ ? per_launch_s_ : 0));
  }
  void close() {
    total_s_ += segment_s(device_s_, host_s_);
    device_s_ = host_s_ = 0;
    after_wait_ = true;
  }

  double per_launch_s_;
  double total_s_ = 0, device_s_ = 0, host_s_ = 0;
  bool after_wait_ = false;
};

}  // namespace

double host_wait_excess_s(const Prediction& p, double per_launch_s) {
  std::int64_t reps = 0;
  bool waits = false;
  for (const LaunchPrediction& l : p.launches) {
    waits = waits || l.host_waits > 0;
    reps = std::max(reps, l.count);
  }
  if (!waits || per_launch_s <= 0) return 0;
  // Each launch's count is its layers: the layer's launch sequence runs `count` times over.
  WaitTimeline timeline(per_launch_s);
  double device_s = 0, host_s = 0;
  for (std::int64_t r = 0; r < reps; ++r) {
    for (const LaunchPrediction& l : p.launches) {
      if (r >= l.count) continue;
      // Collectives are the communication runtime's launches, not the caller's.
      const double host = l.link_s == 0 ? l.host_launches * per_launch_s : 0;
      timeline.add(l.time_s, host, l.host_waits);
      device_s += l.time_s;
      host_s += host;
    }
  }
  return std::max(0.0, timeline.finish() - std::max(device_s, host_s));
}

double call_time_s(double device_s, double host_s, bool in_turn) {
  return in_turn ? device_s + host_s : std::max(device_s, host_s);
}

void apply_caller_floor(Prediction& p, const models::CostModel& cost, const hw::Profile& profile,
                        hw::Caller caller) {
  p.caller = caller;
  p.caller_floor_s = host_units(p, cost, caller) * profile.caller_floor_s(caller);
  const double device_s = p.time_s;
  p.time_s = call_time_s(device_s, p.caller_floor_s, profile.caller_in_turn(caller));
  if (hw::caller_per_launch(caller) && !profile.caller_in_turn(caller)) {
    p.time_s += host_wait_excess_s(p, profile.caller_floor_s(caller));
  }
  if (device_s > 0 && p.time_s > device_s) p.tensor_utilization *= device_s / p.time_s;
  // The host's share is the larger: its floor, or its exposed waits beyond the device time.
  if (p.caller_floor_s > device_s || p.time_s - device_s > device_s) p.bound = Resource::launch;
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
