// Head-routing variants (docs/variants.md §A4 KDGQA, §A6 DHA, §A7 MoH, §A9 GDA).
#include <catch2/catch.hpp>

#include <cstring>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::cost;
using test_support::make;
using test_support::op_named;
using test_support::registry;
using test_support::workload;

using models::Phase;

namespace {

bool has_op(const models::CostModel& c, const char* name) {
  for (const models::Op& op : c.ops) {
    if (std::strcmp(op.name, name) == 0) return true;
  }
  return false;
}

// Tensor FLOPs of the forward GEMM ops (projections, router).
double forward_gemm_flops(const models::CostModel& c) {
  double f = 0;
  for (const models::Op& op : c.ops) {
    if (op.kind == models::OpKind::gemm && op.pass == models::Pass::forward) f += op.flops.tensor;
  }
  return f;
}

}  // namespace

// ---------------------------------------------------------------------------------------- KDGQA

TEST_CASE("kdgqa: every gqa op is reproduced exactly, plus one forward key-norm op",
          "[variants][kdgqa]") {
  for (Phase phase : {Phase::prefill, Phase::decode, Phase::train, Phase::bwd}) {
    INFO("phase " << std::string(models::to_string(phase)));
    const auto w = workload(phase, 2, phase == Phase::decode ? 1 : 512, 512);
    const auto kd = cost(make("kdgqa", {{"heads", 32}, {"kv_heads", 8}}), w);
    const auto gqa = cost(make("gqa", {{"heads", 32}, {"kv_heads", 8}}), w);
    for (const models::Op& op : gqa.ops) {
      const models::Op& same = op_named(kd, op.name);
      CHECK(same.flops.tensor == op.flops.tensor);
      CHECK(same.flops.vector == op.flops.vector);
      CHECK(same.flops.exp == op.flops.exp);
      CHECK(same.bytes.total() == op.bytes.total());
    }
    const bool fwd = models::has_forward(phase);
    CHECK(kd.ops.size() == gqa.ops.size() + (fwd ? 1 : 0));
    CHECK(has_op(kd, "key_norms") == fwd);
    CHECK(kd.kv_cache_bytes == gqa.kv_cache_bytes);
    CHECK(kd.kv_cache_bytes_per_token_per_layer == gqa.kv_cache_bytes_per_token_per_layer);
  }
}

TEST_CASE("kdgqa: the key norms read K once and cost 2 B Hkv L d FLOPs (plus the square roots)",
          "[variants][kdgqa]") {
  // B = 2, L = 512, Hkv = 8, d = 128: B L Hkv d = 1,048,576 key values.
  const auto c =
      cost(make("kdgqa", {{"heads", 32}, {"kv_heads", 8}}), workload(Phase::prefill, 2, 512, 512));
  const models::Op& norms = op_named(c, "key_norms");
  CHECK(norms.bytes.total() == 2.0 * 1048576);  // bf16 K read once
  CHECK(norms.flops.tensor == 0);
  CHECK(norms.flops.vector >= 2.0 * 1048576);  // 2,097,152 multiply-adds
  // At most one square root per key vector (B L Hkv = 8,192).
  CHECK(norms.flops.vector <= 2.0 * 1048576 + 8192);
  // The same params resolve to GQA's defaults (32 / 8 / 128).
  CHECK(make("kdgqa", {}).heads.kv_heads == 8);
}

// ------------------------------------------------------------------------------------------ DHA

TEST_CASE("dha: the KV cache is (Hk d + Hv dv) s per token per layer", "[variants][dha]") {
  auto w = workload(Phase::decode, 2, 1, 1000);
  w.layers = 3;
  // Hk = 8, Hv = 4, d = dv = 128: (1024 + 512) * 2 B = 3072 B.
  const auto c = cost(make("dha", {{"heads", 32}, {"k_heads", 8}, {"v_heads", 4}}), w);
  CHECK(c.kv_cache_bytes_per_token_per_layer == 3072);
  CHECK(c.kv_cache_bytes == 3072.0 * 2 * 1000 * 3);  // x B x T x layers = 18,432,000
  // d = 128, dv = 64, Hk = 8, Hv = 2: (1024 + 128) * 2 = 2304 B.
  const auto mixed =
      cost(make("dha", {{"heads", 32}, {"k_heads", 8}, {"v_heads", 2}, {"v_head_dim", 64}}), w);
  CHECK(mixed.kv_cache_bytes_per_token_per_layer == 2304);
}

