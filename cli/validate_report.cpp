#include "cli/validate_report.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "cli/printer.hpp"
#include "cli/validate_text.hpp"
#include "common/errors.hpp"
#include "hwprofiles/profile_loader.hpp"
#include "models/workload.hpp"

namespace cli {

namespace {

using Json = ValidateJson;

// A time or an error as the report gives it: null where it has no finite value (a division by a
// zero time), as JSON writes a non-finite number anyway; the table prints "-" and CSV an empty cell
// for it, so that every format says the same.
Json finite_or_null(double value) {
  return std::isfinite(value) ? Json(value) : Json(nullptr);
}

// Statistics over no rows are null (printed "-"), not 0: an empty part has no error, not a perfect
// one.
Json summary_json(const validate::ErrorSummary& s) {
  const auto stat = [&](double v) { return s.cases > 0 ? finite_or_null(v) : Json(nullptr); };
  return {{"cases", s.cases},
          {"mape", stat(s.mape)},
          {"median_abs", stat(s.median_abs)},
          {"max_abs", stat(s.max_abs)}};
}

// One engine's statistics over the fitted, held-out and all rows.
Json split_json(const validate::SplitErrors& e) {
  return {{"fitted_rows", summary_json(validate::summarize(e.fitted))},
          {"held_out_rows", summary_json(validate::summarize(e.held))},
          {"all", summary_json(validate::summarize(e.all))}};
}

// A group's worst row: file and line, and for a suite case its name.
Json worst_row_json(const validate::MeasuredCase& w, double tile_error) {
  Json row = {{"file", std::filesystem::path(w.file).filename().string()},
              {"line", w.line},
              {"pass", w.pass},
              {"tile_error", finite_or_null(tile_error)}};
  if (w.suite_case) row["case"] = w.kernel;
  return row;
}

// One (device, kernel) group: its rows, the tile engine's MAPE on the fitted and held-back parts
// and its worst row.
Json group_json(const validate::GroupSummary& g) {
  const validate::MeasuredCase& w = *g.worst->measured;
  return {{"hw", g.hw},
          {"kernel", g.kernel},
          {"schedule", g.schedule},
          {"rows", g.all.cases},
          {"fitted_rows", summary_json(g.fitted)},
          {"held_out_rows", summary_json(g.held)},
          {"worst_row", worst_row_json(w, g.worst->tile_error())}};
}

}  // namespace

Json shape_json(const validate::MeasuredCase& c) {
  const models::HeadConfig& h = c.spec.heads;
  return {
      {"batch", c.workload.batch},  {"heads", c.row_heads > 0 ? c.row_heads : h.heads},
      {"kv_heads", h.kv_heads},     {"head_dim", c.row_head_dim > 0 ? c.row_head_dim : h.head_dim},
      {"q_len", c.workload.q_len},  {"kv_len", c.workload.kv_len},
      {"causal", c.workload.causal}};
}

Json case_json(const validate::CaseResult& r) {
  const validate::MeasuredCase& c = *r.measured;
  Json row = {{"file", std::filesystem::path(c.file).filename().string()},
              {"line", c.line},
              {"hw", c.hw},
              // A suite case run here ran its schedule's kernel (the case's name is `case`).
              {"kernel", c.suite_case ? c.schedule : c.kernel},
              {"schedule", c.schedule},
              // Who called it: its host floor is in the prediction (validate::default_caller).
              {"caller", hw::to_string(c.caller)},
              {"pass", c.pass},
              {"dtype", models::to_string(c.workload.dtype)}};
  row.update(shape_json(c));
  if (c.row_window > 0) row["window"] = c.row_window;  // where the row gave them
  if (c.row_v_head_dim > 0) row["v_head_dim"] = c.row_v_head_dim;
  row.update(Json{{"held_out", r.held_out},
                  {"compared", c.compared},
                  {"measured_s", finite_or_null(c.measured_s)},
                  {"tile_s", finite_or_null(r.tile_s)},
                  {"tile_error", finite_or_null(r.tile_error())},
                  {"roofline_s", finite_or_null(r.roofline_s)},
                  {"roofline_error", finite_or_null(r.roofline_error())}});
  return row;
}

void add_launch_predictions(Json& row, const validate::CaseResult& r) {
  if (!row.contains("launches")) return;
  for (Json& l : row["launches"]) {
    const auto name = l["name"].get<std::string>();
    const auto it = std::find_if(r.tile_launches.begin(), r.tile_launches.end(),
                                 [&](const validate::LaunchTime& t) { return t.name == name; });
    // A case that is not compared (correctness only) has its launches left uncompared too; today
    // only flash cases, of one launch, are such cases.
    if (it == r.tile_launches.end() || !r.measured->compared) {
      l["tile_s"] = nullptr;
      l["tile_error"] = nullptr;
      continue;
    }
    const double measured = l["measured_s"].get<double>();
    l["tile_s"] = finite_or_null(it->tile_s);
    l["tile_error"] = finite_or_null((it->tile_s - measured) / measured);
  }
}

Json summaries(const std::vector<validate::CaseResult>& rows) {
  validate::SplitErrors tile, roofline;
  for (const auto& r : rows) {
    if (!r.measured->compared) continue;
    tile.add(r, r.tile_error());
    roofline.add(r, r.roofline_error());
  }
  Json groups = Json::array();
  for (const validate::GroupSummary& g : validate::group_summaries(rows))
    groups.push_back(group_json(g));
  return {{"tile", split_json(tile)}, {"roofline", split_json(roofline)}, {"groups", groups}};
}

Json calibration_json(const validate::FitGroup& g) {
  Json j = {{"hw", g.hw},
            {"schedule", g.schedule},
            {"keys", g.keys},
            {"before", hw::calibration_entry_json<Json>(g.before)},
            {"after", hw::calibration_entry_json<Json>(g.after)},
            {"fitted_rows_before", summary_json(g.fitted_before)},
            {"fitted_rows_after", summary_json(g.fitted_after)},
            {"held_out_rows_before", summary_json(g.held_before)},
            {"held_out_rows_after", summary_json(g.held_after)}};
  if (!g.note.empty()) j["note"] = g.note;
  return j;
}

Json fixed_cost_json(const validate::FixedCostFit& f) {
  Json before = Json::object(), after = Json::object();
  for (std::size_t i = 0; i < f.callers.size(); ++i) {
    before[std::string(hw::to_string(f.callers[i]))] = f.floor_before_s[i] * 1e6;
    after[std::string(hw::to_string(f.callers[i]))] = f.floor_after_s[i] * 1e6;
  }
  if (f.fits_jit) {
    before["triton_jit"] = f.jit_before_s * 1e6;
    after["triton_jit"] = f.jit_after_s * 1e6;
  }
  if (f.fits_extra) {
    before["extra_launch"] = f.extra_before_s * 1e6;
    after["extra_launch"] = f.extra_after_s * 1e6;
  }
  return {{"hw", f.hw},
          {"kernel_launch_us_before", f.launch_before_s * 1e6},
          {"kernel_launch_us_after", f.launch_after_s * 1e6},
          {"caller_floor_us_before", before},
          {"caller_floor_us_after", after},
          {"fitted_rows_before", summary_json(f.fitted_before)},
          {"fitted_rows_after", summary_json(f.fitted_after)}};
}

bool has_correctness(const Json& doc) {
  for (const Json& c : doc["cases"]) {
    if (c.contains("correct")) return true;
  }
  return false;
}

void add_counts(Json& doc) {
  doc["summary"]["skipped_rows"] = doc["skipped"].size();
  if (doc.contains("repriced")) doc["summary"]["repriced_rows"] = doc["repriced"].size();
  if (has_correctness(doc) || doc.contains("failed")) {
    doc["summary"]["incorrect_cases"] = incorrect_cases(doc).size();
  }
}

std::vector<std::string> incorrect_cases(const Json& doc) {
  std::vector<std::string> names;
  for (const Json& c : doc["cases"]) {
    if (c.contains("correct") && !c["correct"].get<bool>()) {
      names.push_back(fmt::format("{} (max relative error {:.3g})",
                                  c.value("case", c["kernel"].get<std::string>()),
                                  c.value("max_relative_error", 0.0)));
    }
  }
  for (const Json& f : doc.value("failed", Json::array()))
    names.push_back(
        fmt::format("{} ({})", f["case"].get<std::string>(), f["error"].get<std::string>()));
  return names;
}

std::string render_validate(const Json& doc, Format format) {
  return print({[&] { return validate_table(doc); }, [&] { return json_text(doc); },
                [&] { return validate_csv(doc); }},
               format);
}

void check_strict(const Json& doc) {
  if (!doc["skipped"].empty()) {
    throw common::SpecError(fmt::format("--strict: {} measurement row(s) skipped, first: {}",
                                        doc["skipped"].size(),
                                        doc["skipped"][0].get<std::string>()));
  }
  if (!doc.value("repriced", Json::array()).empty()) {
    throw common::SpecError(fmt::format(
        "--strict: {} measurement row(s) priced with --kernel auto because their kernel refused "
        "them, runs none of them or is unknown, first: {}",
        doc["repriced"].size(), doc["repriced"][0].get<std::string>()));
  }
}

void check_outcome(const Json& doc) {
  const std::vector<std::string> incorrect = incorrect_cases(doc);
  if (!incorrect.empty()) {
    std::string names;
    for (const std::string& n : incorrect) names += (names.empty() ? "" : "; ") + n;
    throw std::runtime_error(
        fmt::format("{} case(s) not correct or failed: {}", incorrect.size(), names));
  }
}

}  // namespace cli
