// Token-compressed attention (docs/variants.md §B5 core context aware, §B6 FlashVGGT
// descriptors, §B7 FIT, Appendix C.5 and C.7).
#include <catch2/catch.hpp>

#include <cstring>

#include "common/errors.hpp"
#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::attention_flops;
using test_support::cost;
using test_support::make;
using test_support::op_named;
using test_support::registry;
using test_support::workload;

using models::Phase;

// --------------------------------------------------------------------------- core context aware

TEST_CASE("core-context: 128K prefill scores ~5120 keys per query, 12.8x fewer pairs than causal",
          "[variants][core-context]") {
  // One head, d = dv = 64: 2 (d + dv) = 256 FLOPs per pair. L = 131,072, g = 16, s = 1024.
  const models::ParamValues p = {{"heads", 1}, {"kv_heads", 1}, {"head_dim", 64}};
  const auto w = workload(Phase::prefill, 1, 131072, 131072);
  auto cp = p;
  cp.emplace_back("group", 16);
  cp.emplace_back("window", 1024);
  const double pairs = attention_flops(cost(make("core-context", cp), w)) / 256;
  const double full = attention_flops(cost(make("gqa", p), w)) / 256;
  CHECK(full == 8590000128.0);  // L (L + 1) / 2
  // The implementation: window pairs sum_t min(t, 1024) = 524,800 + 1024 * 130,048 =
  // 133,693,952; core tokens by the reference code's per-query rule floor((t - s) / g), summed
  // exactly 528,458,176, as a mean of 4031.82 -> 4032 per query, L * 4032 = 528,482,304. Total
  // 662,176,256 (5052.0 keys per query).
  CHECK(pairs == 662176256.0);
  // The whole-token mean is within 0.01 % of the exact sum.
  CHECK(pairs == Approx(133693952.0 + 528458176.0).epsilon(1e-4));
  // Appendix C.7 rounds the mean to 64K / 16 + 1024 = 5120, dropping the -s/g = -64 core tokens
  // (1.25 %) and the window ramp (s^2 / 2L = 4 keys, 0.08 %): 5052 keys and a 12.97x ratio are
  // within 1.5 % of 5120 and 12.8x.
  CHECK(pairs / 131072 == Approx(5120).epsilon(0.015));
  CHECK(full / pairs == Approx(12.8).epsilon(0.015));
  CHECK(full / pairs == Approx(12.9724).epsilon(1e-4));
}

TEST_CASE("core-context: a decode query sees (T - s) / g core tokens plus s raw ones",
          "[variants][core-context]") {
  // T = 65,536, s = 1024, g = 16: floor((65,536 - 1024) / 16) + 1024 = 4032 + 1024 = 5056 keys.
  const auto c = cost(make("core-context", {{"heads", 32}, {"kv_heads", 8}}),
                      workload(Phase::decode, 1, 1, 65536));
  // 2 B Hq (d + dv) keys = 2 * 32 * 256 * 5056 = 82,837,504.
  CHECK(attention_flops(c) == 82837504.0);
  // K bytes s B Hkv d keys = 2 * 8 * 128 * 5056 = 10,354,688.
  CHECK(op_named(c, "attention_fwd").bytes.k + op_named(c, "core_attention_fwd").bytes.k ==
        10354688.0);
}

TEST_CASE(
    "core-context: a decode step attends exactly the core tokens its cache holds, in whole "
    "tokens",
    "[variants][core-context]") {
  // s = 1024, g = 16. T = 3079: floor(2055 / 16) = 128 core tokens (a mean-based count had
  // attended 128 of a cache holding 127.44); the cache is 1040 raw + 128 core tokens.
  struct Case {
    std::int64_t t;
    double cores, cached;
  };
  for (const Case& k :
       {Case{3079, 128, 1168}, Case{1041, 1, 1041}, Case{1039, 0, 1039}, Case{65536, 4032, 5072}}) {
    INFO("T " << k.t);
    const auto c = cost(make("core-context", {{"heads", 32}, {"kv_heads", 8}}),
                        workload(Phase::decode, 1, 1, k.t));
    const double core_keys =
        k.cores == 0 ? 0 : op_named(c, "core_attention_fwd").attention.pairs_per_head;
    CHECK(core_keys == k.cores);
    CHECK(c.kv_cache_bytes == 4096.0 * k.cached);
  }
}

