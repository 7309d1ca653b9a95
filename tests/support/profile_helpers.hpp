// Shared by the profile-loader tests: a built-in profile file as JSON, and the loader's error for
// a (modified) document.
#pragma once

#include <fstream>
#include <string>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "hwprofiles/profile_loader.hpp"

namespace test_support {

// hwprofiles/<file_stem>.json from the source tree, e.g. "h100-sxm5-80gb".
inline nlohmann::json profile_doc(const std::string& file_stem) {
  // fmt rather than a chain of std::string + (GCC 12 warns falsely on it, -Warray-bounds).
  std::ifstream in(fmt::format("{}/hwprofiles/{}.json", ATTNSIM_SOURCE_DIR, file_stem));
  return nlohmann::json::parse(in);
}

// Parses `doc` and returns the error message, or "" when it parsed.
inline std::string profile_parse_error(const nlohmann::json& doc) {
  try {
    hw::parse_profile(doc, "test.json");
  } catch (const hw::ProfileError& e) {
    return e.what();
  }
  return "";
}

}  // namespace test_support
