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

// One SM's tensor rate (FLOP/s) for launch `l`: its schedule's mma_fraction of the ceiling of the
// matrix instructions it issues, at the workload's precision (TF32 where `l` feeds fp32 tiles);
// 0 where there is no tensor path or the launch has no MMAs.
double sm_tensor_flops(const hw::Profile& p, const models::Workload& w, const Launch& l);

// One launch of `l`, repeated `count` times (layers) in the prediction it goes into.
LaunchPrediction price_launch(const Launch& l, const hw::Profile& p, const models::Workload& w,
                              std::int64_t count);

// Time of one call: every launch once, back to back.
double launches_time(const Launches& launches, const hw::Profile& p, const models::Workload& w);

}  // namespace sim
