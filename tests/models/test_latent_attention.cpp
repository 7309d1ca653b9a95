// Multi-head latent attention (docs/variants.md#b1-mla), DeepSeek-V3 defaults: Hq 128, d_nope
// 128, d_R 64, dv 128, d_c 512, d_c' 1536, D 7168.
#include <catch2/catch.hpp>

#include <cstring>

#include "common/errors.hpp"
#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::cost;
using test_support::make;
using test_support::only;
using test_support::op_named;
using test_support::registry;
using test_support::workload;

using models::Phase;

namespace {

models::AttentionSpec mla(const models::ParamValues& p = {}, models::ProjectionConfig proj = {}) {
  return registry().find("mla").make_spec(p, proj);
}

// The dense attention op of the forward pass (named attention_...).
const models::Op& attention_op(const models::CostModel& c) {
  for (const models::Op& op : c.ops) {
    if (std::strncmp(op.name, "attention", 9) == 0) return op;
  }
  FAIL("no attention op");
  return c.ops[0];
}

// Absorbed: the core scores the latent cache, with V inside K.
bool absorbed(const models::CostModel& c) {
  return attention_op(c).attention.values_in_keys;
}

const models::ProjectionConfig kWithProjections{true, 0};

}  // namespace

TEST_CASE("mla: the KV cache is (d_c + d_R) s = 1152 B per token per layer, whatever the heads",
          "[variants][mla]") {
  auto w = workload(Phase::decode, 4, 1, 32768);
  w.layers = 61;
  for (std::int64_t heads : {16, 64, 128}) {
    const auto c = cost(mla({{"heads", heads}}), w);
    CHECK(c.kv_cache_bytes_per_token_per_layer == 1152);  // (512 + 64) * 2 B
    CHECK(c.kv_cache_bytes == 1152.0 * 4 * 32768 * 61);
  }
  // V3 model total 1152 * 61 = 70,272 B per token; an MHA with the same heads would keep
  // Hq (d_qk + dv) s = 128 * 320 * 2 = 81,920 B per token per layer.
  CHECK(1152.0 * 61 == 70272.0);
  w.kv_dtype = models::DType::fp8;
  CHECK(cost(mla(), w).kv_cache_bytes_per_token_per_layer == 576);
}

TEST_CASE("mla: absorbed decode core FLOPs are 2 B Hq T (2 d_c + d_R) = 278,528 T, plus absorbs",
          "[variants][mla]") {
  const auto c = cost(mla({}, kWithProjections), workload(Phase::decode, 1, 1, 4096));
  REQUIRE(absorbed(c));
  // 2 * 128 * (1024 + 64) = 278,528 per key; T = 4096 => 1,140,850,688.
  CHECK(attention_op(c).flops.tensor == 1140850688.0);
  CHECK(attention_op(c).flops.exp == 128.0 * 4096);  // B Hq T m
  // q_nope W_UK: 2 Hq d_nope d_c = 2 * 128 * 128 * 512 = 16,777,216; W_UV: 2 Hq d_c dv, the same.
  CHECK(op_named(c, "q_absorb_fwd").flops.tensor == 16777216.0);
  CHECK(op_named(c, "o_absorb_fwd").flops.tensor == 16777216.0);
  CHECK(only(c, {"attention_fwd", "q_absorb_fwd", "o_absorb_fwd"}).total_flops().tensor ==
        1140850688.0 + 2 * 16777216.0);
  // All heads read the one 576-wide latent once: s B T (d_c + d_R), V inside K.
  CHECK(attention_op(c).bytes.k == 2.0 * 4096 * 576);
  CHECK(attention_op(c).bytes.v == 0);
  // B = 2 doubles everything.
  const auto b2 = cost(mla({}, kWithProjections), workload(Phase::decode, 2, 1, 4096));
  CHECK(b2.total_flops().tensor == 2 * c.total_flops().tensor);
}

