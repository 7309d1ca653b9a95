// The text of a measurements CSV as validate::read_measurements reads it: the shortest time a row
// may give.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>

#include "tests/support/model_helpers.hpp"
#include "tests/support/temp_dir.hpp"
#include "validate/measurements.hpp"

namespace {

const char* kCsvLayerHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms,source\n";

validate::MeasurementSet read_csv_text(const std::string& text) {
  test_support::TempDir dir;
  return validate::read_measurements(test_support::write_file(dir, text), test_support::registry());
}

// The message read_measurements throws for `text`, or "" when it reads it.
std::string csv_layer_error(const std::string& text) {
  try {
    read_csv_text(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("a time below 1 ns is refused (no kernel launch is shorter), so no error overflows",
          "[validate][csv]") {
  const std::string row_start =
      std::string(kCsvLayerHeader) + "h100,fa2,fwd,fp16,16,32,32,64,1024,1024,0,";
  for (const char* tiny : {"1e-320", "1e-310", "1e-300", "9.9e-7", "0", "-1"}) {
    INFO(tiny);
    CHECK_THAT(csv_layer_error(row_start + tiny + ",x\n"),
               Catch::Contains("m.csv:2") && Catch::Contains("'time_ms'") &&
                   Catch::Contains("below 1 ns") && Catch::Contains("time_ms >= 1e-6"));
  }
  CHECK(read_csv_text(row_start + "1e-6,x\n").cases.at(0).measured_s == Approx(1e-9));
  // A time derived from an absurd TFLOP/s is held to the same floor.
  const std::string tflops_csv =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,tflops,source\n"
      "h100,fa2,fwd,fp16,16,32,32,64,1024,1024,0,1e300,x\n";
  CHECK_THAT(csv_layer_error(tflops_csv),
             Catch::Contains("'tflops'") && Catch::Contains("at least 1 ns"));
}
