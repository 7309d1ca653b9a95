#include "sim/schedule.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/errors.hpp"
#include "common/suggest.hpp"
#include "sim/schedule_flashmla.hpp"
#include "sim/schedule_nsa.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

// The profile's entry `key`; throws listing the entries it has.
const hw::ScheduleCalibration& calibration_entry(const hw::Profile& profile,
                                                 const std::string& key) {
  auto it = profile.calibration.schedules.find(key);
  if (it != profile.calibration.schedules.end()) return it->second;
  std::string known;
  for (const auto& [name, value] : profile.calibration.schedules) {
    (void)value;
    known += (known.empty() ? "" : ", ") + name;
  }
  // The kernel does not run on this device: a refusal (validate prices such a row with auto).
  throw common::KernelRefusal(fmt::format(
      "{} has no calibration for kernel '{}', so that kernel does not run there; it has: {} (or "
      "use --engine roofline)",
      profile.id, key, known.empty() ? "none" : known));
}

bool has_calibration(const hw::Profile& profile, const ScheduleInfo& schedule) {
  return find_calibration(profile, schedule) != nullptr;
}

}  // namespace

const std::vector<ScheduleInfo>& schedules() {
  static const std::vector<ScheduleInfo> table = [] {
    std::vector<ScheduleInfo> t;
    add_fa2_schedules(t);
    add_hopper_blackwell_schedules(t);
    add_flashmla_schedules(t);
    add_other_schedules(t);
    add_pto_schedules(t);
    add_fla_schedules(t);
    add_nsa_schedules(t);
    add_flash_nsa_schedules(t);
    add_fsa_schedules(t);
    add_lightning_schedules(t);
    add_flashinfer_schedules(t);
    add_flashinfer_prefill_schedule(t);
    add_natten_schedule(t);
    add_cpu_schedules(t);
    add_project_cuda_schedules(t);
    return t;
  }();
  return table;
}

void require_kernel(bool ok, std::string_view kernel, const std::string& what) {
  // A shape the kernel does not run: a refusal (validate prices such a row with auto).
  if (!ok) throw common::KernelRefusal(fmt::format("kernel '{}': {}", kernel, what));
}

const ScheduleInfo& find_schedule(std::string_view name) {
  std::vector<std::string> known = {"auto"};
  for (const ScheduleInfo& s : schedules()) {
    if (s.name == name) return s;
    known.emplace_back(s.name);
  }
  throw common::SpecError(fmt::format("unknown kernel '{}'{}; known: {}", name,
                                      common::did_you_mean(name, known), fmt::join(known, ", ")));
}

KernelChoice KernelChoice::parse(std::string_view name) {
  return name == "auto" ? KernelChoice() : KernelChoice(find_schedule(name));
}

const hw::ScheduleCalibration* find_calibration(const hw::Profile& profile,
                                                const ScheduleInfo& schedule, models::Pass pass) {
  const bool own_entry = pass == models::Pass::forward || schedule.backward_on_forward_entry;
  const auto& entries = profile.calibration.schedules;
  const auto it = entries.find(own_entry ? std::string(schedule.name)
                                         : backward_calibration_key(schedule.name));
  return it != entries.end() ? &it->second : nullptr;
}

const hw::ScheduleCalibration& forward_calibration(const hw::Profile& profile,
                                                   const ScheduleInfo& schedule) {
  return calibration_entry(profile, std::string(schedule.name));
}

const hw::ScheduleCalibration& backward_calibration(const hw::Profile& profile,
                                                    const ScheduleInfo& schedule) {
  if (schedule.backward_on_forward_entry) return forward_calibration(profile, schedule);
  return calibration_entry(profile, backward_calibration_key(schedule.name));
}

std::string backward_calibration_key(std::string_view schedule) {
  return std::string(schedule) + "_bwd";
}

std::string_view support_calibration_key(SupportKernel kernel) {
  switch (kernel) {
    case SupportKernel::gemm:
      return "gemm";
    case SupportKernel::elementwise:
      return "unfused";
    case SupportKernel::scan:
      return "chunked_scan";
  }
  return "?";
}

std::string_view support_schedule_name(SupportKernel kernel) {
  return kernel == SupportKernel::elementwise ? "elementwise" : support_calibration_key(kernel);
}

