// Engines turn a hardware-independent CostModel into a time on one device.
#pragma once

#include <string_view>

#include "hwprofiles/profile.hpp"
#include "models/cost_model.hpp"
#include "models/workload.hpp"
#include "sim/prediction.hpp"

namespace sim {

enum class EngineKind { roofline };

std::string_view to_string(EngineKind e);
// Throws models::SpecError naming the known engines.
EngineKind parse_engine(std::string_view name);

Prediction predict(EngineKind engine, const models::CostModel& cost, const models::Workload& w,
                   const hw::Profile& profile);

// Roofline: each launch takes max(tensor, vector, exp, HBM time at achievable rates) plus the
// fixed launch cost; launches run back to back.
Prediction predict_roofline(const models::CostModel& cost, const models::Workload& w,
                            const hw::Profile& profile);

}  // namespace sim
