// Shared by the validate tests.
#pragma once

#include <cstdint>
#include <vector>

namespace test_support {

// The sequence lengths held out of calibration: attnsim validate's default (cli/cmd_validate.cpp).
inline const std::vector<std::int64_t> kHoldout = {1024, 8192};

}  // namespace test_support
