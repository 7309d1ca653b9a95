// A `tflops` cell beside a row's time (validate/measured_row.cpp): the time is the one used, and
// the TFLOP/s must be a positive number that, on a row the FlashAttention papers' FLOP convention
// counts, says the same within the rounding of both cells. A dense row may give TFLOP/s alone:
// its time then follows that convention (validate/flop_convention.hpp).
#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <stdexcept>
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

TEST_CASE("a dense row may give TFLOP/s alone: its time follows FlashAttention's FLOP convention",
          "[validate]") {
  const std::string header =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,variant,tflops,"
      "source\n";
  const auto set =
      test_support::measurements_of(header +
                                    "h100,fa3,fwd,bf16,2,16,16,128,8192,8192,1,,500,x\n"
                                    "h100,fa3,fwd+bwd,bf16,2,16,16,128,8192,8192,0,,400,x\n");
  REQUIRE(set.cases.size() == 2);
  // 4 B H S^2 d = 4 x 2 x 16 x 8192^2 x 128 = 1.0995e12 FLOPs, halved when causal.
  const double forward = 4.0 * 2 * 16 * 8192.0 * 8192 * 128;
  CHECK(set.cases[0].measured_s == Approx(forward / 2 / 500e12));
  CHECK(set.cases[1].measured_s == Approx(3.5 * forward / 400e12));
}

TEST_CASE("TFLOP/s alone is refused where the convention does not say the FLOPs", "[validate]") {
  const std::string header =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,window,variant,"
      "tflops,source\n";
  auto error_of = [&](const std::string& row) {
    return test_support::measurements_error(header + row);
  };
  const char* dense_only = ":2: a time from 'tflops' alone is derived for dense attention rows";
  CHECK_THAT(error_of("h100,fa3,fwd,bf16,1,64,4,128,8192,8192,1,,nsa,100,x\n"),
             Catch::Contains(dense_only) && Catch::Contains("'nsa' row"));
  // A window makes the row sliding-window attention: fewer pairs than the square.
  CHECK_THAT(error_of("h100,fa3,fwd,bf16,1,16,16,128,8192,8192,1,1024,,100,x\n"),
             Catch::Contains(dense_only) && Catch::Contains("'swa' row"));
  CHECK_THAT(error_of("h100,fa3,fwd,bf16,1,16,16,128,1024,8192,1,,,100,x\n"),
             Catch::Contains(":2: no time from 'tflops': a causal row's FLOPs are counted only "
                             "where seq_q equals seq_kv"));
  CHECK_THAT(error_of("h100,fa3,fwd,bf16,1,16,16,128,8192,8192,1,,,,x\n"),
             Catch::Contains(":2: no time; give time_ms, time_us or tflops"));
  CHECK_THAT(error_of("h100,fa3,fwd,bf16,1,16,16,128,8192,8192,1,,,-3,x\n"),
             Catch::Contains(":2: column 'tflops': '-3' is not positive"));
}

TEST_CASE("the convention counts d + dv, and a one-query causal row sees every key", "[validate]") {
  const auto set = test_support::measurements_of(
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,v_head_dim,seq_q,seq_kv,causal,"
      "tflops,source\n"
      "h100,fa3,fwd,bf16,1,128,128,192,128,4096,4096,0,400,x\n"
      "a100,split_kv,decode,fp16,8,16,2,128,128,1,8192,1,2,x\n");
  REQUIRE(set.cases.size() == 2);
  CHECK(set.cases[0].measured_s == Approx(2.0 * 128 * 4096 * 4096 * (192 + 128) / 400e12));
  CHECK(set.cases[1].measured_s == Approx(2.0 * 8 * 16 * 1 * 8192 * (128 + 128) / 2e12));
}

TEST_CASE("every published row's time is what its TFLOP/s gives by the convention", "[validate]") {
  // The files that keep both the time their rows were given (derived from the printed TFLOP/s)
  // and the TFLOP/s: forward, backward and forward + backward rows. Without the time column,
  // each row's time comes from its TFLOP/s.
  for (const char* file :
       {"fa3_h100_fwd.csv", "fa2_a100_fwd_bwd.csv", "fa3_h100_bwd_independent.csv",
        "b200_fa2_fa4.csv", "b200_fa4_cudnn_fwd.csv"}) {
    INFO(file);
    const std::string path = test_support::measured_csv_path(file);
    std::ifstream in(path);
    std::string header;
    std::getline(in, header);
    const auto at = header.find(",time_");  // time_ms or time_us
    REQUIRE(at != std::string::npos);
    header.replace(at, 6, ",given_time_");
    const std::string text = header + "\n" + std::string(std::istreambuf_iterator<char>(in), {});
    const auto given = validate::read_measurements(path, test_support::registry());
    const auto derived = test_support::measurements_of(text);
    REQUIRE(given.cases.size() == derived.cases.size());
    CHECK(given.cases.size() > 10);
    for (std::size_t i = 0; i < given.cases.size(); ++i) {
      CHECK(derived.cases[i].measured_s == Approx(given.cases[i].measured_s).epsilon(5e-4));
    }
  }
}
