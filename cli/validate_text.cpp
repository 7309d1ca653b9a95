#include "cli/validate_text.hpp"

#include <algorithm>
#include <sstream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/output.hpp"
#include "cli/report.hpp"
#include "cli/validate_report.hpp"

namespace cli {

namespace {

using Json = ValidateJson;

// "12.3%" for a relative error (with `sign`: "+12.3%"), "-" for null.
std::string percent_text(const Json& v, bool sign = false) {
  if (!v.is_number()) return "-";
  return sign ? fmt::format("{:+.1f}%", 100 * v.get<double>())
              : fmt::format("{:.1f}%", 100 * v.get<double>());
}

std::string time_text(const Json& v) {
  return v.is_number() ? human_time(v.get<double>()) : "-";
}

// "12.3 % (8)", or "-" for a part with no rows.
std::string part_text(const Json& s) {
  if (s["cases"].get<int>() == 0) return "-";
  return fmt::format("{} ({})", percent_text(s["mape"]), s["cases"].get<int>());
}

// The table's name for the part of the rows that is not held back: the rows a fit used under
// --calibrate, every other row without it (JSON keeps the key `fitted_rows` for both:
// docs/validation.md). The summary lines and the group table's column both say it.
const char* rest_name(const Json& doc) {
  return doc.value("calibrated", false) ? "fitted" : "not held back";
}

// The width of the longest of `cells` and `header`: columns sized to their longest cell stay
// aligned for any kernel or device name (`nsa_triton_compressed`, `FlashAttention-3`).
std::size_t column_width(const std::vector<std::string>& cells, std::string_view header) {
  std::size_t width = header.size();
  for (const std::string& c : cells) width = std::max(width, c.size());
  return width;
}

std::string render_groups(const Json& groups, const char* rest) {
  std::vector<std::string> hw, kernel, schedule;
  for (const Json& g : groups) {
    hw.push_back(g["hw"].get<std::string>());
    kernel.push_back(g["kernel"].get<std::string>());
    schedule.push_back(g["schedule"].get<std::string>());
  }
  const std::string rest_mape = fmt::format("{} MAPE", rest);
  const std::size_t wh = column_width(hw, "device"), wk = column_width(kernel, "kernel"),
                    ws = column_width(schedule, "schedule"),
                    wr = std::max<std::size_t>(14, rest_mape.size());
  std::string out =
      fmt::format("{:<{}} {:<{}} {:<{}} {:>5} {:>{}} {:>14}  {}\n", "device", wh, "kernel", wk,
                  "schedule", ws, "rows", rest_mape, wr, "held-out MAPE", "worst row");
  for (std::size_t i = 0; i < groups.size(); ++i) {
    const Json& g = groups[i];
    const Json& w = g["worst_row"];
    const std::string where =
        w.contains("case")
            ? w["case"].get<std::string>()
            : fmt::format("{}:{}", w["file"].get<std::string>(), w["line"].get<int>());
    out += fmt::format("{:<{}} {:<{}} {:<{}} {:>5} {:>{}} {:>14}  {} {} {}\n", hw[i], wh, kernel[i],
                       wk, schedule[i], ws, g["rows"].get<int>(), part_text(g["fitted_rows"]), wr,
                       part_text(g["held_out_rows"]), where, w["pass"].get<std::string>(),
                       percent_text(w["tile_error"], true));
  }
  return out;
}

// A row's name: file:line for a measurement row; the case name (its kernel is the schedule) for a
// suite case run here.
std::pair<std::string, std::string> row_names(const Json& c) {
  if (c.contains("case")) return {c["case"].get<std::string>(), c["schedule"].get<std::string>()};
  return {fmt::format("{}:{}", c["file"].get<std::string>(), c["line"].get<int>()),
          c["kernel"].get<std::string>()};
}

// The widths of the case table's name and kernel columns.
struct CaseWidths {
  std::size_t name = 26, kernel = 15;
};

std::string case_line(const Json& c, bool correctness, CaseWidths width) {
  const auto [name, kernel] = row_names(c);
  std::string line = fmt::format(
      "{:<{}} {:<{}} {:<8} {:>4} {:>4} {:>4} {:>6} {:>6} {:>2} {:>10} {:>10} {:>8} {:>10} {:>8}",
      name, width.name, kernel, width.kernel, c["pass"].get<std::string>(), c["batch"].get<int>(),
      c["heads"].get<int>(), c["head_dim"].get<int>(), c["q_len"].get<int>(),
      c["kv_len"].get<int>(), c["causal"].get<bool>() ? 1 : 0, time_text(c["measured_s"]),
      time_text(c["tile_s"]), percent_text(c["tile_error"], true), time_text(c["roofline_s"]),
      percent_text(c["roofline_error"], true));
  if (correctness) {
    const bool correct = c.value("correct", false);
    line +=
        fmt::format(" {:>9.2e} {:>7}", c.value("max_relative_error", 0.0), correct ? "yes" : "NO");
  }
  // What the columns do not show: a sliding window, a value head dim (MLA's latent width).
  if (c.contains("window")) line += fmt::format("  (window {})", c["window"].get<int>());
  if (c.contains("v_head_dim")) line += fmt::format("  (dv {})", c["v_head_dim"].get<int>());
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
  std::size_t width = 26, names = 15;
  for (const Json& c : doc["cases"]) {
    if (c.contains("launches")) width = std::max(width, row_names(c).first.size());
    for (const Json& l : c.value("launches", Json::array()))
      names = std::max(names, l["name"].get<std::string>().size());
  }
  for (const Json& c : doc["cases"]) {
    for (const Json& l : c.value("launches", Json::array())) {
      if (out.empty()) {
        out = "launches timed apart (extra runs, an event after each launch):\n" +
              fmt::format("{:<{}} {:<{}} {:>10} {:>10} {:>8}\n", "case", width, "launch", names,
                          "measured", "tile", "err");
      }
      out += fmt::format("{:<{}} {:<{}} {:>10} {:>10} {:>8}\n", row_names(c).first, width,
                         l["name"].get<std::string>(), names, time_text(l["measured_s"]),
                         time_text(l["tile_s"]), percent_text(l["tile_error"], true));
    }
  }
  return out;
}

// A fitted calibration entry for reading: each value to 6 significant digits (a fit's
// 0.9999999999999999 is 1; JSON keeps the exact values).
std::string entry_text(const Json& entry) {
  std::vector<std::string> parts;
  for (const auto& [key, value] : entry.items()) {
    parts.push_back(value.is_number() ? fmt::format("{} {:.6g}", key, value.get<double>())
                                      : fmt::format("{} {}", key, value.dump()));
  }
  return fmt::format("{}", fmt::join(parts, ", "));
}

// The case rows under their header, columns sized to the longest name and kernel; a run that
// checked its output adds max_rel and correct.
std::string render_cases(const Json& doc) {
  const bool correctness = has_correctness(doc);
  CaseWidths width;
  for (const Json& c : doc["cases"]) {
    const auto [name, kernel] = row_names(c);
    width.name = std::max(width.name, name.size());
    width.kernel = std::max(width.kernel, kernel.size());
  }
  std::string out = fmt::format(
      "{:<{}} {:<{}} {:<8} {:>4} {:>4} {:>4} {:>6} {:>6} {:>2} {:>10} {:>10} {:>8} {:>10} {:>8}",
      correctness ? "case" : "file:line", width.name, "kernel", width.kernel, "pass", "B", "H", "d",
      "Sq", "Sk", "c", "measured", "tile", "err", "roofline", "err");
  out += correctness ? fmt::format(" {:>9} {:>7}\n", "max_rel", "correct") : "\n";
  for (const Json& c : doc["cases"]) out += case_line(c, correctness, width);
  return out;
}

// The error statistics per engine and part (fitted or not held back, held out, all).
std::string render_statistics(const Json& doc) {
  std::string out;
  for (const char* engine : {"tile", "roofline"}) {
    for (const char* part : {"fitted_rows", "held_out_rows", "all"}) {
      const Json& s = doc["summary"][engine][part];
      const std::string_view key = part;
      const char* name = key == "fitted_rows" ? rest_name(doc) : key == "all" ? "all" : "held out";
      out += fmt::format("{:<9} {:<14} cases {:>3}  MAPE {:>7}  median {:>7}  max {:>7}\n", engine,
                         name, s["cases"].get<int>(), percent_text(s["mape"]),
                         percent_text(s["median_abs"]), percent_text(s["max_abs"]));
    }
  }
  return out;
}

// What --calibrate fitted: each kernel entry (or why a group fitted nothing), then each device's
// fixed costs.
std::string render_calibration(const Json& doc) {
  std::string out;
  for (const Json& g : doc["calibration"]) {
    if (g.contains("note")) {  // a group that fits nothing (validate::FitGroup::note)
      out += fmt::format("not calibrated {} {}{}: {}\n", g["hw"].get<std::string>(),
                         g["schedule"].get<std::string>(),
                         g["keys"].empty() ? " backward rows" : "", g["note"].get<std::string>());
      continue;
    }
    out +=
        fmt::format("calibrated {} {}: {} | held-out MAPE {} -> {}\n", g["hw"].get<std::string>(),
                    fmt::join(g["keys"].get<std::vector<std::string>>(), "+"),
                    entry_text(g["after"]), percent_text(g["held_out_rows_before"]["mape"]),
                    percent_text(g["held_out_rows_after"]["mape"]));
  }
  // Each device's fixed costs as --calibrate moved them (microseconds; fitted before the kernels'
  // entries, and the error is that first fit's).
  for (const Json& f : doc.value("fixed_costs", Json::array())) {
    out += fmt::format("calibrated {} fixed costs: kernel_launch_us {:.1f} -> {:.1f}",
                       f["hw"].get<std::string>(), f["kernel_launch_us_before"].get<double>(),
                       f["kernel_launch_us_after"].get<double>());
    for (const auto& [key, before] : f["caller_floor_us_before"].items()) {
      out += fmt::format(", {} {:.1f} -> {:.1f}", key, before.get<double>(),
                         f["caller_floor_us_after"][key].get<double>());
    }
    out += fmt::format(" | fitted MAPE before the kernel fits {} -> {}\n",
                       percent_text(f["fitted_rows_before"]["mape"]),
                       percent_text(f["fitted_rows_after"]["mape"]));
  }
  return out;
}

// The counts: rows skipped, repriced, cases not correct, and each failure.
std::string render_counts(const Json& doc) {
  std::string out = fmt::format("skipped rows: {}\n", doc["summary"]["skipped_rows"].get<int>());
  if (const int repriced = doc["summary"].value("repriced_rows", 0); repriced > 0) {
    out += fmt::format(
        "rows priced with --kernel auto (their kernel refused them, runs none of them or is "
        "unknown): {}\n",
        repriced);
  }
  // As JSON and CSV give it: wherever a case was checked or failed (a run with only failures
  // has no case rows).
  if (doc["summary"].contains("incorrect_cases"))
    out += fmt::format("incorrect cases: {}\n", doc["summary"]["incorrect_cases"].get<int>());
  for (const Json& f : doc.value("failed", Json::array()))
    out +=
        fmt::format("FAILED {}: {}\n", f["case"].get<std::string>(), f["error"].get<std::string>());
  return out;
}

}  // namespace

std::string validate_table(const Json& doc) {
  std::string out = render_cases(doc) + render_launches(doc) + render_statistics(doc);
  if (doc["summary"].contains("groups"))
    out += render_groups(doc["summary"]["groups"], rest_name(doc));
  return out + render_calibration(doc) + render_counts(doc);
}

namespace {

// `rows` as CSV (a header, then a line each) under a "# <title>" line, every line commented.
std::string commented_table(const char* title, const std::vector<Json>& rows) {
  if (rows.empty()) return "";
  std::string out = fmt::format("# {}\n", title);
  std::istringstream lines(csv_from_objects(rows));
  for (std::string line; std::getline(lines, line);) out += "# " + line + "\n";
  return out;
}

// The report's summary as the table gives it: the statistics per engine and part, the groups, the
// calibration and fixed-cost fits (JSON's objects flattened to `a_b` columns, as the rows are).
std::string summary_tables(const Json& doc) {
  std::vector<Json> stats, calibration;
  for (const char* engine : {"tile", "roofline"}) {
    for (const char* part : {"fitted_rows", "held_out_rows", "all"}) {
      Json row = {{"engine", engine}, {"part", part}};
      row.update(doc["summary"][engine][part]);
      stats.push_back(std::move(row));
    }
  }
  for (Json g : doc.value("calibration", Json::array())) {
    g["keys"] = fmt::format("{}", fmt::join(g["keys"].get<std::vector<std::string>>(), "+"));
    calibration.push_back(std::move(g));
  }
  const Json groups = doc["summary"].value("groups", Json::array());
  const Json fixed = doc.value("fixed_costs", Json::array());
  return commented_table("summary", stats) +
         commented_table("groups", std::vector<Json>(groups.begin(), groups.end())) +
         commented_table("calibration", calibration) +
         commented_table("fixed_costs", std::vector<Json>(fixed.begin(), fixed.end()));
}

}  // namespace

// The case rows, then the summary counts and tables as `#` comment lines (readers such as pandas
// skip them with comment='#').
std::string validate_csv(const Json& doc) {
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
  // No rows (a run whose every case failed): no table, not an empty header line.
  std::string text = rows.empty() ? "" : csv_from_objects(rows);
  const Json& s = doc["summary"];
  // The rows, and those of them compared (the table's "all" part: a correctness-only case is a
  // row, not compared).
  text += fmt::format("# rows,{}\n# compared_cases,{}\n# skipped_rows,{}\n", rows.size(),
                      s["tile"]["all"]["cases"].get<int>(), s["skipped_rows"].get<int>());
  if (s.contains("repriced_rows"))
    text += fmt::format("# repriced_rows,{}\n", s["repriced_rows"].get<int>());
  if (s.contains("incorrect_cases"))
    text += fmt::format("# incorrect_cases,{}\n", s["incorrect_cases"].get<int>());
  return text + summary_tables(doc);
}

}  // namespace cli
