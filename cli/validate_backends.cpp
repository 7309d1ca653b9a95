#include "cli/validate_backends.hpp"

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/validate_devices.hpp"
#include "common/errors.hpp"
#include "common/text.hpp"
#include "validate/cpu/cpu_ceilings.hpp"
#include "validate/cpu/cpu_probe.hpp"
#include "validate/cpu/cpu_suite.hpp"
#include "validate/cuda/cuda_ceilings.hpp"
#include "validate/cuda/cuda_devices.hpp"
#include "validate/cuda/cuda_suite.hpp"

namespace cli {

std::string profile_id_for_device(const std::string& name, const hw::ProfileCatalog& catalog) {
  try {
    return catalog.resolve(name).id;
  } catch (const hw::ProfileError&) {
    // Not a profile name as it stands: look for a family below.
  }
  // The name's words (`NVIDIA A100-PCIE-40GB`: nvidia, a100, pcie, 40gb).
  std::vector<std::string> words(1);
  for (char c : common::ascii_lower(name)) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
      words.back() += c;
    } else if (!words.back().empty()) {
      words.emplace_back();
    }
  }
  auto has = [&](const char* w) { return std::find(words.begin(), words.end(), w) != words.end(); };
  for (const char* family :
       {"gb300", "b300", "gb200", "b200", "h200", "h800", "h100", "h20", "a800", "a100"}) {
    if (!has(family)) continue;
    if (std::string_view(family) == "h100" && has("pcie")) return catalog.resolve("h100-pcie").id;
    if (std::string_view(family) == "a100") {
      // The PCIe card without a size is the 40 GB one, as the `a100-pcie` alias says.
      if (has("pcie")) return catalog.resolve(has("80gb") ? "a100-pcie-80gb" : "a100-pcie").id;
      if (has("40gb")) return catalog.resolve("a100-40gb").id;
    }
    return catalog.resolve(family).id;
  }
  throw common::SpecError("no built-in profile matches CUDA device '" + name +
                          "'; name one with --profile ID");
}

namespace {

using Json = nlohmann::ordered_json;

std::string today() {
  const std::time_t now = std::time(nullptr);
  char text[16];
  std::strftime(text, sizeof(text), "%Y-%m-%d", std::gmtime(&now));
  return text;
}

// --check runs the tiny `check` suite (every kernel path once) unless --suite names another, with
// one timed run per case.
validate::Suite suite_of(const BackendOptions& o) {
  if (!o.suite.empty()) return validate::find_suite(o.suite);
  return validate::find_suite(o.check ? "check" : "quick");
}

bool wants_ceilings(const BackendOptions& o) {
  if (o.ceilings == "auto") return !o.check;
  if (o.ceilings == "yes" || o.ceilings == "no") return o.ceilings == "yes";
  throw common::SpecError("unknown --ceilings '" + o.ceilings + "'; allowed: auto, yes, no");
}

validate::RunOptions run_options_of(const BackendOptions& o) {
  validate::RunOptions r;
  r.repeats = o.check ? 1 : o.repeats;
  r.check = o.check;
  return r;
}

std::string cuda_profile_id(const validate::CudaDevice& d, const BackendOptions& o,
                            const hw::ProfileCatalog& catalog) {
  if (!o.profile.empty()) return catalog.resolve(o.profile).id;
  return profile_id_for_device(d.name, catalog);
}

// The host profile a CPU run predicts with when the user gives one: --profile's, which must be a
// host-core profile (arch cpu), else the `host-cpu` profile of a --hw-dir or $ATTNSIM_HW_PATH
// directory (what `--write-profiles DIR` and `hw probe -o DIR/host-cpu.json` write); nullptr when
// none is given, and the run probes this core.
const hw::Profile* cpu_profile_given(const BackendOptions& o, const hw::ProfileCatalog& catalog) {
  if (o.profile.empty()) {
    try {
      return &catalog.resolve(validate::kProbeProfileId);
    } catch (const hw::ProfileError&) {
      return nullptr;  // no such file: probe
    }
  }
  const hw::Profile& p = catalog.resolve(o.profile);
  if (p.arch == "cpu") return &p;
  std::vector<std::string> hosts;
  for (const hw::Profile& q : catalog.profiles()) {
    if (q.arch == "cpu") hosts.push_back(q.id);
  }
  throw common::SpecError(fmt::format(
      "--profile '{}' is not a host-core profile (arch {}); --backend cpu predicts on one: {} "
      "(profiles of arch cpu from --hw-dir), or no --profile to probe this core",
      o.profile, p.arch,
      hosts.empty() ? std::string("none loaded") : fmt::format("{}", fmt::join(hosts, ", "))));
}

Json ceilings_json(const validate::CudaCeilings& c) {
  return {{"copy_Bps", c.copy_Bps},
          {"gemm_fp16_flops", c.gemm_fp16_flops},
          {"gemm_bf16_flops", c.gemm_bf16_flops},
          {"gemm_fp8_flops", c.gemm_fp8_flops},
          {"exp_per_s", c.exp_per_s},
          {"launch_latency_s", c.launch_latency_s}};
}

}  // namespace

const hw::Profile& with_hw_sets(Acquired& in, const hw::Profile& base,
                                const std::vector<std::string>& sets,
                                std::string_view missing_entry_advice) {
  for (const hw::Profile& p : in.profiles) {
    if (p.id == base.id) return p;
  }
  in.profiles.push_back(hw::with_overrides(base, sets, missing_entry_advice));
  return in.profiles.back();
}

