#include "cli/validate_recorded.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "cli/validate_options.hpp"
#include "cli/validate_report.hpp"
#include "common/errors.hpp"
#include "common/files.hpp"
#include "hwprofiles/json_text.hpp"
#include "validate/cpu/cpu_suite.hpp"
#include "validate/measurements.hpp"

namespace cli {

namespace {

using Json = nlohmann::ordered_json;

std::string read_text(const std::string& path) {
  std::optional<std::string> text = common::read_file(path);
  if (!text)
    throw std::invalid_argument(fmt::format("--recorded '{}': cannot open the file", path));
  return std::move(*text);
}

// `key` of `object` as T, or bad input naming the file and what is missing.
template <typename T>
T field(const nlohmann::json& object, const char* key, const std::string& where) {
  if (!object.is_object() || !object.contains(key))
    throw std::invalid_argument(fmt::format("{}: no \"{}\"", where, key));
  try {
    return object.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw std::invalid_argument(fmt::format("{}: \"{}\" has the wrong type", where, key));
  }
}

// The workload the report printed for a case must be the one its suite case gives today: a suite
// edited since, or another suite with the same case name, would price another shape.
void check_shape(const nlohmann::json& row, const validate::MeasuredCase& m,
                 const std::string& at) {
  ValidateJson expected = {{"schedule", m.schedule}};
  expected.update(shape_json(m));
  for (const auto& [key, value] : expected.items()) {
    const nlohmann::json recorded = field<nlohmann::json>(row, key.c_str(), at);
    if (recorded != nlohmann::json(value))  // one json type: clang finds != ambiguous otherwise
      throw common::SpecError(fmt::format(
          "{}: {} {} in the report but {} in the suite today; name the suite it ran with --suite",
          at, key, recorded.dump(), value.dump()));
  }
}

// `samples` (the "samples_s" of `where`): bad input unless non-empty and every time plausible.
void check_samples(const std::vector<double>& samples, const std::string& where) {
  if (samples.empty() || !std::all_of(samples.begin(), samples.end(), [](double x) {
        return validate::plausible_measured_time(x);
      }))
    throw std::invalid_argument(
        fmt::format("{}: \"samples_s\" must be a non-empty array of times; allowed: {}", where,
                    validate::measured_time_range()));
}

// A case's measured_s is the median of its samples_s (validate::median, as the runner takes it):
// an edited time that its samples contradict would price a run that never happened. The runner
// writes both at full double precision, so they agree to the last bit; 1e-9 relative leaves room
// for a tool that rewrites the file with 15 significant digits.
void check_median(const validate::CaseRun& run, const std::string& at) {
  const double median = validate::median(run.samples_s);
  if (std::abs(run.median_s - median) > 1e-9 * median)
    throw std::invalid_argument(fmt::format(
        "{}: measured_s {:.6g} s is not the median of its {} samples_s ({:.6g} s); measured_s "
        "must be that median, as the runner writes it",
        at, run.median_s, run.samples_s.size(), median));
}

// A launch's name as the runner writes it: an identifier (letters, digits, underscores), which the
// CSV report makes a column name of.
bool launch_name_ok(const std::string& name) {
  return !name.empty() && std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
  });
}

// A case's launches timed apart (optional: only runs with module ABI 2 or later time them, and
// only for multi-launch cases): each a name, once per case, and its positive samples.
std::vector<validate::LaunchRun> read_launches(const nlohmann::json& row, const std::string& at) {
  std::vector<validate::LaunchRun> launches;
  if (!row.contains("launches")) return launches;
  if (!row["launches"].is_array())
    throw std::invalid_argument(fmt::format("{}: \"launches\" must be an array", at));
  for (const nlohmann::json& l : row["launches"]) {
    const std::string where = at + " launch";
    validate::LaunchRun run{field<std::string>(l, "name", where),
                            field<std::vector<double>>(l, "samples_s", where)};
    if (!launch_name_ok(run.name))
      throw std::invalid_argument(  // the name as JSON text: escaped, on one line
          fmt::format("{} {}: a launch name is letters, digits and underscores", where,
                      nlohmann::json(run.name).dump()));
    if (std::any_of(launches.begin(), launches.end(),
                    [&](const validate::LaunchRun& seen) { return seen.name == run.name; }))
      throw std::invalid_argument(fmt::format("{} '{}' appears twice", where, run.name));
    check_samples(run.samples_s, fmt::format("{} '{}'", where, run.name));
    launches.push_back(std::move(run));
  }
  return launches;
}

// The report's device, which must be a CUDA run's: a --measurements report names none, and a CPU
// run's profile is the probe of the host it ran on.
const nlohmann::json& cuda_device(const nlohmann::json& doc, const std::string& where) {
  if (!doc.is_object() || !doc.contains("device") || !doc["device"].is_object() ||
      !doc["device"].contains("backend"))
    throw common::SpecError(
        fmt::format("{}: not a report of `validate --backend cuda` (it names no device backend; a "
                    "--measurements report is compared again by running validate on its files)",
                    where));
  const nlohmann::json& device = doc["device"];
  const std::string backend = field<std::string>(device, "backend", where + " device");
  if (backend != "cuda")
    throw common::SpecError(fmt::format(
        "{}: a {} report; only CUDA reports are compared again (a CPU report's profile is the "
        "probe of the host it ran on: run --backend cpu there)",
        where, backend));
  return device;
}

// The suite the report ran (or the one --suite names), its cases found by name.
struct RecordedSuite {
  validate::Suite suite;
  std::map<std::string, std::size_t> index;  // case name -> its place in suite.cases

