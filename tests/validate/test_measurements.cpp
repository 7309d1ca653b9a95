#include <catch2/catch.hpp>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "common/numbers.hpp"
#include "hwprofiles/catalog.hpp"
#include "models/variant.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/validate_helpers.hpp"
#include "validate/calibrate.hpp"
#include "validate/measurements.hpp"

using test_support::measurements_error;
using test_support::registry;

namespace {

const char* kMeasurementsCsvHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_us,source\n";

}  // namespace

TEST_CASE("a measurement row becomes a typed workload with the mapped schedule", "[validate]") {
  const auto set = test_support::measurements_of(
      std::string(kMeasurementsCsvHeader) +
      "a100-sxm4-80gb,flash-decoding,decode,fp16,8,16,2,128,1,8192,1,56.4,blog\n");
  REQUIRE(set.cases.size() == 1);
  const validate::MeasuredCase& c = set.cases[0];
  CHECK(c.schedule == "split_kv");
  CHECK(c.kernel_choice.schedule() == &sim::find_schedule("split_kv"));  // resolved as it is read
  CHECK(c.workload.phase == models::Phase::decode);
  CHECK(c.workload.batch == 8);
  CHECK(c.workload.kv_len == 8192);
  CHECK(c.spec.heads.kv_heads == 2);
  CHECK(c.measured_s == Approx(56.4e-6));
  CHECK(c.line == 2);
}

TEST_CASE("fwd+bwd rows are training steps and time_ms is converted to seconds", "[validate]") {
  const auto set = test_support::measurements_of(
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,tflops,"
      "time_ms,source\n"
      "a100-sxm4-80gb,fa2,fwd+bwd,fp16,4,16,16,128,4096,4096,0,196,9.8171,x (pixel-est)\n");
  REQUIRE(set.cases.size() == 1);
  CHECK(set.cases[0].workload.phase == models::Phase::train);
  CHECK(set.cases[0].measured_s == Approx(9.8171e-3));
  CHECK(set.cases[0].weight == 0.5);  // read off a figure
}

TEST_CASE("unknown kernels map to auto with a warning", "[validate]") {
  const auto set =
      test_support::measurements_of(std::string(kMeasurementsCsvHeader) +
                                    "h100-sxm5-80gb,mykernel,fwd,bf16,1,8,8,128,512,512,0,9,x\n");
  REQUIRE(set.cases.size() == 1);
  CHECK(set.cases[0].schedule == "auto");
  CHECK(set.cases[0].kernel_choice.is_auto());
  REQUIRE(set.warnings.size() == 1);
  CHECK_THAT(set.warnings[0], Catch::Contains("mykernel"));
}

TEST_CASE("rows of a kernel without a schedule are compared but never fitted", "[validate]") {
  // A hand-written Ascend kernel attnsim has no schedule for, four times slower than torch_npu:
  // predicted with the device's default schedule (`ascend`), whose calibration it must not refit.
  const auto set = test_support::measurements_of(
      std::string(kMeasurementsCsvHeader) +
      "ascend-910b2,my-ascend-fa,fwd,fp16,1,1,1,128,3072,16384,0,1063.16,x\n"
      "ascend-910b2,my-ascend-fa,fwd,fp16,1,1,1,128,3072,32768,0,2133.85,x\n");
  REQUIRE(set.cases.size() == 2);
  CHECK(set.cases[0].schedule == "auto");
  CHECK_FALSE(set.cases[0].fit_eligible);
  const validate::CalibrationResult fit =
      validate::calibrate(set.cases, hw::ProfileCatalog::load({}), {1024, 8192});
  CHECK(fit.groups.empty());
}

TEST_CASE("a window column makes the row a sliding-window (swa) case", "[validate]") {
  const auto set = test_support::measurements_of(
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,window,"
      "time_us,source\n"
      "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,4096,4096,1,1024,50,x\n");
  REQUIRE(set.cases.size() == 1);
  CHECK(set.cases[0].spec.variant->name() == "swa");
  CHECK(models::param_value(set.cases[0].spec, "window") == 1024);
}

TEST_CASE("rows naming a variant the model cannot build are skipped with the reason",
          "[validate]") {
  const auto set = test_support::measurements_of(
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,variant,"
      "time_us,source\n"
      "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,4096,4096,1,nsa9:top_k=16,50,x\n"
      "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,4096,4096,1,swa:window=512,50,x\n");
  REQUIRE(set.skipped.size() == 1);
  CHECK_THAT(set.skipped[0],
             Catch::Contains("m.csv:2") && Catch::Contains("unknown variant 'nsa9'"));
  REQUIRE(set.cases.size() == 1);
  CHECK(models::param_value(set.cases[0].spec, "window") == 512);
}

