// Context parallelism over the whole registry: a layout that accepts a variant splits its work,
// so the ranks together do exactly the single device's work, and the busiest rank at least an
// even share of it.
#include <catch2/catch.hpp>

#include <optional>
#include <string>

#include "common/errors.hpp"
#include "sim/engine.hpp"
#include "sim/parallel.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::catalog;
using test_support::registry;
using test_support::workload;

namespace {

std::optional<sim::Prediction> single_device(const models::AttentionSpec& spec,
                                             const models::Workload& w) {
  try {
    return sim::predict(sim::EngineKind::tile, spec.variant->cost(spec, w), w,
                        catalog().resolve("h100"), "auto");
  } catch (const common::SpecError&) {
    return std::nullopt;  // the variant has no such workload (a phase, a non-causal mask)
  }
}

}  // namespace

TEST_CASE(
    "ring, zigzag and allgather split every variant they accept: cluster FLOPs equal one "
    "device's, and the busiest rank does at least an even share",
    "[sim][parallel]") {
  const sim::CpStrategy strategies[] = {sim::CpStrategy::ring, sim::CpStrategy::zigzag,
                                        sim::CpStrategy::allgather};
  int priced = 0;
  for (const auto& variant : registry().variants()) {
    models::AttentionSpec spec;
    try {
      spec = variant->make_spec({}, {});
    } catch (const common::SpecError&) {
      continue;  // needs parameters or projections given (gqsa)
    }
    for (models::Phase phase : {models::Phase::prefill, models::Phase::train}) {
      for (bool causal : {true, false}) {
        const models::Workload w = workload(phase, 1, 16384, 16384, causal);
        const std::optional<sim::Prediction> whole = single_device(spec, w);
        if (!whole) continue;
        for (int cp : {2, 4}) {
          for (sim::CpStrategy s : strategies) {
            INFO(variant->name() << " " << models::to_string(phase) << (causal ? " causal" : "")
                                 << " cp " << cp << " " << sim::to_string(s));
            std::optional<sim::ParallelPrediction> p;
            try {
              p = sim::predict_parallel(sim::EngineKind::tile, spec, w, catalog().resolve("h100"),
                                        "auto", {1, cp, s, 1});
            } catch (const common::SpecError& e) {
              // A refusal names the layouts that do work (a linear variant: lasp2 or zeco).
              const std::string why = e.what();
              CHECK((why.find("ulysses") != std::string::npos ||
                     why.find("lasp2") != std::string::npos));
              continue;
            }
            ++priced;
            // All-gather CP gathers a latent cache (MLA's family) as it is cached: each rank
            // decompresses the other ranks' latents for its non-absorbed form (the ring passes
            // blocks of new tokens, whose latents are their projections').
            const std::string name(variant->name());
            if (s == sim::CpStrategy::allgather &&
                (name == "mla" || name == "gla" || name == "tpla")) {
              CHECK(p->cluster.flops.tensor >= whole->flops.tensor * (1 - 1e-9));
              continue;
            }
            CHECK(p->cluster.flops.tensor == Approx(whole->flops.tensor).epsilon(1e-9));
            CHECK(p->per_device.flops.tensor >= p->cluster.flops.tensor / cp * (1 - 1e-12));
          }
        }
      }
    }
  }
  CHECK(priced > 100);
}

TEST_CASE(
    "all-gather CP of MLA's non-absorbed prefill decompresses each rank's gathered latents: "
    "33.5M FLOPs a token, (cp - 1) x L more tokens than one device",
    "[sim][parallel]") {
  // Non-causal, L = 16384, cp 2: each rank runs its L/2 queries against all L keys, L/2 of them
  // another rank's latents (2 x 512 x 128 x 256 = 33,554,432 FLOPs each); one device
  // decompresses none. The busiest rank does half the attention plus its L/2 latents.
  const models::AttentionSpec spec = registry().find("mla").make_spec({{"mode", 2}}, {});
  const models::Workload w = workload(models::Phase::prefill, 1, 16384, 16384, false);
  const std::optional<sim::Prediction> whole = single_device(spec, w);
  REQUIRE(whole);
  const sim::ParallelPrediction p =
      sim::predict_parallel(sim::EngineKind::tile, spec, w, catalog().resolve("h100"), "auto",
                            {1, 2, sim::CpStrategy::allgather, 1});
  CHECK(p.cluster.flops.tensor - whole->flops.tensor == Approx(33554432.0 * 16384));
  CHECK(p.per_device.flops.tensor == Approx(whole->flops.tensor / 2 + 33554432.0 * 8192));
}

