// Static sparse patterns (docs/variants.md §C3 S2-Attn / SinkLoRA, §C5 MoA, §C6 LGA).
#include <catch2/catch.hpp>

#include <array>
#include <cstring>

#include "common/errors.hpp"
#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::check_same_cost_and_k_bytes;
using test_support::cost;
using test_support::image_heads;
using test_support::make;
using test_support::op_named;
using test_support::registry;
using test_support::with_param;
using test_support::workload;

using models::Phase;

// ------------------------------------------------------------------------------------ S2-Attn

TEST_CASE("s2attn: training with G = L/4 scores (L/G) G(G+1)/2 pairs, ~1/4 of full causal",
          "[variants][s2attn]") {
  // L = 4096, G = 1024: 4 * 1024 * 1025 / 2 = 2,099,200 vs 4096 * 4097 / 2 = 8,390,656 pairs.
  // 2 Hq (d + dv) = 2 * 32 * 256 = 16,384 FLOPs per pair.
  const models::ParamValues p = {{"heads", 32}, {"kv_heads", 8}, {"group_fraction", 0.25}};
  const auto w = workload(Phase::fwd, 1, 4096, 4096);
  const auto s2 = cost(make("s2attn", p), w);
  const auto full = cost(make("gqa", {{"heads", 32}, {"kv_heads", 8}}), w);
  CHECK(s2.total_flops().tensor == 16384.0 * 2099200);  // 34,393,292,800
  CHECK(full.total_flops().tensor == 16384.0 * 8390656);
  CHECK(s2.total_flops().tensor / full.total_flops().tensor == 2099200.0 / 8390656.0);
  CHECK(s2.total_flops().tensor / full.total_flops().tensor == Approx(0.25).epsilon(0.001));
  // The backward follows the same pairs.
  const auto train = cost(make("s2attn", p), workload(Phase::train, 1, 4096, 4096));
  CHECK(op_named(train, "group_attention_bwd").flops.tensor ==
        2.5 * op_named(train, "group_attention_fwd").flops.tensor);
}

TEST_CASE("s2attn: shifting half of the heads copies s B L (Hq d + 2 Hkv d) bytes",
          "[variants][s2attn]") {
  // Read + write of half the heads: 2 * 4096 * (32 * 128 + 2 * 8 * 128) = 50,331,648.
  const auto c =
      cost(make("s2attn", {{"heads", 32}, {"kv_heads", 8}}), workload(Phase::fwd, 1, 4096, 4096));
  CHECK(op_named(c, "shift_heads").bytes.total() == 50331648.0);
}

TEST_CASE("s2attn and sinklora: inference (prefill, decode) is exactly gqa",
          "[variants][s2attn][sinklora]") {
  for (const char* v : {"s2attn", "sinklora"}) {
    for (Phase phase : {Phase::prefill, Phase::decode}) {
      INFO(v << " " << std::string(models::to_string(phase)));
      const auto w = workload(phase, 2, phase == Phase::decode ? 1 : 2048, 2048);
      check_same_cost_and_k_bytes(cost(make(v, {{"heads", 32}, {"kv_heads", 8}}), w),
                                  cost(make("gqa", {{"heads", 32}, {"kv_heads", 8}}), w));
    }
  }
}

TEST_CASE("sinklora: SF-Attn adds L n_s query-to-sink pairs to S2-Attn", "[variants][sinklora]") {
  // L = 4096, n_s = 4: 16,384 pairs x 16,384 FLOPs = 268,435,456.
  const auto w = workload(Phase::fwd, 1, 4096, 4096);
  const models::ParamValues p = {{"heads", 32}, {"kv_heads", 8}};
  const auto sink = cost(make("sinklora", with_param(p, "n_sink", 4)), w);
  const auto s2 = cost(make("s2attn", p), w);
  CHECK(op_named(sink, "sink_attention_fwd").flops.tensor == 268435456.0);
  CHECK(sink.total_flops().tensor - s2.total_flops().tensor == 268435456.0);
  CHECK(op_named(sink, "group_attention_fwd").flops.tensor ==
        op_named(s2, "group_attention_fwd").flops.tensor);
}

// ------------------------------------------------------------------------------------------ MoA

