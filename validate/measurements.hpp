// Published kernel timings (validate/data/measured/*.csv, schema in its README) as typed cases the
// model can predict.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "hwprofiles/profile.hpp"
#include "models/registry.hpp"
#include "models/variant.hpp"
#include "models/workload.hpp"
#include "sim/schedule.hpp"
#include "validate/measured_csv.hpp"

namespace validate {

// The shortest kernel time a measurement may give: 1 ns, a few clock cycles, is well below any
// kernel launch (microseconds on every device attnsim models). A shorter time is a unit mistake or
// a misprint, and its relative errors overflow (1e-320 s gives an infinite error).
inline constexpr double kMinMeasuredSeconds = 1e-9;
// The longest: one hour. The longest row of the published files is about 11 s (a 128k-token
// backward pass); a single launch timed in hours is a unit slip (seconds written as microseconds)
// or a typo, and would dominate every mean it entered.
inline constexpr double kMaxMeasuredSeconds = 3600;

// A time a measurement may give: finite, at least kMinMeasuredSeconds and at most
// kMaxMeasuredSeconds (NaN is neither).
inline bool plausible_measured_time(double seconds) {
  return seconds >= kMinMeasuredSeconds && seconds <= kMaxMeasuredSeconds;
}

// The range plausible_measured_time allows, for messages: "from 1 ns (...) to 3600 s (one hour:
// ...)", with the reasons for each end.
std::string measured_time_range();

// MeasuredCase::file of a case run here by `validate --backend`, as the report names it (a suite
// case is told by MeasuredCase::suite_case, never by this name: a measurements file may be called
// `suite` too).
inline constexpr const char* kSuiteFile = "suite";

struct MeasuredCase {
  std::string file;  // where the row came from (kSuiteFile for a suite case)
  // A suite case run here by `validate --backend` (or recorded from one): its kernel is the case's
  // name, and the kernel it ran is its schedule.
  bool suite_case = false;
  int line = 0;        // 1-based line in that file
  std::string hw;      // profile id
  std::string kernel;  // as written in the file
  // The attnsim kernel it maps to ("auto" when unknown), as reported; calibration fits the
  // entry of this name (the profile's default_schedule for auto).
  std::string schedule;
  // The schedule it is predicted with, resolved where the case is made: `schedule` itself, or auto
  // where `schedule` names a support entry (chunked_scan for a scan-only case).
  sim::KernelChoice kernel_choice;
  int splits = 0;  // split-KV launches: the split count run (0: the schedule's choice)
  // Who called the kernel (optional `caller` column; empty: the way the kernel is reached,
  // validate::default_caller): its host floor applies.
  hw::Caller caller = hw::Caller::direct;
  std::string pass;  // fwd, bwd, fwd+bwd, decode
  models::AttentionSpec spec;
  // The optional `op` column: time only the variant's ops of this name, either pass (e.g.
  // `selected_attention` for NSA's selected-branch kernel alone); when the column is empty, the op
  // a branch kernel's name implies (validate::implied_op), else empty = the whole variant.
  std::string op;
  // The row's own heads_q and head_dim, as the report shows them (0 for suite cases: the spec's).
  // They differ from the spec's head shape where a variant maps them (absorbed MLA: head_dim 576
  // is latent + rope, while the spec keeps the model's nope + rope).
  std::int64_t row_heads = 0, row_head_dim = 0;
  // The row's window and v_head_dim columns (0: not given), which the report shows as given.
  std::int64_t row_window = 0, row_v_head_dim = 0;
  models::Workload workload;
  double measured_s = 0;
  double weight = 1;  // 0.5 for values read off a figure (`pixel-est`)
  // False for rows of a kernel version attnsim's schedule does not model (reported, not fitted).
  bool fit_eligible = true;
  // The calibration entry its rows fit where that is not the schedule's own (validate::
  // fit_entry_for); empty: the schedule's entries.
  std::string fit_entry;
  // False for suite cases run for correctness only: the model has no variant for them (a strided
  // block-sparse mask), so their prediction is not an error statistic.
  bool compared = true;
  std::string source;
  // The measurement the row gives, in parsed and canonical values (measurement_key in
  // measurements.cpp: every column but hw, source and notes): two rows with the same key on the
  // same device are the same measurement written twice, however spelt (cli/validate_measured.cpp
  // counts it once). Empty for suite cases.
  std::string row_key;
};

struct MeasurementSet {
  std::vector<MeasuredCase> cases;
  std::vector<std::string> skipped;   // "file:line: reason" for rows the model cannot express yet
  std::vector<std::string> warnings;  // e.g. unknown kernel names mapped to auto
};

// The cost the case times: the variant's whole cost model, or only its ops named by `c.op`
// (`<op>`, `<op>_fwd` or `<op>_bwd`).
models::CostModel case_cost(const MeasuredCase& c);

// Reads one CSV file. Throws std::invalid_argument naming the file, line and column for rows that
// are malformed (bad input); rows using features attnsim lacks are skipped with a reason. Unknown
// columns draw one warning, or with UnknownColumns::refuse (validate --strict) are bad input.
MeasurementSet read_measurements(const std::filesystem::path& path,
                                 const models::Registry& registry,
                                 UnknownColumns unknown = UnknownColumns::warn);
// The same, adding to `set` as it reads: when a row ends the run, `set` keeps the file's warnings
// and skipped rows before it (an unknown column, an unknown kernel), for the caller to say before
// the error.
void read_measurements(const std::filesystem::path& path, const models::Registry& registry,
                       UnknownColumns unknown, MeasurementSet& set);

}  // namespace validate