TEST_CASE("malformed measurement files name the file, line and column", "[validate]") {
  CHECK_THROWS_WITH(
      test_support::measurements_of(std::string(kMeasurementsCsvHeader) +
                                    "h100-sxm5-80gb,fa3,fwd,bf16,one,8,8,128,1,1,0,9,x\n"),
      Catch::Contains("m.csv:2") && Catch::Contains("'batch'"));
  CHECK_THROWS_WITH(test_support::measurements_of("hw,kernel\nx,y\n"),
                    Catch::Contains("missing column 'pass'"));
  CHECK_THROWS_WITH(
      test_support::measurements_of(std::string(kMeasurementsCsvHeader) +
                                    "h100-sxm5-80gb,fa3,sideways,bf16,1,8,8,128,1,1,0,9,x\n"),
      Catch::Contains("unknown pass 'sideways'"));
}

namespace {

const char* kVHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,v_head_dim,seq_q,seq_kv,causal,variant,"
    "time_us,source\n";

using test_support::resolved_param;

}  // namespace

TEST_CASE("a variant without KV heads takes heads_kv = heads_q and rejects any other value",
          "[validate]") {
  const auto set = test_support::measurements_of(
      std::string(kVHeader) +
      "h100-sxm5-80gb,lightning,fwd,bf16,1,16,16,128,,8192,8192,1,lightning,900,x\n"
      "h100-sxm5-80gb,lightning,fwd,bf16,1,16,4,128,,8192,8192,1,lightning,900,x\n");
  REQUIRE(set.cases.size() == 1);
  CHECK(set.cases[0].spec.variant->name() == "lightning");
  CHECK(set.cases[0].spec.heads.heads == 16);
  CHECK(set.cases[0].spec.heads.head_dim == 128);
  REQUIRE(set.skipped.size() == 1);
  CHECK_THAT(set.skipped[0], Catch::Contains("m.csv:3") && Catch::Contains("heads_kv") &&
                                 Catch::Contains("lightning"));
}

TEST_CASE("MLA absorbed decode rows read head_dim = latent + rope and v_head_dim = latent",
          "[validate]") {
  const auto set = test_support::measurements_of(
      std::string(kVHeader) +
      "h800-sxm5-80gb,flashmla,decode,bf16,128,128,1,576,512,1,4096,1,mla,100,x\n"
      "h800-sxm5-80gb,flashmla,decode,bf16,128,128,8,576,512,1,4096,1,mla,100,x\n"
      "h800-sxm5-80gb,flashmla,decode,bf16,128,128,1,320,,1,4096,1,mla,100,x\n"
      "h800-sxm5-80gb,fa3,fwd,bf16,1,128,128,192,128,4096,4096,1,mla,100,x\n"
      "h800-sxm5-80gb,flashmla,decode,bf16,128,128,1,576,,1,4096,1,mla,100,x\n"
      "h800-sxm5-80gb,flashmla,decode,bf16,128,128,1,576,,1,4096,1,"
      "mla:latent_dim=448,100,x\n");
  REQUIRE(set.cases.size() == 4);
  const models::AttentionSpec& absorbed = set.cases[0].spec;
  CHECK(absorbed.variant->name() == "mla");
  CHECK(resolved_param(absorbed, "heads") == 128);
  CHECK(resolved_param(absorbed, "latent_dim") == 512);
  CHECK(resolved_param(absorbed, "rope_dim") == 64);
  CHECK(resolved_param(absorbed, "mode") == 1);
  // heads_kv = heads_q: the non-absorbed (MHA-like) form, head_dim = nope + rope.
  const models::AttentionSpec& expanded = set.cases[1].spec;
  CHECK(resolved_param(expanded, "nope_dim") == 128);
  CHECK(resolved_param(expanded, "v_head_dim") == 128);
  CHECK(resolved_param(expanded, "mode") == 2);
  // A 576-wide head without v_head_dim is DeepSeek's 512 + 64; another width is ambiguous.
  const models::AttentionSpec& deepseek = set.cases[2].spec;
  CHECK(resolved_param(deepseek, "latent_dim") == 512);
  CHECK(resolved_param(deepseek, "rope_dim") == 64);
  CHECK(resolved_param(deepseek, "mode") == 1);
  // The variant column's latent_dim wins over the width's default.
  CHECK(resolved_param(set.cases[3].spec, "latent_dim") == 448);
  CHECK(resolved_param(set.cases[3].spec, "rope_dim") == 128);
  REQUIRE(set.skipped.size() == 2);
  CHECK_THAT(set.skipped[0], Catch::Contains("m.csv:3") && Catch::Contains("heads_kv 8"));
  CHECK_THAT(set.skipped[1], Catch::Contains("m.csv:4") && Catch::Contains("v_head_dim"));
}