TEST_CASE("moa: the span is alpha + beta N and the pairs are swa's with that window and sinks",
          "[variants][moa]") {
  // alpha = 1024, beta = 0.25, N = 8192: S = 3072; n_sink = 64.
  const models::ParamValues heads = {{"heads", 32}, {"kv_heads", 8}};
  auto p = with_param(with_param(with_param(heads, "alpha", 1024), "beta", 0.25), "n_sink", 64);
  const auto swa = make("swa", with_param(with_param(heads, "window", 3072), "n_sink", 64));
  for (Phase phase : {Phase::prefill, Phase::decode, Phase::train}) {
    INFO("phase " << std::string(models::to_string(phase)));
    const auto w = workload(phase, 2, phase == Phase::decode ? 1 : 8192, 8192);
    check_same_cost_and_k_bytes(cost(make("moa", p), w), cost(swa, w));
  }
  // Prefill pairs: sum_t min(t, 3072) + sum_t min(max(0, t - 3072), 64)
  // = (4,720,128 + 15,728,640) + (2080 + 323,584) = 20,774,432 per head.
  const auto c = cost(make("moa", p), workload(Phase::prefill, 1, 8192, 8192));
  CHECK(op_named(c, "attention_fwd").attention.pairs_per_head == 20774432.0);
  // The reference approximation L S - S^2/2 + L n_s = 20,971,520 is within 1 %.
  CHECK(20774432.0 == Approx(20971520.0).epsilon(0.01));
}

TEST_CASE("moa: decode reads and caches S(T) + n_sink tokens", "[variants][moa]") {
  // T = 8192: S = 1024 + 2048 = 3072, + 64 sinks = 3136 tokens.
  const auto c =
      cost(make("moa", {{"heads", 32}, {"kv_heads", 8}}), workload(Phase::decode, 1, 1, 8192));
  CHECK(c.total_flops().tensor == 16384.0 * 3136);   // 2 Hq (d + dv) keys
  CHECK(c.total_bytes().k == 2.0 * 3136 * 8 * 128);  // s B keys Hkv d
  CHECK(c.kv_cache_bytes == 4096.0 * 3136);          // Hkv (d + dv) s per token
  // T = 65,536: S = 1024 + 16,384 = 17,408 (+ 64): the span grows with the length.
  CHECK(cost(make("moa", {{"heads", 32}, {"kv_heads", 8}}), workload(Phase::decode, 1, 1, 65536))
            .kv_cache_bytes == 4096.0 * 17472);
}

// ------------------------------------------------------------------------------------------ LGA

TEST_CASE("lga: pairs are (V P)^2 / G, G times fewer than joint attention", "[variants][lga]") {
  // V = 8 views of P = 1024 tokens, G = 8 groups of 1024: 8 * 1024^2 = 8,388,608 pairs.
  const auto w = workload(Phase::prefill, 1, 8192, 8192, false);
  const auto c = cost(make("lga", with_param(image_heads(), "groups", 8)), w);
  CHECK(c.total_flops().tensor == 4096.0 * 8388608);  // 34,359,738,368
  const double joint = cost(make("gqa", image_heads()), w).total_flops().tensor;
  CHECK(joint / c.total_flops().tensor == 8);
  // G = 4: 4 * 2048^2 = 16,777,216 pairs.
  CHECK(cost(make("lga", with_param(image_heads(), "groups", 4)), w).total_flops().tensor ==
        4096.0 * 16777216);
}

TEST_CASE("lga: a sequence shorter than the group count is as many one-token groups as tokens",
          "[variants][lga]") {
  // 3 tokens, 8 groups: 3 groups of 1 token, 3 pairs (was 8 groups, 8 pairs).
  const auto three = cost(make("lga", image_heads()), workload(Phase::prefill, 1, 3, 3, false));
  CHECK(three.total_flops().tensor == 4096.0 * 3);
  // 10 tokens: groups of ceil(10 / 8) = 2, 5 of them: 20 pairs (was 8 x 4 = 32).
  const auto ten = cost(make("lga", image_heads()), workload(Phase::prefill, 1, 10, 10, false));
  CHECK(ten.total_flops().tensor == 4096.0 * 20);
}

TEST_CASE("gna, lga: no cache, so none per token either; K and V still pass per token",
          "[variants][gna][lga]") {
  for (const char* name : {"gna", "lga"}) {
    INFO(name);
    const auto c = cost(make(name, image_heads()), workload(Phase::prefill, 1, 4096, 4096, false));
    CHECK(c.kv_cache_bytes == 0);
    CHECK(c.kv_cache_bytes_per_token_per_layer == 0);
    // 16 heads x (64 + 64) x 2 bytes.
    CHECK(c.kv_block_bytes_per_token_per_layer() == 4096.0);
  }
}

TEST_CASE("lga: there is no decode phase", "[variants][lga]") {
  CHECK_FALSE(registry().find("lga").supports(Phase::decode));
  CHECK_THROWS_AS(cost(make("lga", {}), workload(Phase::decode, 1, 1, 1024)), common::SpecError);
}
