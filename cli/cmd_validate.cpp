// attnsim validate: check the model against measured kernel timings (--measurements) or kernels run
// here (--backend), fit the tile engine's calibration (--calibrate), and report CUDA support and
// devices (--devices), or compare an earlier CUDA run's report again (--recorded). Under --strict,
// rows skipped or priced with auto instead of their kernel (it refused them, runs none of them or
// is unknown) are bad input: exit 2 with nothing written (nor is a CSV's unknown column read).
// Otherwise the report (and the profiles) are written first; then exit 1 when a kernel run here
// (or in the recorded run) was not correct or failed.
#include <algorithm>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/context.hpp"
#include "cli/flags.hpp"
#include "cli/output_file.hpp"
#include "cli/validate_backends.hpp"
#include "cli/validate_devices.hpp"
#include "cli/validate_measured.hpp"
#include "cli/validate_options.hpp"
#include "cli/validate_recorded.hpp"
#include "cli/validate_report.hpp"
#include "common/errors.hpp"
#include "hwprofiles/profile_loader.hpp"
#include "validate/calibrate.hpp"
#include "validate/cpu/cpu_probe.hpp"
#include "validate/measured_names.hpp"

namespace cli {

namespace {

using Json = ValidateJson;

// The options are checked (check_validate_options) before this runs anything.
Acquired acquire(const Context& ctx, const ValidateOptions& o, hw::ProfileCatalog& catalog) {
  BackendOptions run = o.run;
  run.hw_sets = ctx.hw.sets;
  if (!o.recorded.empty()) return read_recorded_report(o.recorded, ctx.registry, run, catalog);
  if (o.backend == "cpu") return run_cpu_backend(ctx.registry, run, catalog);
  if (o.backend == "cuda") return run_cuda_backend(ctx.registry, run, catalog);
  return read_measurement_files(ctx, o, catalog);
}

// The profiles of the devices the cases name, as the acquirer kept them with --hw-set applied
// (Acquired::profiles; a --backend cpu probe is in the catalog only since it ran), put back into
// the catalog so that every later step (calibration included) sees the overridden values.
std::vector<hw::Profile> used_profiles(const Acquired& in, hw::ProfileCatalog& catalog) {
  std::vector<hw::Profile> profiles;
  for (const auto& c : in.cases) {
    const std::string& id = catalog.resolve(c.hw).id;
    if (std::any_of(profiles.begin(), profiles.end(), [&](const auto& q) { return q.id == id; }))
      continue;
    const auto kept = std::find_if(in.profiles.begin(), in.profiles.end(),
                                   [&](const hw::Profile& p) { return p.id == id; });
    if (kept == in.profiles.end())
      throw std::logic_error("validate: no profile kept for device " + id);
    profiles.push_back(*kept);
  }
  for (const hw::Profile& p : profiles) catalog.insert(p);
  return profiles;
}

// Whether a --calibrate fit used row `index` of the cases: a group that fitted lists it (never a
// held-back row, a row priced with auto or a family inferred).
bool fit_used(std::size_t index, const std::vector<validate::FitGroup>& groups) {
  return std::any_of(groups.begin(), groups.end(), [&](const validate::FitGroup& g) {
    return std::find(g.fit_rows.begin(), g.fit_rows.end(), index) != g.fit_rows.end();
  });
}

// The report, and the profiles of the devices it used (calibrated under --calibrate), which
// --write-profiles saves.
struct Compared {
  Json doc;
  std::vector<hw::Profile> profiles;
};

Compared compare(const ValidateOptions& o, hw::ProfileCatalog& catalog, const Acquired& in) {
  std::vector<hw::Profile> profiles = used_profiles(in, catalog);
  Json calibration = Json::array();
  Json fixed_costs = Json::array();
  validate::CalibrationResult fit;
  if (o.calibrate) {
    // --backend cpu keeps the launch cost: it is the probe's measured cold call (or the given
    // profile's); fitted first, on kernel entries not yet fitted, it took up their error instead.
    const bool keep = o.keep_fixed_costs || o.backend == "cpu";
    fit = validate::calibrate(in.cases, catalog, o.holdout_seq,
                              keep ? validate::FixedCosts::keep : validate::FixedCosts::fit);
    for (const auto& g : fit.groups) calibration.push_back(calibration_json(g));
    for (const auto& f : fit.fixed_costs) fixed_costs.push_back(fixed_cost_json(f));
    for (const hw::Profile& fitted : fit.profiles) {
      for (hw::Profile& p : profiles) {
        if (p.id == fitted.id) p = fitted;
      }
    }
  }
  std::vector<validate::CaseResult> rows;
  for (std::size_t index = 0; index < in.cases.size(); ++index) {
    const validate::MeasuredCase& c = in.cases[index];
    const hw::Profile& p = *std::find_if(profiles.begin(), profiles.end(), [&](const auto& q) {
      return q.id == catalog.resolve(c.hw).id;
    });
    validate::CaseResult r = validate::evaluate_case(c, p);
    r.held_out = validate::is_held_out(c, o.holdout_seq);
    r.fit_row = !o.calibrate || fit_used(index, fit.groups);
    rows.push_back(r);
  }
  Json doc = {{"attnsim_version", ATTNSIM_VERSION},
              {"holdout_kv_len", o.holdout_seq},
              // Whether the fitted_rows parts are the rows --calibrate fitted (true) or every row
              // not held back (false).
              {"calibrated", o.calibrate},
              {"cases", Json::array()},
              {"summary", summaries(rows)},
              {"calibration", calibration},
              {"fixed_costs", fixed_costs},
              {"skipped", in.skipped},
              {"repriced", in.repriced},
              {"warnings", in.warnings}};
  if (!in.failed.empty()) doc["failed"] = in.failed;
  if (!in.device.is_null()) doc["device"] = in.device;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    Json c = case_json(rows[i]);
    if (i < in.case_extras.size()) c.update(in.case_extras[i]);
    add_launch_predictions(c, rows[i]);
    doc["cases"].push_back(c);
  }
  add_counts(doc);
  return {std::move(doc), std::move(profiles)};
}

// The file --write-profiles writes a device's profile to.
std::string profile_path(const ValidateOptions& o, const std::string& id) {
  return (std::filesystem::path(o.write_profiles) / (id + ".json")).string();
}

// -o naming a file --write-profiles writes would leave only the one written last. Checked before
// any work against every profile the run could write (the catalog's, and the probed host's under
// --backend cpu), and again against those it does write before writing either.
void check_report_not_a_profile(const ValidateOptions& o, const std::vector<std::string>& ids) {
  if (o.write_profiles.empty() || o.output.empty() || o.output == "-") return;
  for (const std::string& id : ids) {
    if (same_output_file(o.output, profile_path(o, id)))
      throw common::SpecError(fmt::format(
          "-o '{}' is the file --write-profiles '{}' writes the {} profile to; give the report "
          "a file of its own",
          o.output, o.write_profiles, id));
  }
}

// A file --write-profiles would write that the system cannot take (a directory in its place, a
// name too long) fails the run after the work: bad input before it, against every profile the
// run could write, and again against those it does write before writing any.
void check_profile_files(const ValidateOptions& o, const std::vector<std::string>& ids) {
  if (o.write_profiles.empty()) return;
  for (const std::string& id : ids) {
    const std::string path = profile_path(o, id);
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec))
      throw common::SpecError(
          fmt::format("--write-profiles '{}': '{}', where the {} profile goes, is a directory",
                      o.write_profiles, path, id));
    if (const std::string problem = unusable_path_problem(path); !problem.empty())
      throw common::SpecError(fmt::format("--write-profiles '{}': cannot write '{}': {}",
                                          o.write_profiles, path, problem));
  }
}