void add_runs(const std::vector<validate::CaseRun>& runs, const std::string& hw_id,
              const models::Registry& registry, validate::Backend backend, Acquired& in) {
  for (const validate::CaseRun& r : runs) {
    if (!r.error.empty()) {
      in.failed.push_back({{"case", r.spec.name}, {"error", r.error}});
      continue;
    }
    // A timer that read zero, a negative or non-finite time, or less than 1 ns: the case ran, but
    // its time cannot be compared (the error would divide by about zero), so it is a failure with
    // its samples (non-finite ones written as null), not a row.
    if (const std::string invalid = validate::invalid_timing(r); !invalid.empty()) {
      in.failed.push_back(
          {{"case", r.spec.name},
           {"error", fmt::format("invalid timing, not compared: {} (output {}correct)", invalid,
                                 r.correct ? "" : "not ")},
           {"samples_s", r.samples_s},
           {"max_relative_error", r.max_relative_error},
           {"correct", r.correct}});
      continue;
    }
    in.cases.push_back(validate::to_measured(r, hw_id, registry, backend));
    in.case_extras.push_back({{"case", r.spec.name},
                              {"samples_s", r.samples_s},
                              {"max_relative_error", r.max_relative_error},
                              {"correct", r.correct}});
    if (r.launches.empty()) continue;
    // Each launch timed apart (CUDA multi-launch cases); compare() adds its prediction.
    nlohmann::ordered_json launches = nlohmann::ordered_json::array();
    for (const validate::LaunchRun& l : r.launches) {
      launches.push_back({{"name", l.name},
                          {"measured_s", validate::median(l.samples_s)},
                          {"samples_s", l.samples_s}});
    }
    in.case_extras.back()["launches"] = launches;
  }
}

Acquired run_cpu_backend(const models::Registry& registry, const BackendOptions& o,
                         hw::ProfileCatalog& catalog) {
  const validate::Suite suite = suite_of(o);
  const hw::Profile* given = cpu_profile_given(o, catalog);
  // The probe profile needs the ceilings (--check gives them less time); a given profile needs
  // only the cache sizes, for the flush.
  const validate::cpu::CpuCeilings ceilings =
      given ? validate::cpu::describe_cpu()
            : validate::cpu::measure_cpu_ceilings(o.check ? 0.5 : 2.0);
  if (!given) catalog.insert(validate::probe_profile(ceilings, today()));
  const hw::Profile& profile = given ? *given : catalog.resolve(validate::kProbeProfileId);
  // A --hw-set the profile does not take is refused before the suite runs.
  Acquired in;
  with_hw_sets(in, profile, o.hw_sets, "leave it out");
  validate::RunOptions run_options = run_options_of(o);
  run_options.flush_bytes = validate::cpu::cache_flush_bytes(ceilings.llc_bytes);
  add_runs(validate::run_suite(suite, run_options, show_progress), profile.id, registry,
           validate::Backend::cpu, in);
  in.device = {{"backend", "cpu"},
               {"suite", suite.name},
               {"profile", profile.id},
               // "probed": measured by this run; otherwise the file it was read from.
               {"profile_source", given ? profile.origin : std::string("probed")},
               {"cpu", ceilings.cpu_name},
               {"clock_hz", ceilings.clock_hz},
               {"threads", 1}};
  if (!given) {
    in.device.update(Json{{"stream_Bps", ceilings.stream_Bps},
                          {"gemm_flops", ceilings.gemm_flops},
                          {"exp_per_s", ceilings.exp_per_s},
                          {"fma_flops", ceilings.fma_flops}});
  }
  in.device.update(Json{{"llc_bytes", ceilings.llc_bytes}, {"date", today()}});
  return in;
}

Acquired run_cuda_backend(const models::Registry& registry, const BackendOptions& o,
                          const hw::ProfileCatalog& catalog) {
  // --check: every launch synchronises, so a fault is reported by the kernel that caused it.
  // The driver reads this when the process first touches CUDA, which is below.
  const bool ceilings = wants_ceilings(o);
  if (o.check) ::setenv("CUDA_LAUNCH_BLOCKING", "1", 0);
  const validate::CudaStatus status = validate::query_cuda();
  const validate::CudaDevice device = validate::select_cuda_device(status);
  const std::string hw_id = cuda_profile_id(device, o, catalog);
  Acquired in;
  with_hw_sets(in, catalog.resolve(hw_id), o.hw_sets, "leave it out");
  const validate::Suite suite = suite_of(o);
  validate::RunOptions run_options = run_options_of(o);
  run_options.cuda_device = device.index;
  add_runs(validate::run_cuda_suite(suite, run_options, show_progress), hw_id, registry,
           validate::Backend::cuda, in);
  in.device = {{"backend", "cuda"},
               {"suite", suite.name},
               {"index", device.index},
               {"device", device.name},
               {"compute_capability", fmt::format("{}.{}", device.cc_major, device.cc_minor)},
               {"sm_count", device.sm_count},
               {"memory_bytes", device.memory_bytes},
               {"cuda_toolkit", status.toolkit_version},
               {"cuda_driver", status.driver_version},
               {"kernels", validate::cuda_kernel_summary()},
               {"profile", hw_id},
               {"launch_blocking", o.check},
               {"date", today()}};
  // Ceilings after the suite (an 8192^3 GEMM and 1 GiB copies), so that the cases are measured
  // even if they fail; --check skips them unless --ceilings yes.
  if (!ceilings) return in;
  try {
    in.device["ceilings"] = ceilings_json(validate::measure_cuda_ceilings(10.0, device.index));
  } catch (const std::exception& e) {
    in.failed.push_back({{"case", kCeilingsCase}, {"error", e.what()}});
  }
  return in;
}

}  // namespace cli
