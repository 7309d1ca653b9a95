// Sliding-window attention with attention sinks (docs/variants.md §C1 SWA, §C4 StreamingLLM).
#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::cost;
using test_support::gqa_32_8_d128;
using test_support::registry;
using test_support::workload;

using models::Phase;

namespace {

// Hq = 32, Hkv = 8, d = dv = 128 unless the test says otherwise.
models::AttentionSpec swa(std::int64_t window, std::int64_t sinks = 0) {
  return registry().find("swa").make_spec(
      {{"heads", 32}, {"kv_heads", 8}, {"window", window}, {"n_sink", sinks}}, {});
}

double first_op_pairs_per_head(const models::CostModel& c) {
  REQUIRE(!c.ops.empty());
  return c.ops[0].attention.pairs_per_head;
}

}  // namespace

TEST_CASE("swa: a window >= the context costs exactly what causal dense gqa costs",
          "[variants][swa]") {
  for (std::int64_t window : {1024, 4096}) {
    for (Phase phase : {Phase::prefill, Phase::decode, Phase::fwd, Phase::train}) {
      INFO("window " << window << ", phase " << static_cast<int>(phase));
      const auto w = workload(phase, 2, phase == Phase::decode ? 1 : 1024, 1024);
      const auto a = cost(swa(window), w);
      const auto b = cost(gqa_32_8_d128(), w);
      CHECK(a.total_flops().tensor == b.total_flops().tensor);
      CHECK(a.total_flops().vector == b.total_flops().vector);
      CHECK(a.total_flops().exp == b.total_flops().exp);
      CHECK(a.total_bytes().q == b.total_bytes().q);
      CHECK(a.total_bytes().k == b.total_bytes().k);
      CHECK(a.total_bytes().v == b.total_bytes().v);
      CHECK(a.total_bytes().total() == b.total_bytes().total());
      CHECK(a.kv_cache_bytes == b.kv_cache_bytes);
      CHECK(a.kv_cache_bytes_per_token_per_layer == b.kv_cache_bytes_per_token_per_layer);
    }
  }
}

TEST_CASE("swa: causal prefill scores L w - w (w - 1) / 2 pairs per head for L >= w",
          "[variants][swa]") {
  // L = 8192, w = 4096: 8192 * 4096 - 4096 * 4095 / 2 = 33,554,432 - 8,386,560 = 25,167,872.
  const auto c = cost(swa(4096), workload(Phase::prefill, 1, 8192, 8192));
  CHECK(first_op_pairs_per_head(c) == 25167872.0);
  // Core FLOPs 2 B Hq (d + dv) P = 2 * 32 * 256 * 25,167,872 = 412,350,414,848.
  CHECK(c.total_flops().tensor == 412350414848.0);
  CHECK(c.total_flops().exp == 32.0 * 25167872);
  // Full causal would be L (L + 1) / 2 = 33,558,528 pairs.
  CHECK(first_op_pairs_per_head(cost(gqa_32_8_d128(), workload(Phase::prefill, 1, 8192, 8192))) ==
        33558528.0);
}

TEST_CASE("swa: a tiny window counts pairs by hand, sinks included", "[variants][swa]") {
  // L = 8, w = 4: query t sees min(t, 4) keys: 1+2+3+4+4+4+4+4 = 26 = 8*4 - 4*3/2.
  CHECK(first_op_pairs_per_head(cost(swa(4), workload(Phase::prefill, 1, 8, 8))) == 26.0);
  // With 2 sinks, queries t = 5..8 also see min(t - 4, 2) leading keys: 1+2+2+2 = 7 => 33.
  CHECK(first_op_pairs_per_head(cost(swa(4, 2), workload(Phase::prefill, 1, 8, 8))) == 33.0);
}

