// Predictions of both engines against measured cases, and the error statistics reported for them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "hwprofiles/profile.hpp"
#include "validate/measurements.hpp"

namespace validate {

// One kind of launch of a case as the tile engine prices it: its name (sim::Launch::name) and the
// time of all its launches.
struct LaunchTime {
  std::string name;
  double tile_s = 0;
  std::string schedule;  // the schedule that priced it (sim::LaunchPrediction::schedule)
};

struct CaseResult {
  const MeasuredCase* measured = nullptr;
  double tile_s = 0;
  std::vector<LaunchTime> tile_launches;  // the tile engine's launches, in order
  double roofline_s = 0;
  bool held_out = false;
  // In the "fitted" part of the statistics when not held out: every such row without
  // --calibrate (the part is "not held back" then), only the rows a fit used with it.
  bool fit_row = true;
  double tile_error() const { return (tile_s - measured->measured_s) / measured->measured_s; }
  double roofline_error() const {
    return (roofline_s - measured->measured_s) / measured->measured_s;
  }
};

struct ErrorSummary {
  std::size_t cases = 0;
  double mape = 0;        // mean |relative error|
  double median_abs = 0;  // median |relative error|
  double max_abs = 0;     // largest |relative error|
};

ErrorSummary summarize(const std::vector<double>& relative_errors);

// Relative errors split into the parts the statistics report: the fitted part (CaseResult::fit_row
// and not held out), the held-out part, and all rows. A row no --calibrate fit used is in `all`
// alone.
struct SplitErrors {
  std::vector<double> fitted, held, all;
  void add(const CaseResult& r, double relative_error);
};

CaseResult evaluate_case(const MeasuredCase& c, const hw::Profile& profile);

// The error of the rows of one (device, kernel) pair, as the targets are stated: MAPE on
// the rows eligible for fitting and on the held-back rows, and the worst row of the group.
struct GroupSummary {
  std::string hw;
  std::string kernel;    // as written in the measurement file; a suite case's: its schedule
  std::string schedule;  // the attnsim schedule it maps to ("auto": none, priced by the default)
  ErrorSummary fitted, held, all;
  const CaseResult* worst = nullptr;  // the row with the largest |tile error|
};

// One summary per (device, kernel), in order of first appearance; rows not compared (correctness
// only) are left out.
std::vector<GroupSummary> group_summaries(const std::vector<CaseResult>& rows);

// Rows whose seq_kv is one of `holdout_seq` are held back from fitting.
bool is_held_out(const MeasuredCase& c, const std::vector<std::int64_t>& holdout_seq);

}  // namespace validate