std::vector<std::string> profile_ids(const std::vector<hw::Profile>& profiles) {
  std::vector<std::string> ids;
  for (const hw::Profile& p : profiles) ids.push_back(p.id);
  return ids;
}

void run_validate(const Context& ctx, const ValidateOptions& o) {
  const Format format = parse_format(o.format);
  hw::ProfileCatalog catalog = load_catalog(ctx.hw);
  check_validate_options(o, ctx.hw, catalog);
  if (o.devices) {
    write_output(render_devices(format), o.output);
    return;
  }
  std::vector<std::string> ids = profile_ids(catalog.profiles());
  ids.push_back(validate::kProbeProfileId);
  check_report_not_a_profile(o, ids);
  check_profile_files(o, ids);
  const Acquired in = acquire(ctx, o, catalog);
  const Compared out = compare(o, catalog, in);
  check_report_not_a_profile(o, profile_ids(out.profiles));
  check_profile_files(o, profile_ids(out.profiles));
  // --strict refuses skipped and repriced rows as bad input: nothing is written.
  if (o.strict) check_strict(out.doc);
  if (!o.write_profiles.empty()) {
    make_profile_directory(o.write_profiles);
    for (const hw::Profile& p : out.profiles)
      write_output(hw::to_json(p).dump(2) + "\n", profile_path(o, p.id));
  }
  write_output(render_validate(out.doc, format), o.output);
  check_outcome(out.doc);
}

}  // namespace

