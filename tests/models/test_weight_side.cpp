// Weight-side variants (docs/variants.md §H1 GQSA, §H2 MASA): the projections change, the
// attention core and KV cache do not.
#include <catch2/catch.hpp>

#include <cstring>

#include "common/errors.hpp"
#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::cost;
using test_support::op_named;
using test_support::registry;
using test_support::workload;

using models::Phase;

namespace {

// Weight-side variants need projections, so they are on by default here.
models::AttentionSpec make_projected(const char* variant, const models::ParamValues& p,
                                     models::ProjectionConfig proj = {true, 0}) {
  return registry().find(variant).make_spec(p, proj);
}

}  // namespace

namespace {

double gemm_weight_bytes(const models::CostModel& c) {
  double b = 0;
  for (const models::Op& op : c.ops) {
    if (op.kind == models::OpKind::gemm) b += op.bytes.weights;
  }
  return b;
}

// Default heads 32 / 8 / 128, D = 4096: D (Hq d + 2 Hkv d) + Hq d D = 25,165,824 + 16,777,216.
constexpr double kParams = 41943040;

}  // namespace

// ----------------------------------------------------------------------------------------- GQSA

TEST_CASE("gqsa: needs --include-projections (a common::SpecError otherwise)", "[variants][gqsa]") {
  CHECK_THROWS_AS(make_projected("gqsa", {}, {}), common::SpecError);
  CHECK_THROWS_WITH(make_projected("gqsa", {}, {}), Catch::Contains("--include-projections"));
  CHECK_NOTHROW(make_projected("gqsa", {}));
}

TEST_CASE("gqsa W4 S50%: weight bytes 0.5 (4/8 + 2/16 + 4/128) params vs bf16's 2 params",
          "[variants][gqsa]") {
  // 0.5 * (0.5 + 0.125 + 0.03125) = 0.328125 B per original weight: 13,762,560 B vs 83,886,080.
  const auto w = workload(Phase::decode, 1, 1, 4096);
  const auto gqsa = cost(make_projected("gqsa", {{"sparsity", 0.5}, {"bits", 4}}), w);
  const auto gqa = cost(make_projected("gqa", {}), w);
  CHECK(gqa.parameters_per_layer == kParams);
  CHECK(gemm_weight_bytes(gqa) == 2 * kParams);
  CHECK(gemm_weight_bytes(gqsa) == 0.328125 * kParams);
  CHECK(gemm_weight_bytes(gqsa) == 13762560.0);
  // W8 dense (sparsity 0): 8/8 + 2/16 + 4/128 = 1.15625 B per weight.
  const auto w8 = cost(make_projected("gqsa", {{"sparsity", 0}, {"bits", 8}}), w);
  CHECK(gemm_weight_bytes(w8) == 1.15625 * kParams);
}

TEST_CASE("gqsa: 50 % sparsity halves the projection FLOPs, core and cache are gqa's",
          "[variants][gqsa]") {
  for (Phase phase : {Phase::prefill, Phase::decode, Phase::train}) {
    INFO("phase " << std::string(models::to_string(phase)));
    const auto w = workload(phase, 2, phase == Phase::decode ? 1 : 512, 512);
    const auto gqsa = cost(make_projected("gqsa", {{"sparsity", 0.5}}), w);
    const auto gqa = cost(make_projected("gqa", {}), w);
    for (const models::Op& op : gqa.ops) {
      const models::Op& same = op_named(gqsa, op.name);
      if (op.kind == models::OpKind::gemm) {
        CHECK(same.flops.tensor == 0.5 * op.flops.tensor);
        CHECK(same.bytes.activations == op.bytes.activations);
      } else {
        CHECK(same.flops.total() == op.flops.total());
        CHECK(same.bytes.total() == op.bytes.total());
      }
    }
    CHECK(gqsa.ops.size() == gqa.ops.size());
    CHECK(gqsa.kv_cache_bytes == gqa.kv_cache_bytes);
  }
  // Prefill of 512 tokens, B = 2: projections 2 * 1024 tokens * params, halved.
  const auto c = cost(make_projected("gqsa", {}), workload(Phase::prefill, 2, 512, 512));
  CHECK(op_named(c, "qkv_proj_fwd").flops.tensor + op_named(c, "o_proj_fwd").flops.tensor ==
        0.5 * 2 * 1024 * kParams);
}

// ----------------------------------------------------------------------------------------- MASA

TEST_CASE("masa: parameters drop by param_reduction", "[variants][masa]") {
  const auto w = workload(Phase::prefill, 1, 64, 64);
  CHECK(cost(make_projected("masa", {{"param_reduction", 0.75}}), w).parameters_per_layer ==
        0.25 * kParams);  // 10,485,760
  // Paper: -66.7 % (default).
  CHECK(cost(make_projected("masa", {}), w).parameters_per_layer ==
        Approx(0.333 * kParams).epsilon(1e-12));
  CHECK_THROWS_AS(make_projected("masa", {}, {}), common::SpecError);
}

TEST_CASE("masa: FLOPs and bytes equal gqa with projections", "[variants][masa]") {
  for (Phase phase : {Phase::prefill, Phase::decode, Phase::train}) {
    INFO("phase " << std::string(models::to_string(phase)));
    const auto w = workload(phase, 2, phase == Phase::decode ? 1 : 512, 512);
    const auto masa = cost(make_projected("masa", {}), w);
    const auto gqa = cost(make_projected("gqa", {}), w);
    CHECK(masa.total_flops().tensor == gqa.total_flops().tensor);
    CHECK(masa.total_flops().vector == gqa.total_flops().vector);
    CHECK(masa.total_flops().exp == gqa.total_flops().exp);
    CHECK(masa.total_bytes().total() == gqa.total_bytes().total());
    CHECK(masa.total_bytes().weights == gqa.total_bytes().weights);
    CHECK(masa.kv_cache_bytes == gqa.kv_cache_bytes);
  }
}