TEST_CASE("a column that contradicts the variant rejects the row with file:line", "[validate]") {
  const auto set = test_support::measurements_of(
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,window,"
      "variant,time_us,source\n"
      "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,4096,4096,1,512,swa:window=1024,50,x\n"
      "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,4096,4096,1,512,lightning,50,x\n"
      "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,4096,4096,1,512,swa:window=512,50,x\n");
  REQUIRE(set.skipped.size() == 2);
  CHECK_THAT(set.skipped[0], Catch::Contains("m.csv:2") && Catch::Contains("window"));
  CHECK_THAT(set.skipped[1], Catch::Contains("m.csv:3") && Catch::Contains("window"));
  REQUIRE(set.cases.size() == 1);  // the same value twice is no contradiction
  CHECK(resolved_param(set.cases[0].spec, "window") == 512);
}

namespace {

const char* kWHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,window,variant,"
    "time_us,source\n";

}  // namespace

TEST_CASE("integer cells are decimal and never wrap: out of range, hex and fractions are errors",
          "[validate]") {
  const std::string row_start = std::string(kWHeader) + "h100-sxm5-80gb,fa3,fwd,bf16,";
  // batch beyond int64 used to become -9223372036854775808.
  CHECK_THAT(measurements_error(row_start + "99999999999999999999,8,8,128,1,1,0,,,9,x\n"),
             Catch::Contains("m.csv:2") && Catch::Contains("'batch'") &&
                 Catch::Contains("out of range") && Catch::Contains("[1, 16777216]"));
  CHECK_THAT(measurements_error(row_start + "1,8,8,128,1,1,0,0x100,,9,x\n"),
             Catch::Contains("m.csv:2") && Catch::Contains("'window'") &&
                 Catch::Contains("hexadecimal is not accepted"));
  CHECK_THAT(measurements_error(row_start + "1,8,8,128.5,1,1,0,,,9,x\n"),
             Catch::Contains("'head_dim'") && Catch::Contains("not a decimal integer"));
  CHECK_THAT(measurements_error(row_start + "1,8,8,128,2000000000,2000000000,0,,,9,x\n"),
             Catch::Contains("'seq_q'") && Catch::Contains("[1, 1073741824]"));
}

TEST_CASE("a leading zero is decimal: window=010 is ten, not octal eight", "[validate]") {
  const auto set = test_support::measurements_of(
      std::string(kWHeader) + "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,64,64,1,010,,9,x\n");
  REQUIRE(set.cases.size() == 1);
  CHECK(models::param_value(set.cases[0].spec, "window") == 10);
}

TEST_CASE("a bad variant parameter names the row and the parameter, never 'stod'", "[validate]") {
  const std::string row_start =
      std::string(kWHeader) + "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,1,1,0,,";
  for (const char* bad : {"swa:window=abc", "swa:window=0x100", "swa:window="}) {
    INFO(bad);
    const std::string message = measurements_error(row_start + bad + std::string(",9,x\n"));
    CHECK_THAT(message, Catch::Contains("m.csv:2") && Catch::Contains("variant parameter") &&
                            Catch::Contains("not a finite decimal number"));
    CHECK_THAT(message, !Catch::Contains("stod"));
  }
}

TEST_CASE("decimal text parsing: leading zeros are decimal, no hex, inf, nan or clamping",
          "[validate]") {
  using common::parse_decimal_integer;
  using common::parse_decimal_number;
  CHECK(common::parse_decimal_integer("010") == 10);
  CHECK(common::parse_decimal_integer("-5") == -5);
  CHECK(common::parse_decimal_integer("9223372036854775807") == INT64_MAX);
  CHECK_THROWS_WITH(common::parse_decimal_integer("9223372036854775808"),
                    Catch::Contains("out of range"));
  CHECK_THROWS_WITH(common::parse_decimal_integer("0x10"), Catch::Contains("hexadecimal"));
  for (const char* bad : {"", "+5", " 5", "5 ", "1e3", "1.0", "--1", "-"}) {
    INFO(bad);
    CHECK_THROWS_AS(common::parse_decimal_integer(bad), common::NumberTextError);
  }
  CHECK_THROWS_WITH(common::parse_decimal_integer("0", 1, 8), Catch::Contains("[1, 8]"));
  CHECK(common::parse_decimal_number("1.5e3") == 1500);
  CHECK(common::parse_decimal_number("-.5") == -0.5);
  CHECK(common::parse_decimal_number("010") == 10);
  CHECK(common::parse_decimal_number("1e-999") == 0);
  CHECK_THROWS_WITH(common::parse_decimal_number("1e999"), Catch::Contains("number out of range"));
  for (const char* bad : {"", "nan", "inf", "-inf", "0x100", "0x1p3", "1e", ".", "1.2.3", "+1"}) {
    INFO(bad);
    CHECK_THROWS_AS(common::parse_decimal_number(bad), common::NumberTextError);
  }
  CHECK_THROWS_WITH(common::parse_decimal_number("700", 0.1, 600), Catch::Contains("[0.1, 600]"));
}