TEST_CASE(
    "balanced all-gather CP of causal MLA decompresses a rank's latents once, for its later "
    "chunk's prefix, which holds its earlier chunk's keys",
    "[sim][parallel]") {
  // Causal, L = 16384, cp 2: chunks of 4096, rank 0 runs chunks 0 and 3, rank 1 chunks 1 and 2.
  // Each chunk's own tokens are its projections'; the cached prefix before it is decompressed:
  // rank 0: 0 + 12,288 tokens, rank 1: 8,192 (chunk 2's prefix holds chunk 1's 4,096, done once).
  // The attention halves evenly; the busiest rank is rank 0.
  const models::AttentionSpec spec = registry().find("mla").make_spec({{"mode", 2}}, {});
  const models::Workload w = workload(models::Phase::prefill, 1, 16384, 16384, true);
  const std::optional<sim::Prediction> whole = single_device(spec, w);
  REQUIRE(whole);
  const sim::ParallelPrediction p =
      sim::predict_parallel(sim::EngineKind::tile, spec, w, catalog().resolve("h100"), "auto",
                            {1, 2, sim::CpStrategy::allgather, 1});
  CHECK(p.cluster.flops.tensor - whole->flops.tensor == Approx(33554432.0 * (12288 + 8192)));
  CHECK(p.per_device.flops.tensor == Approx(whole->flops.tensor / 2 + 33554432.0 * 12288));
}

TEST_CASE(
    "ring CP of MLA passes the K/V its form reads: the non-absorbed form's decompressed per-head "
    "K/V (128 x 320 x 2 B a token), the absorbed form's latents (576 x 2 B); both hold latents",
    "[sim][parallel]") {
  // Non-causal, L = 16384, cp 2: one hop of the rank's L/2 tokens. Non-absorbed K/V per token:
  // 128 heads x (128 nope + 64 rope + 128 v) x 2 B = 81,920 B; the cache: (512 + 64) x 2 = 1,152 B.
  const models::Workload w = workload(models::Phase::prefill, 1, 16384, 16384, false);
  const double tokens = 8192;
  for (const auto& [mode, per_token] : {std::pair{2, 81920.0}, std::pair{1, 1152.0}}) {
    INFO("mode " << mode);
    const models::AttentionSpec spec = registry().find("mla").make_spec({{"mode", mode}}, {});
    const sim::ParallelPrediction p =
        sim::predict_parallel(sim::EngineKind::tile, spec, w, catalog().resolve("h100"), "auto",
                              {1, 2, sim::CpStrategy::ring, 1});
    CHECK(p.per_device.scale_up_bytes + p.per_device.scale_out_bytes == Approx(per_token * tokens));
    CHECK(p.per_device.kv_cache_bytes == Approx(1152.0 * tokens));
  }
}

TEST_CASE(
    "CP decode of absorbed MLA all-gathers 512-wide latent partials (W_UV comes after the "
    "combine), not 128-wide value heads",
    "[sim][parallel]") {
  // Batch 8, 128 heads, one query token, cp 4: a partial is 8 x 128 rows of (512 + 1) fp32 =
  // 2,101,248 B; the busiest device forwards min(4, 3) = 3 of them: 6,303,744 B.
  const models::AttentionSpec spec = registry().find("mla").make_spec({}, {});
  const models::Workload w = workload(models::Phase::decode, 8, 1, 32768);
  const sim::ParallelPrediction p =
      sim::predict_parallel(sim::EngineKind::roofline, spec, w, catalog().resolve("h100"), "auto",
                            {1, 4, sim::CpStrategy::ring, 1});
  CHECK(p.per_device.scale_up_bytes + p.per_device.scale_out_bytes == Approx(6303744.0));
}

