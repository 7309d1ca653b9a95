// Fits the tile engine's per-schedule calibration (hw::ScheduleCalibration) to measured cases,
// one group per (device, schedule), or per (device, entry) for rows that name one kernel's entry of
// a chain (MeasuredCase::fit_entry: they fit that entry alone and leave the device's fixed costs
// to the other rows), on the cases not held out, and reports the error on both parts.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "hwprofiles/catalog.hpp"
#include "validate/compare.hpp"
#include "validate/measurements.hpp"

namespace validate {

struct FitGroup {
  std::string hw;
  std::string schedule;  // or the entry the group's rows fit (MeasuredCase::fit_entry)
  // Calibration entries set: the schedule's, and schedule_bwd when the group has backward rows
  // (one shared fit); only schedule_bwd for the backward rows of a (device, schedule) that also
  // has forward-only rows, which fit the schedule's entry in their own group first. None for the
  // backward rows of a schedule without a `_bwd` entry the profile loader accepts (lean,
  // split_kv, ...: the device's default schedule prices their backward): they are not fitted,
  // and `note` says why.
  std::vector<std::string> keys;
  // Empty where the group is fitted; also why not where every row is held back (keys are kept:
  // the entries it would fit, written unchanged).
  std::string note;
  // Where it fitted (no note): the rows it used, as indices into calibrate's `cases` (none held
  // back), whatever entry each one's pass is priced with.
  std::vector<std::size_t> fit_rows;
  hw::ScheduleCalibration before, after;
  ErrorSummary fitted_before, fitted_after, held_before, held_after;
};

// The device's fixed costs (hwprofiles/SCHEMA.md, "Fixed costs"): the per-launch device cost and
// the host floor of each caller its rows name, fitted on all its fit rows before the schedules'
// entries (with those entries as the profile gives them), which are then fitted from there.
struct FixedCostFit {
  std::string hw;
  double launch_before_s = 0, launch_after_s = 0;
  std::vector<hw::Caller> callers;  // the callers other than direct that its rows name
  std::vector<double> floor_before_s, floor_after_s;
  // With a triton caller among them, its extra per Triton JIT launch (caller_floor_us.triton_jit)
  // is fitted too.
  bool fits_jit = false;
  double jit_before_s = 0, jit_after_s = 0;
  // With a per-call framework caller among them, the host cost of each launch of a call after
  // its first (caller_floor_us.extra_launch) is fitted too.
  bool fits_extra = false;
  double extra_before_s = 0, extra_after_s = 0;
  ErrorSummary fitted_before, fitted_after;
};

struct CalibrationResult {
  std::vector<FitGroup> groups;
  std::vector<FixedCostFit> fixed_costs;
  std::vector<hw::Profile> profiles;  // every device touched, with the fitted entries
};

// What a calibration fits: the per-kernel entries always; the devices' fixed costs unless kept
// (a few rows of one harness can trade a kernel's efficiency for an implausible launch cost).
enum class FixedCosts { fit, keep };

// Bounded coordinate search minimising the weighted mean |relative error| of the tile engine.
CalibrationResult calibrate(const std::vector<MeasuredCase>& cases,
                            const hw::ProfileCatalog& catalog,
                            const std::vector<std::int64_t>& holdout_seq,
                            FixedCosts fixed_costs = FixedCosts::fit);

}  // namespace validate
