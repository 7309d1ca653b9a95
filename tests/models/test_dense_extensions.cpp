// Dense extensions (docs/variants.md §A5 SQA, §A8 differential, §A10 gated, §A11 sigmoid),
// plus checks every registered variant must pass (defaults, resolved parameters, tile engine).
#include <catch2/catch.hpp>

#include <cmath>
#include <cstring>
#include <string>

#include "common/errors.hpp"
#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::cost;
using test_support::make;
using test_support::op_named;
using test_support::registry;
using test_support::workload;

using models::Phase;

namespace {

// Weight-side variants (family "weights", models/weight_side.hpp) change only the projections, so
// they need include_projections; every other variant builds from no input at all.
models::ProjectionConfig default_projections(const models::Variant& v) {
  if (v.family() != "weights") return {};
  CHECK_THROWS_WITH(v.make_spec({}, {}), Catch::Contains("--include-projections"));
  return {true, 0};
}

void check_same_cost_and_params(const models::CostModel& a, const models::CostModel& b) {
  CHECK(a.total_flops().tensor == b.total_flops().tensor);
  CHECK(a.total_flops().exp == b.total_flops().exp);
  CHECK(a.total_flops().vector == b.total_flops().vector);
  CHECK(a.total_bytes().total() == b.total_bytes().total());
  CHECK(a.kv_cache_bytes == b.kv_cache_bytes);
  CHECK(a.parameters_per_layer == b.parameters_per_layer);
}

}  // namespace

// ---------------------------------------------------------------------------------------- SQA

TEST_CASE("sqa: halving the query heads at fixed kv_heads halves core FLOPs and exps",
          "[variants][sqa]") {
  const auto w = workload(Phase::prefill, 1, 1024, 1024, false);
  const auto h16 = cost(make("sqa", {{"heads", 16}, {"kv_heads", 4}}), w);
  const auto h8 = cost(make("sqa", {{"heads", 8}, {"kv_heads", 4}}), w);
  // Non-causal: 4 B Hq L^2 d = 4 * 16 * 1024^2 * 128 = 8,589,934,592.
  CHECK(h16.total_flops().tensor == 8589934592.0);
  CHECK(h8.total_flops().tensor == 4294967296.0);  // 4 * 8 * 1024^2 * 128
  CHECK(h8.total_flops().exp == h16.total_flops().exp / 2);
  CHECK(h8.total_bytes().k == h16.total_bytes().k);  // K/V traffic follows Hkv only
}

TEST_CASE("sqa with heads = kv_heads = model_heads costs exactly what mha costs",
          "[variants][sqa]") {
  for (bool proj : {false, true}) {
    for (Phase phase : {Phase::prefill, Phase::decode, Phase::train}) {
      const auto w = workload(phase, 2, phase == Phase::decode ? 1 : 300, 300);
      // SQA's D = model_heads * d = 32 * 128 = 4096, MHA's D = heads * d = 4096.
      const auto sqa =
          make("sqa", {{"heads", 32}, {"kv_heads", 32}, {"model_heads", 32}}, {proj, 0});
      const auto mha = make("mha", {{"heads", 32}}, {proj, 0});
      check_same_cost_and_params(cost(sqa, w), cost(mha, w));
    }
  }
}

TEST_CASE("sqa: KV cache is 2 Hkv d s bytes per token per layer", "[variants][sqa]") {
  auto w = workload(Phase::decode, 3, 1, 5000);
  w.layers = 2;
  const auto c = cost(make("sqa", {{"heads", 8}, {"kv_heads", 4}, {"head_dim", 128}}), w);
  CHECK(c.kv_cache_bytes_per_token_per_layer == 2048);  // 2 * 4 * 128 * 2 B
  CHECK(c.kv_cache_bytes == 2048.0 * 3 * 5000 * 2);
}