void add_validate_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<ValidateOptions>();
  CLI::App* cmd = app.add_subcommand("validate", "check the model against real kernel timings");
  cmd->add_option("--measurements", opts->measurements,
                  "CSV of measured timings (schema: validate/data/measured/README.md); repeatable")
      ->check(non_empty("an empty path; give a measurements CSV file", "FILE.csv"));
  cmd->add_option("--recorded", opts->recorded,
                  "JSON report of an earlier `validate --backend cuda` run: its cases compared "
                  "again with today's model (--suite, --profile: if not the report's)")
      ->check(non_empty("an empty path; give the JSON report of a validate --backend cuda run",
                        "REPORT.json"));
  cmd->add_flag("--calibrate", opts->calibrate,
                "fit each (device, kernel) calibration on the rows not held out");
  cmd->add_flag("--keep-fixed-costs", opts->keep_fixed_costs,
                "with --calibrate: fit only the per-kernel entries, keeping each device's launch "
                "cost and caller floors as its profile gives them")
      ->needs("--calibrate");
  cmd->add_option("--holdout-seq", opts->holdout_seq,
                  "kv lengths whose rows are held back from the fit")
      ->delimiter(',')
      ->transform(decimal_integer(1, models::kMaxTokens))
      ->capture_default_str();
  cmd->add_option("--write-profiles", opts->write_profiles,
                  "write the (calibrated) profiles of the devices used into this directory "
                  "(created if missing)")
      ->check(non_empty("an empty path; give a directory", "DIR"));
  cmd->add_flag("--strict", opts->strict,
                "exit 2 when any measurement row is skipped or repriced (each is a warning "
                "otherwise), and refuse a CSV column attnsim does not know");
  cmd->add_flag("--devices", opts->devices, "report CUDA support and the devices present");
  cmd->add_option("--backend", opts->backend,
                  "run real kernels here: cpu (always available) or cuda (needs a GPU)")
      ->check(non_empty("an empty value; allowed: cpu, cuda", "cpu|cuda"));
  cmd->add_option(
         "--suite", opts->run.suite,
         "suite for --backend: quick (default), full, check (default with --check), "
         "scaling, holdout, breakdown or a JSON file; for --recorded, the one the report ran")
      ->check(non_empty(
          "an empty name; allowed: quick, full, check, scaling, holdout, breakdown or a suite "
          "JSON file",
          "TEXT"));
  cmd->add_flag("--check", opts->run.check,
                "first-run mode: the tiny check suite (every kernel path once), one run each, "
                "blocking launches naming a faulting kernel; cuda skips the ceilings");
  cmd->add_option("--ceilings", opts->run.ceilings,
                  "cuda: measure the device ceilings: yes, no, or auto (yes, no under --check)")
      ->capture_default_str();
  cmd->add_option("--profile", opts->run.profile,
                  "profile to predict with: cpu, a host profile of arch cpu (default: host-cpu "
                  "from --hw-dir, else this core probed); cuda, matched from the device name; "
                  "--recorded, the report's");
  cmd->add_option("--repeats", opts->run.repeats, "timed runs per case (median reported)")
      ->transform(decimal_integer(1, 1000))
      ->capture_default_str();
  cmd->add_option("--format", opts->format, "table | json | csv")->capture_default_str();
  add_output_option(*cmd, opts->output, "write the report to FILE instead of stdout");
  add_hw_options(*cmd, ctx.hw);
  cmd->callback([&ctx, opts, cmd] {
    for (const CLI::Option* option : cmd->get_options()) {
      if (option->count() > 0 && !option->get_lnames().empty())
        opts->given.insert(option->get_lnames().front());
    }
    run_validate(ctx, *opts);
  });
}

}  // namespace cli