TEST_CASE(
    "a decimal scaled by a power of ten is rounded once: 0.1 ms and 100 us are the one double "
    "1e-4 s",
    "[validate]") {
  using common::parse_decimal_number_scaled;
  CHECK(parse_decimal_number_scaled("0.1", -3) == 1e-4);
  CHECK(parse_decimal_number_scaled("100", -6) == 1e-4);
  CHECK(parse_decimal_number_scaled("1e2", -6) == 1e-4);
  CHECK(parse_decimal_number_scaled("0.0000001E+3", -1) == 1e-5);
  CHECK(parse_decimal_number_scaled("-2.5e-1", 1) == -2.5);
  CHECK(parse_decimal_number_scaled("0e99", -6) == 0);
  CHECK_THROWS_AS(parse_decimal_number_scaled("1e", -3), common::NumberTextError);
  CHECK_THROWS_AS(parse_decimal_number_scaled("inf", -3), common::NumberTextError);
}

TEST_CASE("malformed CSV structure is bad input naming file:line", "[validate]") {
  const std::string header(kMeasurementsCsvHeader);
  const std::string good = "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,64,64,1,9,x\n";
  const std::string row_start = "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,64,64,";
  REQUIRE(measurements_error(header + good).empty());
  CHECK_THAT(
      measurements_error(header + "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,64,64,1,9,x,extra\n"),
      Catch::Contains("m.csv:2") && Catch::Contains("14 cells") && Catch::Contains("13 columns"));
  CHECK_THAT(
      measurements_error("hw,kernel,pass,dtype,batch,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,"
                         "causal,time_us,source\n"),
      Catch::Contains("m.csv:1") && Catch::Contains("duplicate column 'batch'"));
  CHECK_THAT(measurements_error(header + row_start + "7,9,x\n"),
             Catch::Contains("m.csv:2") && Catch::Contains("'causal'") &&
                 Catch::Contains("allowed: 0, 1, true, false"));
  CHECK_THAT(
      measurements_error("hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,"
                         "time_ms,time_us,source\n" +
                         row_start + "1,0.009,9,x\n"),
      Catch::Contains("m.csv:2") && Catch::Contains("both time_ms and time_us"));
  CHECK_THAT(measurements_error(header + row_start + "1,inf,x\n"),
             Catch::Contains("m.csv:2") && Catch::Contains("'time_us'") &&
                 Catch::Contains("not a finite decimal number"));
  CHECK_THAT(measurements_error(header),
             Catch::Contains("m.csv") && Catch::Contains("no measurement rows"));
  CHECK_THAT(measurements_error(header + "\n\n"), Catch::Contains("no measurement rows"));
  CHECK_THAT(measurements_error(header + row_start + "1,9,\"unterminated\n"),
             Catch::Contains("m.csv:2") && Catch::Contains("unterminated"));
}

TEST_CASE(
    "a causal row with seq_kv < seq_q is skipped naming file:line and the causal column, not "
    "refused",
    "[validate]") {
  const auto set =
      test_support::measurements_of(std::string(kMeasurementsCsvHeader) +
                                    "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,64,32,1,9,x\n"
                                    "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,64,64,1,9,x\n");
  REQUIRE(set.skipped.size() == 1);
  CHECK_THAT(set.skipped[0], Catch::Contains("m.csv:2") && Catch::Contains("seq_kv >= seq_q") &&
                                 Catch::Contains("causal 0") && !Catch::Contains("--no-causal"));
  CHECK(set.cases.size() == 1);
}

TEST_CASE("a CSV starting with a UTF-8 byte order mark is read like one without", "[validate]") {
  const auto set =
      test_support::measurements_of("\xEF\xBB\xBF" + std::string(kMeasurementsCsvHeader) +
                                    "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,64,64,1,9,x\n");
  REQUIRE(set.cases.size() == 1);
  CHECK(set.cases[0].hw == "h100-sxm5-80gb");
}

TEST_CASE("a directory given as a measurements file is reported as a directory", "[validate]") {
  test_support::TempDir dir;
  CHECK_THROWS_AS(validate::read_measurements(dir.path(), registry()), std::invalid_argument);
  CHECK_THROWS_WITH(validate::read_measurements(dir.path(), registry()),
                    Catch::Contains(dir.path().string()) && Catch::Contains("is a directory"));
}