TEST_CASE(
    "core-context: the KV cache holds s + g raw tokens and one core token per group older "
    "than the window",
    "[variants][core-context]") {
  auto w = workload(Phase::decode, 2, 1, 65536);
  w.layers = 3;
  // 1024 + 16 raw tokens, floor((65,536 - 1024) / 16) = 4032 core tokens: 5072 tokens x Hkv
  // (d + dv) s = 4096 B x B x layers.
  const auto c = cost(make("core-context", {{"heads", 32}, {"kv_heads", 8}}), w);
  CHECK(c.kv_cache_bytes_per_token_per_layer == 4096);
  CHECK(c.kv_cache_bytes == 4096.0 * 5072 * 2 * 3);
  // g = 32, s = 2048: 2080 raw + floor((65,536 - 2048) / 32) = 1984 core = 4064 tokens.
  const auto g32 = cost(
      make("core-context", {{"heads", 32}, {"kv_heads", 8}, {"group", 32}, {"window", 2048}}), w);
  CHECK(g32.kv_cache_bytes == 4096.0 * 4064 * 2 * 3);
  // A short context is all raw tokens: never more than the context itself.
  w.kv_len = 1;
  CHECK(cost(make("core-context", {{"heads", 32}, {"kv_heads", 8}}), w).kv_cache_bytes ==
        4096.0 * 2 * 3);
  CHECK_THROWS_AS(cost(make("core-context", {}), workload(Phase::prefill, 1, 64, 64, false)),
                  common::SpecError);
}

// --------------------------------------------------------------------------------- descriptor

TEST_CASE("descriptor: global pairs (S N)(S N / r^2), r^2 = 16x fewer than full global attention",
          "[variants][descriptor]") {
  // S = 8 frames of N = 1024 tokens, r = 4: 8192 queries x 512 descriptors = 4,194,304 pairs.
  const models::ParamValues heads = {{"heads", 32}, {"kv_heads", 8}};
  auto p = heads;
  p.emplace_back("frame_tokens", 1024);
  p.emplace_back("downsample", 4);
  p.emplace_back("frame_attention", 0);
  const auto w = workload(Phase::prefill, 1, 8192, 8192, false);
  const auto c = cost(make("descriptor", p), w);
  // 2 Hq (d + dv) = 16,384 FLOPs per pair: 16,384 * 4,194,304 = 68,719,476,736.
  CHECK(op_named(c, "descriptor_attention_fwd").flops.tensor == 68719476736.0);
  CHECK(op_named(c, "descriptor_attention_fwd").attention.pairs_per_head == 4194304.0);
  const double global = cost(make("gqa", heads), w).total_flops().tensor;  // 8192^2 pairs
  CHECK(global == 16384.0 * 67108864);
  CHECK(global / c.total_flops().tensor == 16);  // r^2
  // r = 2: 2048 descriptors, 4x fewer.
  p[3].second = 2;
  CHECK(global / cost(make("descriptor", p), w).total_flops().tensor == 4);
}

TEST_CASE("descriptor: per-frame attention costs 2 Hq (d + dv) S N^2, cache N / r^2 per frame",
          "[variants][descriptor]") {
  const auto s = make("descriptor", {{"heads", 32}, {"kv_heads", 8}, {"frame_tokens", 1024}});
  const auto c = cost(s, workload(Phase::prefill, 1, 8192, 8192, false));
  // 16,384 * 8 * 1024^2 = 137,438,953,472.
  CHECK(op_named(c, "frame_attention_fwd").flops.tensor == 137438953472.0);
  // 8 frames x 64 descriptors x Hkv (d + dv) s = 512 x 4096 B.
  CHECK(c.kv_cache_bytes == 512.0 * 4096);
}

TEST_CASE("descriptor: there is no decode phase", "[variants][descriptor]") {
  const auto& v = registry().find("descriptor");
  CHECK_FALSE(v.supports(Phase::decode));
  CHECK(v.supports(Phase::prefill));
  CHECK(v.supports(Phase::train));
  CHECK_THROWS_AS(cost(make("descriptor", {}), workload(Phase::decode, 1, 1, 4096)),
                  common::SpecError);
}

