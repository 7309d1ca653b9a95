// `attnsim validate --backend cpu|cuda`: run a suite of real kernels here and turn the runs into
// measured cases, with the device report and each case's correctness.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"
#include "validate/cpu/cpu_suite.hpp"
#include "validate/measurements.hpp"

namespace cli {

struct BackendOptions {
  std::string suite;  // "": quick, or check under --check
  // The profile to predict with: cpu, a host profile (default: a user's host-cpu, else probed);
  // cuda, from the device name by default.
  std::string profile;
  int repeats = 5;
  bool check = false;  // first-run mode: the `check` suite, one timed run, blocking launches
  std::string ceilings = "auto";  // cuda: yes, no, or auto (yes, but no under --check)
  // --hw-set, applied to the run's profile (Acquired::profiles) before the suite runs, so that a
  // profile that does not take it is refused first.
  std::vector<std::string> hw_sets;
};

// The cases to compare, wherever they came from, and what the source says about itself.
// The name of the failure a CUDA run reports when measuring the device's ceilings failed (a failed
// entry of its own, beside the suite's cases).
inline constexpr const char* kCeilingsCase = "ceilings";

struct Acquired {
  std::vector<validate::MeasuredCase> cases;
  std::vector<nlohmann::ordered_json> case_extras;  // per case, merged into its report row
  nlohmann::ordered_json skipped = nlohmann::ordered_json::array();
  // Rows whose named kernel refused them, priced with `auto` instead: "file:line: reason".
  nlohmann::ordered_json repriced = nlohmann::ordered_json::array();
  nlohmann::ordered_json warnings = nlohmann::ordered_json::array();
  nlohmann::ordered_json failed = nlohmann::ordered_json::array();  // {case, kernel, error}
  nlohmann::ordered_json device;  // the measuring machine, when the cases were run here
  // The profiles of the devices met, --hw-set applied once each (with_hw_sets): compare() prices
  // and fits the cases on these.
  std::vector<hw::Profile> profiles;
};

// `base` with --hw-set `sets` applied, kept in `in.profiles`: applied the first time a device is
// met, the kept one returned after. `missing_entry_advice` as hw::with_overrides takes it.
const hw::Profile& with_hw_sets(Acquired& in, const hw::Profile& base,
                                const std::vector<std::string>& sets,
                                std::string_view missing_entry_advice);

// The built-in profile of a CUDA device from its name as the driver reports it, where that names a
// profile (NVIDIA H100 80GB HBM3, NVIDIA H100 PCIe, NVIDIA A100-SXM4-40GB), else the first family
// among the name's words (NVIDIA H200 NVL -> h200; an A100 with a 40gb word -> the 40GB profile;
// NVIDIA RTX A1000 is none); common::SpecError naming the device and --profile otherwise.
std::string profile_id_for_device(const std::string& name, const hw::ProfileCatalog& catalog);

// Cases that ran become measured cases on `hw_id` (with their correctness); cases that failed, or
// whose timings are invalid (validate::invalid_timing: a zero, negative, non-finite or sub-ns
// sample), are listed in `in.failed` (validate then exits 1).
void add_runs(const std::vector<validate::CaseRun>& runs, const std::string& hw_id,
              const models::Registry& registry, validate::Backend backend, Acquired& in);

// Predicts on the host profile the user gives (--profile, of arch cpu; else a host-cpu profile
// from --hw-dir or $ATTNSIM_HW_PATH), or else probes this core and adds that profile to
// `catalog`; the report's device says which (profile, profile_source).
Acquired run_cpu_backend(const models::Registry& registry, const BackendOptions& o,
                         hw::ProfileCatalog& catalog);
Acquired run_cuda_backend(const models::Registry& registry, const BackendOptions& o,
                          const hw::ProfileCatalog& catalog);

}  // namespace cli