TEST_CASE(
    "TP of gda keeps the whole model's width, (H_s + H_n) d: each device does half the work and "
    "all-reduces B L D s",
    "[sim][parallel]") {
  // 24 signal + 8 noise heads of 128: D = 4096. tp 2, 4096 tokens: the ring all-reduce sends
  // 2 (2 - 1) / 2 x 4096 x 4096 x 2 B = 33,554,432 B (it had used D = 24 x 128 = 3072).
  const models::AttentionSpec spec = registry().find("gda").make_spec({}, {true, 0});
  const models::Workload w = workload(models::Phase::prefill, 1, 4096, 4096);
  const sim::Prediction whole = sim::predict(sim::EngineKind::roofline, spec.variant->cost(spec, w),
                                             w, catalog().resolve("h100"), "auto");
  const sim::ParallelPrediction p =
      sim::predict_parallel(sim::EngineKind::roofline, spec, w, catalog().resolve("h100"), "auto",
                            {2, 1, sim::CpStrategy::ring, 1});
  CHECK(p.per_device.flops.tensor == Approx(whole.flops.tensor / 2).epsilon(1e-12));
  CHECK(p.per_device.scale_up_bytes == Approx(33554432.0));
}

TEST_CASE(
    "cad's fullest device owns ceil(L / N) whole tokens; fewer tokens than devices is refused",
    "[sim][parallel]") {
  // gqa 32/8, d 128: 4096 B a token. 4097 tokens over 8 devices: 513 on the fullest (was
  // 512.125, a fraction of a token).
  const models::AttentionSpec spec = registry().find("gqa").make_spec({}, {});
  const sim::ParallelPrediction p = sim::predict_parallel(
      sim::EngineKind::roofline, spec, workload(models::Phase::prefill, 1, 4097, 4097),
      catalog().resolve("h100"), "auto", {1, 8, sim::CpStrategy::cad, 1});
  CHECK(p.per_device.kv_cache_bytes == 4096.0 * 513);
  CHECK_THROWS_WITH(sim::predict_parallel(
                        sim::EngineKind::roofline, spec, workload(models::Phase::prefill, 1, 4, 4),
                        catalog().resolve("h100"), "auto", {1, 8, sim::CpStrategy::cad, 1}),
                    Catch::Contains("at most --cp 4"));
}

TEST_CASE(
    "LASP-2 without a causal mask: each rank multiplies by the sum of all states, no "
    "prefix correction; ZeCO's prefix chain is refused there",
    "[sim][parallel]") {
  // lightnet non-causal, 32 heads of 128, 4096 tokens, cp 4: 4 x 1024 x 128 x 128 x 32 =
  // 2,147,483,648 tensor FLOPs a rank (a quarter of one device's), the cluster one device's.
  const models::AttentionSpec spec = registry().find("lightnet").make_spec({}, {});
  const models::Workload w = workload(models::Phase::prefill, 1, 4096, 4096, false);
  const sim::ParallelPrediction p =
      sim::predict_parallel(sim::EngineKind::roofline, spec, w, catalog().resolve("h100"), "auto",
                            {1, 4, sim::CpStrategy::lasp2, 1});
  CHECK(p.per_device.flops.tensor == Approx(2147483648.0));
  CHECK(p.cluster.flops.tensor == Approx(4 * 2147483648.0));
  CHECK_THROWS_WITH(
      sim::predict_parallel(sim::EngineKind::roofline, spec, w, catalog().resolve("h100"), "auto",
                            {1, 4, sim::CpStrategy::zeco, 1}),
      Catch::Contains("use --cp-strategy lasp2"));
}