TEST_CASE("sqa: projection params are D d (2Hq + 2Hkv), xSQA holds D^2, 1/4 of MHA's 4D^2",
          "[variants][sqa]") {
  // H = 16, d = 64 => D = 1024; MHA 4 D^2 = 4,194,304.
  const auto mha = make("mha", {{"heads", 16}, {"head_dim", 64}}, {true, 0});
  const auto w = workload(Phase::prefill, 1, 100, 100);
  CHECK(cost(mha, w).parameters_per_layer == 4194304);
  // xSQA Hq = Hkv = 4: 1024 * 64 * (8 + 8) = 1,048,576 = D^2.
  const auto xsqa = make(
      "sqa", {{"heads", 4}, {"kv_heads", 4}, {"head_dim", 64}, {"model_heads", 16}}, {true, 0});
  CHECK(xsqa.projections.hidden_size == 1024);
  CHECK(cost(xsqa, w).parameters_per_layer == 1048576);
  // SQA Hq = 8, Hkv = 4: 1024 * 64 * (16 + 8) = 1,572,864; forward GEMMs 2 FLOPs/param/token.
  const auto sqa = make(
      "sqa", {{"heads", 8}, {"kv_heads", 4}, {"head_dim", 64}, {"model_heads", 16}}, {true, 0});
  const auto with = cost(sqa, w);
  auto no_proj = sqa;
  no_proj.projections.include = false;
  CHECK(with.parameters_per_layer == 1572864);
  CHECK(with.total_flops().tensor - cost(no_proj, w).total_flops().tensor == 2.0 * 100 * 1572864);
}

TEST_CASE("sqa: heads above model_heads are rejected", "[variants][sqa]") {
  CHECK_THROWS_AS(make("sqa", {{"heads", 64}, {"kv_heads", 8}, {"model_heads", 32}}),
                  common::SpecError);
  CHECK_THROWS_WITH(make("sqa", {{"heads", 64}, {"kv_heads", 8}}),
                    Catch::Contains("must not exceed model_heads"));
  CHECK_NOTHROW(make("sqa", {{"heads", 32}, {"kv_heads", 8}}));
}

// ------------------------------------------------------------------------------- differential

TEST_CASE("diff: non-causal core FLOPs are 6 B D P, 1.5x an MHA of the same width",
          "[variants][diff]") {
  // h = 16, d = 64 => D = 2 h d = 2048; B = 2, L = 512 => P = 262,144.
  const auto w = workload(Phase::prefill, 2, 512, 512, false);
  const auto diff = cost(make("diff", {{"heads", 16}, {"head_dim", 64}}), w);
  const auto mha = cost(make("mha", {{"heads", 16}, {"head_dim", 128}}), w);
  CHECK(diff.total_flops().tensor == 6442450944.0);  // 6 * 2 * 2048 * 262144
  CHECK(mha.total_flops().tensor == 4294967296.0);   // 4 * 2 * 2048 * 262144
  CHECK(diff.total_flops().tensor == 1.5 * mha.total_flops().tensor);
  // exps 2 h P per batch element: 2 * 16 * 262144 * 2 = 16,777,216 (2x the MHA's).
  CHECK(diff.total_flops().exp == 16777216.0);
  CHECK(diff.total_flops().exp == 2 * mha.total_flops().exp);
}

TEST_CASE("diff: KV cache is 2 D s per token per layer, the same as an MHA of width D",
          "[variants][diff]") {
  const auto w = workload(Phase::decode, 2, 1, 1000);
  const auto diff = cost(make("diff", {{"heads", 16}, {"head_dim", 64}}), w);
  const auto mha = cost(make("mha", {{"heads", 16}, {"head_dim", 128}}), w);
  CHECK(diff.kv_cache_bytes_per_token_per_layer == 8192);  // 2 * 2048 * 2 B
  CHECK(diff.kv_cache_bytes == 8192.0 * 2 * 1000);
  CHECK(diff.kv_cache_bytes == mha.kv_cache_bytes);
}

TEST_CASE("diff: the combine (O1 - lambda O2, RMSNorm) is an elementwise op in each pass",
          "[variants][diff]") {
  const auto s = make("diff", {{"heads", 16}, {"head_dim", 64}});
  const auto prefill = cost(s, workload(Phase::prefill, 1, 256, 256));
  const models::Op& combine = op_named(prefill, "diff_combine_fwd");
  CHECK(combine.kind == models::OpKind::elementwise);
  // Reads O1, O2 and writes O: 3 s per output element, B L h 2d = 256 * 16 * 128 elements.
  CHECK(combine.bytes.activations == 3.0 * 2 * 256 * 16 * 128);
  CHECK(prefill.ops.size() == 3);  // two attention calls and the combine
  const auto train = cost(s, workload(Phase::train, 1, 256, 256));
  CHECK(op_named(train, "diff_combine_bwd").pass == models::Pass::backward);
  CHECK(train.ops.size() == 6);
}

