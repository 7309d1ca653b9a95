// attnsim validate: check the model against measured kernel timings (--measurements), fit the
// tile engine's calibration (--calibrate), and report CUDA support and devices (--devices).
#include <cctype>
#include <ctime>
#include <filesystem>

#include <iostream>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "cli/context.hpp"
#include "cli/report.hpp"
#include "cli/validate_devices.hpp"
#include "hwprofiles/profile_loader.hpp"
#include "models/errors.hpp"
#include "validate/calibrate.hpp"
#include "validate/cpu_ceilings.hpp"
#include "validate/cpu_probe.hpp"
#include "validate/cpu_suite.hpp"
#include "validate/cuda_ceilings.hpp"
#include "validate/cuda_devices.hpp"
#include "validate/cuda_suite.hpp"

namespace cli {

namespace {

using Json = nlohmann::ordered_json;

std::string today() {
  const std::time_t now = std::time(nullptr);
  char text[16];
  std::strftime(text, sizeof(text), "%Y-%m-%d", std::gmtime(&now));
  return text;
}

struct ValidateOptions {
  std::vector<std::string> measurements;
  std::string backend;  // "", cpu, cuda
  std::string suite = "quick";
  std::string profile;  // cuda: the profile to predict with (default: from the device name)
  int repeats = 5;
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

// The cases to compare, wherever they came from, and what the source says about itself.
struct Acquired {
  std::vector<validate::MeasuredCase> cases;
  std::vector<Json> case_extras;  // per case, merged into its report row (e.g. correctness)
  Json skipped = Json::array(), warnings = Json::array();
  Json device;  // the measuring machine, when the cases were run here
};

Acquired read_measurement_files(const Context& ctx, const ValidateOptions& o) {
  Acquired in;
  for (const std::string& file : o.measurements) {
    validate::MeasurementSet set = validate::read_measurements(file, ctx.registry);
    for (auto& c : set.cases) in.cases.push_back(std::move(c));
    for (const auto& s : set.skipped) in.skipped.push_back(s);
    for (const auto& w : set.warnings) in.warnings.push_back(w);
  }
  for (const auto& w : in.warnings)
    std::cerr << "attnsim: warning: " << w.get<std::string>() << "\n";
  return in;
}

Acquired run_cpu_backend(const Context& ctx, const ValidateOptions& o,
                         hw::ProfileCatalog& catalog) {
  const validate::Suite suite = validate::find_suite(o.suite);
  const validate::cpu::CpuCeilings ceilings = validate::cpu::measure_cpu_ceilings(2.0);
  catalog.insert(validate::probe_profile(ceilings, today()));
  validate::RunOptions run_options;
  run_options.repeats = o.repeats;
  run_options.flush_bytes = 2 * std::max(ceilings.llc_bytes, 8.0 * 1024 * 1024);
  const std::vector<validate::CaseRun> runs =
      validate::run_suite(suite, run_options, show_progress);
  Acquired in;
  for (const validate::CaseRun& r : runs) {
    in.cases.push_back(validate::to_measured(r, validate::kProbeProfileId, ctx.registry));
    in.case_extras.push_back({{"case", r.spec.name},
                              {"samples_s", r.samples_s},
                              {"max_relative_error", r.max_relative_error},
                              {"correct", r.correct}});
  }
  in.device = {{"backend", "cpu"},
               {"suite", suite.name},
               {"cpu", ceilings.cpu_name},
               {"clock_hz", ceilings.clock_hz},
               {"threads", 1},
               {"stream_Bps", ceilings.stream_Bps},
               {"gemm_flops", ceilings.gemm_flops},
               {"exp_per_s", ceilings.exp_per_s},
               {"fma_flops", ceilings.fma_flops},
               {"llc_bytes", ceilings.llc_bytes},
               {"date", today()}};
  return in;
}

// The built-in profile of a CUDA device, from its name (H200 -> h200, ...), or --profile.
std::string cuda_profile_id(const validate::CudaDevice& d, const ValidateOptions& o,
                            const hw::ProfileCatalog& catalog) {
  if (!o.profile.empty()) return catalog.resolve(o.profile).id;
  std::string lower = d.name;
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (const char* alias : {"gb200", "b200", "h200", "h800", "h100", "a100"}) {
    if (lower.find(alias) != std::string::npos) return catalog.resolve(alias).id;
  }
  throw models::SpecError("no built-in profile matches CUDA device '" + d.name +
                          "'; name one with --profile ID");
}

Acquired run_cuda_backend(const Context& ctx, const ValidateOptions& o,
                          const hw::ProfileCatalog& catalog) {
  const validate::CudaStatus status = validate::query_cuda();
  if (status.devices.empty()) throw std::runtime_error(status.message);
  const validate::CudaDevice& device = status.devices.front();
  const std::string hw_id = cuda_profile_id(device, o, catalog);
  const validate::Suite suite = validate::find_suite(o.suite);
  const validate::CudaCeilings ceilings = validate::measure_cuda_ceilings(10.0);
  validate::RunOptions run_options;
  run_options.repeats = o.repeats;
  const std::vector<validate::CaseRun> runs =
      validate::run_cuda_suite(suite, run_options, show_progress);
  Acquired in;
  for (const validate::CaseRun& r : runs) {
    in.cases.push_back(validate::to_measured(r, hw_id, ctx.registry, validate::Backend::cuda));
    in.case_extras.push_back({{"case", r.spec.name},
                              {"samples_s", r.samples_s},
                              {"max_relative_error", r.max_relative_error},
                              {"correct", r.correct}});
  }
  in.device = {{"backend", "cuda"},
               {"suite", suite.name},
               {"device", device.name},
               {"compute_capability", fmt::format("{}.{}", device.cc_major, device.cc_minor)},
               {"sm_count", device.sm_count},
               {"memory_bytes", device.memory_bytes},
               {"cuda_toolkit", status.toolkit_version},
               {"kernels", validate::cuda_kernel_summary()},
               {"profile", hw_id},
               {"ceilings",
                {{"copy_Bps", ceilings.copy_Bps},
                 {"gemm_fp16_flops", ceilings.gemm_fp16_flops},
                 {"gemm_bf16_flops", ceilings.gemm_bf16_flops},
                 {"gemm_fp8_flops", ceilings.gemm_fp8_flops},
                 {"exp_per_s", ceilings.exp_per_s},
                 {"launch_latency_s", ceilings.launch_latency_s}}},
               {"date", today()}};
  return in;
}

void run_validate(const Context& ctx, const ValidateOptions& o) {
  const Format format = parse_format(o.format);
  if (o.devices) {
    write_output(render_devices(format), o.output);
    return;
  }
  hw::ProfileCatalog catalog = load_catalog(ctx.hw);
  Acquired in;
  if (o.backend == "cpu") {
    in = run_cpu_backend(ctx, o, catalog);
  } else if (o.backend == "cuda") {
    in = run_cuda_backend(ctx, o, catalog);
  } else if (!o.backend.empty()) {
    throw models::SpecError("unknown backend '" + o.backend + "'; allowed: cpu, cuda");
  } else if (o.measurements.empty()) {
    throw models::SpecError("validate needs --measurements FILE.csv, --backend cpu or --devices");
  } else {
    in = read_measurement_files(ctx, o);
  }
  const std::vector<validate::MeasuredCase>& cases = in.cases;
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
              {"skipped", in.skipped},
              {"warnings", in.warnings}};
  if (!in.device.is_null()) doc["device"] = in.device;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    Json c = case_json(rows[i]);
    if (i < in.case_extras.size()) c.update(in.case_extras[i]);
    doc["cases"].push_back(c);
  }
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
  cmd->add_option("--backend", opts->backend,
                  "run real kernels here: cpu (always available) or cuda (needs a GPU)");
  cmd->add_option("--suite", opts->suite, "suite for --backend: quick, full or a JSON file")
      ->capture_default_str();
  cmd->add_option("--profile", opts->profile,
                  "cuda: profile to predict with (default: matched from the device name)");
  cmd->add_option("--repeats", opts->repeats, "timed runs per case (median reported)")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  cmd->add_option("--format", opts->format, "table | json | csv")->capture_default_str();
  cmd->add_option("-o,--output", opts->output, "write the report to FILE instead of stdout");
  add_hw_options(*cmd, ctx.hw);
  cmd->callback([&ctx, opts] { run_validate(ctx, *opts); });
}

}  // namespace cli
