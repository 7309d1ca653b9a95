// A head split (--tp) divides every head count a variant has, as its parameter table says
// (models::HeadSplit), and context parallelism prices a non-causal-only variant as non-causal.
#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "sim/engine.hpp"
#include "sim/parallel.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::catalog;
using test_support::make;
using test_support::workload;

namespace {

sim::ParallelPrediction split(const models::AttentionSpec& spec, const models::Workload& w, int tp,
                              int cp = 1, sim::CpStrategy s = sim::CpStrategy::ring) {
  return sim::predict_parallel(sim::EngineKind::tile, spec, w, catalog().resolve("h100"), "auto",
                               {tp, cp, s, 1});
}

double single_tensor_flops(const models::AttentionSpec& spec, const models::Workload& w) {
  return sim::predict(sim::EngineKind::tile, spec.variant->cost(spec, w), w,
                      catalog().resolve("h100"), "auto")
      .flops.tensor;
}

}  // namespace

TEST_CASE(
    "moh under tp splits its shared and routed heads with the heads, so the cluster runs "
    "the single device's active heads",
    "[sim][parallel]") {
  // 32 heads, 8 shared + 16 routed: over 8 devices each runs 1 shared + 2 routed of its 4 heads.
  const models::AttentionSpec moh = make("moh", {{"head_sparse", 1}});
  const models::Workload w = workload(models::Phase::prefill, 1, 4096, 4096);
  const sim::ParallelPrediction p = split(moh, w, 8);
  CHECK(p.device_heads.heads == 4);
  CHECK(p.cluster.flops.tensor == Approx(single_tensor_flops(moh, w)).epsilon(1e-9));
  CHECK_THROWS_WITH(split(moh, w, 16), Catch::Contains("tp may be at most 8"));
  const models::AttentionSpec odd = make("moh", {{"shared_heads", 6}, {"top_k", 16}});
  CHECK_THROWS_WITH(split(odd, w, 4),
                    Catch::Contains("--tp 4: moh's 6 shared_heads do not split evenly over 4 "
                                    "devices (shared_heads must be a multiple of 4)"));
}

TEST_CASE("gda under tp splits its noise heads with its signal heads", "[sim][parallel]") {
  // 24 signal and 8 noise heads: 3 and 1 per device over 8.
  const models::AttentionSpec gda = make("gda", {});
  const models::Workload w = workload(models::Phase::prefill, 1, 4096, 4096);
  const sim::ParallelPrediction p = split(gda, w, 8);
  CHECK(p.device_heads.heads == 3);
  CHECK(p.cluster.flops.tensor == Approx(single_tensor_flops(gda, w)).epsilon(1e-9));
  CHECK_THROWS_WITH(split(gda, w, 3), Catch::Contains("--tp 3: gda's 8 noise_heads do not split "
                                                      "evenly over 3 devices"));
}

TEST_CASE("dha's key and value heads split like KV heads: divided, or one per device replicated",
          "[sim][parallel]") {
  // 4 key heads and 2 value heads over 8 devices: each keeps 1 of each (replicated), a third of
  // the single device's (4 d + 2 dv) cache per token.
  const models::AttentionSpec dha = make("dha", {{"k_heads", 4}, {"v_heads", 2}});
  const models::Workload w = workload(models::Phase::decode, 4, 1, 32768);
  const double single = dha.variant->cost(dha, w).kv_cache_bytes;
  const sim::ParallelPrediction p = split(dha, w, 8);
  CHECK(p.kv_heads_replicated);
  CHECK(p.per_device.kv_cache_bytes == Approx(single * 2 / 6));
  // Over 2 devices both divide: half the cache each, nothing replicated.
  const sim::ParallelPrediction two = split(dha, w, 2);
  CHECK_FALSE(two.kv_heads_replicated);
  CHECK(two.per_device.kv_cache_bytes == Approx(single / 2));
}

TEST_CASE("gla's latent heads split over tp (GLA's point against MLA, which replicates its latent)",
          "[sim][parallel]") {
  const models::Workload w = workload(models::Phase::decode, 8, 1, 32768);
  // 2 latent heads of 256 plus the shared 64-wide RoPE key per token: a device of 2 keeps one
  // latent head and the RoPE key, 320 of the 576 values.
  const models::AttentionSpec gla = make("gla", {});
  const double single = gla.variant->cost(gla, w).kv_cache_bytes;
  CHECK(split(gla, w, 2).per_device.kv_cache_bytes == Approx(single * 320 / 576));
  const models::AttentionSpec mla = make("mla", {});
  CHECK(split(mla, w, 2).per_device.kv_cache_bytes ==
        Approx(mla.variant->cost(mla, w).kv_cache_bytes));
}

