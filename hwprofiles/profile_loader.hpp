// Strict parsing of hardware profile JSON (schema: hwprofiles/SCHEMA.md) into hw::Profile, and the
// inverse, so that `attnsim hw show --format json` prints a valid profile file.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "hwprofiles/profile.hpp"

namespace hw {

std::optional<Precision> parse_precision(std::string_view name);

// Why `name` cannot be a profile's id or alias ("--hw all means every profile"), or "" when it can:
// a name is letters, digits,
// '.', '_' and '-' (a --hw list splits at commas, a sweep row carries the id as it is), and is
// neither `all` (--hw all means every profile) nor ends in .json (it would read as a file name).
std::string profile_name_problem(std::string_view name);
// The allowed form, for messages.
inline constexpr const char* kProfileNameForm =
    "letters, digits, '.', '_' and '-', not 'all' and not ending in .json";

// `origin` names the file (or override) in error messages.
Profile parse_profile(const nlohmann::json& doc, const std::string& origin);
Profile parse_profile_text(const std::string& text, const std::string& origin);
Profile load_profile_file(const std::filesystem::path& path);

nlohmann::json to_json(const Profile& profile);
// One calibration entry as the profile file writes it (chain_cycles only where it has one), in
// the JSON type the caller keeps its key order with (nlohmann::json or ordered_json).
template <typename Json>
Json calibration_entry_json(const ScheduleCalibration& entry) {
  Json j = {{"mma_fraction", entry.mma_fraction},
            {"softmax_overlap", entry.softmax_overlap},
            {"tile_overhead_cycles", entry.tile_overhead_cycles},
            {"cta_overhead_cycles", entry.cta_overhead_cycles}};
  if (entry.chain_cycles) j["chain_cycles"] = *entry.chain_cycles;
  return j;
}

}  // namespace hw
