// A `tflops` cell beside a row's time (validate/measured_row.cpp): the time is the one used, and
// the TFLOP/s must be a positive number that, on a row the FlashAttention papers' FLOP convention
// counts, says the same within the rounding of both cells.
#include <catch2/catch.hpp>

#include <string>

#include <fmt/format.h>

#include "common/numbers.hpp"
#include "tests/support/validate_helpers.hpp"

namespace {

// FA3 paper Fig. 5: 16 x 32 heads of 64 over 1024 tokens, non-causal: 4 B H S^2 d = 1.374e11
// FLOPs, 0.4491 ms with FA2 (306 TFLOP/s printed).
const char* kHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,variant,time_ms,"
    "time_us,tflops\n";
const char* kRowStart = "h100,fa2,fwd,fp16,16,32,32,64,1024,1024,0,";

// The error reading `rows` under kHeader, or "no error".
std::string tflops_row_error(const std::string& rows) {
  const std::string error = test_support::measurements_error(kHeader + rows);
  return error.empty() ? "no error" : error;
}

}  // namespace

TEST_CASE("a tflops cell beside a time is refused when it is not a positive number", "[validate]") {
  for (const char* bad : {"abc", "-3", "0", "inf", "0x10"}) {
    INFO(bad);
    const std::string row = fmt::format("{},0.4491,,{}\n", kRowStart, bad);
    CHECK_THAT(tflops_row_error(row),
               Catch::Contains(":2: column 'tflops'") && Catch::Contains(bad));
  }
}

TEST_CASE(
    "a tflops cell beside a time agrees with it within the rounding of both cells, or the row is "
    "refused naming both and the TFLOP/s allowed",
    "[validate]") {
  const std::string r = kRowStart;
  // As printed: 306 TFLOP/s and 0.4491 ms (1.374e11 / 0.4491 ms = 306.0 TFLOP/s).
  CHECK(tflops_row_error(r + ",0.4491,,306\n") == "no error");
  CHECK(tflops_row_error(r + ",,449.1,306\n") == "no error");
  // A fixed format's padding zero asks no more precision (449.10 us is 449.1 us).
  CHECK(tflops_row_error(r + ",,449.10,306.0\n") == "no error");
  // 305 is beyond both roundings (306.0 +- 0.07 from the time, +- 0.5 its own).
  const std::string wrong = tflops_row_error(r + ",0.4491,,305\n");
  CHECK_THAT(wrong, Catch::Contains(":2: column 'tflops': '305' contradicts time_ms '0.4491'") &&
                        Catch::Contains("306 TFLOP/s") && Catch::Contains("allowed: a TFLOP/s"));
  // A TFLOP/s counted another way (causal halved twice) contradicts the time as well.
  CHECK_THAT(tflops_row_error("h100,fa2,fwd,fp16,16,32,32,64,1024,1024,1,,0.2500,,137\n"),
             Catch::Contains("contradicts time_ms"));
}

TEST_CASE(
    "a tflops cell beside the time of a row the FLOP convention does not count is read but not "
    "compared",
    "[validate]") {
  // A sliding window's pairs are not the square's; a causal row with seq_q != seq_kv is not
  // halved by the convention.
  CHECK(tflops_row_error("h100,fa2,fwd,fp16,1,32,32,64,8192,8192,1,swa:window=512,0.1,,999\n") ==
        "no error");
  CHECK(tflops_row_error("h100,fa2,fwd,fp16,1,32,32,64,1024,8192,1,,0.1,,999\n") == "no error");
  CHECK_THAT(tflops_row_error("h100,fa2,fwd,fp16,1,32,32,64,1024,8192,1,,0.1,,-1\n"),
             Catch::Contains("column 'tflops'"));
}

TEST_CASE("the rounding a decimal text shows is half a unit in its last digit, padding zeros aside",
          "[validate]") {
  CHECK(common::last_digit_half_step("282") == 0.5);
  CHECK(common::last_digit_half_step("0.2437") == Approx(0.00005));
  CHECK(common::last_digit_half_step("1.5e3") == 50);
  CHECK(common::last_digit_half_step("1433.0") == 0.5);
  CHECK(common::last_digit_half_step("1433.50") == Approx(0.05));
  CHECK(common::last_digit_half_step("300") == 0.5);
  CHECK(common::last_digit_half_step("-2.5E+2") == 5);
}
