#include "cli/validate_report.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <sstream>
#include <stdexcept>
#include <utility>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/printer.hpp"
#include "cli/report.hpp"
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

// "12.3%" for a relative error (with `sign`: "+12.3%"), "-" for null.
std::string percent_text(const Json& v, bool sign = false) {
  if (!v.is_number()) return "-";
  return sign ? fmt::format("{:+.1f}%", 100 * v.get<double>())
              : fmt::format("{:.1f}%", 100 * v.get<double>());
}

std::string time_text(const Json& v) {
  return v.is_number() ? human_time(v.get<double>()) : "-";
}

// A group's worst row: file and line, and for a suite case its name.
Json worst_row_json(const validate::MeasuredCase& w, double tile_error) {
  Json row = {{"file", std::filesystem::path(w.file).filename().string()},
              {"line", w.line},
              {"pass", w.pass},
              {"tile_error", finite_or_null(tile_error)}};
  if (w.file == validate::kSuiteFile) row["case"] = w.kernel;
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

// "12.3 % (8)", or "-" for a part with no rows.
std::string part_text(const Json& s) {
  if (s["cases"].get<int>() == 0) return "-";
  return fmt::format("{} ({})", percent_text(s["mape"]), s["cases"].get<int>());
}

std::string render_groups(const Json& groups) {
  std::string out =
      fmt::format("{:<16} {:<15} {:<10} {:>5} {:>14} {:>14}  {}\n", "device", "kernel", "schedule",
                  "rows", "fitted MAPE", "held-out MAPE", "worst row");
  for (const Json& g : groups) {
    const Json& w = g["worst_row"];
    const std::string where =
        w.contains("case")
            ? w["case"].get<std::string>()
            : fmt::format("{}:{}", w["file"].get<std::string>(), w["line"].get<int>());
    out += fmt::format("{:<16} {:<15} {:<10} {:>5} {:>14} {:>14}  {} {} {}\n",
                       g["hw"].get<std::string>(), g["kernel"].get<std::string>(),
                       g["schedule"].get<std::string>(), g["rows"].get<int>(),
                       part_text(g["fitted_rows"]), part_text(g["held_out_rows"]), where,
                       w["pass"].get<std::string>(), percent_text(w["tile_error"], true));
  }
  return out;
}

bool has_correctness(const Json& doc) {
  for (const Json& c : doc["cases"]) {
    if (c.contains("correct")) return true;
  }
  return false;
}

// A row's name: file:line for a measurement row; the case name (its kernel is the schedule) for a
// suite case run here.
std::pair<std::string, std::string> row_names(const Json& c) {
  if (c.contains("case")) return {c["case"].get<std::string>(), c["schedule"].get<std::string>()};
  return {fmt::format("{}:{}", c["file"].get<std::string>(), c["line"].get<int>()),
          c["kernel"].get<std::string>()};
}

std::string case_line(const Json& c, bool correctness, std::size_t width) {
  const auto [name, kernel] = row_names(c);
  std::string line = fmt::format(
      "{:<{}} {:<15} {:<8} {:>4} {:>4} {:>4} {:>6} {:>6} {:>2} {:>10} {:>10} {:>8} {:>10} {:>8}",
      name, width, kernel, c["pass"].get<std::string>(), c["batch"].get<int>(),
      c["heads"].get<int>(), c["head_dim"].get<int>(), c["q_len"].get<int>(),
      c["kv_len"].get<int>(), c["causal"].get<bool>() ? 1 : 0, time_text(c["measured_s"]),
      time_text(c["tile_s"]), percent_text(c["tile_error"], true), time_text(c["roofline_s"]),
      percent_text(c["roofline_error"], true));
  if (correctness) {
    const bool correct = c.value("correct", false);
    line +=
        fmt::format(" {:>9.2e} {:>7}", c.value("max_relative_error", 0.0), correct ? "yes" : "NO");
  }
  if (const std::string caller = c.value("caller", "direct"); caller != "direct")
    line += "  (called by " + caller + ")";
  if (c["held_out"].get<bool>()) line += "  (held out)";
  if (!c["compared"].get<bool>()) line += "  (correctness only)";
  return line + "\n";
}

// The launches timed apart (CUDA multi-launch cases): measured against the tile engine's launch of
// the same name. Empty where no row has them.
std::string render_launches(const Json& doc) {
  std::string out;
  std::size_t width = 26;
  for (const Json& c : doc["cases"]) {
    if (c.contains("launches")) width = std::max(width, row_names(c).first.size());
  }
  for (const Json& c : doc["cases"]) {
    for (const Json& l : c.value("launches", Json::array())) {
      if (out.empty()) {
        out = "launches timed apart (extra runs, an event after each launch):\n" +
              fmt::format("{:<{}} {:<15} {:>10} {:>10} {:>8}\n", "case", width, "launch",
                          "measured", "tile", "err");
      }
      out += fmt::format("{:<{}} {:<15} {:>10} {:>10} {:>8}\n", row_names(c).first, width,
                         l["name"].get<std::string>(), time_text(l["measured_s"]),
                         time_text(l["tile_s"]), percent_text(l["tile_error"], true));
    }
  }
  return out;
}

std::string render_table(const Json& doc) {
  std::ostringstream out;
  const bool correctness = has_correctness(doc);
  std::size_t width = 26;
  for (const Json& c : doc["cases"]) width = std::max(width, row_names(c).first.size());
  out << fmt::format(
      "{:<{}} {:<15} {:<8} {:>4} {:>4} {:>4} {:>6} {:>6} {:>2} {:>10} {:>10} {:>8} {:>10} {:>8}",
      correctness ? "case" : "file:line", width, "kernel", "pass", "B", "H", "d", "Sq", "Sk", "c",
      "measured", "tile", "err", "roofline", "err");
  out << (correctness ? fmt::format(" {:>9} {:>7}\n", "max_rel", "correct") : "\n");
  for (const Json& c : doc["cases"]) out << case_line(c, correctness, width);
  out << render_launches(doc);
  for (const char* engine : {"tile", "roofline"}) {
    for (const char* part : {"fitted_rows", "held_out_rows", "all"}) {
      const Json& s = doc["summary"][engine][part];
      out << fmt::format("{:<9} {:<14} cases {:>3}  MAPE {:>7}  median {:>7}  max {:>7}\n", engine,
                         part, s["cases"].get<int>(), percent_text(s["mape"]),
                         percent_text(s["median_abs"]), percent_text(s["max_abs"]));
    }
  }
  if (doc["summary"].contains("groups")) out << render_groups(doc["summary"]["groups"]);
  for (const Json& g : doc["calibration"]) {
    if (g.contains("note")) {  // a group that fits nothing (validate::FitGroup::note)
      out << fmt::format("not calibrated {} {}{}: {}\n", g["hw"].get<std::string>(),
                         g["schedule"].get<std::string>(),
                         g["keys"].empty() ? " backward rows" : "", g["note"].get<std::string>());
      continue;
    }
    out << fmt::format("calibrated {} {}: {} | held-out MAPE {} -> {}\n",
                       g["hw"].get<std::string>(),
                       fmt::join(g["keys"].get<std::vector<std::string>>(), "+"), g["after"].dump(),
                       percent_text(g["held_out_rows_before"]["mape"]),
                       percent_text(g["held_out_rows_after"]["mape"]));
  }
  // Each device's fixed costs as --calibrate moved them (microseconds; fitted before the kernels'
  // entries, and the error is that first fit's).
  for (const Json& f : doc.value("fixed_costs", Json::array())) {
    out << fmt::format("calibrated {} fixed costs: kernel_launch_us {:.1f} -> {:.1f}",
                       f["hw"].get<std::string>(), f["kernel_launch_us_before"].get<double>(),
                       f["kernel_launch_us_after"].get<double>());
    for (const auto& [key, before] : f["caller_floor_us_before"].items()) {
      out << fmt::format(", {} {:.1f} -> {:.1f}", key, before.get<double>(),
                         f["caller_floor_us_after"][key].get<double>());
    }
    out << fmt::format(" | fitted MAPE before the kernel fits {} -> {}\n",
                       percent_text(f["fitted_rows_before"]["mape"]),
                       percent_text(f["fitted_rows_after"]["mape"]));
  }
  out << fmt::format("skipped rows: {}\n", doc["summary"]["skipped_rows"].get<int>());
  if (const int repriced = doc["summary"].value("repriced_rows", 0); repriced > 0) {
    out << fmt::format(
        "rows priced with --kernel auto (their kernel refused them, runs none of them or is "
        "unknown): {}\n",
        repriced);
  }
  if (correctness)
    out << fmt::format("incorrect cases: {}\n", doc["summary"]["incorrect_cases"].get<int>());
  for (const Json& f : doc.value("failed", Json::array()))
    out << fmt::format("FAILED {}: {}\n", f["case"].get<std::string>(),
                       f["error"].get<std::string>());
  return out.str();
}

// The case rows, then the summary counts as `#` comment lines (readers such as pandas skip them
// with comment='#').
std::string render_csv(const Json& doc) {
  // A row's launches become columns launch_<name>_measured_s, _tile_s and _tile_error (launch
  // names are identifiers: validate_recorded.cpp refuses any other).
  std::vector<Json> rows;
  for (Json c : doc["cases"]) {
    for (const Json& l : c.value("launches", Json::array())) {
      const std::string prefix = "launch_" + l["name"].get<std::string>();
      c[prefix + "_measured_s"] = l["measured_s"];
      c[prefix + "_tile_s"] = l["tile_s"];
      c[prefix + "_tile_error"] = l["tile_error"];
    }
    rows.push_back(std::move(c));
  }
  std::string text = csv_from_objects(rows);
  const Json& s = doc["summary"];
  text += fmt::format("# cases,{}\n# skipped_rows,{}\n", s["tile"]["all"]["cases"].get<int>(),
                      s["skipped_rows"].get<int>());
  if (s.contains("repriced_rows"))
    text += fmt::format("# repriced_rows,{}\n", s["repriced_rows"].get<int>());
  if (s.contains("incorrect_cases"))
    text += fmt::format("# incorrect_cases,{}\n", s["incorrect_cases"].get<int>());
  return text;
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
              {"kernel", c.file == validate::kSuiteFile ? c.schedule : c.kernel},
              {"schedule", c.schedule},
              // Who called it: its host floor is in the prediction (validate::default_caller).
              {"caller", hw::to_string(c.caller)},
              {"pass", c.pass},
              {"dtype", models::to_string(c.workload.dtype)}};
  row.update(shape_json(c));
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
  std::vector<double> tile_fit, tile_held, roof_fit, roof_held, tile_all, roof_all;
  for (const auto& r : rows) {
    if (!r.measured->compared) continue;
    (r.held_out ? tile_held : tile_fit).push_back(r.tile_error());
    (r.held_out ? roof_held : roof_fit).push_back(r.roofline_error());
    tile_all.push_back(r.tile_error());
    roof_all.push_back(r.roofline_error());
  }
  Json groups = Json::array();
  for (const validate::GroupSummary& g : validate::group_summaries(rows))
    groups.push_back(group_json(g));
  return {{"tile",
           {{"fitted_rows", summary_json(validate::summarize(tile_fit))},
            {"held_out_rows", summary_json(validate::summarize(tile_held))},
            {"all", summary_json(validate::summarize(tile_all))}}},
          {"roofline",
           {{"fitted_rows", summary_json(validate::summarize(roof_fit))},
            {"held_out_rows", summary_json(validate::summarize(roof_held))},
            {"all", summary_json(validate::summarize(roof_all))}}},
          {"groups", groups}};
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
  return {{"hw", f.hw},
          {"kernel_launch_us_before", f.launch_before_s * 1e6},
          {"kernel_launch_us_after", f.launch_after_s * 1e6},
          {"caller_floor_us_before", before},
          {"caller_floor_us_after", after},
          {"fitted_rows_before", summary_json(f.fitted_before)},
          {"fitted_rows_after", summary_json(f.fitted_after)}};
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
  return print({[&] { return render_table(doc); }, [&] { return json_text(doc); },
                [&] { return render_csv(doc); }},
               format);
}

void check_outcome(const Json& doc, bool strict) {
  const std::vector<std::string> incorrect = incorrect_cases(doc);
  if (!incorrect.empty()) {
    std::string names;
    for (const std::string& n : incorrect) names += (names.empty() ? "" : "; ") + n;
    throw std::runtime_error(
        fmt::format("{} case(s) not correct or failed: {}", incorrect.size(), names));
  }
  if (strict && !doc["skipped"].empty()) {
    throw common::SpecError(fmt::format("--strict: {} measurement row(s) skipped, first: {}",
                                        doc["skipped"].size(),
                                        doc["skipped"][0].get<std::string>()));
  }
  if (strict && !doc.value("repriced", Json::array()).empty()) {
    throw common::SpecError(fmt::format(
        "--strict: {} measurement row(s) priced with --kernel auto because their kernel refused "
        "them, runs none of them or is unknown, first: {}",
        doc["repriced"].size(), doc["repriced"][0].get<std::string>()));
  }
}

}  // namespace cli
