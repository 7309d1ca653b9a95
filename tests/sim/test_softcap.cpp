// Logit soft-capping in the flash schedules (sim/flash_forward.cpp, sim/schedule_backward.cpp):
// one tanh per score on the exp unit, never emulated.
#include <catch2/catch.hpp>

#include <string_view>

#include "common/errors.hpp"
#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "tests/support/model_helpers.hpp"

using models::Phase;
using test_support::catalog;

TEST_CASE(
    "a soft-capped score costs the flash kernels one more transcendental on the exp unit, "
    "forward and backward: their exps grow and the time does not fall",
    "[tile]") {
  const models::Registry registry;
  const auto plain = registry.find("gqa").make_spec({}, {});
  const auto capped = registry.find("gqa").make_spec({{"softcap", 50}}, {});
  for (const char* hw : {"h100", "a100", "b200"}) {
    INFO(hw);
    const hw::Profile& p = catalog().resolve(hw);
    for (Phase phase : {Phase::prefill, Phase::train, Phase::decode}) {
      INFO(models::to_string(phase));
      const auto w = test_support::workload(phase, 2, phase == Phase::decode ? 1 : 4096, 4096);
      const sim::Prediction a =
          sim::predict(sim::EngineKind::tile, plain.variant->cost(plain, w), w, p, "auto");
      const sim::Prediction b =
          sim::predict(sim::EngineKind::tile, capped.variant->cost(capped, w), w, p, "auto");
      double exp_a = 0, exp_b = 0;
      for (const auto& l : a.launches) exp_a += l.flops.exp * static_cast<double>(l.count);
      for (const auto& l : b.launches) exp_b += l.flops.exp * static_cast<double>(l.count);
      // FA4 (B200) emulates part of its softmax exps with polynomials, never the tanh.
      CHECK(exp_b > exp_a);
      CHECK(b.flops.tensor == a.flops.tensor);
      CHECK(b.time_s >= a.time_s);
    }
  }
}

TEST_CASE("a flash forward without emulated exps adds exactly one tanh per score it executes",
          "[tile]") {
  // FA3 on H100 (no emulation): the launch's exps double.
  const models::Registry registry;
  const auto plain = registry.find("gqa").make_spec({}, {});
  const auto capped = registry.find("gqa").make_spec({{"softcap", 50}}, {});
  const auto w = test_support::workload(Phase::prefill, 1, 4096, 4096);
  const hw::Profile& h100 = catalog().resolve("h100");
  const sim::Prediction a =
      sim::predict(sim::EngineKind::tile, plain.variant->cost(plain, w), w, h100, "fa3");
  const sim::Prediction b =
      sim::predict(sim::EngineKind::tile, capped.variant->cost(capped, w), w, h100, "fa3");
  REQUIRE(a.launches.size() == 1);
  REQUIRE(b.launches.size() == 1);
  CHECK(b.launches[0].flops.exp == 2 * a.launches[0].flops.exp);
}

TEST_CASE(
    "the unfused softmax pays the soft-capping tanh and one more pass over S; this "
    "project's kernels and the PTO ones, which have no soft-capping, refuse it",
    "[tile]") {
  const models::Registry registry;
  const auto plain = registry.find("gqa").make_spec({}, {});
  const auto capped = registry.find("gqa").make_spec({{"softcap", 50}}, {});
  models::Workload w = test_support::workload(Phase::prefill, 1, 2048, 2048);
  w.causal = false;
  const hw::Profile& h100 = catalog().resolve("h100");
  const auto softmax_of = [&](const models::AttentionSpec& s) {
    const sim::Prediction p =
        sim::predict(sim::EngineKind::tile, s.variant->cost(s, w), w, h100, "unfused");
    for (const auto& l : p.launches) {
      if (std::string_view(l.name) == "softmax") return l;
    }
    FAIL("no softmax launch");
    return sim::LaunchPrediction{};
  };
  const sim::LaunchPrediction a = softmax_of(plain), b = softmax_of(capped);
  CHECK(b.flops.exp == 2 * a.flops.exp);
  CHECK(b.hbm_bytes > a.hbm_bytes);
  for (const char* kernel : {"project_flash", "project_unfused", "project_split_kv"}) {
    INFO(kernel);
    CHECK_THROWS_WITH(
        sim::predict(sim::EngineKind::tile, capped.variant->cost(capped, w), w, h100, kernel),
        Catch::Contains("soft-capping"));
  }
  CHECK_THROWS_AS(sim::predict(sim::EngineKind::tile, capped.variant->cost(capped, w), w,
                               catalog().resolve("910b2"), "pto_isa_fa"),
                  common::KernelRefusal);
}
