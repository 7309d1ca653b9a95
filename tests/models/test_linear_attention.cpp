// Chunked (decayed) linear attention (docs/variants.md#e1-linear): a dk x dv FP32 state per head.
#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::cost;
using test_support::gla;
using test_support::registry;
using test_support::workload;

using models::Phase;

namespace {

models::AttentionSpec linear(std::int64_t heads, std::int64_t dk = 128, std::int64_t chunk = 64) {
  return registry().find("linear").make_spec({{"heads", heads}, {"head_dim", dk}, {"chunk", chunk}},
                                             {});
}

}  // namespace

TEST_CASE("linear: state bytes are B H dk dv 4 per layer and do not grow with L",
          "[variants][linear]") {
  // §E1 example: 64 heads x 128 x 128 fp32 = 4 MiB per sequence per layer.
  CHECK(cost(linear(64), workload(Phase::prefill, 1, 1024, 1024)).state_bytes == 4194304.0);
  auto w = workload(Phase::prefill, 2, 1024, 1024);
  w.layers = 3;
  const double expected = 2.0 * 64 * 128 * 128 * 4 * 3;  // 25,165,824
  CHECK(cost(linear(64), w).state_bytes == expected);
  w.q_len = w.kv_len = 65536;
  CHECK(cost(linear(64), w).state_bytes == expected);
  w.phase = Phase::decode;
  w.q_len = 1;
  CHECK(cost(linear(64), w).state_bytes == expected);
}

TEST_CASE("linear: prefill counts exact causal pairs inside chunks, (b + 1)(dk + dv) + 4 dk dv",
          "[variants][linear]") {
  // dk = dv = 128, b = 64: each token scores (b + 1) / 2 keys of its chunk on average, 2 (dk + dv)
  // FLOPs each: 65 * 256 = 16,640; inter-chunk Q S and K^T V: 4 * 128 * 128 = 65,536. 82,176.
  CHECK(cost(linear(1), workload(Phase::prefill, 1, 1024, 1024)).total_flops().tensor ==
        82176.0 * 1024);
  const auto c = cost(linear(32), workload(Phase::prefill, 2, 4096, 4096));
  CHECK(c.total_flops().tensor == 82176.0 * 2 * 32 * 4096);
  // b = 128: 129 * 256 + 65,536 = 98,560 per token per head.
  CHECK(cost(linear(1, 128, 128), workload(Phase::prefill, 1, 1024, 1024)).total_flops().tensor ==
        98560.0 * 1024);
  // A last partial chunk scores its own pairs: L = 100, b = 64: 64 * 65 / 2 + 36 * 37 / 2 = 2,746
  // pairs, 2 * 256 FLOPs each, plus 65,536 per token.
  CHECK(cost(linear(1), workload(Phase::prefill, 1, 100, 100)).total_flops().tensor ==
        2746.0 * 512 + 65536.0 * 100);
  // Q, K, V read and O written once: s B L H (2 dk + 2 dv), plus the final fp32 state.
  const auto b = c.total_bytes();
  CHECK(b.q + b.k + b.v + b.o == 2.0 * 2 * 4096 * 32 * 512);
  CHECK(b.state == c.state_bytes);  // reported as the state's, not folded into K
}

TEST_CASE("linear: exactly as many FLOPs as causal softmax at L = 320, fewer beyond",
          "[variants][linear]") {
  // One head, d = dv = 128: softmax 2 * 256 * L (L + 1) / 2 = 256 L (L + 1); linear 82,176 L.
  // Equal when L + 1 = 321.
  const auto mha = registry().find("mha").make_spec({{"heads", 1}}, {});
  for (std::int64_t len : {256, 320, 1024}) {
    const auto w = workload(Phase::prefill, 1, len, len);
    const double lin = cost(linear(1), w).total_flops().tensor;
    const double soft = cost(mha, w).total_flops().tensor;
    CHECK(soft == 256.0 * len * (len + 1));
    if (len < 320) CHECK(lin > soft);
    if (len == 320) CHECK(lin == soft);
    if (len > 320) CHECK(lin < soft);
  }
}

