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

}  // namespace test_support
