// Feature-compressed attention (docs/variants.md §B4 CCA/CCGQA, §B2 GLA, §B3 TPLA and
// Appendix C.6).
#include <catch2/catch.hpp>

#include <cstring>

#include "common/errors.hpp"
#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::cost;
using test_support::make;
using test_support::op_named;
using test_support::registry;
using test_support::workload;

using models::Phase;

// ---------------------------------------------------------------------------------- CCA / CCGQA

TEST_CASE("cca: core FLOPs are MHA's divided by the compression C", "[variants][cca]") {
  // MHA 32 heads, d = 128, non-causal B = 1, L = 2048: 4 L^2 H d = 68,719,476,736.
  const auto w = workload(Phase::prefill, 1, 2048, 2048, false);
  const double mha = cost(make("mha", {{"heads", 32}}), w).total_flops().tensor;
  CHECK(mha == 68719476736.0);
  const auto c2 = cost(make("cca", {{"model_heads", 32}, {"compression", 2}}), w);
  const auto c4 = cost(make("cca", {{"model_heads", 32}, {"compression", 4}}), w);
  CHECK(op_named(c2, "attention_fwd").flops.tensor == 34359738368.0);  // MHA / 2
  CHECK(op_named(c4, "attention_fwd").flops.tensor == 17179869184.0);  // MHA / 4
  CHECK(op_named(c2, "attention_fwd").flops.exp == 2048.0 * 2048 * 16);
  // GQA sharing inside the latent does not change FLOPs (§B4): ccgqa G = 4 equals cca.
  const auto g4 =
      cost(make("ccgqa", {{"model_heads", 32}, {"compression", 2}, {"kv_group", 4}}), w);
  CHECK(op_named(g4, "attention_fwd").flops.tensor == op_named(c2, "attention_fwd").flops.tensor);
}

TEST_CASE("cca: the KV cache is 2 e~/G s per token, plus (k - 1) rows of q~ and k~ per sequence",
          "[variants][cca]") {
  // E = 32 * 128 = 4096, C = 2: e~ = 2048; 2 * 2048 * 2 B = 8192 B per token per layer.
  const auto w = workload(Phase::decode, 2, 1, 1000);
  const auto cca = cost(make("cca", {{"model_heads", 32}, {"compression", 2}}), w);
  CHECK(cca.kv_cache_bytes_per_token_per_layer == 8192);
  // Conv state (k = 4): 3 rows x (q~ + k~) x 2048 x 2 B = 24,576 B per sequence.
  // (8192 * 1000 + 24,576) * B = 16,433,152.
  CHECK(cca.kv_cache_bytes == 16433152.0);
  // CCGQA G = 4: 2 * 2048 / 4 * 2 = 2048 B, a C G = 8x compression of MHA's 16,384 B.
  const auto g4 =
      cost(make("ccgqa", {{"model_heads", 32}, {"compression", 2}, {"kv_group", 4}}), w);
  CHECK(g4.kv_cache_bytes_per_token_per_layer == 2048);
  CHECK(cost(make("mha", {{"heads", 32}}), w).kv_cache_bytes_per_token_per_layer == 8 * 2048);
  // Decode reads s B T 2 e~ / G of K and V: 2 * 2 * 1000 * 1024.
  CHECK(g4.total_bytes().k + g4.total_bytes().v == 4096000.0);
}

TEST_CASE("ccgqa: projection params are E^2 / C (2 + 2 / G), cca's are 4 E^2 / C",
          "[variants][ccgqa]") {
  // E = 4096, C = 2: E^2 / C = 8,388,608. G = 4: x 2.5 = 20,971,520; G = 1: x 4 = 33,554,432.
  const auto w = workload(Phase::prefill, 1, 10, 10);
  const auto g4 =
      make("ccgqa", {{"model_heads", 32}, {"compression", 2}, {"kv_group", 4}}, {true, 0});
  CHECK(g4.projections.hidden_size == 4096);
  CHECK(cost(g4, w).parameters_per_layer == 20971520.0);
  const auto cca = make("cca", {{"model_heads", 32}, {"compression", 2}}, {true, 0});
  CHECK(cost(cca, w).parameters_per_layer == 33554432.0);
  // G = 2 (ccgqa default): 8,388,608 * 3 = 25,165,824.
  CHECK(cost(make("ccgqa", {{"compression", 2}}, {true, 0}), w).parameters_per_layer == 25165824.0);
  CHECK_THROWS_AS(make("cca", {{"kv_group", 2}}), common::SpecError);
  CHECK_THROWS_AS(make("ccgqa", {{"model_heads", 32}, {"compression", 4}, {"kv_group", 16}}),
                  common::SpecError);  // 32 not divisible by 64
}

