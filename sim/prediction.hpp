// What an engine predicts for one workload on one device.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>

#include "models/cost_model.hpp"

namespace sim {

// The resource that sets a launch's (or the whole prediction's) time.
enum class Resource { tensor, vector, exp, hbm, launch };
inline constexpr std::size_t kResourceCount = 5;
std::string_view to_string(Resource r);

struct LaunchPrediction {
  const char* name = "";
  std::int64_t count = 1;  // launches of this kind (one per layer)
  double time_s = 0;       // one launch
  Resource bound = Resource::launch;
  // Time each resource alone would need for one launch; the roofline takes their maximum.
  double tensor_s = 0, vector_s = 0, exp_s = 0, hbm_s = 0, fixed_s = 0;
  models::FlopCounts flops;  // one launch
  double hbm_bytes = 0;      // one launch
};

struct Prediction {
  double time_s = 0;  // all launches, all layers
  Resource bound = Resource::launch;
  models::FlopCounts flops;         // all layers
  models::HbmBytes bytes;           // all layers
  double arithmetic_intensity = 0;  // tensor FLOPs per HBM byte
  double tensor_utilization = 0;    // achieved tensor FLOP/s over the device's dense peak
  models::StaticVector<LaunchPrediction, 8> launches;
};

}  // namespace sim
