// The `attnsim validate` report: one JSON document (the stable schema) rendered as JSON, a table
// or CSV. Every format carries the same summary: error statistics per engine, the rows skipped
// and, for --backend runs, the cases whose output was not correct.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/output.hpp"
#include "validate/calibrate.hpp"
#include "validate/compare.hpp"

namespace cli {

using ValidateJson = nlohmann::ordered_json;

// A report row: the measured case, both predictions and their errors.
ValidateJson case_json(const validate::CaseResult& r);
// The workload fields of a report row (batch, heads, kv_heads, head_dim, q_len, kv_len, causal),
// as case_json writes them.
ValidateJson shape_json(const validate::MeasuredCase& c);
// To each launch a row's "launches" lists (timed apart by the CUDA runner), the tile engine's
// time for the launch of that name ("tile_s", "tile_error"; null where the model has no launch of
// that name). A row without "launches" is left as it is.
void add_launch_predictions(ValidateJson& row, const validate::CaseResult& r);
// Error statistics of both engines over the fitted, held-out and all rows, and the tile engine's
// per (device, kernel) group ("groups": rows, fitted and held-out MAPE, worst row).
ValidateJson summaries(const std::vector<validate::CaseResult>& rows);
ValidateJson calibration_json(const validate::FitGroup& g);
// One device's fitted fixed costs (launch, caller floors), in microseconds.
ValidateJson fixed_cost_json(const validate::FixedCostFit& f);

// Adds summary.skipped_rows, summary.repriced_rows (where the document has "repriced") and
// summary.incorrect_cases (from doc.skipped and each case's `correct`, when the case has one) to a
// document with "cases", "summary" and "skipped".
void add_counts(ValidateJson& doc);

// Whether any case carries `correct` (a --backend run checks its output).
bool has_correctness(const ValidateJson& doc);

// The names of the cases whose `correct` is false ("name (max relative error e)").
std::vector<std::string> incorrect_cases(const ValidateJson& doc);

std::string render_validate(const ValidateJson& doc, Format format);

// validate --strict, before anything is written: throws common::SpecError (exit 2, no report, no
// profiles) when rows were skipped or priced with auto instead of their kernel.
void check_strict(const ValidateJson& doc);

// After the report is written: throws std::runtime_error naming the cases that were not correct or
// failed (exit 1).
void check_outcome(const ValidateJson& doc);

}  // namespace cli