TEST_CASE("cca: the two depthwise q/k convolutions cost 2 k e~ FLOPs each per token",
          "[variants][cca]") {
  // k = 4, e~ = 2048: 2 convs x 2 * 4 * 2048 = 32,768 FLOPs per token; 512 tokens.
  const auto c = cost(make("cca", {{"model_heads", 32}, {"compression", 2}, {"conv_kernel", 4}}),
                      workload(Phase::prefill, 1, 512, 512));
  CHECK(op_named(c, "qk_convolutions_fwd").flops.vector == 32768.0 * 512);
}

// ------------------------------------------------------------------------------------------ GLA

TEST_CASE("gla: the cache is (h_c d_c' + d_R) s per token per layer", "[variants][gla]") {
  const auto w = workload(Phase::decode, 2, 1, 4096);
  // GLA-2 default: h_c = 2, d_c' = 256, d_R = 64: (512 + 64) * 2 = 1152 B (= MLA's).
  const auto gla2 = cost(make("gla", {}), w);
  CHECK(gla2.kv_cache_bytes_per_token_per_layer == 1152);
  CHECK(gla2.kv_cache_bytes == 1152.0 * 2 * 4096);
  // h_c = 2, d_c' = 512: (1024 + 64) * 2 = 2176 B; h_c = 4, d_c' = 128: (512 + 64) * 2 = 1152 B.
  CHECK(cost(make("gla", {{"latent_dim", 512}}), w).kv_cache_bytes_per_token_per_layer == 2176);
  CHECK(cost(make("gla", {{"latent_dim", 128}, {"latent_heads", 4}}), w)
            .kv_cache_bytes_per_token_per_layer == 1152);
  CHECK_THROWS_AS(make("gla", {{"heads", 128}, {"latent_heads", 3}}), common::SpecError);
}

TEST_CASE("gla: decode core FLOPs are 2 Hq T (2 d_c' + d_R)", "[variants][gla]") {
  // Hq = 128, d_c' = 256, d_R = 64: 2 * 128 * 576 = 147,456 per key; T = 4096: 603,979,776.
  const auto c = cost(make("gla", {}), workload(Phase::decode, 1, 1, 4096));
  CHECK(op_named(c, "attention_fwd").flops.tensor == 603979776.0);
  CHECK(op_named(c, "attention_fwd").attention.heads_kv == 2);  // one KV state per latent head
}

// ----------------------------------------------------------------------------------------- TPLA

TEST_CASE("tpla: per-device cache ratio to MLA is (d_c + d_R) / (d_c / 2 + d_R) = 1.8 at g = 2",
          "[variants][tpla]") {
  // Appendix C.6: 576 / 320 = 1.80 (vs the 1.79x DeepSeek-V3 speed-up).
  const auto w = workload(Phase::decode, 1, 1, 32768);
  const auto mla = cost(make("mla", {}), w);
  const auto tpla = cost(make("tpla", {{"shards", 2}}), w);
  CHECK(mla.kv_cache_bytes_per_token_per_layer == 1152);  // (512 + 64) * 2
  CHECK(tpla.kv_cache_bytes_per_token_per_layer == 640);  // (256 + 64) * 2
  CHECK(mla.kv_cache_bytes / tpla.kv_cache_bytes == Approx(1.8).epsilon(1e-12));
  // Per-device decode HBM s T (d_c / g + d_R) vs MLA's s T (d_c + d_R): the same 1.8.
  CHECK(op_named(tpla, "attention_fwd").bytes.k == 2.0 * 32768 * 320);
  CHECK(op_named(mla, "attention_fwd").bytes.k / op_named(tpla, "attention_fwd").bytes.k ==
        Approx(1.8).epsilon(1e-12));
  // g = 4: (128 + 64) * 2 = 384 B.
  CHECK(cost(make("tpla", {{"shards", 4}}), w).kv_cache_bytes_per_token_per_layer == 384);
  CHECK_THROWS_AS(make("tpla", {{"shards", 3}}), common::SpecError);  // 512 % 3 != 0
}

TEST_CASE("tpla: per-device decode FLOPs are 2 Hq T (2 d_c / g + d_R)", "[variants][tpla]") {
  // g = 2: 2 * 128 * (512 + 64) = 147,456 per key; T = 4096: 603,979,776.
  const auto c = cost(make("tpla", {{"shards", 2}}), workload(Phase::decode, 1, 1, 4096));
  CHECK(op_named(c, "attention_fwd").flops.tensor == 603979776.0);
}