TEST_CASE("dha: decode K bytes follow k_heads, V bytes follow v_heads, FLOPs follow heads",
          "[variants][dha]") {
  const auto w = workload(Phase::decode, 1, 1, 4096);
  const auto k8v4 = cost(make("dha", {{"heads", 32}, {"k_heads", 8}, {"v_heads", 4}}), w);
  const auto k4v4 = cost(make("dha", {{"heads", 32}, {"k_heads", 4}, {"v_heads", 4}}), w);
  const auto k8v8 = cost(make("dha", {{"heads", 32}, {"k_heads", 8}, {"v_heads", 8}}), w);
  // K: s B T Hk d = 2 * 4096 * 8 * 128 = 8,388,608; V: 2 * 4096 * 4 * 128 = 4,194,304.
  CHECK(k8v4.total_bytes().k == 8388608.0);
  CHECK(k8v4.total_bytes().v == 4194304.0);
  CHECK(k4v4.total_bytes().k == k8v4.total_bytes().k / 2);
  CHECK(k4v4.total_bytes().v == k8v4.total_bytes().v);
  CHECK(k8v8.total_bytes().k == k8v4.total_bytes().k);
  CHECK(k8v8.total_bytes().v == 2 * k8v4.total_bytes().v);
  // Core FLOPs are MHA's: 2 B Hq (d + dv) T = 2 * 32 * 256 * 4096 = 67,108,864.
  for (const auto* c : {&k8v4, &k4v4, &k8v8}) CHECK(c->total_flops().tensor == 67108864.0);
  CHECK(cost(make("mha", {{"heads", 32}}), w).total_flops().tensor == 67108864.0);
}

TEST_CASE("dha: projections hold D (Hq d + Hk d + Hv dv) + Hq dv D params, 2 FLOPs each per token",
          "[variants][dha]") {
  // §A6: K projection D x Hk d, V projection D x Hv dv. D = 32 * 128 = 4096, Hk = 8, Hv = 4:
  // 4096 * (4096 + 1024 + 512) + 4096 * 4096 = 23,068,672 + 16,777,216 = 39,845,888.
  const auto s = make("dha", {{"heads", 32}, {"k_heads", 8}, {"v_heads", 4}}, {true, 0});
  const auto c = cost(s, workload(Phase::prefill, 1, 100, 100));
  CHECK(c.parameters_per_layer == 39845888.0);
  // Every forward projection GEMM is 2 FLOPs per parameter per token (100 tokens).
  CHECK(forward_gemm_flops(c) == 2.0 * 100 * 39845888);
}

TEST_CASE("dha: heads must be divisible by k_heads and v_heads", "[variants][dha]") {
  CHECK_THROWS_AS(make("dha", {{"heads", 32}, {"k_heads", 5}}), common::SpecError);
  CHECK_THROWS_WITH(make("dha", {{"heads", 32}, {"v_heads", 3}}), Catch::Contains("v_heads"));
  CHECK_NOTHROW(make("dha", {{"heads", 32}, {"k_heads", 16}, {"v_heads", 2}}));
}

// ------------------------------------------------------------------------------------------ MoH

