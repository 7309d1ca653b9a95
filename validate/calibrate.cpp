#include "validate/calibrate.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <optional>
#include <set>
#include <tuple>

#include <fmt/format.h>

#include "hwprofiles/calibration_keys.hpp"
#include "sim/schedule.hpp"

namespace validate {

namespace {

// Search box of each fitted parameter: [low, high] and the first step.
struct Bound {
  double low, high, step;
};
constexpr std::array<Bound, 5> kBounds = {{
    {0.2, 1.0, 0.1},  // mma_fraction
    {0.0, 1.0, 0.2},  // softmax_overlap
    // Fixed cycles: GPU fits land in the hundreds; host-core kernels (small Eigen products per
    // tile) need tens of thousands, so the box is wide and the first steps coarse.
    {0.0, 200000.0, 1000},    // tile_overhead_cycles
    {0.0, 5000000.0, 20000},  // cta_overhead_cycles
    {0.0, 50000.0, 500}       // chain_cycles: fitted only where the entry has one
}};
using Params = std::array<double, kBounds.size()>;

Params to_vector(const hw::ScheduleCalibration& c) {
  return {c.mma_fraction, c.softmax_overlap, c.tile_overhead_cycles, c.cta_overhead_cycles,
          c.chain_cycles.value_or(0)};
}
hw::ScheduleCalibration from_vector(const Params& x, bool chain) {
  hw::ScheduleCalibration c{x[0], x[1], x[2], x[3], std::nullopt};
  if (chain) c.chain_cycles = x[4];
  return c;
}

struct Group {
  // `schedule` names the entry the group fits: the rows' schedule, or their fit entry
  // (MeasuredCase::fit_entry), which starts from the schedule's entry where the profile lacks it.
  // Rows with a fit entry time a chain of kernels that other rows calibrate; they fit that one
  // kernel's entry and leave the device's fixed costs to the other rows (fit_devices).
  std::string hw, schedule, start;
  bool entry_only = false;
  std::vector<const MeasuredCase*> fit, held;
  bool has_backward = false;
  bool backward_only_entry = false;  // fits `<schedule>_bwd` alone (see split_passes)
};

// (device, fits one kernel's entry of a chain, schedule or entry, rows with a backward pass): the
// groups of rows fitted together, in this order, so that a chain's entry is fitted after the
// entries of the kernels around it.
using GroupKey = std::tuple<std::string, bool, std::string, bool>;

// Whether `schedule` lowers scans itself (fla_chunk, tileops_gla): its one entry prices both
// passes. (A group may also be a support entry such as chunked_scan, which is no schedule.)
const sim::ScheduleInfo* schedule_named(const std::string& schedule) {
  const auto& table = sim::schedules();
  const auto own = std::find_if(table.begin(), table.end(),
                                [&](const sim::ScheduleInfo& s) { return s.name == schedule; });
  return own != table.end() ? &*own : nullptr;
}

bool lowers_scans(const std::string& schedule) {
  const sim::ScheduleInfo* own = schedule_named(schedule);
  return own != nullptr && own->scan != nullptr;
}

// Whether `schedule`'s backward runs its forward's kernels on its one entry (unfused: the math
// path's autograd over the same GEMMs and softmax; ScheduleInfo::backward_on_forward_entry).
bool backward_on_forward_entry(const std::string& schedule) {
  const sim::ScheduleInfo* own = schedule_named(schedule);
  return own != nullptr && own->backward != nullptr && own->backward_on_forward_entry;
}

// The entry of `schedule` that prices its rows' backward pass, where a fit may set it: its
// `_bwd` entry, or its one entry where it lowers scans or its backward runs on it; none where the
// profile loader refuses
// `<schedule>_bwd` (hw::is_calibration_key): a kernel without a backward of its own (lean,
// split_kv, flashmla, ...), whose backward the tile engine prices with the device's default
// schedule and that one's `_bwd` entry, or an entry that is no kernel.
std::optional<std::string> backward_entry(const std::string& schedule) {
  if (lowers_scans(schedule) || backward_on_forward_entry(schedule)) return schedule;
  std::string key = sim::backward_calibration_key(schedule);
  if (hw::is_calibration_key(key)) return key;
  return std::nullopt;
}

// The calibration entries a group sets: its schedule's, and the `_bwd` entry when it has backward
// rows (one shared fit), or only the `_bwd` entry when split_passes gave the forward rows their own
// group.
std::vector<std::string> group_keys(const Group& g) {
  if (lowers_scans(g.schedule) || backward_on_forward_entry(g.schedule)) return {g.schedule};
  if (g.backward_only_entry) {
    // No entry of this schedule prices these rows' backward: they are left unfitted (no keys).
    const std::optional<std::string> bwd = backward_entry(g.schedule);
    return bwd ? std::vector<std::string>{*bwd} : std::vector<std::string>{};
  }
  if (g.has_backward) return {g.schedule, sim::backward_calibration_key(g.schedule)};
  return {g.schedule};
}

// A backward's calibration key (`<schedule>_bwd`).
bool is_backward_key(const std::string& key) {
  return key.ends_with(sim::backward_calibration_key(""));
}

// Whether the fitted entry of `key` has a chain term (hwprofiles/SCHEMA.md, "Dependency chain"):
// an entry the profile has keeps what it has; one it lacks, started from its schedule's entry,
// takes that entry's unless it is a backward's or shares its fit with one (a backward keeps one
// tile in flight, where a chain would serialise its pipes).
bool keeps_chain(const hw::Profile& p, const std::string& key, std::size_t keys_in_fit) {
  const auto found = p.calibration.schedules.find(key);
  if (found != p.calibration.schedules.end()) return found->second.chain_cycles.has_value();
  return keys_in_fit == 1 && !is_backward_key(key);
}

// The entry a fit of `keys` starts from, as `p` gives it: the first key's own, or its rows'
// schedule's entry `start`, which prices the kernel where the profile lacks the key.
hw::ScheduleCalibration group_entry(const hw::Profile& p, const std::vector<std::string>& keys,
                                    const std::string& start) {
  const auto& entries = p.calibration.schedules;
  if (keys.empty()) return entries.at(start);  // an unfitted group: its schedule's entry
  if (entries.count(keys.front())) return entries.at(keys.front());
  hw::ScheduleCalibration c = entries.at(start);
  if (!keeps_chain(p, keys.front(), keys.size())) c.chain_cycles.reset();
  return c;
}

// A fit sets every key of its group (forward and `_bwd` together where they share one), each
// with a chain term only where keeps_chain says.
hw::Profile with_entries(hw::Profile p, const std::vector<std::string>& keys,
                         const hw::ScheduleCalibration& c) {
  for (const std::string& k : keys) {
    const bool chain = keeps_chain(p, k, keys.size());
    auto& entry = p.calibration.schedules[k];
    entry = c;
    if (!chain) entry.chain_cycles.reset();
  }
  return p;
}

std::vector<double> errors(const std::vector<const MeasuredCase*>& cases, const hw::Profile& p) {
  std::vector<double> out;
  for (const MeasuredCase* c : cases) out.push_back(evaluate_case(*c, p).tile_error());
  return out;
}

double objective(const std::vector<const MeasuredCase*>& cases, const hw::Profile& p) {
  double sum = 0, weights = 0;
  for (const MeasuredCase* c : cases) {
    sum += c->weight * std::fabs(evaluate_case(*c, p).tile_error());
    weights += c->weight;
  }
  return weights > 0 ? sum / weights : 0;
}

// From `start` (the group's entry as the profile gives it).
hw::ScheduleCalibration fit(const Group& g, const hw::Profile& base,
                            const std::vector<std::string>& keys,
                            const hw::ScheduleCalibration& start) {
  const bool chain = start.chain_cycles.has_value();
  Params x = to_vector(start);
  Params step;
  for (std::size_t i = 0; i < step.size(); ++i) step[i] = kBounds[i].step;
  if (!chain) step.back() = 0;  // an entry without a chain term keeps none
  double best = objective(g.fit, with_entries(base, keys, from_vector(x, chain)));
  for (int round = 0; round < 16; ++round) {
    bool improved = true;
    while (improved) {
      improved = false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        for (double sign : {-1.0, 1.0}) {
          Params y = x;
          y[i] = std::clamp(x[i] + sign * step[i], kBounds[i].low, kBounds[i].high);
          if (y[i] == x[i]) continue;
          const double value = objective(g.fit, with_entries(base, keys, from_vector(y, chain)));
          if (value < best - 1e-9) {
            best = value;
            x = y;
            improved = true;
          }
        }
      }
    }
    for (double& s : step) s /= 2;
  }
  return from_vector(x, chain);
}

// Search box of the fixed costs: a launch costs at most tens of microseconds on any device
// (kernels.md section 7: 5-20 us); a framework's per-call floor up to a few hundred (Triton's
// Python launcher took 108 us before openai/triton PR #3638).
constexpr Bound kLaunchBound = {0.0, 30e-6, 2e-6};
constexpr Bound kFloorBound = {0.0, 300e-6, 10e-6};

hw::Profile with_fixed_costs(hw::Profile p, const FixedCostFit& f, const std::vector<double>& x) {
  p.calibration.kernel_launch_s = x[0];
  for (std::size_t i = 0; i < f.callers.size(); ++i) {
    p.calibration.caller_floor_s[static_cast<std::size_t>(f.callers[i])] = x[i + 1];
  }
  std::size_t i = f.callers.size() + 1;
  if (f.fits_jit) p.calibration.triton_jit_s = x[i++];
  if (f.fits_extra) p.calibration.caller_extra_launch_s = x[i];
  return p;
}

// Coordinate search over [launch, floor of each caller, the triton caller's extra per JIT launch,
// a per-call caller's extra per launch] on every fit row of one device.
void fit_fixed_costs(FixedCostFit& f, hw::Profile& profile,
                     const std::vector<const MeasuredCase*>& rows) {
  std::vector<double> x = {profile.calibration.kernel_launch_s};
  std::vector<Bound> bounds = {kLaunchBound};
  for (hw::Caller c : f.callers) {
    x.push_back(profile.caller_floor_s(c));
    bounds.push_back(kFloorBound);
  }
  if (f.fits_jit) {
    x.push_back(profile.calibration.triton_jit_s);
    bounds.push_back(kFloorBound);
  }
  if (f.fits_extra) {
    x.push_back(profile.calibration.caller_extra_launch_s);
    bounds.push_back(kLaunchBound);  // a launch's host work, as a device launch's: microseconds
  }
  std::vector<double> step;
  for (const Bound& b : bounds) step.push_back(b.step);
  double best = objective(rows, with_fixed_costs(profile, f, x));
  for (int round = 0; round < 12; ++round) {
    bool improved = true;
    while (improved) {
      improved = false;
      for (std::size_t i = 0; i < x.size(); ++i) {
        for (double sign : {-1.0, 1.0}) {
          std::vector<double> y = x;
          y[i] = std::clamp(x[i] + sign * step[i], bounds[i].low, bounds[i].high);
          if (y[i] == x[i]) continue;
          const double value = objective(rows, with_fixed_costs(profile, f, y));
          if (value < best - 1e-9) {
            best = value;
            x = y;
            improved = true;
          }
        }
      }
    }
    for (double& s : step) s /= 2;
  }
  profile = with_fixed_costs(profile, f, x);
  // Read back from the profile: with_fixed_costs alone knows where each cost sits in x.
  f.launch_after_s = profile.calibration.kernel_launch_s;
  for (hw::Caller c : f.callers) f.floor_after_s.push_back(profile.caller_floor_s(c));
  f.jit_after_s = profile.calibration.triton_jit_s;
  f.extra_after_s = profile.calibration.caller_extra_launch_s;
}

// Each device's fixed costs on all its fit rows (launch cost, the floor of each caller they
// name), before the per-kernel entries: short rows identify the floors, long rows the kernels.
std::vector<FixedCostFit> fit_devices(const std::map<GroupKey, Group>& groups,
                                      std::map<std::string, hw::Profile>& profiles) {
  std::vector<FixedCostFit> out;
  for (auto& [id, profile] : profiles) {
    std::vector<const MeasuredCase*> rows;
    FixedCostFit f;
    f.hw = id;
    for (const auto& [name, g] : groups) {
      if (g.hw != id || g.entry_only) continue;
      rows.insert(rows.end(), g.fit.begin(), g.fit.end());
      for (const MeasuredCase* c : g.fit) {
        if (c->caller != hw::Caller::direct &&
            std::find(f.callers.begin(), f.callers.end(), c->caller) == f.callers.end()) {
          f.callers.push_back(c->caller);
        }
      }
    }
    if (rows.empty()) continue;
    f.launch_before_s = profile.calibration.kernel_launch_s;
    for (hw::Caller c : f.callers) f.floor_before_s.push_back(profile.caller_floor_s(c));
    f.fits_jit =
        std::find(f.callers.begin(), f.callers.end(), hw::Caller::triton) != f.callers.end();
    f.jit_before_s = profile.calibration.triton_jit_s;
    f.fits_extra = std::any_of(f.callers.begin(), f.callers.end(),
                               [](hw::Caller c) { return !hw::caller_per_launch(c); });
    f.extra_before_s = profile.calibration.caller_extra_launch_s;
    f.fitted_before = summarize(errors(rows, profile));
    fit_fixed_costs(f, profile, rows);
    f.fitted_after = summarize(errors(rows, profile));
    out.push_back(f);
  }
  return out;
}

// Groups the fit-eligible rows per (device, schedule). Forward and backward are different kernels
// (docs/kernels.md: FA2's backward runs its own dK/dV and dQ loops), so where a group has both
// forward-only fit rows and rows with a backward pass, the forward rows fit `<schedule>` alone and
// the backward rows (bwd, fwd+bwd) then fit `<schedule>_bwd` alone, with the forward entry as
// just fitted: a fwd+bwd row constrains only the sum of the two passes, so one shared fit can
// trade a too-slow forward for a too-fast backward. The map's order (false before true) fits the
// forward group first. Without forward-only rows both entries share one fit, as before.
std::map<GroupKey, Group> split_passes(const std::vector<MeasuredCase>& cases,
                                       const hw::ProfileCatalog& catalog,
                                       const std::vector<std::int64_t>& holdout_seq) {
  // Rows priced with `auto` (a kernel name attnsim does not map) are never fit rows
  // (MeasuredCase::fit_eligible), so every row here names its schedule.
  auto schedule_of = [](const MeasuredCase& c) {
    return c.fit_entry.empty() ? c.schedule : c.fit_entry;
  };
  // Keyed on the profile id, however a row names the device.
  auto device_of = [&](const MeasuredCase& c) { return catalog.resolve(c.hw).id; };
  std::set<std::pair<std::string, std::string>> forward_fits;
  for (const MeasuredCase& c : cases) {
    if (c.fit_eligible && !models::has_backward(c.workload.phase) && !is_held_out(c, holdout_seq)) {
      forward_fits.insert({device_of(c), schedule_of(c)});
    }
  }
  std::map<GroupKey, Group> groups;
  for (const MeasuredCase& c : cases) {
    if (!c.fit_eligible) continue;
    const std::string schedule = schedule_of(c);
    const std::string device = device_of(c);
    const bool backward = models::has_backward(c.workload.phase);
    // Where no entry of the schedule prices the backward, its backward rows are a group of their
    // own that fits nothing (group_keys), so that no entry takes up another's error.
    // One entry for both passes (unfused) is one fit over both.
    const bool split = backward && !backward_on_forward_entry(schedule) &&
                       (forward_fits.count({device, schedule}) > 0 || !backward_entry(schedule));
    Group& g = groups[{device, !c.fit_entry.empty(), schedule, split}];
    g.hw = device;
    g.schedule = schedule;
    g.start = c.schedule;
    g.entry_only = !c.fit_entry.empty();
    g.backward_only_entry = split;
    (is_held_out(c, holdout_seq) ? g.held : g.fit).push_back(&c);
    g.has_backward = g.has_backward || backward;
  }
  return groups;
}

}  // namespace