const hw::ScheduleCalibration& support_calibration(const hw::Profile& profile, SupportKernel kernel,
                                                   const models::Op& op) {
  const std::string key(support_calibration_key(kernel));
  auto it = profile.calibration.schedules.find(key);
  if (it != profile.calibration.schedules.end()) return it->second;
  const char* kind = kernel == SupportKernel::gemm          ? "GEMM"
                     : kernel == SupportKernel::elementwise ? "elementwise"
                                                            : "scan (linear-attention)";
  throw common::SpecError(fmt::format(
      "{} has no calibration.schedules.{} entry, which prices {} ops (here '{}'); add one to "
      "the profile (hwprofiles/SCHEMA.md, \"Support calibrations\": copy "
      "calibration.schedules.{} from a built-in profile, `attnsim hw show h100`), or use "
      "--engine roofline",
      profile.id, key, kind, op.name, key));
}

bool runs_head_dims(const ScheduleInfo& schedule, const models::Op& op) {
  const models::AttentionShape& a = op.attention;
  if (schedule.max_head_dim <= 0 || (schedule.latent_decode && a.values_in_keys)) return true;
  return static_cast<double>(std::max(a.head_dim, a.v_head_dim)) <= schedule.max_head_dim;
}

const ScheduleInfo& choose_schedule(const KernelChoice& kernel, const models::Op& op,
                                    const models::Workload& w, const hw::Profile& profile) {
  const ScheduleInfo* chosen = kernel.schedule();
  if (chosen == nullptr) {
    if (profile.default_schedule.empty()) {
      throw common::SpecError(fmt::format(
          "{} names no default_schedule; pass --kernel NAME or use --engine roofline", profile.id));
    }
    const ScheduleInfo& split_kv = find_schedule("split_kv");
    const ScheduleInfo& flashmla = find_schedule("flashmla");
    const ScheduleInfo& nsa = find_schedule("nsa_triton");
    const ScheduleInfo& nsa_compressed = find_schedule("nsa_triton_compressed");
    const bool decode_like = w.phase == models::Phase::decode && has_calibration(profile, split_kv);
    // The profile has the schedule's entry for the op's pass.
    auto calibrated_for_pass = [&](const ScheduleInfo& s) {
      return has_calibration(profile, s) && find_calibration(profile, s, op.pass) != nullptr;
    };
    // NSA's selected and compressed branches: no dense kernel runs content-chosen blocks or
    // summary keys; the public kernels that do are Triton ones.
    if (flashmla_runs(op, w) && has_calibration(profile, flashmla)) {
      // FlashMLA's dense decode, where it runs the op and the device calibrates it.
      chosen = &flashmla;
    } else if (nsa_triton_runs(op, w) && calibrated_for_pass(nsa)) {
      chosen = &nsa;
    } else if (nsa_compressed_runs(op, w) && calibrated_for_pass(nsa_compressed)) {
      chosen = &nsa_compressed;
    } else if (fsa_triton_runs(op, w) && calibrated_for_pass(find_schedule("fsa_triton"))) {
      chosen = &find_schedule("fsa_triton");
    } else if (natten_runs(op, w, profile) && calibrated_for_pass(find_schedule("natten"))) {
      // A neighbourhood on a token grid: NATTEN's fused kernels, the library that runs it.
      chosen = &find_schedule("natten");
    } else if (decode_like && op.pass == models::Pass::forward) {
      chosen = &split_kv;
    } else {
      chosen = &find_schedule(profile.default_schedule);
    }
  }
  if (!runs_head_dims(*chosen, op)) {
    // A head wider than the library runs: PyTorch's SDPA takes its math path, the unfused
    // baseline, which `auto` prices; a kernel named on purpose is refused.
    const ScheduleInfo& unfused = find_schedule("unfused");
    if (!kernel.is_auto() || !has_calibration(profile, unfused)) {
      throw common::KernelRefusal(fmt::format(
          "kernel '{}' runs head dimensions up to {}; {} has head_dim {}, v_head_dim {} ({}); "
          "use --kernel unfused, --kernel auto or --engine roofline",
          chosen->name, chosen->max_head_dim, op.name, op.attention.head_dim,
          op.attention.v_head_dim, profile.id));
    }
    chosen = &unfused;
  }
  forward_calibration(profile, *chosen);  // throws if the device lacks it
  return *chosen;
}

}  // namespace sim
