#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::cost;
using test_support::registry;
using test_support::workload;

using models::Phase;

namespace {

models::AttentionSpec spec(const char* variant, std::int64_t hq, std::int64_t hkv,
                           std::int64_t d = 128) {
  models::ParamValues p = {{"heads", hq}, {"head_dim", d}};
  if (hkv > 0) p.emplace_back("kv_heads", hkv);
  return registry().find(variant).make_spec(p, {});
}

void check_same_cost(const models::CostModel& a, const models::CostModel& b) {
  CHECK(a.total_flops().tensor == b.total_flops().tensor);
  CHECK(a.total_flops().exp == b.total_flops().exp);
  CHECK(a.total_flops().vector == b.total_flops().vector);
  CHECK(a.total_bytes().total() == b.total_bytes().total());
  CHECK(a.kv_cache_bytes == b.kv_cache_bytes);
}

}  // namespace

TEST_CASE("Llama-3.1-8B GQA keeps 4096 KV-cache bytes per token per layer in bf16", "[dense]") {
  const auto c = cost(spec("gqa", 32, 8), workload(Phase::decode, 1, 1, 1000, true));
  CHECK(c.kv_cache_bytes_per_token_per_layer == 4096);  // 2 x 8 heads x 128 x 2 B
  CHECK(c.kv_cache_bytes == 4096.0 * 1000);
}

TEST_CASE("MHA non-causal prefill core FLOPs are 4 B S^2 H d", "[dense]") {
  const auto c = cost(spec("mha", 16, 0, 64), workload(Phase::prefill, 2, 1024, 1024, false));
  CHECK(c.total_flops().tensor == 4.0 * 2 * 1024 * 1024 * 16 * 64);
  CHECK(c.total_flops().exp == 2.0 * 1024 * 1024 * 16);
}

TEST_CASE("causal prefill counts exact pairs: 2 B H L(L+1) d", "[dense]") {
  const auto c = cost(spec("mha", 16, 0, 64), workload(Phase::prefill, 2, 1024, 1024, true));
  CHECK(c.total_flops().tensor == 2.0 * 2 * 16 * 1024 * 1025 * 64);
}

TEST_CASE("compulsory prefill bytes read Q, K, V and write O once", "[dense]") {
  // Hand-worked: B=1, L=1024, Hq=32, Hkv=8, d=128, bf16.
  const auto c = cost(spec("gqa", 32, 8), workload(Phase::prefill, 1, 1024, 1024, true));
  const auto b = c.total_bytes();
  CHECK(b.q == 2.0 * 1024 * 32 * 128);
  CHECK(b.k == 2.0 * 1024 * 8 * 128);
  CHECK(b.v == 2.0 * 1024 * 8 * 128);
  CHECK(b.o == 2.0 * 1024 * 32 * 128);
  CHECK(b.lse == 0);  // inference prefill keeps no softmax statistics
  CHECK(b.total() == 20971520);
}

TEST_CASE("training forward also writes the FP32 log-sum-exp", "[dense]") {
  const auto c = cost(spec("mha", 8, 0), workload(Phase::fwd, 2, 512, 512, true));
  CHECK(c.total_bytes().lse == 4.0 * 2 * 8 * 512);
}

TEST_CASE("backward matmul FLOPs are 2.5x the forward when d = dv", "[dense]") {
  const auto s = spec("mha", 16, 0);
  const auto fwd = cost(s, workload(Phase::fwd, 4, 2048, 2048, true));
  const auto bwd = cost(s, workload(Phase::bwd, 4, 2048, 2048, true));
  CHECK(bwd.total_flops().tensor == 2.5 * fwd.total_flops().tensor);
  const auto train = cost(s, workload(Phase::train, 4, 2048, 2048, true));
  CHECK(train.total_flops().tensor == 3.5 * fwd.total_flops().tensor);
  CHECK(train.ops.size() == 2);
}

TEST_CASE("GQA with kv_heads = heads costs exactly what MHA costs", "[dense][invariant]") {
  for (Phase phase : {Phase::prefill, Phase::decode, Phase::train}) {
    const auto w = workload(phase, 3, phase == Phase::decode ? 1 : 777, 777, true);
    check_same_cost(cost(spec("gqa", 24, 24), w), cost(spec("mha", 24, 0), w));
  }
}

TEST_CASE("MQA costs exactly what GQA with one KV head costs", "[dense][invariant]") {
  const auto w = workload(Phase::decode, 8, 1, 4096, true);
  check_same_cost(cost(spec("mqa", 32, 0), w), cost(spec("gqa", 32, 1), w));
}

TEST_CASE("decode bytes scale with kv_heads and FLOPs with heads", "[dense][invariant]") {
  const auto w = workload(Phase::decode, 1, 1, 65536, true);
  const auto g8 = cost(spec("gqa", 32, 8), w);
  const auto g4 = cost(spec("gqa", 32, 4), w);
  const auto h64 = cost(spec("gqa", 64, 8), w);
  CHECK(g8.total_flops().tensor == g4.total_flops().tensor);
  CHECK(g8.total_bytes().k == 2 * g4.total_bytes().k);
  CHECK(g8.total_bytes().v == 2 * g4.total_bytes().v);
  CHECK(h64.total_flops().tensor == 2 * g8.total_flops().tensor);
  CHECK(h64.total_bytes().k == g8.total_bytes().k);
}

