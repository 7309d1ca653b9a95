#include "sim/schedule.hpp"

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/schedule_flashmla.hpp"
#include "sim/schedules.hpp"

namespace sim {

const std::vector<ScheduleInfo>& schedules() {
  static const std::vector<ScheduleInfo> table = [] {
    std::vector<ScheduleInfo> t;
    add_fa2_schedules(t);
    add_hopper_blackwell_schedules(t);
    add_flashmla_schedules(t);
    add_other_schedules(t);
    add_cpu_schedules(t);
    add_project_cuda_schedules(t);
    return t;
  }();
  return table;
}

const ScheduleInfo& find_schedule(std::string_view name) {
  std::string known = "auto";
  for (const ScheduleInfo& s : schedules()) {
    if (s.name == name) return s;
    known += ", " + std::string(s.name);
  }
  throw common::SpecError(fmt::format("unknown kernel '{}'; known: {}", name, known));
}

const hw::ScheduleCalibration& schedule_calibration(const hw::Profile& profile,
                                                    const std::string& name) {
  auto it = profile.calibration.schedules.find(name);
  if (it != profile.calibration.schedules.end()) return it->second;
  std::string known;
  for (const auto& [key, value] : profile.calibration.schedules) {
    (void)value;
    known += (known.empty() ? "" : ", ") + key;
  }
  throw common::SpecError(fmt::format(
      "{} has no calibration for kernel '{}', so that kernel does not run there; it has: {} (or "
      "use --engine roofline)",
      profile.id, name, known.empty() ? "none" : known));
}

const ScheduleInfo& choose_schedule(std::string_view kernel, const models::Op& op,
                                    const models::Workload& w, const hw::Profile& profile) {
  std::string_view name = kernel;
  if (kernel == "auto") {
    if (profile.default_schedule.empty()) {
      throw common::SpecError(fmt::format(
          "{} names no default_schedule; pass --kernel NAME or use --engine roofline", profile.id));
    }
    const bool decode_like =
        w.phase == models::Phase::decode && profile.calibration.schedules.count("split_kv") > 0;
    name = decode_like && op.pass == models::Pass::forward
               ? "split_kv"
               : std::string_view(profile.default_schedule);
    // FlashMLA's dense decode, where it runs the op and the device calibrates it.
    if (flashmla_runs(op, w) && profile.calibration.schedules.count("flashmla") > 0) {
      name = "flashmla";
    }
  }
  const ScheduleInfo& info = find_schedule(name);
  schedule_calibration(profile, std::string(info.name));  // throws if the device lacks it
  return info;
}

}  // namespace sim
