// Shared by the validate tests.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "tests/support/model_helpers.hpp"
#include "tests/support/temp_dir.hpp"
#include "validate/measurements.hpp"

namespace test_support {

// The sequence lengths held out of calibration: attnsim validate's default (cli/cmd_validate.cpp).
inline const std::vector<std::int64_t> kHoldout = {1024, 8192};

// A measurements CSV header and one published row under it (FA3 paper, Fig. 5: H100, fp16,
// 16 x 32 heads of 64 over 1024 tokens, non-causal, 0.3506 ms).
inline constexpr const char* kMeasuredHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms,source\n";
inline constexpr const char* kFa3Row =
    "h100-sxm5-80gb,fa3,fwd,fp16,16,32,32,64,1024,1024,0,0.3506,FA3 paper Fig.5\n";

// The path of validate/data/measured/<file> in the source tree.
inline std::string measured_csv_path(const char* file) {
  return fmt::format("{}/validate/data/measured/{}", ATTNSIM_SOURCE_DIR, file);
}

// The path of validate/results/<file> in the source tree (fmt, not string +: GCC 12 warns
// falsely, -Warray-bounds, on the inlined concatenation).
inline std::string results_path(const std::string& file) {
  return fmt::format("{}/validate/results/{}", ATTNSIM_SOURCE_DIR, file);
}

// The measurements a CSV of `text` holds (written to a temporary file and read).
inline validate::MeasurementSet measurements_of(const std::string& text) {
  TempDir dir;
  return validate::read_measurements(write_file(dir, text), registry());
}

// The message read_measurements throws for a measurements CSV of `text`, or "" when it reads it.
inline std::string measurements_error(const std::string& text) {
  try {
    measurements_of(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace test_support