TEST_CASE("moh: a head-sparse kernel's core FLOPs are (h_s + k) / H of the reference's",
          "[variants][moh]") {
  // H = 32, h_s = 8, k = 16: rho = 24 / 32 = 0.75. Non-causal B = 1, L = 1024, d = 128:
  // reference core 4 B L^2 H d = 4 * 1,048,576 * 32 * 128 = 17,179,869,184.
  const auto w = workload(Phase::prefill, 1, 1024, 1024, false);
  const models::ParamValues p = {{"heads", 32}, {"shared_heads", 8}, {"top_k", 16}};
  auto dense_p = p, sparse_p = p;
  dense_p.emplace_back("head_sparse", 0);
  sparse_p.emplace_back("head_sparse", 1);
  const auto ref = cost(make("moh", dense_p), w);
  const auto sparse = cost(make("moh", sparse_p), w);
  CHECK(op_named(ref, "attention_fwd").flops.tensor == 17179869184.0);
  CHECK(op_named(sparse, "attention_fwd").flops.tensor == 12884901888.0);  // 0.75 x
  CHECK(op_named(sparse, "attention_fwd").flops.exp ==
        0.75 * op_named(ref, "attention_fwd").flops.exp);
  // The reference code computes all heads: its core equals MHA's.
  CHECK(op_named(ref, "attention_fwd").flops.tensor ==
        cost(make("mha", {{"heads", 32}}), w).total_flops().tensor);
  // Training: the same ratio holds for the backward.
  const auto tw = workload(Phase::train, 1, 512, 512);
  CHECK(op_named(cost(make("moh", sparse_p), tw), "attention_bwd").flops.tensor ==
        0.75 * op_named(cost(make("moh", dense_p), tw), "attention_bwd").flops.tensor);
}

TEST_CASE(
    "moh: heads below its defaults' sum is refused naming shared_heads and top_k, their defaults "
    "and a top_k that fits, which then builds",
    "[variants][moh]") {
  const auto& moh = registry().find("moh");
  struct Case {
    models::ParamValues given;
    const char* fix;
    models::ParamValues fixed;
  };
  const std::vector<Case> cases = {
      // Defaults 8 and 16, capped at heads: 1 + 1 > 1, 8 + 16 > 16.
      {{{"heads", 1}}, "--param top_k=0", {{"top_k", 0}}},
      {{{"heads", 16}}, "--param top_k=8", {{"top_k", 8}}},
      {{{"heads", 4}, {"shared_heads", 6}, {"top_k", 0}},
       "--param shared_heads=4 --param top_k=0",
       {{"shared_heads", 4}, {"top_k", 0}}},
      {{{"heads", 4}, {"shared_heads", 0}, {"top_k", 0}}, "--param top_k=1", {{"top_k", 1}}},
  };
  for (const Case& c : cases) {
    INFO(c.fix);
    CHECK_THROWS_WITH(moh.make_spec(c.given, {}),
                      Catch::Contains("shared_heads + top_k must be in [1, heads") &&
                          Catch::Contains("defaults: shared_heads 8, top_k 16") &&
                          Catch::EndsWith(std::string("e.g. ") + c.fix));
    models::ParamValues fixed = c.fixed;  // the given values, with the fix in place
    for (const auto& [name, value] : c.given) {
      bool replaced = false;
      for (const auto& f : c.fixed) replaced = replaced || f.first == name;
      if (!replaced) fixed.emplace_back(name, value);
    }
    CHECK_NOTHROW(moh.make_spec(fixed, {}));
  }
}

TEST_CASE("moh: the KV cache is MHA's in both modes, head-sparse decode reads rho of its K/V",
          "[variants][moh]") {
  auto w = workload(Phase::decode, 2, 1, 4096);
  w.layers = 2;
  const auto mha = cost(make("mha", {{"heads", 32}}), w);
  for (int head_sparse : {0, 1}) {
    const auto c = cost(
        make("moh",
             {{"heads", 32}, {"shared_heads", 8}, {"top_k", 16}, {"head_sparse", head_sparse}}),
        w);
    CHECK(c.kv_cache_bytes_per_token_per_layer == 16384);  // 32 * 256 * 2 B
    CHECK(c.kv_cache_bytes == mha.kv_cache_bytes);
  }
  const auto sparse =
      cost(make("moh", {{"heads", 32}, {"shared_heads", 8}, {"top_k", 16}, {"head_sparse", 1}}), w);
  // rho s B T H (d + dv) K+V: 0.75 * 2 * 2 * 4096 * 32 * 256 * 2 layers.
  const models::Op& attn = op_named(sparse, "attention_fwd");
  CHECK((attn.bytes.k + attn.bytes.v) * 2 == 0.75 * (mha.total_bytes().k + mha.total_bytes().v));
}

