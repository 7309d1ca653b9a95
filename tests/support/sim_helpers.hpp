// Shared by the engine tests: built-in profiles by id and tile-engine predictions.
#pragma once

#include <string>
#include <string_view>

#include "hwprofiles/catalog.hpp"
#include "sim/engine.hpp"
#include "tests/support/model_helpers.hpp"

namespace test_support {

// The built-in profile `id` (e.g. "h100").
inline const hw::Profile& builtin_profile(std::string_view id) {
  return catalog().resolve(id);
}

// The tile engine's prediction for a query on `p`, with schedule `kernel`.
inline sim::Prediction tile_prediction(const Query& q, const hw::Profile& p,
                                       std::string_view kernel = "auto") {
  return sim::predict(sim::EngineKind::tile, q.cost(), q.w, p, kernel);
}

// The tile engine's time for `c` on the built-in H100 (auto schedule).
inline double h100_tile_time(const models::CostModel& c, const models::Workload& w) {
  return sim::predict(sim::EngineKind::tile, c, w, builtin_profile("h100")).time_s;
}

// "name:schedule " for every launch of `p`, in order: what a test matches launches against.
inline std::string launch_names(const sim::Prediction& p) {
  std::string names;
  for (const sim::LaunchPrediction& l : p.launches) {
    names += std::string(l.name) + ":" + std::string(l.schedule) + " ";
  }
  return names;
}

}  // namespace test_support