TEST_CASE("linear: backward costs 2 (3dk + 2dv) per causal pair in chunks + 10 dk dv per token",
          "[variants][linear]") {
  // Per token and head: 32.5 pairs * 2 * 640 = 41,600; 10 * 16,384 = 163,840. 205,440.
  const auto bwd = cost(linear(16), workload(Phase::bwd, 2, 2048, 2048));
  CHECK(bwd.total_flops().tensor == 205440.0 * 2 * 16 * 2048);
  CHECK(bwd.ops.size() == 1);
  // Training = forward + backward: 82,176 + 205,440 = 287,616.
  const auto train = cost(linear(16), workload(Phase::train, 2, 2048, 2048));
  CHECK(train.total_flops().tensor == 287616.0 * 2 * 16 * 2048);
  // dQ, dK, dV written once: s B L H (2 dk + dv).
  CHECK(bwd.total_bytes().grad_in == 2.0 * 2 * 2048 * 16 * 384);
}

TEST_CASE("linear: decode FLOPs and bytes do not depend on the context length",
          "[variants][linear]") {
  const auto s = linear(32);
  const auto short_ctx = cost(s, workload(Phase::decode, 1, 1, 1000));
  const auto long_ctx = cost(s, workload(Phase::decode, 1, 1, 1000000));
  CHECK(short_ctx.total_flops().total() == long_ctx.total_flops().total());
  CHECK(short_ctx.total_bytes().total() == long_ctx.total_bytes().total());
  // (3 + 2) dk dv per head: 5 * 16,384 * 32 = 2,621,440, all on the FP32 pipes.
  CHECK(long_ctx.total_flops().vector == 2621440.0);
  CHECK(long_ctx.total_flops().tensor == 0);
  // State read + written 2 B H dk dv 4 = 4,194,304, plus q, k, v, o 2 * 32 * 512 = 32,768.
  CHECK(long_ctx.total_bytes().total() == 4227072.0);
  // AI about 0.6 FLOP/B (§E1): 2,621,440 / 4,227,072.
  CHECK(long_ctx.total_flops().vector / long_ctx.total_bytes().total() ==
        Approx(0.62).margin(0.01));
}

TEST_CASE(
    "linear: a prefill onto a cached prefix reads the prefix's state as well as writing the "
    "final one",
    "[variants][linear]") {
  // B 8, H 32, dk = dv = 128: the state is 8 * 32 * 128 * 128 * 4 = 16,777,216 bytes.
  const double state = 8.0 * 32 * 128 * 128 * 4;
  const auto fresh = cost(linear(32), workload(Phase::prefill, 8, 64, 64));
  const auto onto = cost(linear(32), workload(Phase::prefill, 8, 64, 32768));
  const models::Op& a = test_support::op_named(fresh, "linear_scan_fwd");
  const models::Op& b = test_support::op_named(onto, "linear_scan_fwd");
  CHECK(b.bytes.state - a.bytes.state == state);
  CHECK(b.bytes.k == a.bytes.k);
  CHECK(b.flops.tensor == a.flops.tensor);  // Q S0 is the inter-chunk Q S of each token already
  // One token onto a prefix moves the state in and out, as a decode step does.
  const auto one = test_support::op_named(cost(linear(32), workload(Phase::prefill, 8, 1, 32768)),
                                          "linear_scan_fwd");
  const auto step = test_support::op_named(cost(linear(32), workload(Phase::decode, 8, 1, 32768)),
                                           "linear_scan_fwd");
  CHECK(one.bytes.total() == step.bytes.total());
}

TEST_CASE("linear: there is no KV cache, only the state", "[variants][linear]") {
  for (Phase phase : {Phase::prefill, Phase::decode, Phase::train}) {
    const auto c = cost(linear(8), workload(phase, 4, phase == Phase::decode ? 1 : 512, 512));
    CHECK(c.kv_cache_bytes == 0);
    CHECK(c.kv_cache_bytes_per_token_per_layer == 0);
    CHECK(c.state_bytes == 4.0 * 8 * 128 * 128 * 4);
  }
}

