// Shared by the validate tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace test_support {

// The sequence lengths held out of calibration: attnsim validate's default (cli/cmd_validate.cpp).
inline const std::vector<std::int64_t> kHoldout = {1024, 8192};

// The path of validate/data/measured/<file> in the source tree.
inline std::string measured_csv_path(const char* file) {
  return fmt::format("{}/validate/data/measured/{}", ATTNSIM_SOURCE_DIR, file);
}

// The path of validate/results/<file> in the source tree (fmt, not string +: GCC 12 warns
// falsely, -Warray-bounds, on the inlined concatenation).
inline std::string results_path(const std::string& file) {
  return fmt::format("{}/validate/results/{}", ATTNSIM_SOURCE_DIR, file);
}

}  // namespace test_support