TEST_CASE("mla: decode arithmetic intensity of the core is about 242 FLOP/B in bf16, 484 in fp8",
          "[variants][mla]") {
  // AI = 2 Hq (2 d_c + d_R) / ((d_c + d_R) s) = 278,528 / 1152 = 241.8 for a long context.
  auto w = workload(Phase::decode, 1, 1, 1 << 20);
  const auto bf16 = attention_op(cost(mla(), w));
  CHECK(bf16.flops.tensor / bf16.bytes.total() == Approx(242).epsilon(0.005));
  w.kv_dtype = models::DType::fp8;
  const auto fp8 = attention_op(cost(mla(), w));
  CHECK(fp8.flops.tensor / fp8.bytes.total() == Approx(484).epsilon(0.005));
}

TEST_CASE("mla: non-absorbed fresh prefill core is 2 B Hq P (d_qk + dv) plus 33.5M L decompress",
          "[variants][mla]") {
  // L = 4096 causal: P = 4096 * 4097 / 2 = 8,390,656; core 81,920 P = 687,362,539,520;
  // decompress 2 L d_c Hq (d_nope + dv) = 33,554,432 * 4096 = 137,438,953,472.
  const auto w = workload(Phase::prefill, 1, 4096, 4096);
  const auto c = cost(mla({}, kWithProjections), w);
  REQUIRE_FALSE(absorbed(c));
  CHECK(attention_op(c).flops.tensor == 687362539520.0);
  CHECK(op_named(c, "kv_up_proj_fwd").flops.tensor == 137438953472.0);
  CHECK(only(c, {"attention_fwd", "kv_up_proj_fwd"}).total_flops().tensor == 824801492992.0);
  // Forcing absorbed: 278,528 P + 2 * 16,777,216 L = 2,474,471,587,840 (core 3.4x).
  const auto forced = cost(mla({{"mode", 1}}, kWithProjections), w);
  REQUIRE(absorbed(forced));
  CHECK(only(forced, {"attention_fwd", "q_absorb_fwd", "o_absorb_fwd"}).total_flops().tensor ==
        2474471587840.0);
  CHECK(attention_op(forced).flops.tensor / attention_op(c).flops.tensor == Approx(1088.0 / 320));
}

TEST_CASE("mla: mode auto picks absorbed for decode and short chunks, non-absorbed for prefill",
          "[variants][mla]") {
  CHECK(absorbed(cost(mla(), workload(Phase::decode, 1, 1, 32768))));
  CHECK(absorbed(cost(mla(), workload(Phase::decode, 8, 4, 128))));  // decode is always absorbed
  CHECK_FALSE(absorbed(cost(mla(), workload(Phase::prefill, 1, 4096, 4096))));
  CHECK_FALSE(absorbed(cost(mla(), workload(Phase::train, 1, 4096, 4096))));
  CHECK(absorbed(cost(mla(), workload(Phase::prefill, 1, 64, 32768))));
  // Crossover L_q = 33,554,432 / (278,528 - 81,920) = 170.7 (§B1 "about 170"): at L_kv = 32768,
  // absorbed saves 196,608 P < 33.5M (L_kv - L_q) for L_q = 170 but not for L_q = 171.
  CHECK(absorbed(cost(mla(), workload(Phase::prefill, 1, 170, 32768))));
  CHECK_FALSE(absorbed(cost(mla(), workload(Phase::prefill, 1, 171, 32768))));
  // Explicit modes win over auto.
  CHECK_FALSE(absorbed(cost(mla({{"mode", 2}}), workload(Phase::decode, 1, 1, 32768))));
}

TEST_CASE("mla: non-absorbed decode decompresses all T latents, 33.5M T FLOPs", "[variants][mla]") {
  const auto c = cost(mla({{"mode", 2}}, kWithProjections), workload(Phase::decode, 1, 1, 4096));
  // 2 T d_c Hq (d_nope + dv) = 2 * 4096 * 512 * 128 * 256: the 4095 cached tokens' latents by the
  // attention, the new token's as its projection.
  CHECK(op_named(c, "cache_decompress_fwd").flops.tensor == 33554432.0 * 4095);
  CHECK(op_named(c, "kv_up_proj_fwd").flops.tensor == 33554432.0);
  CHECK(c.kv_cache_bytes_per_token_per_layer == 1152);  // the cache is still the latent
}

