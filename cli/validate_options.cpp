#include "cli/validate_options.hpp"

#include <filesystem>
#include <initializer_list>
#include <optional>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/output_file.hpp"
#include "common/errors.hpp"
#include "common/files.hpp"
#include "validate/cpu/cpu_suite.hpp"

namespace cli {

namespace {

// Those of `names` given on the command line, as the user typed them (`--suite`).
std::vector<std::string> given_of(const ValidateOptions& o,
                                  std::initializer_list<const char*> names) {
  std::vector<std::string> found;
  for (const char* name : names) {
    if (o.given.count(name)) found.push_back(std::string("--") + name);
  }
  return found;
}

// An option the mode would ignore is refused, not dropped: `why` says what the mode uses instead.
void refuse_unused(const ValidateOptions& o, std::initializer_list<const char*> unused,
                   const char* why) {
  const std::vector<std::string> found = given_of(o, unused);
  if (found.empty()) return;
  throw common::SpecError(fmt::format("{} {} not used {}", fmt::join(found, ", "),
                                      found.size() == 1 ? "is" : "are", why));
}

// Why --strict is refused with --recorded and --backend: nothing there is skipped or repriced
// (a case that fails is a failure, exit 1, with or without it).
constexpr const char* kStrictIsForMeasurements =
    "with --recorded or --backend: it refuses measurement rows skipped or priced with --kernel "
    "auto, which only --measurements files have (a case that fails exits 1 without it)";

// Which source of cases the options choose, with the conflicts between sources refused.
void check_mode(const ValidateOptions& o) {
  if (o.devices) {
    refuse_unused(
        o,
        {"measurements", "recorded", "backend", "check", "suite", "profile", "repeats", "ceilings",
         "calibrate", "keep-fixed-costs", "holdout-seq", "write-profiles", "strict", "hw-set"},
        "with --devices, which only reports CUDA support and the devices present (it "
        "takes --format and -o): give them to a validate run without --devices");
    return;
  }
  if (!o.recorded.empty()) {
    if (!o.backend.empty() || !o.measurements.empty() || o.run.check)
      throw common::SpecError(
          "--recorded compares an earlier run again; it takes no --backend, --measurements or "
          "--check");
    refuse_unused(o, {"repeats", "ceilings"},
                  "with --recorded, which compares the report's own samples again (they are for "
                  "--backend runs)");
    refuse_unused(o, {"strict"}, kStrictIsForMeasurements);
    return;
  }
  if (!o.backend.empty() && !o.measurements.empty())
    throw common::SpecError(
        "--backend runs kernels here and --measurements reads recorded timings: give one (two "
        "runs of validate compare both)");
  if (!o.backend.empty() && o.backend != "cpu" && o.backend != "cuda")
    throw common::SpecError("unknown backend '" + o.backend + "'; allowed: cpu, cuda");
  if (o.backend.empty() && o.run.check)
    throw common::SpecError("--check needs --backend cpu or --backend cuda");
  if (o.backend.empty() && o.measurements.empty())
    throw common::SpecError(
        "validate needs --measurements FILE.csv, --backend cpu, --recorded REPORT.json or "
        "--devices");
  // One file twice would count (and, under --calibrate, weigh) each of its rows twice.
  for (std::size_t i = 0; i < o.measurements.size(); ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      std::error_code ec;
      if (o.measurements[i] == o.measurements[j] ||
          std::filesystem::equivalent(o.measurements[i], o.measurements[j], ec)) {
        throw common::SpecError(fmt::format(
            "--measurements '{}' is given twice (as '{}' too): its rows would count twice; give "
            "each file once",
            o.measurements[i], o.measurements[j]));
      }
    }
  }
  if (!o.measurements.empty()) {
    refuse_unused(o, {"suite", "profile", "repeats", "ceilings"},
                  "with --measurements: each row is priced on the device its hw column names "
                  "(--suite, --repeats and --ceilings are for --backend runs, --profile for "
                  "--backend and --recorded)");
  }
  if (!o.backend.empty()) refuse_unused(o, {"strict"}, kStrictIsForMeasurements);
  if (o.backend == "cpu") {
    refuse_unused(o, {"ceilings"},
                  "with --backend cpu, whose probe measures its own ceilings (--ceilings is for "
                  "--backend cuda)");
  }
}

// --backend cuda picks the profile from the device's name unless --profile names one: a --hw-set
// is checked on that profile, or else on every NVIDIA profile (refused when none takes it), so
// that it is refused before the device is touched.
void check_cuda_hw_sets(const ValidateOptions& o, const HwOptions& hw,
                        const hw::ProfileCatalog& catalog) {
  if (!o.run.profile.empty()) {
    (void)hw::with_overrides(catalog.resolve(o.run.profile), hw.sets, "leave it out");
    return;
  }
  if (hw.sets.empty()) return;
  std::optional<std::string> first_error;
  for (const hw::Profile& p : catalog.profiles()) {
    if (p.vendor != "nvidia") continue;
    try {
      (void)hw::with_overrides(p, hw.sets, "name the device's profile with --profile");
      return;
    } catch (const std::invalid_argument& e) {
      if (!first_error) first_error = e.what();
    }
  }
  if (first_error) throw common::SpecError(*first_error);
}

}  // namespace

void check_validate_options(const ValidateOptions& o, const HwOptions& hw,
                            const hw::ProfileCatalog& catalog) {
  if (o.run.ceilings != "auto" && o.run.ceilings != "yes" && o.run.ceilings != "no")
    throw common::SpecError("unknown --ceilings '" + o.run.ceilings + "'; allowed: auto, yes, no");
  check_mode(o);
  if (o.devices) return;
  if (!o.run.suite.empty()) (void)validate::find_suite(o.run.suite);
  if (!o.run.profile.empty()) (void)catalog.resolve(o.run.profile);
  if (o.backend == "cuda") check_cuda_hw_sets(o, hw, catalog);
  if (!o.write_profiles.empty()) check_profile_directory(o.write_profiles);
}

void check_profile_directory(const std::string& dir) {
  if (const std::string unusable = unusable_path_problem(dir); !unusable.empty())
    throw std::invalid_argument(fmt::format("--write-profiles '{}': {}", dir, unusable));
  if (const std::string lookup = common::path_lookup_problem(dir); !lookup.empty())
    throw std::invalid_argument(
        fmt::format("--write-profiles '{}': {}; allowed: a directory, or a path to create one at",
                    dir, lookup));
  const FolderProblem problem = directory_problem(dir);
  if (!problem) return;
  if (problem.itself)
    throw std::invalid_argument(fmt::format("--write-profiles '{}' is not a directory", dir));
  throw std::invalid_argument(fmt::format(
      "--write-profiles '{}': {}, so nothing can be created under it", dir, problem.describe()));
}

void make_profile_directory(const std::string& dir) {
  check_profile_directory(dir);
  const std::string path = directory_to_create(dir);
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  std::error_code is_dir_ec;
  if (!std::filesystem::is_directory(path, is_dir_ec)) {
    throw std::runtime_error(fmt::format("--write-profiles '{}': cannot create the directory{}",
                                         dir, ec ? ": " + ec.message() : ""));
  }
}

}  // namespace cli
