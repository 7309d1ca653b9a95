#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "sim/rates.hpp"
#include "tests/support/model_helpers.hpp"

using models::Phase;

using test_support::catalog;
using test_support::Query;

namespace {

Query gqa_query(Phase phase, std::int64_t batch, std::int64_t q, std::int64_t kv,
                std::int64_t hq = 32, std::int64_t hkv = 8) {
  static const models::Registry registry;
  Query out{registry.find("gqa").make_spec({{"heads", hq}, {"kv_heads", hkv}}, {}), {}};
  out.w.phase = phase;
  out.w.batch = batch;
  out.w.q_len = q;
  out.w.kv_len = kv;
  return out;
}

sim::Prediction run(const Query& q, const hw::Profile& p) {
  return sim::predict_roofline(q.spec.variant->cost(q.spec, q.w), q.w, p);
}

}  // namespace

TEST_CASE("compute-bound prefill takes tensor FLOPs over the achievable peak plus the launch",
          "[roofline]") {
  const hw::Profile& h100 = catalog().resolve("h100");
  const Query q = gqa_query(Phase::prefill, 4, 8192, 8192);
  const sim::Prediction p = run(q, h100);
  const double flops = 2.0 * 4 * 32 * (128 + 128) * (8192.0 * 8193 / 2);
  const double expected =
      flops / (989.4e12 * h100.calibration.tensor_fraction) + h100.calibration.kernel_launch_s;
  CHECK(p.time_s == Approx(expected).epsilon(1e-12));
  CHECK(p.bound == sim::Resource::tensor);
  REQUIRE(p.launches.size() == 1);
  CHECK(p.launches[0].bound == sim::Resource::tensor);
}

TEST_CASE("decode is HBM-bound and takes bytes over the achievable bandwidth", "[roofline]") {
  const hw::Profile& h100 = catalog().resolve("h100");
  const Query q = gqa_query(Phase::decode, 16, 1, 32768);
  const sim::Prediction p = run(q, h100);
  const double bytes = p.bytes.total();
  CHECK(bytes == Approx(2.0 * 16 * 32768 * 8 * 256 + 2.0 * 16 * 32 * 256));
  CHECK(p.time_s == Approx(bytes / (3350e9 * h100.calibration.hbm_fraction) +
                           h100.calibration.kernel_launch_s));
  CHECK(p.bound == sim::Resource::hbm);
  // bf16 GQA-4 decode: 2 G / s = 4 FLOP per byte of K/V (docs/variants.md#02-dense-attention).
  CHECK(p.arithmetic_intensity == Approx(4.0).epsilon(0.01));
}

TEST_CASE("a tiny workload is bound by the fixed launch cost", "[roofline]") {
  const Query q = gqa_query(Phase::decode, 1, 1, 16);
  CHECK(run(q, catalog().resolve("h100")).bound == sim::Resource::launch);
}

TEST_CASE("starving the exp unit makes softmax the bound", "[roofline]") {
  const hw::Profile slow_exp =
      hw::with_overrides(catalog().resolve("h100"), {"calibration.exp_fraction=0.05"});
  const Query q = gqa_query(Phase::prefill, 1, 8192, 8192);
  CHECK(run(q, slow_exp).bound == sim::Resource::exp);
}

TEST_CASE("fp8 is rejected on a device without an fp8 tensor peak", "[roofline]") {
  Query q = gqa_query(Phase::prefill, 1, 1024, 1024);
  q.w.dtype = models::DType::fp8;
  CHECK_THROWS_WITH(run(q, catalog().resolve("a100")),
                    Catch::Contains("a100-sxm4-80gb has no fp8 tensor peak") &&
                        Catch::Contains("fp32, tf32, fp16, bf16"));
  CHECK(run(q, catalog().resolve("h100")).time_s <
        run(gqa_query(Phase::prefill, 1, 1024, 1024), catalog().resolve("h100")).time_s);
}

TEST_CASE("fp32 matmuls run on the vector pipes, far slower than bf16 tensor cores", "[roofline]") {
  Query q = gqa_query(Phase::prefill, 1, 4096, 4096);
  const sim::Prediction bf16 = run(q, catalog().resolve("a100"));
  q.w.dtype = models::DType::fp32;
  const sim::Prediction fp32 = run(q, catalog().resolve("a100"));
  CHECK(fp32.bound == sim::Resource::vector);
  CHECK(fp32.launches[0].tensor_s == 0);
  CHECK(fp32.time_s > 10 * bf16.time_s);
}

TEST_CASE("an A100 is never predicted faster than an H100 on dense prefill", "[roofline]") {
  for (std::int64_t len : {128, 512, 2048, 8192, 32768}) {
    for (std::int64_t batch : {1, 8}) {
      const Query q = gqa_query(Phase::prefill, batch, len, len);
      INFO("len " << len << " batch " << batch);
      CHECK(run(q, catalog().resolve("a100")).time_s >= run(q, catalog().resolve("h100")).time_s);
    }
  }
}

TEST_CASE("more HBM bandwidth never slows a prediction down", "[roofline]") {
  const hw::Profile& h100 = catalog().resolve("h100");
  const hw::Profile faster = hw::with_overrides(h100, {"memory.hbm_bandwidth_GBps=6700"});
  for (Phase phase : {Phase::prefill, Phase::decode, Phase::train}) {
    const Query q = gqa_query(phase, 8, phase == Phase::decode ? 1 : 2048, 2048);
    CHECK(run(q, faster).time_s <= run(q, h100).time_s);
  }
  // A memory-bound decode gets close to twice as fast.
  const Query decode = gqa_query(Phase::decode, 64, 1, 65536);
  CHECK(run(decode, h100).time_s / run(decode, faster).time_s == Approx(2.0).epsilon(0.01));
}

TEST_CASE("training runs a forward and a backward launch per layer", "[roofline]") {
  Query q = gqa_query(Phase::train, 2, 4096, 4096);
  q.w.layers = 10;
  const sim::Prediction p = run(q, catalog().resolve("b200"));
  REQUIRE(p.launches.size() == 2);
  CHECK(p.launches[0].count == 10);
  CHECK(p.time_s == Approx(10 * (p.launches[0].time_s + p.launches[1].time_s)));
  CHECK(p.launches[1].time_s > p.launches[0].time_s);
}

TEST_CASE("achievable rates are the profile peaks times calibration fractions", "[roofline]") {
  const hw::Profile& b200 = catalog().resolve("b200");
  const sim::Rates r = sim::achievable_rates(b200, models::DType::bf16);
  CHECK(r.tensor_flops_per_s == Approx(2250e12 * b200.calibration.tensor_fraction));
  CHECK(r.hbm_bytes_per_s == Approx(7700e9 * b200.calibration.hbm_fraction));
  CHECK(r.exp_per_s == Approx(16.0 * 148 * 1856e6 * b200.calibration.exp_fraction));
}

TEST_CASE("unknown engines are rejected naming the known ones", "[roofline]") {
  CHECK(sim::parse_engine("roofline") == sim::EngineKind::roofline);
  CHECK_THROWS_WITH(sim::parse_engine("magic"), Catch::Contains("known: roofline"));
}