TEST_CASE("moh: the router is a D x H GEMM, 2 D H FLOPs per token, counted with projections",
          "[variants][moh][projections]") {
  // D = H d = 32 * 128 = 4096: 2 * 4096 * 32 = 262,144 per token; 1000 tokens.
  const auto c = cost(make("moh", {}, {true, 0}), workload(Phase::prefill, 1, 1000, 1000));
  CHECK(op_named(c, "router_fwd").flops.tensor == 262144.0 * 1000);
  const auto core = cost(make("moh", {}), workload(Phase::prefill, 1, 1000, 1000));
  for (const models::Op& op : core.ops) CHECK(op.kind != models::OpKind::gemm);
  CHECK_THROWS_AS(make("moh", {{"heads", 32}, {"shared_heads", 20}, {"top_k", 16}}),
                  common::SpecError);
}

TEST_CASE("moh: the router's D x H parameters count beside the projections", "[variants][moh]") {
  // 4 D^2 = 67,108,864 for Q, K, V, O (D = 4096) plus the router's 4096 x 32 = 131,072.
  const auto c = cost(make("moh", {}, {true, 0}), workload(Phase::prefill, 1, 1024, 1024));
  CHECK(c.parameters_per_layer == 67108864.0 + 131072.0);
}

TEST_CASE("moh: the head gating has a backward: read dY and O, write dO and the gates' gradients",
          "[variants][moh]") {
  // 1024 tokens x 32 heads x 128 = 4,194,304 gated outputs: 2 B x (3 + 2 / 128) each, 3 FLOPs.
  const auto c = cost(make("moh", {}), workload(Phase::bwd, 1, 1024, 1024));
  const models::Op& gating = op_named(c, "head_gating_bwd");
  CHECK(gating.pass == models::Pass::backward);
  CHECK(gating.bytes.total() == 4194304.0 * 2 * (3 + 2.0 / 128));
  CHECK(gating.flops.vector == 4194304.0 * 3);
}

TEST_CASE(
    "moh head-sparse: a prefill's tokens between them read every head's K/V, a decode token "
    "its own heads'",
    "[variants][moh]") {
  const auto spec =
      make("moh", {{"heads", 32}, {"shared_heads", 8}, {"top_k", 16}, {"head_sparse", 1}});
  // Prefill of 1024 tokens: K = 2 B x 1024 x 32 heads x 128 = 8,388,608 (not 24 heads' 6,291,456).
  const auto pre = cost(spec, workload(Phase::prefill, 1, 1024, 1024));
  CHECK(op_named(pre, "attention_fwd").bytes.k == Approx(8388608.0).epsilon(1e-12));
  // And its backward writes dK and dV for all 32 heads: dQ 24 heads + dK, dV 32 heads.
  const auto bwd = cost(spec, workload(Phase::bwd, 1, 1024, 1024));
  CHECK(op_named(bwd, "attention_bwd").bytes.grad_in ==
        Approx(2.0 * 1024 * (24 * 128 + 32 * 256)).epsilon(1e-12));
  // One decode token reads its 24 active heads: 2 B x 4096 x 24 x 128.
  const auto dec = cost(spec, workload(Phase::decode, 1, 1, 4096));
  CHECK(op_named(dec, "attention_fwd").bytes.k == Approx(25165824.0).epsilon(1e-12));
}

TEST_CASE("dha and gda backward write dV (and read dO) for the heads that have values",
          "[variants][dha][gda]") {
  // DHA, 32 query, 8 key, 4 value heads, d = dv = 128, 1024 tokens:
  // dQ 2 x 1024 x 32 x 128 + dK 2 x 1024 x 8 x 128 + dV 2 x 1024 x 4 x 128 = 11,534,336.
  const auto dha =
      cost(make("dha", {{"k_heads", 8}, {"v_heads", 4}}), workload(Phase::bwd, 1, 1024, 1024));
  CHECK(op_named(dha, "attention_bwd").bytes.grad_in == 11534336.0);
  // More value heads than key heads: 2 x 1024 x (32 x 128 + 4 x 128 + 16 x 128) = 13,631,488.
  const auto wide =
      cost(make("dha", {{"k_heads", 4}, {"v_heads", 16}}), workload(Phase::bwd, 1, 1024, 1024));
  CHECK(op_named(wide, "attention_bwd").bytes.grad_in == 13631488.0);
  // GDA, 24 signal + 8 noise maps: dO of 24 heads 2 x 1024 x 24 x 128 = 6,291,456; dQ, dK of 32
  // maps and dV of 24 heads, 2 x 1024 x (32 + 32 + 24) x 128 = 23,068,672.
  const auto gda = cost(make("gda", {}), workload(Phase::bwd, 1, 1024, 1024));
  CHECK(op_named(gda, "attention_bwd").bytes.grad_out == 6291456.0);
  CHECK(op_named(gda, "attention_bwd").bytes.grad_in == 23068672.0);
}

