// The tile engine's price of one launch: per tile iteration on one SM (tensor, exp and FP32 pipes
// with the schedule's overlap, the SM's share of HBM after L2 reuse), then over the grid with
// occupancy, waves and the dispatch order's tail. Schedules that choose among configurations
// (split counts) price their candidates with it.
#pragma once

#include <cstdint>

#include "hwprofiles/profile.hpp"
#include "models/workload.hpp"
#include "sim/launch.hpp"
#include "sim/prediction.hpp"
#include "sim/schedule.hpp"

namespace sim {

// The most HBM bandwidth one SM's load path draws (bytes/s), L2 hits included: the achievable
// device bandwidth times calibration.sm_bandwidth_fraction.
double sm_load_Bps(const hw::Profile& p);

// One launch of `l`, repeated `count` times (layers) in the prediction it goes into.
LaunchPrediction price_launch(const Launch& l, const hw::Profile& p, const models::Workload& w,
                              std::int64_t count);

// Time of one call: every launch once, back to back.
double launches_time(const Launches& launches, const hw::Profile& p, const models::Workload& w);

}  // namespace sim
