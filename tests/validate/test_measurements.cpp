#include <catch2/catch.hpp>

#include <fstream>

#include "models/variant.hpp"
#include "tests/support/temp_dir.hpp"
#include "validate/measurements.hpp"

namespace {

const models::Registry& registry() {
  static const models::Registry r;
  return r;
}

std::filesystem::path write(const test_support::TempDir& dir, const std::string& text) {
  const auto path = dir.path() / "m.csv";
  std::ofstream(path) << text;
  return path;
}

const char* kHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_us,source\n";

}  // namespace

TEST_CASE("a measurement row becomes a typed workload with the mapped schedule", "[validate]") {
  test_support::TempDir dir;
  const auto set = validate::read_measurements(
      write(dir, std::string(kHeader) +
                     "a100-sxm4-80gb,flash-decoding,decode,fp16,8,16,2,128,1,8192,1,56.4,blog\n"),
      registry());
  REQUIRE(set.cases.size() == 1);
  const validate::MeasuredCase& c = set.cases[0];
  CHECK(c.schedule == "split_kv");
  CHECK(c.workload.phase == models::Phase::decode);
  CHECK(c.workload.batch == 8);
  CHECK(c.workload.kv_len == 8192);
  CHECK(c.spec.heads.kv_heads == 2);
  CHECK(c.measured_s == Approx(56.4e-6));
  CHECK(c.line == 2);
}

TEST_CASE("fwd+bwd rows are training steps and time_ms is converted to seconds", "[validate]") {
  test_support::TempDir dir;
  const auto set = validate::read_measurements(
      write(dir,
            "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,tflops,"
            "time_ms,source\n"
            "a100-sxm4-80gb,fa2,fwd+bwd,fp16,4,16,16,128,4096,4096,0,196,9.8171,x (pixel-est)\n"),
      registry());
  REQUIRE(set.cases.size() == 1);
  CHECK(set.cases[0].workload.phase == models::Phase::train);
  CHECK(set.cases[0].measured_s == Approx(9.8171e-3));
  CHECK(set.cases[0].weight == 0.5);  // read off a figure
}

TEST_CASE("unknown kernels map to auto with a warning", "[validate]") {
  test_support::TempDir dir;
  const auto set = validate::read_measurements(
      write(dir,
            std::string(kHeader) + "h100-sxm5-80gb,mykernel,fwd,bf16,1,8,8,128,512,512,0,9,x\n"),
      registry());
  REQUIRE(set.cases.size() == 1);
  CHECK(set.cases[0].schedule == "auto");
  REQUIRE(set.warnings.size() == 1);
  CHECK_THAT(set.warnings[0], Catch::Contains("mykernel"));
}

TEST_CASE("a window column makes the row a sliding-window (swa) case", "[validate]") {
  test_support::TempDir dir;
  const auto set = validate::read_measurements(
      write(dir,
            "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,window,"
            "time_us,source\n"
            "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,4096,4096,1,1024,50,x\n"),
      registry());
  REQUIRE(set.cases.size() == 1);
  CHECK(set.cases[0].spec.variant->name() == "swa");
  CHECK(models::param_value(set.cases[0].spec, "window") == 1024);
}

TEST_CASE("rows naming a variant the model cannot build are skipped with the reason",
          "[validate]") {
  test_support::TempDir dir;
  const auto set = validate::read_measurements(
      write(dir,
            "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,variant,"
            "time_us,source\n"
            "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,4096,4096,1,nsa9:top_k=16,50,x\n"
            "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,4096,4096,1,swa:window=512,50,x\n"),
      registry());
  REQUIRE(set.skipped.size() == 1);
  CHECK_THAT(set.skipped[0],
             Catch::Contains("m.csv:2") && Catch::Contains("unknown variant 'nsa9'"));
  REQUIRE(set.cases.size() == 1);
  CHECK(models::param_value(set.cases[0].spec, "window") == 512);
}