// ------------------------------------------------------------------------------------------ GDA

TEST_CASE("gda fused: QK over H_s + H_n maps, PV over H_s heads only", "[variants][gda]") {
  // H_s = 24, H_n = 8 (r = 3), d = dv = 128, non-causal B = 1, L = 1024: P = 1,048,576.
  // QK 2 P d (H_s + H_n) = 2 * 1,048,576 * 128 * 32 = 8,589,934,592;
  // PV 2 P dv H_s = 2 * 1,048,576 * 128 * 24 = 6,442,450,944; total 15,032,385,536.
  const auto w = workload(Phase::prefill, 1, 1024, 1024, false);
  const auto c = cost(make("gda", {{"heads", 24}, {"noise_heads", 8}, {"fused", 1}}), w);
  CHECK(c.total_flops().tensor == 15032385536.0);
  CHECK(c.total_flops().exp == 1048576.0 * 32);  // B P (H_s + H_n)
  // Backward: S, dQ, dK over the 32 maps (3 d), dV and dP over the 24 signal heads (2 dv):
  // 2 P (3 * 128 * 32 + 2 * 128 * 24) = 2 * 1,048,576 * 18,432 = 38,654,705,664.
  const auto b = cost(make("gda", {{"heads", 24}, {"noise_heads", 8}}),
                      workload(Phase::bwd, 1, 1024, 1024, false));
  CHECK(b.total_flops().tensor == 38654705664.0);
}

TEST_CASE("gda unfused: the noise map's PV runs once per signal head", "[variants][gda]") {
  // PV 2 (2 P dv) H_s = 4 * 1,048,576 * 128 * 24 = 12,884,901,888; + QK 8,589,934,592.
  const auto w = workload(Phase::prefill, 1, 1024, 1024, false);
  const auto fused = cost(make("gda", {{"heads", 24}, {"noise_heads", 8}, {"fused", 1}}), w);
  const auto unfused = cost(make("gda", {{"heads", 24}, {"noise_heads", 8}, {"fused", 0}}), w);
  CHECK(unfused.total_flops().tensor == 21474836480.0);
  // The difference is one extra PV per signal head: 2 P dv H_s = 6,442,450,944.
  CHECK(unfused.total_flops().tensor - fused.total_flops().tensor == 6442450944.0);
  CHECK(unfused.total_flops().exp == fused.total_flops().exp);
}

TEST_CASE("gda: the KV cache keeps keys of H_s + H_n maps and values of H_s heads",
          "[variants][gda]") {
  // (32 * 128 + 24 * 128) * 2 B = 14,336 B per token per layer.
  const auto c =
      cost(make("gda", {{"heads", 24}, {"noise_heads", 8}}), workload(Phase::decode, 3, 1, 2000));
  CHECK(c.kv_cache_bytes_per_token_per_layer == 14336);
  CHECK(c.kv_cache_bytes == 14336.0 * 3 * 2000);
  // Decode reads K of the 32 maps, V of the 24 signal heads: s B T (32 d) and s B T (24 dv).
  CHECK(c.total_bytes().k == 2.0 * 3 * 2000 * 32 * 128);
  CHECK(c.total_bytes().v == 2.0 * 3 * 2000 * 24 * 128);
  CHECK_THROWS_AS(make("gda", {{"heads", 24}, {"noise_heads", 5}}), common::SpecError);
}
