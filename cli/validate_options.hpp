// The options of `attnsim validate`, and the checks that refuse bad or conflicting ones before any
// kernel runs, any device is touched or any file is read: an option a mode would ignore is an
// error, not a silent no-op.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "cli/context.hpp"
#include "cli/validate_backends.hpp"
#include "hwprofiles/catalog.hpp"

namespace cli {

struct ValidateOptions {
  std::vector<std::string> measurements;
  std::string recorded;  // an earlier CUDA run's JSON report
  std::string backend;   // "", cpu, cuda
  BackendOptions run;
  bool calibrate = false;
  bool keep_fixed_costs = false;
  std::vector<std::int64_t> holdout_seq = {1024, 8192};
  std::string write_profiles;
  bool devices = false;
  bool strict = false;
  std::string format = "table";
  std::string output;
  std::set<std::string> given;  // the long names of the options on the command line ("suite")
};

// What `--hw-set` advises for a key a device's profile lacks, in validate, which applies it to
// every device its rows name.
inline constexpr const char* kValidateMissingEntryAdvice =
    "run validate on the measurement files of the devices that have it";

// Throws std::invalid_argument (exit 2) for an unknown value (--backend, --ceilings, --suite,
// --profile, a --hw-set no profile the run could use takes, a --write-profiles path under a file)
// or an option the chosen mode does not use (--devices with anything to run; --profile, --suite,
// --repeats or --ceilings with --measurements; ...), naming the option and what is allowed.
void check_validate_options(const ValidateOptions& o, const HwOptions& hw,
                            const hw::ProfileCatalog& catalog);

// --write-profiles DIR: bad input when DIR, or the nearest of its parents that exists, is not a
// directory (checked before any work, by cli::directory_problem, the check -o's folder has:
// symbolic links followed); created (with its parents) when missing, as `mkdir -p`, a dangling
// link's target in its place.
void check_profile_directory(const std::string& dir);
void make_profile_directory(const std::string& dir);

}  // namespace cli
