// Context parallelism over variants defined only under a causal mask (models::Variant::causal_only:
// a window over the past, a selection among earlier blocks): the ring has no non-causal block of
// theirs to price, so each rank's queries run once over the causal prefix they see.
#include <catch2/catch.hpp>

#include <string_view>

#include "sim/engine.hpp"
#include "sim/parallel.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::catalog;
using test_support::make;
using test_support::workload;

namespace {

sim::ParallelPrediction causal_only_layout(const models::AttentionSpec& spec,
                                           const models::Workload& w, int cp,
                                           sim::CpStrategy strategy) {
  return sim::predict_parallel(sim::EngineKind::tile, spec, w, catalog().resolve("h100"), "auto",
                               {1, cp, strategy, 1});
}

}  // namespace

TEST_CASE("ring over sliding-window attention: the last rank's queries over their prefix",
          "[sim][parallel]") {
  const models::AttentionSpec swa = make("swa", {{"window", 512}});
  const models::Workload w = workload(models::Phase::prefill, 1, 8192, 8192);
  const sim::ParallelPrediction ring = causal_only_layout(swa, w, 4, sim::CpStrategy::ring);
  // Rank 3 holds queries 6144 .. 8191; their window reaches back 511 keys, into rank 2's block.
  models::Workload last = w;
  last.q_len = 2048;
  const sim::Prediction alone = sim::predict(sim::EngineKind::tile, swa.variant->cost(swa, last),
                                             last, catalog().resolve("h100"), "auto");
  CHECK(ring.per_device.compute_s == Approx(alone.time_s));
  CHECK(ring.per_device.flops.tensor == Approx(alone.flops.tensor));
  // The four ranks together do the single device's work (each chunk a multiple of the tiles).
  const sim::Prediction whole = sim::predict(sim::EngineKind::tile, swa.variant->cost(swa, w), w,
                                             catalog().resolve("h100"), "auto");
  CHECK(ring.cluster.flops.tensor == Approx(whole.flops.tensor));
  // The ring still passes every K/V block: 3 hops of 2048 tokens x 8 KV heads x 256 x 2 B.
  const double block = 2048.0 * 8 * 256 * 2;
  // A device keeps of the layer's cache no more than one device does: the 512-key window.
  CHECK(ring.per_device.kv_cache_bytes == Approx(512.0 * 8 * 256 * 2));
  CHECK(ring.per_device.scale_up_bytes == Approx(3 * block));
}

TEST_CASE(
    "ring and zig-zag price every causal-only variant but moa (they refused it as non-causal)",
    "[sim][parallel]") {
  const models::Workload w = workload(models::Phase::prefill, 1, 16384, 16384);
  for (const char* variant : {"swa", "nsa", "fsa", "dma", "core-context"}) {
    const models::AttentionSpec spec = make(variant, {});
    REQUIRE(spec.variant->causal_only());
    const sim::Prediction whole = sim::predict(sim::EngineKind::tile, spec.variant->cost(spec, w),
                                               w, catalog().resolve("h100"), "auto");
    for (auto s : {sim::CpStrategy::ring, sim::CpStrategy::zigzag}) {
      INFO(variant << " " << sim::to_string(s));
      const sim::ParallelPrediction p = causal_only_layout(spec, w, 4, s);
      // The ranks' prefix runs together are the single device's run, up to the tiles their
      // chunk boundaries cut. (MoA's span alpha + beta N follows the whole input: refused,
      // test_parallel_registry.cpp.)
      CHECK(p.cluster.flops.tensor == Approx(whole.flops.tensor).epsilon(0.05));
      CHECK(p.per_device.compute_s < whole.time_s);
    }
  }
  CHECK_FALSE(make("gqa", {}).variant->causal_only());
}

TEST_CASE("zig-zag over a causal-only variant gives rank i chunks i and 2cp-1-i",
          "[sim][parallel]") {
  // NSA's compressed branch sees every earlier key: the plain ring's last rank does the most.
  const models::AttentionSpec nsa = make("nsa", {});
  const models::Workload w = workload(models::Phase::prefill, 1, 32768, 32768);
  const sim::ParallelPrediction ring = causal_only_layout(nsa, w, 4, sim::CpStrategy::ring);
  const sim::ParallelPrediction zig = causal_only_layout(nsa, w, 4, sim::CpStrategy::zigzag);
  CHECK(zig.per_device.compute_s < ring.per_device.compute_s);
  // Rank 0 of zig-zag holds chunks 0 and 7 of 4096 tokens; chunk 7's queries see all 32768 keys.
  auto chunk_s = [&](std::int64_t index) {
    models::Workload part = w;
    part.q_len = 4096;
    part.kv_len = (index + 1) * 4096;
    return sim::predict(sim::EngineKind::tile, nsa.variant->cost(nsa, part), part,
                        catalog().resolve("h100"), "auto")
        .time_s;
  };
  double busiest = 0;
  for (int r = 0; r < 4; ++r) busiest = std::max(busiest, chunk_s(r) + chunk_s(7 - r));
  CHECK(zig.per_device.compute_s == Approx(busiest));
}

TEST_CASE("decode under --cp prices a causal-only variant's earlier shards with its own mask",
          "[sim][parallel]") {
  const models::Workload w = workload(models::Phase::decode, 4, 1, 32768);
  for (const char* variant : {"swa", "nsa", "fsa", "dma", "moa", "core-context"}) {
    INFO(variant);
    const models::AttentionSpec spec = make(variant, {});
    const sim::ParallelPrediction p = causal_only_layout(spec, w, 4, sim::CpStrategy::ring);
    CHECK(p.per_device.compute_s > 0);
  }
  // A window of 512 within each 8192-token shard: the busiest shard's work is one window's.
  const models::AttentionSpec swa = make("swa", {{"window", 512}});
  const sim::ParallelPrediction p = causal_only_layout(swa, w, 4, sim::CpStrategy::ring);
  models::Workload shard = w;
  shard.kv_len = 8192;
  const sim::Prediction alone = sim::predict(sim::EngineKind::tile, swa.variant->cost(swa, shard),
                                             shard, catalog().resolve("h100"), "auto");
  CHECK(p.per_device.flops.tensor >= alone.flops.tensor);
  CHECK(p.per_device.compute_s >= alone.time_s);
  CHECK(p.per_device.compute_s < 1.5 * alone.time_s);  // plus the combine of 4 partials only
}