TEST_CASE("malformed measurement files name the file, line and column", "[validate]") {
  test_support::TempDir dir;
  CHECK_THROWS_WITH(
      validate::read_measurements(
          write(dir, std::string(kHeader) + "h100-sxm5-80gb,fa3,fwd,bf16,one,8,8,128,1,1,0,9,x\n"),
          registry()),
      Catch::Contains("m.csv:2") && Catch::Contains("'batch'"));
  CHECK_THROWS_WITH(validate::read_measurements(write(dir, "hw,kernel\nx,y\n"), registry()),
                    Catch::Contains("missing column 'pass'"));
  CHECK_THROWS_WITH(validate::read_measurements(
                        write(dir, std::string(kHeader) +
                                       "h100-sxm5-80gb,fa3,sideways,bf16,1,8,8,128,1,1,0,9,x\n"),
                        registry()),
                    Catch::Contains("unknown pass 'sideways'"));
}

namespace {

const char* kVHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,v_head_dim,seq_q,seq_kv,causal,variant,"
    "time_us,source\n";

double param(const models::AttentionSpec& spec, std::string_view name) {
  for (const auto& [key, value] : models::resolved_params(spec)) {
    if (key == name) return value;
  }
  FAIL("no parameter " << name);
  return 0;
}

}  // namespace

TEST_CASE("a variant without KV heads takes heads_kv = heads_q and rejects any other value",
          "[validate]") {
  test_support::TempDir dir;
  const auto set = validate::read_measurements(
      write(dir, std::string(kVHeader) +
                     "h100-sxm5-80gb,lightning,fwd,bf16,1,16,16,128,,8192,8192,1,lightning,900,x\n"
                     "h100-sxm5-80gb,lightning,fwd,bf16,1,16,4,128,,8192,8192,1,lightning,900,x\n"),
      registry());
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
  test_support::TempDir dir;
  const auto set = validate::read_measurements(
      write(dir, std::string(kVHeader) +
                     "h800-sxm5-80gb,flashmla,decode,bf16,128,128,1,576,512,1,4096,1,mla,100,x\n"
                     "h800-sxm5-80gb,flashmla,decode,bf16,128,128,8,576,512,1,4096,1,mla,100,x\n"
                     "h800-sxm5-80gb,flashmla,decode,bf16,128,128,1,576,,1,4096,1,mla,100,x\n"
                     "h800-sxm5-80gb,fa3,fwd,bf16,1,128,128,192,128,4096,4096,1,mla,100,x\n"),
      registry());
  REQUIRE(set.cases.size() == 2);
  const models::AttentionSpec& absorbed = set.cases[0].spec;
  CHECK(absorbed.variant->name() == "mla");
  CHECK(param(absorbed, "heads") == 128);
  CHECK(param(absorbed, "latent_dim") == 512);
  CHECK(param(absorbed, "rope_dim") == 64);
  CHECK(param(absorbed, "mode") == 1);
  // heads_kv = heads_q: the non-absorbed (MHA-like) form, head_dim = nope + rope.
  const models::AttentionSpec& expanded = set.cases[1].spec;
  CHECK(param(expanded, "nope_dim") == 128);
  CHECK(param(expanded, "v_head_dim") == 128);
  CHECK(param(expanded, "mode") == 2);
  REQUIRE(set.skipped.size() == 2);
  CHECK_THAT(set.skipped[0], Catch::Contains("m.csv:3") && Catch::Contains("heads_kv 8"));
  CHECK_THAT(set.skipped[1], Catch::Contains("m.csv:4") && Catch::Contains("v_head_dim"));
}

TEST_CASE("a column that contradicts the variant rejects the row with file:line", "[validate]") {
  test_support::TempDir dir;
  const auto set = validate::read_measurements(
      write(dir,
            "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,window,"
            "variant,time_us,source\n"
            "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,4096,4096,1,512,swa:window=1024,50,x\n"
            "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,4096,4096,1,512,lightning,50,x\n"
            "h100-sxm5-80gb,fa3,fwd,bf16,1,8,8,128,4096,4096,1,512,swa:window=512,50,x\n"),
      registry());
  REQUIRE(set.skipped.size() == 2);
  CHECK_THAT(set.skipped[0], Catch::Contains("m.csv:2") && Catch::Contains("window"));
  CHECK_THAT(set.skipped[1], Catch::Contains("m.csv:3") && Catch::Contains("window"));
  REQUIRE(set.cases.size() == 1);  // the same value twice is no contradiction
  CHECK(param(set.cases[0].spec, "window") == 512);
}