TEST_CASE("an fp8 KV cache halves cache size and K/V traffic of a bf16 one", "[dense]") {
  const auto s = spec("gqa", 32, 8);
  auto w = workload(Phase::decode, 4, 1, 8192, true);
  const auto bf16 = cost(s, w);
  w.kv_dtype = models::DType::fp8;
  const auto fp8 = cost(s, w);
  CHECK(fp8.kv_cache_bytes == bf16.kv_cache_bytes / 2);
  CHECK(fp8.total_bytes().k == bf16.total_bytes().k / 2);
  CHECK(fp8.total_bytes().q == bf16.total_bytes().q);
}

TEST_CASE("layers multiply every total but not the per-token cache size", "[dense]") {
  const auto s = spec("gqa", 32, 8);
  auto w = workload(Phase::prefill, 1, 4096, 4096, true);
  const auto one = cost(s, w);
  w.layers = 32;
  const auto many = cost(s, w);
  CHECK(many.total_flops().tensor == 32 * one.total_flops().tensor);
  CHECK(many.total_bytes().total() == 32 * one.total_bytes().total());
  CHECK(many.kv_cache_bytes == 32 * one.kv_cache_bytes);
  CHECK(many.kv_cache_bytes_per_token_per_layer == one.kv_cache_bytes_per_token_per_layer);
}

TEST_CASE("a distinct value head dim changes PV FLOPs, V bytes and the cache", "[dense]") {
  models::ParamValues p = {{"heads", 16}, {"kv_heads", 16}, {"head_dim", 192}, {"v_head_dim", 128}};
  const auto s = registry().find("mha").make_spec(p, {});
  const auto c = cost(s, workload(Phase::prefill, 1, 100, 100, false));
  CHECK(c.total_flops().tensor == 2.0 * 16 * 100 * 100 * (192 + 128));
  CHECK(c.kv_cache_bytes_per_token_per_layer == 16.0 * (192 + 128) * 2);
}

TEST_CASE("head-sharing rules are enforced with messages naming the allowed values", "[dense]") {
  CHECK_THROWS_WITH(spec("gqa", 32, 5), Catch::Contains("must be divisible by kv_heads"));
  CHECK_THROWS_WITH(spec("mha", 32, 8), Catch::Contains("kv_heads == heads"));
  CHECK_THROWS_WITH(spec("mqa", 32, 2), Catch::Contains("[1, 1]"));
  CHECK_THROWS_WITH(spec("gqa", 0, 1), Catch::Contains("heads"));
  CHECK_THROWS_WITH(registry().find("gqa").make_spec({{"window", 4}}, {}),
                    Catch::Contains("no parameter 'window'") && Catch::Contains("kv_heads"));
  CHECK_THROWS_WITH(registry().find("gqa").make_spec({{"heads", 7.5}}, {}),
                    Catch::Contains("must be an integer"));
}

TEST_CASE("an unknown variant lists the known ones", "[dense]") {
  CHECK_THROWS_WITH(
      registry().find("nsa2"),
      Catch::Contains("unknown variant 'nsa2' (did you mean 'nsa'?); known: mha, mqa"));
}

TEST_CASE("variant defaults follow the documented head rules", "[dense]") {
  CHECK(spec("mha", 12, 0).heads.kv_heads == 12);
  CHECK(spec("mqa", 12, 0).heads.kv_heads == 1);
  CHECK(registry().find("gqa").make_spec({}, {}).heads.kv_heads == 8);
  CHECK(spec("gqa", 32, 8, 96).heads.v_head_dim == 96);
}

TEST_CASE(
    "softcap adds one tanh (exp unit) and 2 FP32 ops per score forward, one tanh and 3 "
    "backward, whatever the cap; the rest of the cost is unchanged",
    "[variants][dense]") {
  // gqa 32/8, d 128, causal prefill of 1024: 32 x 1024 x 1025 / 2 = 16,793,600 scores per pass.
  const double scores = 32.0 * 1024 * 1025 / 2;
  const auto plain = registry().find("gqa").make_spec({}, {});
  const auto capped = registry().find("gqa").make_spec({{"softcap", 50}}, {});
  const auto other_cap = registry().find("gqa").make_spec({{"softcap", 30}}, {});
  const auto w = workload(Phase::train, 1, 1024, 1024);
  const auto a = cost(plain, w), b = cost(capped, w);
  CHECK(b.total_flops().tensor == a.total_flops().tensor);
  CHECK(b.total_flops().exp - a.total_flops().exp == 2 * scores);
  CHECK(b.total_flops().vector - a.total_flops().vector == (2 + 3) * scores);
  CHECK(b.total_bytes().total() == a.total_bytes().total());
  CHECK(b.kv_cache_bytes == a.kv_cache_bytes);
  check_same_cost(cost(other_cap, w), b);
  CHECK(b.ops[0].attention.softcap);
  CHECK_FALSE(a.ops[0].attention.softcap);
  // swa takes it too.
  const auto swa = registry().find("swa").make_spec({{"window", 256}, {"softcap", 50}}, {});
  CHECK(cost(swa, workload(Phase::prefill, 1, 1024, 1024)).ops[0].attention.softcap);
}