TEST_CASE(
    "mla: the non-absorbed form reads an fp8 cache's latents at 1 byte and its decompressed K/V "
    "at the activations' 2 bytes",
    "[variants][mla]") {
  auto w = workload(Phase::prefill, 1, 512, 4096);
  w.kv_dtype = models::DType::fp8;
  const auto c = cost(mla({{"mode", 2}}), w);
  // Per-head K: 2 B x 4096 keys x 128 heads x 192; V: x 128 (the bf16 working tensors).
  const models::Op& attention = op_named(c, "attention_fwd");
  CHECK(attention.bytes.k == 201326592.0);
  CHECK(attention.bytes.v == 134217728.0);
  // The 3584 cached latents read at 1 byte (512 each); the per-head K/V (128 x 256) written at 2.
  CHECK(op_named(c, "cache_decompress_fwd").bytes.activations == 3584.0 * 512 + 3584.0 * 32768 * 2);
  // The K/V a block passes under context parallelism are those same 2-byte tensors.
  CHECK(c.kv_block_bytes_per_token_per_layer() == 128.0 * 320 * 2);
  CHECK(c.kv_cache_bytes_per_token_per_layer == 576);  // the cache is still the fp8 latent
}

TEST_CASE(
    "mla: non-absorbed chunked prefill decompresses the cached latents without projections "
    "too, and auto lists the other form as an alternative",
    "[variants][mla]") {
  // 256 new tokens after 32,512 cached: the cached latents' 33,554,432 FLOPs each are the
  // attention's own work (caching latents costs it in this form); the new tokens' K/V are their
  // projections, as in MHA.
  const auto w = workload(Phase::prefill, 1, 256, 32768);
  const auto plain = cost(mla({{"mode", 2}}), w);
  CHECK(op_named(plain, "cache_decompress_fwd").flops.tensor == 33554432.0 * 32512);
  for (const models::Op& op : plain.ops) CHECK(std::strcmp(op.name, "kv_up_proj_fwd") != 0);
  CHECK(plain.alternatives.empty());  // a mode named is the form run
  // Auto: the form with fewer FLOPs is listed, the other rides along for the engines to weigh.
  const auto chosen = cost(mla(), w);
  REQUIRE(chosen.alternatives.size() == 1);
  CHECK(absorbed(chosen) != absorbed(chosen.alternatives[0]));
  CHECK(chosen.alternatives[0].kv_cache_bytes == chosen.kv_cache_bytes);
  // Decode is always absorbed, with no alternative; a fresh prefill decompresses nothing cached.
  CHECK(cost(mla(), workload(Phase::decode, 1, 1, 32768)).alternatives.empty());
  const auto fresh = cost(mla({{"mode", 2}}), workload(Phase::prefill, 1, 4096, 4096));
  for (const models::Op& op : fresh.ops) CHECK(op.kind != models::OpKind::gemm);
}

TEST_CASE("mla: DeepSeek-V3 projections hold 187.1M parameters per layer, 374M FLOPs per token",
          "[variants][mla]") {
  // W_DQ 7168*1536 = 11,010,048; W_UQ 1536*128*192 = 37,748,736; W_DKV 7168*512 = 3,670,016;
  // W_KR 7168*64 = 458,752; W_UK = W_UV = 512*128*128 = 8,388,608; W_O 128*128*7168 = 117,440,512.
  // Sum: 187,105,280.
  const auto s = mla({}, {true, 0});
  CHECK(s.projections.hidden_size == 7168);
  const auto c = cost(s, workload(Phase::decode, 1, 1, 1000));
  CHECK(c.parameters_per_layer == 187105280.0);
  CHECK(c.parameters_per_layer == Approx(187.1e6).margin(0.05e6));
  // Every GEMM (down/up projections, absorbs, W_O) is 2 FLOPs per parameter for one token.
  double gemm_flops = 0;
  for (const models::Op& op : c.ops) {
    if (op.kind == models::OpKind::gemm) gemm_flops += op.flops.tensor;
  }
  CHECK(gemm_flops == 2 * 187105280.0);
  CHECK(cost(mla({}, {true, 5120}), workload(Phase::decode, 1, 1, 10)).parameters_per_layer <
        c.parameters_per_layer);  // DeepSeek-V2 width
}