  explicit RecordedSuite(validate::Suite s) : suite(std::move(s)) {
    for (std::size_t i = 0; i < suite.cases.size(); ++i) index[suite.cases[i].name] = i;
  }
  const validate::SuiteCase* find(const std::string& name) const {
    const auto it = index.find(name);
    return it == index.end() ? nullptr : &suite.cases[it->second];
  }
};

// One case row of the report as the run of `spec` it records: its times (plausible, measured_s
// their median), correctness, launches, and the workload the suite gives it today.
validate::CaseRun read_case(const nlohmann::json& row, const validate::SuiteCase& spec,
                            const std::string& at, const std::string& hw_id,
                            const models::Registry& registry) {
  validate::CaseRun run;
  run.spec = spec;
  run.median_s = field<double>(row, "measured_s", at);
  run.samples_s = field<std::vector<double>>(row, "samples_s", at);
  run.correct = field<bool>(row, "correct", at);
  run.launches = read_launches(row, at);
  // A non-finite error (a NaN output) is written as null: read it back as infinite.
  const bool no_error = row.contains("max_relative_error") && row["max_relative_error"].is_null();
  run.max_relative_error = no_error ? std::numeric_limits<double>::infinity()
                                    : field<double>(row, "max_relative_error", at);
  if (no_error && run.correct)
    throw std::invalid_argument(fmt::format("{}: correct with no finite error", at));
  if (!validate::plausible_measured_time(run.median_s))
    throw std::invalid_argument(fmt::format("{}: measured_s {:.3g} is out of range; allowed: {}",
                                            at, run.median_s, validate::measured_time_range()));
  check_samples(run.samples_s, at);
  check_median(run, at);
  check_shape(row, validate::to_measured(run, hw_id, registry, validate::Backend::cuda), at);
  return run;
}

// The report's case rows, each a case of `suite` once.
std::vector<validate::CaseRun> read_cases(const nlohmann::json& doc, const RecordedSuite& suite,
                                          const std::string& where, const std::string& hw_id,
                                          const models::Registry& registry) {
  const nlohmann::json cases = field<nlohmann::json>(doc, "cases", where);
  // A run whose every case failed has no case rows, only failures.
  const bool has_failures =
      doc.contains("failed") && doc["failed"].is_array() && !doc["failed"].empty();
  if (!cases.is_array() || (cases.empty() && !has_failures))
    throw std::invalid_argument(
        fmt::format("{}: \"cases\" must be an array with a case, or \"failed\" a failure", where));
  std::set<std::string> seen;
  std::vector<validate::CaseRun> runs;
  for (const nlohmann::json& row : cases) {
    const std::string name = field<std::string>(row, "case", where + " case");
    if (!seen.insert(name).second)
      throw std::invalid_argument(fmt::format("{}: case '{}' appears twice", where, name));
    const validate::SuiteCase* spec = suite.find(name);
    if (spec == nullptr)
      throw common::SpecError(
          fmt::format("{}: case '{}' is not in suite '{}'; name the suite it ran with --suite",
                      where, name, suite.suite.name));
    runs.push_back(
        read_case(row, *spec, fmt::format("{} case '{}'", where, name), hw_id, registry));
  }
  return runs;
}

// The recorded run's failures stay failures (validate then exits 1, as it did): each a suite
// case's, or the ceilings' the runner measures first (kCeilingsCase).
void read_failures(const nlohmann::json& doc, const RecordedSuite& suite, const std::string& where,
                   Acquired& in) {
  if (!doc.contains("failed")) return;
  const nlohmann::json& failed = doc["failed"];
  if (!failed.is_array())
    throw std::invalid_argument(fmt::format("{}: \"failed\" must be an array", where));
  for (const nlohmann::json& f : failed) {
    const std::string name = field<std::string>(f, "case", where + " failed");
    const std::string error = field<std::string>(f, "error", where + " failed");
    if (name != kCeilingsCase && suite.find(name) == nullptr)
      throw common::SpecError(fmt::format(
          "{}: failed case '{}' is not in suite '{}'; name the suite it ran with --suite", where,
          name, suite.suite.name));
    in.failed.push_back({{"case", name}, {"error", error}});
  }
}

}  // namespace

Acquired read_recorded_report(const std::string& path, const models::Registry& registry,
                              const BackendOptions& o, const hw::ProfileCatalog& catalog) {
  const nlohmann::json doc = hw::parse_json_strictly(read_text(path), path);
  const std::string where = "--recorded " + path;
  const nlohmann::json& device = cuda_device(doc, where);
  const RecordedSuite suite(validate::find_suite(
      o.suite.empty() ? field<std::string>(device, "suite", where + " device") : o.suite));
  const std::string hw_id =
      catalog
          .resolve(o.profile.empty() ? field<std::string>(device, "profile", where + " device")
                                     : o.profile)
          .id;
  Acquired in;
  add_runs(read_cases(doc, suite, where, hw_id, registry), hw_id, registry, validate::Backend::cuda,
           in);
  read_failures(doc, suite, where, in);
  // The run's cases are priced on its profile with --hw-set (as --backend cuda applies it); a
  // report with only failures prices nothing.
  if (!in.cases.empty())
    with_hw_sets(in, catalog.resolve(hw_id), o.hw_sets, kValidateMissingEntryAdvice);
  in.device = device;
  in.device["profile"] = hw_id;
  in.device["recorded"] = path;
  return in;
}

}  // namespace cli
