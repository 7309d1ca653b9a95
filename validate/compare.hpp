// Predictions of both engines against measured cases, and the error statistics reported for them.
#pragma once

#include <cstdint>
#include <vector>

#include "hwprofiles/profile.hpp"
#include "validate/measurements.hpp"

namespace validate {

struct CaseResult {
  const MeasuredCase* measured = nullptr;
  double tile_s = 0;
  double roofline_s = 0;
  bool held_out = false;
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

CaseResult evaluate_case(const MeasuredCase& c, const hw::Profile& profile);

// Rows whose seq_kv is one of `holdout_seq` are held back from fitting.
bool is_held_out(const MeasuredCase& c, const std::vector<std::int64_t>& holdout_seq);

}  // namespace validate
