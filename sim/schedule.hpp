// Schedules: how a kernel executes an Op (docs/kernels.md). Each lowers one Op into launches
// that the tile engine prices. One file per schedule family; this table names them all.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/static_vector.hpp"
#include "hwprofiles/profile.hpp"
#include "models/cost_model.hpp"
#include "models/workload.hpp"
#include "sim/launch.hpp"

namespace sim {

using Launches = common::StaticVector<Launch, 6>;

// What the caller fixed about a kernel's launch configuration (a measured run's settings);
// anything left at 0 is the schedule's own choice.
struct ScheduleOptions {
  double splits = 0;                       // split-KV: the split count the kernel was launched with
  hw::Caller caller = hw::Caller::direct;  // whose host floor a call pays
};

struct ScheduleInput {
  const models::Op& op;
  const models::Workload& workload;
  const hw::Profile& profile;
  std::string_view name;  // the schedule as chosen (for calibration lookup and reports)
  ScheduleOptions options = {};
  hw::MmaClass mma_class = hw::MmaClass::native;  // what the chosen schedule issues
};

using LowerFn = void (*)(const ScheduleInput& in, Launches& out);

struct ScheduleInfo {
  std::string_view name;
  std::string_view summary;
  LowerFn forward;
  LowerFn backward;  // nullptr: backward passes use the device's default schedule
  // Scan ops (linear attention) when this schedule is named; nullptr: chunked_scan prices them.
  LowerFn scan = nullptr;
  // Matrix instructions the kernel issues (its tensor ceiling); native = the device's fastest,
  // for libraries that pick the architecture's own instructions (cuBLAS, FlashMLA-class).
  hw::MmaClass mma_class = hw::MmaClass::native;
};

// Every schedule, in the order `--kernel` lists them.
const std::vector<ScheduleInfo>& schedules();
// Throws common::SpecError naming the known schedules.
const ScheduleInfo& find_schedule(std::string_view name);

// The schedule `kernel` means for this op on this device: `auto` picks flashmla for the absorbed
// MLA decode FlashMLA runs (where the profile calibrates it), split_kv for other decode and the
// profile's default_schedule otherwise. Throws when the device has no calibration for it.
const ScheduleInfo& choose_schedule(std::string_view kernel, const models::Op& op,
                                    const models::Workload& w, const hw::Profile& profile);

// The calibration entry `name` (e.g. "fa3_bwd"); throws common::SpecError listing the ones the
// profile has.
const hw::ScheduleCalibration& schedule_calibration(const hw::Profile& profile,
                                                    const std::string& name);

}  // namespace sim