TEST_CASE("swa: decode past the window costs 2 B Hq (d + dv) w FLOPs and s B w Hkv (d + dv) bytes",
          "[variants][swa]") {
  const auto s = swa(4096);
  const auto near = cost(s, workload(Phase::decode, 2, 1, 10000));
  const auto far = cost(s, workload(Phase::decode, 2, 1, 100000));
  // 2 * 2 * 32 * 256 * 4096 = 134,217,728.
  CHECK(far.total_flops().tensor == 134217728.0);
  // K + V: 2 B * 2 * 4096 * 8 * (128 + 128) = 33,554,432.
  CHECK(far.total_bytes().k + far.total_bytes().v == 33554432.0);
  CHECK(far.total_bytes().k == far.total_bytes().v);
  // Independent of T once T > w.
  CHECK(near.total_flops().tensor == far.total_flops().tensor);
  CHECK(near.total_bytes().total() == far.total_bytes().total());
  // Before the window fills it is dense decode.
  const auto w = workload(Phase::decode, 2, 1, 3000);
  CHECK(cost(s, w).total_flops().tensor == cost(gqa_32_8_d128(), w).total_flops().tensor);
}

TEST_CASE("swa: the KV cache is a ring of w + n_sink tokens, independent of T", "[variants][swa]") {
  auto w = workload(Phase::decode, 2, 1, 100000);
  w.layers = 3;
  // Per token per layer Hkv (d + dv) s = 8 * 256 * 2 = 4096 B.
  const auto ring = cost(swa(4096), w);
  CHECK(ring.kv_cache_bytes_per_token_per_layer == 4096);
  CHECK(ring.kv_cache_bytes == 4096.0 * 4096 * 2 * 3);  // w tokens x B x layers
  const auto sinks = cost(swa(4092, 4), w);
  CHECK(sinks.kv_cache_bytes == ring.kv_cache_bytes);  // (4 + 4092) tokens
  w.kv_len = 1000000;
  CHECK(cost(swa(4096), w).kv_cache_bytes == ring.kv_cache_bytes);
  w.kv_len = 1000;  // a short context caches only what it has
  CHECK(cost(swa(4096), w).kv_cache_bytes == 4096.0 * 1000 * 2 * 3);
}

TEST_CASE("swa: sinks add exactly n_sink keys per decode query once T > w + n_sink",
          "[variants][swa]") {
  // StreamingLLM: 4 sinks + 1020 window = 1024 keys per query, as a 1024-key window.
  const auto w = workload(Phase::decode, 1, 1, 8192);
  const auto streaming = cost(swa(1020, 4), w);
  const auto plain = cost(swa(1020), w);
  CHECK(first_op_pairs_per_head(plain) == 1020.0);
  CHECK(first_op_pairs_per_head(streaming) == 1024.0);
  // Decode FLOPs 2 B Hq (d + dv) (n_s + w) = 2 * 32 * 256 * 1024 = 16,777,216.
  CHECK(streaming.total_flops().tensor == 16777216.0);
  CHECK(streaming.total_flops().tensor == cost(swa(1024), w).total_flops().tensor);
  CHECK(streaming.total_bytes().k == cost(swa(1024), w).total_bytes().k);
  // Multi-token decode (m = 4): each of the 4 queries sees 1020 + 4 keys.
  CHECK(first_op_pairs_per_head(cost(swa(1020, 4), workload(Phase::decode, 1, 4, 8192))) == 4096.0);
  // T = 1022, between w and w + n_sink: every key is seen once (2 of the 4 sinks exist).
  CHECK(first_op_pairs_per_head(cost(swa(1020, 4), workload(Phase::decode, 1, 1, 1022))) == 1022.0);
}

TEST_CASE("swa: non-causal attention is rejected with a common::SpecError", "[variants][swa]") {
  CHECK_THROWS_AS(cost(swa(128), workload(Phase::prefill, 1, 512, 512, false)), common::SpecError);
  CHECK_THROWS_WITH(cost(swa(128), workload(Phase::prefill, 1, 512, 512, false)),
                    Catch::Contains("no-causal"));
  CHECK_THROWS_AS(swa(0), common::SpecError);  // a window holds at least the query itself
}