TEST_CASE("diff: projections are those of a Transformer of width D (4 D^2)", "[variants][diff]") {
  const auto s = make("diff", {{"heads", 16}, {"head_dim", 64}}, {true, 0});
  CHECK(s.projections.hidden_size == 2048);
  CHECK(cost(s, workload(Phase::prefill, 1, 64, 64)).parameters_per_layer == 4.0 * 2048 * 2048);
}

// ------------------------------------------------------------------------------------- gated

TEST_CASE("gated: core attention and KV cache equal the same-shape gqa", "[variants][gated]") {
  for (double headwise : {0.0, 1.0}) {
    for (Phase phase : {Phase::prefill, Phase::decode, Phase::train}) {
      const auto w = workload(phase, 2, phase == Phase::decode ? 1 : 512, 512);
      const auto g =
          cost(make("gated", {{"heads", 32}, {"kv_heads", 8}, {"headwise", headwise}}), w);
      const auto q = cost(make("gqa", {{"heads", 32}, {"kv_heads", 8}}), w);
      for (const models::Op& op : q.ops) {
        CHECK(op_named(g, op.name).flops.total() == op.flops.total());
        CHECK(op_named(g, op.name).bytes.total() == op.bytes.total());
      }
      CHECK(g.kv_cache_bytes == q.kv_cache_bytes);
      CHECK(g.total_flops().tensor == q.total_flops().tensor);  // the gate adds no matmul
    }
  }
}

TEST_CASE("gated: a headwise gate moves fewer bytes and exps than an elementwise one",
          "[variants][gated]") {
  // B = 1, L = 1024, Hq = 32, dv = 128: 4,194,304 outputs, 32,768 head gates.
  const auto w = workload(Phase::prefill, 1, 1024, 1024);
  const auto elem = op_named(cost(make("gated", {{"headwise", 0}}), w), "output_gate_fwd");
  const auto head = op_named(cost(make("gated", {{"headwise", 1}}), w), "output_gate_fwd");
  CHECK(elem.bytes.total() == 25165824.0);  // O, gate, gated O: 3 * 2 B * 4,194,304
  CHECK(head.bytes.total() == 16842752.0);  // 2 * 2 B * 4,194,304 + 2 B * 32,768
  CHECK(head.bytes.total() < elem.bytes.total());
  CHECK(elem.flops.exp == 4194304.0);  // one sigmoid per gate score
  CHECK(head.flops.exp == 32768.0);
}

TEST_CASE("gated: with projections the gate adds D Hq dv (elementwise) or D Hq (headwise) params",
          "[variants][gated]") {
  const auto w = workload(Phase::prefill, 1, 10, 10);
  const double base = cost(make("gqa", {}, {true, 0}), w).parameters_per_layer;  // 41,943,040
  const auto elem = cost(make("gated", {{"headwise", 0}}, {true, 0}), w);
  const auto head = cost(make("gated", {{"headwise", 1}}, {true, 0}), w);
  CHECK(base == 41943040);
  CHECK(elem.parameters_per_layer - base == 16777216.0);  // 4096 * 32 * 128
  CHECK(head.parameters_per_layer - base == 131072.0);    // 4096 * 32
  // Extra forward FLOPs per token 2 D Hq dv: 2 * 10 tokens * 16,777,216.
  CHECK(op_named(elem, "gate_proj_fwd").flops.tensor == 2.0 * 10 * 16777216);
}

// ----------------------------------------------------------------------------------- sigmoid