TEST_CASE("linear: non-causal attention is rejected with a common::SpecError",
          "[variants][linear]") {
  CHECK_THROWS_AS(cost(linear(8), workload(Phase::prefill, 1, 256, 256, false)), common::SpecError);
  CHECK_THROWS_WITH(cost(linear(8), workload(Phase::prefill, 1, 256, 256, false)),
                    Catch::Contains("causal"));
}

TEST_CASE("linear: a gate per key channel adds exps, FP32 sub-chunk pairs and the gate read only",
          "[variants][linear][gate]") {
  // One head, dk = dv = 64, L = 128 (two chunks), fp16. Sub-chunks of 16 tokens: 8 of them,
  // 16 * 17 / 2 = 136 causal pairs each: 1,088 pairs, 64 channels each: 69,632.
  const auto w = workload(Phase::fwd, 1, 128, 128);
  const auto scalar = cost(gla(1, 64, 1), w);
  const auto gated = cost(gla(1, 64, 64), w);
  const double pairs = 1088.0 * 64;
  // exps: 128 tokens x 64 channels, plus one per sub-chunk pair and channel.
  CHECK(scalar.total_flops().exp == 128.0);
  CHECK(gated.total_flops().exp == 128.0 * 64 + pairs);
  // FP32: Q and K scaled (2 x 64 per token) and three ops per pair and channel.
  CHECK(gated.total_flops().vector - scalar.total_flops().vector == 128.0 * 128 + 3 * pairs);
  // The matmuls are the same work; the gates are read once (2 bytes x 128 x 64).
  CHECK(gated.total_flops().tensor == scalar.total_flops().tensor);
  CHECK(gated.total_bytes().total() - scalar.total_bytes().total() == 2.0 * 128 * 64);
  // The state does not depend on the gates.
  CHECK(gated.state_bytes == scalar.state_bytes);
}

TEST_CASE("linear: the gated backward reads the gates, writes their gradient, pairs twice",
          "[variants][linear][gate]") {
  const auto w = workload(Phase::bwd, 1, 128, 128);
  const auto scalar = cost(gla(1, 64, 1), w);
  const auto gated = cost(gla(1, 64, 64), w);
  const double pairs = 1088.0 * 64;
  CHECK(gated.total_flops().exp == 128.0 * 64 + 2 * pairs);
  CHECK(gated.total_flops().vector - scalar.total_flops().vector == 5.0 * 128 * 64 + 6 * pairs);
  CHECK(gated.total_bytes().total() - scalar.total_bytes().total() == 2 * 2.0 * 128 * 64);
}

TEST_CASE("linear: gated decode reads one gate per channel and adds no sub-chunk work",
          "[variants][linear][gate]") {
  auto w = workload(Phase::decode, 2, 1, 4096);
  const auto scalar = cost(gla(4, 64, 1), w);
  const auto gated = cost(gla(4, 64, 64), w);
  CHECK(gated.total_flops().exp == 2.0 * 4 * 64);
  CHECK(gated.total_flops().vector == scalar.total_flops().vector);
  CHECK(gated.total_bytes().total() - scalar.total_bytes().total() == 2.0 * 2 * 4 * 64);
}

TEST_CASE("linear: gate_dim other than 1 or head_dim is refused naming both",
          "[variants][linear]") {
  CHECK_THROWS_WITH(cost(gla(1, 64, 32), workload(Phase::fwd, 1, 128, 128)),
                    Catch::Contains("gate_dim must be 1") && Catch::Contains("head_dim = 64") &&
                        Catch::Contains("got 32"));
}

TEST_CASE("linear: GLA's sub-chunks split each chunk, the last sub-chunk of a chunk shorter",
          "[variants][linear][gate]") {
  // chunk 40, L 80: each chunk is sub-chunks of 16, 16 and 8 tokens: 136 + 136 + 36 = 308 pairs,
  // two chunks: 616 pairs of 64 channels on top of 80 x 64 gate exps.
  const auto spec = registry().find("linear").make_spec(
      {{"heads", 1}, {"head_dim", 64}, {"chunk", 40}, {"gate_dim", 64}}, {});
  CHECK(cost(spec, workload(Phase::fwd, 1, 80, 80)).total_flops().exp == 80.0 * 64 + 616.0 * 64);
}
