// The `compute` object of a hardware profile (hwprofiles/SCHEMA.md): parsed strictly into
// hw::Compute, and the measured chain latencies written back (profile_loader.cpp's to_json).
#pragma once

#include <nlohmann/json.hpp>

#include "hwprofiles/json_object.hpp"
#include "hwprofiles/profile.hpp"

namespace hw {

Compute parse_compute(JsonObject o);

// compute.latency_ns as the profile file writes it (nanoseconds and the source).
nlohmann::json to_json(const ChainLatencies& l);

}  // namespace hw
