// Engines turn a hardware-independent CostModel into a time on one device.
#pragma once

#include <optional>
#include <string_view>
#include <utility>

#include "common/errors.hpp"
#include "hwprofiles/profile.hpp"
#include "models/cost_model.hpp"
#include "models/workload.hpp"
#include "sim/prediction.hpp"
#include "sim/schedule.hpp"

namespace sim {

enum class EngineKind { roofline, tile };

std::string_view to_string(EngineKind e);
// Throws common::SpecError naming the known engines.
EngineKind parse_engine(std::string_view name);
// The kernel a result of `engine` names: `kernel` (--kernel, `auto` included) for the tile engine;
// none for the roofline, which models no schedule (JSON null, an empty CSV cell, "-" in a table).
std::optional<std::string_view> named_kernel(EngineKind engine, std::string_view kernel);

// `kernel` is the schedule for the tile engine, resolved where the name entered (auto, or one of
// sim::schedules()); the roofline ignores it.
// `caller` adds its host floor (apply_caller_floor) to either engine.
// A cost model with alternatives (another form of the same computation the caller may run) is
// priced in each form by either engine, and the fastest that `kernel` runs is the prediction
// (fastest_form).
Prediction predict(EngineKind engine, const models::CostModel& cost, const models::Workload& w,
                   const hw::Profile& profile, const KernelChoice& kernel = {},
                   hw::Caller caller = hw::Caller::direct);
// The same for a kernel still given by name: parsed once here (KernelChoice::parse throws
// common::SpecError naming the known schedules), then as above.
Prediction predict(EngineKind engine, const models::CostModel& cost, const models::Workload& w,
                   const hw::Profile& profile, std::string_view kernel,
                   hw::Caller caller = hw::Caller::direct);

// Roofline: each launch takes max(tensor, vector, exp, HBM time at achievable rates) plus the
// fixed launch cost; launches run back to back.
Prediction predict_roofline(const models::CostModel& cost, const models::Workload& w,
                            const hw::Profile& profile, hw::Caller caller = hw::Caller::direct);

// Host calls the cost model takes: one per pass (forward, backward) per layer.
double host_calls(const models::CostModel& cost);

// What the caller's floor is paid per: host calls (one per pass per layer), or for a per-launch
// caller (triton) the prediction's device launches, collectives left out (the runtime issues
// them). The roofline has one launch per op, as it charges kernel_launch_us.
double host_units(const Prediction& p, const models::CostModel& cost, hw::Caller caller);
// The launches the host issues for the prediction, collectives left out.
double host_launch_count(const Prediction& p);

// What a per-launch caller's host pays for each launch: every host launch, and beyond it every
// Triton JIT launch (LaunchPrediction::host_jit_launches).
struct HostCost {
  double per_launch_s = 0;
  double per_jit_launch_s = 0;
};
HostCost host_cost(const hw::Profile& profile, hw::Caller caller);
// The host time of one launch of `l` (its count aside): 0 for a collective, which the
// communication runtime issues.
double launch_host_s(const LaunchPrediction& l, HostCost cost);
// The caller's whole host floor: host_units x caller_floor_us[caller], plus for a per-launch
// caller the Triton JIT launches' extra (caller_floor_us.triton_jit), and for a per-call
// framework caller each launch beyond one a call (caller_floor_us.extra_launch).
double caller_host_s(const Prediction& p, const models::CostModel& cost, const hw::Profile& profile,
                     hw::Caller caller);

// Fixed cost of the caller, its own term: a framework's per-call host work (PyTorch eager
// dispatch, torch_npu's graph/stream bookkeeping) runs ahead of the device while kernels are
// long, and sets the time of a call when they are short, so a call takes
// max(device time, calls x calibration.caller_floor_us[caller]). A caller listed in
// caller_floor_us.in_turn does its host work while the device waits (torch_npu's host-side
// tiling inside each call), so its cost adds: device time + calls x floor. Triton's Python
// launcher pays its host cost per kernel launch, so its floor counts the prediction's launches,
// not its calls, and its waits on the device add their exposed host time (host_wait_excess_s).
// Sets caller_floor_s, and the bound to `launch` when the floor wins (or, in turn, outlasts the
// device).
void apply_caller_floor(Prediction& p, const models::CostModel& cost, const hw::Profile& profile,
                        hw::Caller caller);
// What the host's waits on the device (LaunchPrediction::host_waits, whole numbers) add, for a
// caller that pays `per_launch_s` of host time per launch, to max(device time, host time)
// (sim/host_waits.cpp): the launches are replayed in order, each layer's in turn. Until the first
// wait the host may run ahead of the device (as without waits); a wait holds the host until the
// device has finished, and from then on each launch starts no earlier than its issue (a lump's
// launches one after another). 0 without waits.
double host_wait_excess_s(const Prediction& p, HostCost cost);
// The same with no extra cost for Triton JIT launches.
double host_wait_excess_s(const Prediction& p, double per_launch_s);
// A call's time from its device time and its caller's host cost: the larger of the two, or their
// sum for a caller whose host work runs in turn with the device.
double call_time_s(double device_s, double host_s, bool in_turn);

// One op priced by the roofline (the tile engine uses it for collectives).
LaunchPrediction price_on_roofline(const models::Op& op, const models::Workload& w,
                                   const hw::Profile& profile, std::int64_t count);

// Tile engine: each op lowered by a schedule into launches; each launch priced per tile iteration
// on one SM (tensor, exp and FP32 pipes with the schedule's overlap, the SM's share of HBM after
// L2 reuse), then over the grid with occupancy, waves and the dispatch order's tail.
// `options` pins what a measured run fixed (the split count of a split-KV launch).
Prediction predict_tile(const models::CostModel& cost, const models::Workload& w,
                        const hw::Profile& profile, const KernelChoice& kernel,
                        const ScheduleOptions& options = {});
// The same for a kernel given by name (parsed once here).
Prediction predict_tile(const models::CostModel& cost, const models::Workload& w,
                        const hw::Profile& profile, std::string_view kernel,
                        const ScheduleOptions& options = {});

// `price` applied to `cost` and to each of its alternatives (CostModel::alternatives), the fastest
// of them: the caller runs whichever form is faster. A form the kernel refuses is no error while
// another runs; if none runs, the first refusal is thrown.
template <typename Price>
Prediction fastest_form(const models::CostModel& cost, Price&& price) {
  if (cost.alternatives.empty()) return price(cost);
  std::optional<Prediction> best;
  std::optional<common::KernelRefusal> refused;
  auto consider = [&](const models::CostModel& form) {
    try {
      Prediction p = price(form);
      if (!best || p.time_s < best->time_s) best = std::move(p);
    } catch (const common::KernelRefusal& e) {
      if (!refused) refused = e;
    }
  };
  consider(cost);
  for (const models::CostModel& form : cost.alternatives) consider(form);
  if (!best) throw *refused;
  return *best;
}

}  // namespace sim