// ---------------------------------------------------------------------------------------- FIT

TEST_CASE("fit: local L n + global (L m / n)^2 + read L m + write L m pairs", "[variants][fit]") {
  // L = 1024, n = 256, m = 32 (4 groups, 128 latents): local 262,144, global 16,384, read and
  // write 32,768 each. Hq = 8, d = dv = 64: 2 * 8 * 128 = 2048 FLOPs per pair.
  const auto c =
      cost(make("fit",
                {{"heads", 8}, {"kv_heads", 8}, {"head_dim", 64}, {"group", 256}, {"latents", 32}}),
           workload(Phase::prefill, 1, 1024, 1024, false));
  CHECK(op_named(c, "local_attention_fwd").flops.tensor == 2048.0 * 262144);
  CHECK(op_named(c, "global_attention_fwd").flops.tensor == 2048.0 * 16384);
  CHECK(op_named(c, "read_attention_fwd").flops.tensor == 2048.0 * 32768);
  CHECK(op_named(c, "write_attention_fwd").flops.tensor == 2048.0 * 32768);
  // Total 2048 * 344,064 = 704,643,072.
  CHECK(c.total_flops().tensor == 704643072.0);
  CHECK(c.total_flops().exp == 8.0 * 344064);
}

TEST_CASE("fit: training runs every branch backward too, there is no decode", "[variants][fit]") {
  const auto s = make("fit", {{"heads", 8}, {"kv_heads", 8}, {"head_dim", 64}});
  const auto train = cost(s, workload(Phase::train, 1, 1024, 1024, false));
  CHECK(train.ops.size() == 8);
  // Backward 2 Hq P (3d + 2dv) = 2.5x the forward when d = dv.
  CHECK(op_named(train, "local_attention_bwd").flops.tensor ==
        2.5 * op_named(train, "local_attention_fwd").flops.tensor);
  CHECK_FALSE(registry().find("fit").supports(Phase::decode));
  CHECK_THROWS_AS(cost(s, workload(Phase::decode, 1, 1, 1024)), common::SpecError);
}

TEST_CASE(
    "fit and descriptor count a last partial group or frame as the tokens it has, not as a "
    "whole one",
    "[variants][fit][descriptor]") {
  // fit, 257 tokens, n = 256, m = 32: a whole group and a group of 1 (with its 32 latents):
  // local 256^2 + 1, read and write 32 x 256 + 32 x 1 each, global (2 x 32)^2 = 4096: 86,081
  // pairs at 2 x 32 x 256 = 16,384 FLOPs each (it had been 2 whole groups, 2.02x 256 tokens).
  const auto fit = cost(make("fit", {}), workload(Phase::prefill, 1, 257, 257, false));
  CHECK(attention_flops(fit) == 86081.0 * 16384);
  const auto fit256 = cost(make("fit", {}), workload(Phase::prefill, 1, 256, 256, false));
  // 256 tokens: 65,536 + 8192 + 8192 + 32^2 = 82,944 pairs; one more token adds 3.8 %, the
  // second group's latents in the global branch most of it.
  CHECK(attention_flops(fit256) == 82944.0 * 16384);
  // Q read once per token by each branch a token is in: 257 (local) + 257 (write) data tokens.
  CHECK(op_named(fit, "partial_local_attention_fwd").bytes.q == 2.0 * 32 * 128);
  // descriptor, 1 token, frames of 1374: 1 descriptor, and a frame of that 1 token: 2 pairs at
  // 16,384 FLOPs (it had been a whole 1374-token frame and 86 descriptors).
  const auto one = cost(make("descriptor", {}), workload(Phase::prefill, 1, 1, 1, false));
  CHECK(attention_flops(one) == 2.0 * 16384);
  CHECK(one.kv_cache_bytes == 4096.0);  // one descriptor's K/V: 8 KV heads x 256 x 2 B
  // 1375 tokens: a whole frame plus a frame of 1; 1375 / 16 = 86 descriptors.
  const auto d1375 = cost(make("descriptor", {}), workload(Phase::prefill, 1, 1375, 1375, false));
  CHECK(attention_flops(d1375) == (1375.0 * 86 + 1374.0 * 1374 + 1) * 16384);
}