TEST_CASE("tpla: decode all-reduces B m D s bytes, each device sending 2 (g - 1) / g of them",
          "[variants][tpla]") {
  // D = 7168 (DeepSeek-V3), B = 4, m = 1, bf16: payload 57,344 B.
  const auto one = cost(make("tpla", {{"shards", 2}}), workload(Phase::decode, 4, 1, 8192));
  const models::Op& ar = op_named(one, "partial_output_all_reduce");
  CHECK(ar.kind == models::OpKind::collective);
  CHECK(ar.link_bytes == 57344.0);  // 2 * 1/2 * 57,344
  // g = 4: 2 * 3/4 * 57,344 = 86,016.
  const auto four = cost(make("tpla", {{"shards", 4}}), workload(Phase::decode, 4, 1, 8192));
  CHECK(op_named(four, "partial_output_all_reduce").link_bytes == 86016.0);
  // m = 2 (speculative decode) doubles the payload: 2 * 3/4 * 114,688 = 172,032.
  const auto spec = cost(make("tpla", {{"shards", 4}}), workload(Phase::decode, 4, 2, 8192));
  CHECK(op_named(spec, "partial_output_all_reduce").link_bytes == 172032.0);
  // A wider model (D = 5120): 2 * 1/2 * 4 * 5120 * 2 = 40,960.
  const auto v2 =
      cost(make("tpla", {{"shards", 2}}, {false, 5120}), workload(Phase::decode, 4, 1, 8192));
  CHECK(op_named(v2, "partial_output_all_reduce").link_bytes == 40960.0);
}

TEST_CASE("tpla: a fresh prefill is plain MLA (non-absorbed, full latent)", "[variants][tpla]") {
  const auto w = workload(Phase::prefill, 1, 4096, 4096);
  const auto mla = cost(make("mla", {}), w);
  const auto tpla = cost(make("tpla", {{"shards", 2}}), w);
  CHECK(tpla.total_flops().tensor == mla.total_flops().tensor);
  CHECK(tpla.total_bytes().total() == mla.total_bytes().total());
  for (const models::Op& op : tpla.ops) CHECK(op.kind != models::OpKind::collective);
}

TEST_CASE("tpla: a short prefill or chunk is plain MLA too, never the sharded absorbed form",
          "[variants][tpla]") {
  // MLA's auto mode absorbs a chunk of up to about 170 queries (fewer FLOPs); TPLA's prefill is
  // plain unsharded MLA at any length: no all-reduce. At 448 tokens the sharded absorbed form
  // with its all-reduce had priced 73 us on H100, where 512 tokens took 40.
  for (std::int64_t q : {1, 64, 170, 448}) {
    const auto w = workload(Phase::prefill, 1, q, 32768);
    const auto tpla = cost(make("tpla", {{"shards", 2}}), w);
    INFO("q_len " << q);
    CHECK(tpla.total_flops().tensor == cost(make("mla", {{"mode", 2}}), w).total_flops().tensor);
    for (const models::Op& op : tpla.ops) CHECK(op.kind != models::OpKind::collective);
  }
}

TEST_CASE("ccgqa: the key convolution is e~/G wide, the query one e~, decode reads the conv state",
          "[variants][ccgqa]") {
  // Defaults: E = 32 * 128 = 4096, C = 2, G = 2: q~ is 2048 wide, k~ 1024. Per token the two
  // depthwise convolutions touch 3072 values, 2 k = 8 FLOPs each, read and write 2 B each.
  const auto c = cost(make("ccgqa", {}), workload(Phase::prefill, 1, 1000, 1000));
  const models::Op& conv = op_named(c, "qk_convolutions_fwd");
  CHECK(conv.flops.vector == 1000.0 * 3072 * 8);
  CHECK(conv.bytes.total() == 1000.0 * 3072 * 4);
  // Conv state in the cache: (k - 1) rows of q~ and k~, 3 * 3072 * 2 B per sequence.
  const auto d = cost(make("ccgqa", {}), workload(Phase::decode, 1, 1, 1000));
  CHECK(d.kv_cache_bytes == 1000.0 * 2 * 1024 * 2 + 3 * 3072 * 2);
  // A decode step reads those 3 rows besides its own row in and out: 3072 * (2 + 3) * 2 B.
  CHECK(op_named(d, "qk_convolutions_fwd").bytes.total() == 3072.0 * 5 * 2);
}