TEST_CASE("mla: parameters resolve to their names and the defaults are DeepSeek-V3's",
          "[variants][mla]") {
  const auto r = models::resolved_params(mla());
  REQUIRE(r.size() == 7);
  CHECK(r[0] == std::pair<std::string_view, double>{"heads", 128});
  CHECK(r[1] == std::pair<std::string_view, double>{"nope_dim", 128});
  CHECK(r[2] == std::pair<std::string_view, double>{"rope_dim", 64});
  CHECK(r[3] == std::pair<std::string_view, double>{"v_head_dim", 128});
  CHECK(r[4] == std::pair<std::string_view, double>{"latent_dim", 512});
  CHECK(r[5] == std::pair<std::string_view, double>{"q_latent_dim", 1536});
  CHECK(r[6] == std::pair<std::string_view, double>{"mode", 0});
  CHECK(mla().heads.head_dim == 192);  // d_qk = d_nope + d_R
  CHECK_THROWS_AS(mla({{"mode", 3}}), common::SpecError);
}

TEST_CASE("mla and tpla count the new tokens' W_UK / W_UV work only with --include-projections",
          "[variants][mla][projections]") {
  for (const char* name : {"mla", "gla", "tpla"}) {
    INFO(name);
    const auto core = registry().find(name).make_spec({}, {});
    const auto decode = workload(Phase::decode, 1, 1, 4096);
    const auto c = cost(core, decode);
    // The attention core alone: no weights, no GEMM.
    CHECK(c.total_bytes().weights == 0);
    for (const models::Op& op : c.ops) CHECK(op.kind != models::OpKind::gemm);
    const auto prefill = cost(core, workload(Phase::prefill, 1, 4096, 4096));
    CHECK(prefill.total_bytes().weights == 0);
    // With projections the absorb GEMMs and their weights appear.
    const auto with = cost(registry().find(name).make_spec({}, kWithProjections), decode);
    CHECK(with.total_bytes().weights > 0);
    CHECK(with.total_flops().tensor > c.total_flops().tensor);
  }
  // mla decode at batch 1, T = 4096: Q (128 x 192) + latent cache (576 T) + O (128 x 512), bf16.
  const auto c = cost(mla(), workload(Phase::decode, 1, 1, 4096));
  CHECK(c.total_bytes().total() == 2.0 * (128 * 576 + 576 * 4096 + 128 * 512));
}

TEST_CASE("tpla: a device's projections hold its latent slice, and non-absorbed decode is refused",
          "[variants][tpla]") {
  // DeepSeek-V3 MLA: 187,105,280 parameters. A TPLA device with 2 shards keeps W_DKV for its 256
  // latent channels plus the 64 RoPE ones (7168 x 256 fewer) and half of W_UK / W_UV (256 x 128 x
  // 256 fewer): 187,105,280 - 1,835,008 - 8,388,608 = 176,881,664.
  const auto w = workload(Phase::decode, 1, 1, 4096);
  const auto tpla = cost(make("tpla", {}, {true, 0}), w);
  CHECK(tpla.parameters_per_layer == 176881664.0);
  CHECK(op_named(tpla, "kv_down_fwd").gemm.n == 256 + 64);
  // Its prefill is plain MLA's, projections included.
  const auto pre = cost(make("tpla", {}, {true, 0}), workload(Phase::prefill, 1, 4096, 4096));
  CHECK(pre.parameters_per_layer == 187105280.0);
  // A forced non-absorbed decode would decompress latents the device does not hold.
  CHECK_THROWS_WITH(cost(make("tpla", {{"mode", 2}}), w), Catch::Contains("latent_dim / shards"));
}
