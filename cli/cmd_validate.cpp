// attnsim validate: check the model against measured kernel timings (--measurements), fit the
// tile engine's calibration (--calibrate), and report CUDA support and devices (--devices).
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "cli/context.hpp"
#include "cli/report.hpp"
#include "hwprofiles/profile_loader.hpp"
#include "models/errors.hpp"
#include "validate/calibrate.hpp"
#include "validate/cuda_devices.hpp"

namespace cli {

namespace {

using Json = nlohmann::ordered_json;

struct ValidateOptions {
  std::vector<std::string> measurements;
  bool calibrate = false;
  std::vector<std::int64_t> holdout_seq = {1024, 8192};
  std::string write_profiles;
  bool devices = false;
  std::string format = "table";
  std::string output;
};

Json summary_json(const validate::ErrorSummary& s) {
  return {
      {"cases", s.cases}, {"mape", s.mape}, {"median_abs", s.median_abs}, {"max_abs", s.max_abs}};
}

Json case_json(const validate::CaseResult& r) {
  const validate::MeasuredCase& c = *r.measured;
  const models::HeadConfig& h = c.spec.heads;
  return {{"file", std::filesystem::path(c.file).filename().string()},
          {"line", c.line},
          {"hw", c.hw},
          {"kernel", c.kernel},
          {"schedule", c.schedule},
          {"pass", c.pass},
          {"dtype", models::to_string(c.workload.dtype)},
          {"batch", c.workload.batch},
          {"heads", h.heads},
          {"kv_heads", h.kv_heads},
          {"head_dim", h.head_dim},
          {"q_len", c.workload.q_len},
          {"kv_len", c.workload.kv_len},
          {"causal", c.workload.causal},
          {"held_out", r.held_out},
          {"measured_s", c.measured_s},
          {"tile_s", r.tile_s},
          {"tile_error", r.tile_error()},
          {"roofline_s", r.roofline_s},
          {"roofline_error", r.roofline_error()}};
}

Json summaries(const std::vector<validate::CaseResult>& rows) {
  std::vector<double> tile_fit, tile_held, roof_fit, roof_held, tile_all, roof_all;
  for (const auto& r : rows) {
    (r.held_out ? tile_held : tile_fit).push_back(r.tile_error());
    (r.held_out ? roof_held : roof_fit).push_back(r.roofline_error());
    tile_all.push_back(r.tile_error());
    roof_all.push_back(r.roofline_error());
  }
  return {{"tile",
           {{"fitted_rows", summary_json(validate::summarize(tile_fit))},
            {"held_out_rows", summary_json(validate::summarize(tile_held))},
            {"all", summary_json(validate::summarize(tile_all))}}},
          {"roofline",
           {{"fitted_rows", summary_json(validate::summarize(roof_fit))},
            {"held_out_rows", summary_json(validate::summarize(roof_held))},
            {"all", summary_json(validate::summarize(roof_all))}}}};
}

Json calibration_json(const validate::FitGroup& g) {
  auto entry = [](const hw::ScheduleCalibration& c) {
    return Json{{"mma_fraction", c.mma_fraction},
                {"softmax_overlap", c.softmax_overlap},
                {"tile_overhead_cycles", c.tile_overhead_cycles},
                {"cta_overhead_cycles", c.cta_overhead_cycles}};
  };
  return {{"hw", g.hw},
          {"schedule", g.schedule},
          {"keys", g.keys},
          {"before", entry(g.before)},
          {"after", entry(g.after)},
          {"fitted_rows_before", summary_json(g.fitted_before)},
          {"fitted_rows_after", summary_json(g.fitted_after)},
          {"held_out_rows_before", summary_json(g.held_before)},
          {"held_out_rows_after", summary_json(g.held_after)}};
}

std::string render_table(const Json& doc) {
  std::ostringstream out;
  out << fmt::format(
      "{:<26} {:<15} {:<8} {:>4} {:>4} {:>4} {:>6} {:>6} {:>2} {:>10} {:>10} {:>8} {:>10} {:>8}\n",
      "file:line", "kernel", "pass", "B", "H", "d", "Sq", "Sk", "c", "measured", "tile", "err",
      "roofline", "err");
  for (const Json& c : doc["cases"]) {
    out << fmt::format(
        "{:<26} {:<15} {:<8} {:>4} {:>4} {:>4} {:>6} {:>6} {:>2} {:>10} {:>10} {:>+7.1f}% {:>10} "
        "{:>+7.1f}%{}\n",
        fmt::format("{}:{}", c["file"].get<std::string>(), c["line"].get<int>()),
        c["kernel"].get<std::string>(), c["pass"].get<std::string>(), c["batch"].get<int>(),
        c["heads"].get<int>(), c["head_dim"].get<int>(), c["q_len"].get<int>(),
        c["kv_len"].get<int>(), c["causal"].get<bool>() ? 1 : 0,
        human_time(c["measured_s"].get<double>()), human_time(c["tile_s"].get<double>()),
        100 * c["tile_error"].get<double>(), human_time(c["roofline_s"].get<double>()),
        100 * c["roofline_error"].get<double>(), c["held_out"].get<bool>() ? "  (held out)" : "");
  }
  for (const char* engine : {"tile", "roofline"}) {
    for (const char* part : {"fitted_rows", "held_out_rows", "all"}) {
      const Json& s = doc["summary"][engine][part];
      out << fmt::format(
          "{:<9} {:<14} cases {:>3}  MAPE {:>6.1f}%  median {:>6.1f}%  max {:>6.1f}%\n", engine,
          part, s["cases"].get<int>(), 100 * s["mape"].get<double>(),
          100 * s["median_abs"].get<double>(), 100 * s["max_abs"].get<double>());
    }
  }
  for (const Json& g : doc["calibration"]) {
    out << fmt::format("calibrated {} {}: {} | held-out MAPE {:.1f}% -> {:.1f}%\n",
                       g["hw"].get<std::string>(), g["schedule"].get<std::string>(),
                       g["after"].dump(), 100 * g["held_out_rows_before"]["mape"].get<double>(),
                       100 * g["held_out_rows_after"]["mape"].get<double>());
  }
  return out.str();
}

std::string render_devices(Format format) {
  const validate::CudaStatus status = validate::query_cuda();
  Json devices = Json::array();
  for (const validate::CudaDevice& d : status.devices) {
    devices.push_back({{"index", d.index},
                       {"name", d.name},
                       {"sm_count", d.sm_count},
                       {"compute_capability", fmt::format("{}.{}", d.cc_major, d.cc_minor)},
                       {"memory_bytes", d.memory_bytes},
                       {"kernel_ran", d.kernel_ran}});
  }
  if (format == Format::json) {
    return Json{{"cuda_compiled_in", status.compiled_in},
                {"cuda_toolkit", status.toolkit_version},
                {"devices", devices},
                {"message", status.message}}
               .dump(2) +
           "\n";
  }
  if (format == Format::csv)
    return csv_from_objects(std::vector<Json>(devices.begin(), devices.end()));
  std::ostringstream out;
  out << "CUDA backend: " << validate::cuda_build_summary() << "\n";
  if (status.devices.empty()) out << status.message << "\n";
  for (const validate::CudaDevice& d : status.devices) {
    out << fmt::format("device {}: {} (sm_{}{}, {} SMs, {:.1f} GB){}\n", d.index, d.name,
                       d.cc_major, d.cc_minor, d.sm_count, d.memory_bytes / 1e9,
                       d.kernel_ran ? "" : " - probe kernel failed");
  }
  return out.str();
}

void run_validate(const Context& ctx, const ValidateOptions& o) {
  const Format format = parse_format(o.format);
  if (o.devices) {
    write_output(render_devices(format), o.output);
    return;
  }
  if (o.measurements.empty()) {
    throw models::SpecError("validate needs --measurements FILE.csv or --devices");
  }
  const hw::ProfileCatalog catalog = load_catalog(ctx.hw);
  std::vector<validate::MeasurementSet> sets;
  std::vector<validate::MeasuredCase> cases;
  Json skipped = Json::array(), warnings = Json::array();
  for (const std::string& file : o.measurements) {
    validate::MeasurementSet set = validate::read_measurements(file, ctx.registry);
    for (auto& c : set.cases) cases.push_back(std::move(c));
    for (const auto& s : set.skipped) skipped.push_back(s);
    for (const auto& w : set.warnings) warnings.push_back(w);
  }
  for (const auto& w : warnings) std::cerr << "attnsim: warning: " << w.get<std::string>() << "\n";
  std::vector<hw::Profile> profiles;
  for (const auto& c : cases) {
    const hw::Profile& p = catalog.resolve(c.hw);
    if (std::none_of(profiles.begin(), profiles.end(),
                     [&](const auto& q) { return q.id == p.id; })) {
      profiles.push_back(hw::with_overrides(p, ctx.hw.sets));
    }
  }
  Json calibration = Json::array();
  if (o.calibrate) {
    const validate::CalibrationResult fit = validate::calibrate(cases, catalog, o.holdout_seq);
    for (const auto& g : fit.groups) calibration.push_back(calibration_json(g));
    for (const hw::Profile& fitted : fit.profiles) {
      for (hw::Profile& p : profiles) {
        if (p.id == fitted.id) p = fitted;
      }
    }
  }
  std::vector<validate::CaseResult> rows;
  for (const auto& c : cases) {
    const hw::Profile& p = *std::find_if(profiles.begin(), profiles.end(), [&](const auto& q) {
      return q.id == catalog.resolve(c.hw).id;
    });
    validate::CaseResult r = validate::evaluate_case(c, p);
    r.held_out = validate::is_held_out(c, o.holdout_seq);
    rows.push_back(r);
  }
  Json doc = {{"attnsim_version", ATTNSIM_VERSION},
              {"holdout_kv_len", o.holdout_seq},
              {"cases", Json::array()},
              {"summary", summaries(rows)},
              {"calibration", calibration},
              {"skipped", skipped},
              {"warnings", warnings}};
  for (const auto& r : rows) doc["cases"].push_back(case_json(r));
  if (!o.write_profiles.empty()) {
    for (const hw::Profile& p : profiles) {
      write_output(hw::to_json(p).dump(2) + "\n",
                   (std::filesystem::path(o.write_profiles) / (p.id + ".json")).string());
    }
  }
  if (format == Format::json) {
    write_output(doc.dump(2) + "\n", o.output);
  } else if (format == Format::csv) {
    write_output(csv_from_objects(std::vector<Json>(doc["cases"].begin(), doc["cases"].end())),
                 o.output);
  } else {
    write_output(render_table(doc), o.output);
  }
}

}  // namespace

void add_validate_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app.add_subcommand("validate", "check the model against real kernel timings");
  cmd->add_option("--measurements", opts->measurements,
                  "CSV of measured timings (schema: validate/data/measured/README.md); repeatable");
  cmd->add_flag("--calibrate", opts->calibrate,
                "fit each (device, kernel) calibration on the rows not held out");
  cmd->add_option("--holdout-seq", opts->holdout_seq,
                  "kv lengths whose rows are held back from the fit")
      ->delimiter(',')
      ->capture_default_str();
  cmd->add_option("--write-profiles", opts->write_profiles,
                  "write the (calibrated) profiles of the devices used into this directory");
  cmd->add_flag("--devices", opts->devices, "report CUDA support and the devices present");
  cmd->add_option("--format", opts->format, "table | json | csv")->capture_default_str();
  cmd->add_option("-o,--output", opts->output, "write the report to FILE instead of stdout");
  add_hw_options(*cmd, ctx.hw);
  cmd->callback([&ctx, opts] { run_validate(ctx, *opts); });
}

}  // namespace cli