CalibrationResult calibrate(const std::vector<MeasuredCase>& cases,
                            const hw::ProfileCatalog& catalog,
                            const std::vector<std::int64_t>& holdout_seq, FixedCosts fixed_costs) {
  const std::map<GroupKey, Group> groups = split_passes(cases, catalog, holdout_seq);
  std::map<std::string, hw::Profile> profiles;
  for (const auto& [name, g] : groups) {
    if (!profiles.count(g.hw)) profiles.emplace(g.hw, catalog.resolve(g.hw));
  }
  // Each group's starting point and errors with the profile as given (before any fit).
  CalibrationResult result;
  for (const auto& [name, g] : groups) {
    const hw::Profile& profile = profiles.at(g.hw);
    FitGroup out;
    out.hw = g.hw;
    out.schedule = g.schedule;
    out.keys = group_keys(g);
    if (out.keys.empty()) {
      out.note = fmt::format(
          "{} has no backward entry of its own (the profile loader refuses {}); their backward "
          "pass is priced with the default schedule {}'s {}, which {}'s rows do not fit",
          g.schedule, sim::backward_calibration_key(g.schedule), profile.default_schedule,
          sim::backward_calibration_key(profile.default_schedule), g.schedule);
    } else if (g.fit.empty()) {
      out.note = "every row is held back (--holdout-seq): nothing fitted, the entry as given";
    }
    if (out.note.empty()) {
      for (const MeasuredCase* c : g.fit) out.fit_rows.push_back(c - cases.data());
    }
    out.before = group_entry(profile, out.keys, g.start);
    out.fitted_before = summarize(errors(g.fit, profile));
    out.held_before = summarize(errors(g.held, profile));
    result.groups.push_back(out);
  }
  if (fixed_costs == FixedCosts::fit) result.fixed_costs = fit_devices(groups, profiles);
  std::size_t i = 0;
  for (const auto& [name, g] : groups) {
    hw::Profile& profile = profiles.at(g.hw);
    FitGroup& out = result.groups[i++];
    // From the entry as the fits so far leave it (the schedule's, where the profile lacks it); a
    // group without fit rows writes nothing and keeps pricing with that.
    const hw::ScheduleCalibration start = group_entry(profile, out.keys, g.start);
    const bool fits = !g.fit.empty() && !out.keys.empty();
    out.after = fits ? fit(g, profile, out.keys, start) : start;
    if (fits) profile = with_entries(profile, out.keys, out.after);
    out.fitted_after = summarize(errors(g.fit, profile));
    out.held_after = summarize(errors(g.held, profile));
  }
  for (auto& [id, p] : profiles) result.profiles.push_back(p);
  return result;
}

}  // namespace validate