TEST_CASE("a ring over a non-causal-only variant prices it non-causal whatever the causal flag",
          "[sim][parallel]") {
  // gna ignores the flag; a causal ring would run each rank's chunk against its prefix only.
  const models::AttentionSpec gna = make("gna", {});
  REQUIRE(gna.variant->masking() == models::Masking::non_causal_only);
  models::Workload causal = workload(models::Phase::prefill, 1, 16384, 16384);
  models::Workload plain = causal;
  plain.causal = false;
  const sim::ParallelPrediction a = split(gna, causal, 1, 4);
  const sim::ParallelPrediction b = split(gna, plain, 1, 4);
  CHECK(a.per_device.total_s == b.per_device.total_s);
  CHECK(a.cluster.flops.tensor == b.cluster.flops.tensor);
  CHECK(a.cluster.flops.tensor == Approx(single_tensor_flops(gna, plain)).epsilon(1e-9));
  CHECK_FALSE(models::effective_causal(*gna.variant, causal));
  CHECK(models::effective_causal(*make("gqa", {}).variant, causal));
}

TEST_CASE(
    "ulysses sends each rank the K/V its heads read: with fewer KV heads than cp the replicated "
    "head goes whole to every other rank",
    "[sim][parallel]") {
  const models::Workload w = workload(models::Phase::prefill, 1, 8192, 8192);
  const double chunk = 8192.0 / 4;
  const double q_o = chunk * 32 * (128 + 128) * 2;  // the chunk's Q in and O back, bf16
  // MQA: every rank's one (replicated) KV head, from each of the 3 other chunks.
  const models::AttentionSpec mqa =
      make("gqa", {{"heads", 32}, {"kv_heads", 1}, {"head_dim", 128}});
  const double mqa_kv = chunk * 1 * (128 + 128) * 2;
  CHECK(split(mqa, w, 1, 4, sim::CpStrategy::ulysses).per_device.scale_up_bytes ==
        Approx(0.75 * q_o + 3 * mqa_kv));
  // 8 KV heads over 4 ranks: each gets 2 of them from each other chunk, 1/4 of the chunk's K/V.
  const models::AttentionSpec gqa =
      make("gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}});
  const double gqa_kv = chunk * 8 * (128 + 128) * 2;
  CHECK(split(gqa, w, 1, 4, sim::CpStrategy::ulysses).per_device.scale_up_bytes ==
        Approx(0.75 * (q_o + gqa_kv)));
}

TEST_CASE(
    "replicated KV is labelled as such: MLA's latent on every device, and MQA's one KV head under "
    "ulysses",
    "[sim][parallel]") {
  const models::Workload decode = workload(models::Phase::decode, 8, 1, 32768);
  const sim::ParallelPrediction mla = split(make("mla", {}), decode, 8);
  CHECK(mla.kv_heads_replicated);
  CHECK(mla.cluster.kv_cache_bytes == Approx(8 * mla.per_device.kv_cache_bytes));
  // GLA divides its latent heads; only the shared RoPE key is on both devices.
  CHECK_FALSE(split(make("gla", {}), decode, 2).kv_heads_replicated);
  const models::Workload prefill = workload(models::Phase::prefill, 1, 8192, 8192);
  const models::AttentionSpec mqa =
      make("gqa", {{"heads", 32}, {"kv_heads", 1}, {"head_dim", 128}});
  CHECK(split(mqa, prefill, 1, 4, sim::CpStrategy::ulysses).kv_heads_replicated);
  CHECK_FALSE(split(make("gqa", {}), prefill, 1, 4, sim::CpStrategy::ulysses).kv_heads_replicated);
}

TEST_CASE(
    "ulysses beyond the KV head count counts every copy of the cache in the cluster, as tp does",
    "[sim][parallel]") {
  // MQA, 32 heads, 1 KV head of d 128, 8192 tokens: every rank of 4 keeps the one KV head of the
  // whole sequence after the all-to-all (8192 x 2 x 128 x 2 B = 4 MiB), four copies.
  const models::Workload prefill = workload(models::Phase::prefill, 1, 8192, 8192);
  const models::AttentionSpec mqa =
      make("gqa", {{"heads", 32}, {"kv_heads", 1}, {"head_dim", 128}});
  const double one = 8192.0 * 2 * 128 * 2;
  const sim::ParallelPrediction ulysses = split(mqa, prefill, 1, 4, sim::CpStrategy::ulysses);
  CHECK(ulysses.per_device.kv_cache_bytes == Approx(one));
  CHECK(ulysses.cluster.kv_cache_bytes == Approx(4 * one));
  CHECK(split(mqa, prefill, 4).cluster.kv_cache_bytes == Approx(4 * one));
  // GQA's 8 KV heads split over 4 ranks: one copy, a quarter each.
  const models::AttentionSpec gqa =
      make("gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}});
  const sim::ParallelPrediction split_kv = split(gqa, prefill, 1, 4, sim::CpStrategy::ulysses);
  CHECK(split_kv.cluster.kv_cache_bytes == Approx(8 * one));
  CHECK(split_kv.per_device.kv_cache_bytes == Approx(2 * one));
}