TEST_CASE("sigmoid: same tensor FLOPs as gqa, fewer forward vector FLOPs (no final 1/l)",
          "[variants][sigmoid]") {
  // B = 2, L = 512, Hq = 32, dv = 128: B Hq L dv = 4,194,304.
  const auto sig = make("sigmoid", {{"heads", 32}, {"kv_heads", 8}});
  const auto soft = make("gqa", {{"heads", 32}, {"kv_heads", 8}});
  const auto pf = workload(Phase::prefill, 2, 512, 512);
  CHECK(cost(sig, pf).total_flops().tensor == cost(soft, pf).total_flops().tensor);
  CHECK(cost(sig, pf).total_flops().exp == cost(soft, pf).total_flops().exp);
  // Forward: softmax's final dv divides per row.
  CHECK(cost(soft, pf).total_flops().vector - cost(sig, pf).total_flops().vector == 4194304.0);
  const auto bw = workload(Phase::bwd, 2, 512, 512);
  CHECK(cost(sig, bw).total_flops().tensor == cost(soft, bw).total_flops().tensor);
  CHECK(cost(sig, bw).total_flops().exp == cost(soft, bw).total_flops().exp);
}

TEST_CASE("sigmoid: no LSE in the training forward, no LSE/delta or O read in the backward",
          "[variants][sigmoid]") {
  const auto sig = make("sigmoid", {{"heads", 32}, {"kv_heads", 8}});
  const auto soft = make("gqa", {{"heads", 32}, {"kv_heads", 8}});
  const auto fwd = workload(Phase::fwd, 2, 512, 512);
  CHECK(cost(soft, fwd).total_bytes().lse == 4.0 * 2 * 32 * 512);
  CHECK(cost(sig, fwd).total_bytes().lse == 0);
  const auto bwd = op_named(cost(sig, workload(Phase::bwd, 2, 512, 512)), "attention_bwd");
  CHECK(bwd.bytes.lse == 0);
  CHECK(bwd.bytes.o == 0);
  CHECK(bwd.bytes.grad_out > 0);
}

// ------------------------------------------------------------------------- every variant

TEST_CASE("every registered variant has valid defaults and a positive cost in every phase",
          "[variants]") {
  REQUIRE(registry().variants().size() >= 10);
  for (const auto& v : registry().variants()) {
    INFO("variant " << v->name());
    const models::AttentionSpec s = v->make_spec({}, default_projections(*v));
    CHECK(s.variant == v.get());
    const auto resolved = models::resolved_params(s);
    REQUIRE(resolved.size() == v->params().size());
    for (std::size_t i = 0; i < resolved.size(); ++i) {
      const models::ParamInfo& info = v->params()[i];
      INFO("parameter " << std::string(info.name));
      CHECK(resolved[i].first == info.name);
      CHECK(resolved[i].second >= info.min);
      CHECK(resolved[i].second <= info.max);
    }
    for (Phase phase : {Phase::prefill, Phase::decode, Phase::train}) {
      INFO("phase " << std::string(models::to_string(phase)));
      const auto w = workload(phase, 2, phase == Phase::decode ? 1 : 256, 256);
      if (!v->supports(phase)) {
        CHECK_THROWS_AS(cost(s, w), common::SpecError);  // said clearly, never guessed
        continue;
      }
      const auto c = cost(s, w);
      const auto f = c.total_flops();
      if (v->family() == "linear" && phase == Phase::decode) {
        CHECK(f.vector > 0);  // the recurrent step runs on the FP32 pipes
      } else {
        CHECK(f.tensor > 0);
      }
      CHECK(c.total_bytes().total() > 0);
      CHECK(std::isfinite(f.total()));
    }
  }
}

TEST_CASE("the tile engine prices every variant's prefill and decode on an H100", "[variants]") {
  static const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const hw::Profile& h100 = catalog.resolve("h100");
  for (const auto& v : registry().variants()) {
    INFO("variant " << v->name());
    const models::AttentionSpec s = v->make_spec({}, default_projections(*v));
    for (Phase phase : {Phase::prefill, Phase::decode}) {
      INFO("phase " << std::string(models::to_string(phase)));
      if (!v->supports(phase)) continue;
      const auto w = workload(phase, 1, phase == Phase::decode ? 1 : 2048, 2048);
      const sim::Prediction p = sim::predict(sim::EngineKind::tile, cost(s, w), w, h100);
      CHECK(p.time_s > 0);
      CHECK(std::isfinite(p.time_s));
    }
  }
}
