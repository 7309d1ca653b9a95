// Regression tests for tile-engine correctness defects (issue 8): no NaN from a job count
// truncated to zero, multi-token decode priced by packed rows, Ascend decode packing the query
// heads of a KV head, K/V re-reads that follow the mask, and compulsory bytes taken from the op.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>
#include <string_view>
#include <vector>

#include "common/errors.hpp"
#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "tests/support/model_helpers.hpp"

using models::Phase;
using test_support::catalog;
using test_support::registry;

namespace {

struct CorrectnessCase {
  models::AttentionSpec spec;
  models::Workload w;
};

CorrectnessCase make_case(std::string_view variant, const models::ParamValues& params, Phase phase,
                          std::int64_t batch, std::int64_t q_len, std::int64_t kv_len,
                          bool causal = true) {
  CorrectnessCase c{registry().find(variant).make_spec(params, {}), {}};
  c.w.phase = phase;
  c.w.batch = batch;
  c.w.q_len = q_len;
  c.w.kv_len = kv_len;
  c.w.causal = causal;
  return c;
}

sim::Prediction predict_case_tile(const CorrectnessCase& c, std::string_view hw,
                                  std::string_view kernel = "auto") {
  return sim::predict(sim::EngineKind::tile, c.spec.variant->cost(c.spec, c.w), c.w,
                      catalog().resolve(hw), kernel);
}

}  // namespace

TEST_CASE("a GEMM of fewer rows than one tile (nsa/fsa decode at batch 1) still runs one CTA",
          "[tile][correctness]") {
  for (const char* variant : {"nsa", "fsa"}) {
    for (std::int64_t batch : {1, 3, 15}) {
      const CorrectnessCase c = make_case(variant, {}, Phase::decode, batch, 1, 4096);
      const sim::Prediction p = predict_case_tile(c, "h100");
      INFO(variant << " batch " << batch);
      CHECK(std::isfinite(p.hbm_bytes_moved));
      CHECK(std::isfinite(p.time_s));
      CHECK(p.time_s > 0);
      for (const sim::LaunchPrediction& l : p.launches) {
        INFO(l.name);
        CHECK(l.ctas >= 1);
        CHECK(std::isfinite(l.hbm_bytes));
      }
    }
  }
}

// Decode kernels pack q_len x G rows of one KV head into one M tile (FlashInfer
// BatchDecodeWithPagedKVCache bdy = G; FlashMLA BLOCK_SIZE_M = 64 rows of Sq * Hq / Hkv), so a
// second query token that still fits the tile costs little more than the first.
TEST_CASE("decode with q_len 2 costs at most 2x q_len 1 and about the same while rows fit a tile",
          "[tile][correctness]") {
  struct Shape {
    const char* variant;
    models::ParamValues params;
    const char* hw;
    const char* kernel;
    double fits_ratio;  // bound on q_len 2 / q_len 1 when q_len x G fits one M tile; 0 = skip
  };
  const std::vector<Shape> shapes = {
      // Absorbed MLA's 576/512 heads: 32 query heads, 64 rows at q_len 2 fill one tile.
      {"mla", {{"heads", 32}}, "h100", "split_kv", 1.25},
      {"mla", {{"heads", 32}}, "h100", "lean", 1.25},
      {"gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}}, "a100", "auto", 1.25},
      {"gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}}, "910b", "auto", 1.25},
      {"mla", {{"heads", 128}}, "h100", "auto", 0},
      {"mla", {{"heads", 128}}, "910b", "auto", 0},
  };
  for (const Shape& s : shapes) {
    const CorrectnessCase one = make_case(s.variant, s.params, Phase::decode, 128, 1, 4096);
    const CorrectnessCase two = make_case(s.variant, s.params, Phase::decode, 128, 2, 4096);
    const double ratio = predict_case_tile(two, s.hw, s.kernel).time_s /
                         predict_case_tile(one, s.hw, s.kernel).time_s;
    INFO(s.variant << " on " << s.hw << " kernel " << s.kernel
                   << ": q_len 2 / q_len 1 = " << ratio);
    CHECK(ratio <= 2);
    if (s.fits_ratio > 0) CHECK(ratio <= s.fits_ratio);
  }
}

// IncreFlashAttention splits the cores over B x N2 (KV heads) and tiles G only on the vector side,
// so the cube multiplies all G query heads of a KV head at once: 910B decode is bounded by its
// ~3x lower bandwidth and compute than an H200, not by per-head re-reads of the cache.
TEST_CASE("ascend decode packs the query heads of a KV head (mla, 128 heads, 128k context)",
          "[tile][correctness]") {
  const CorrectnessCase c = make_case("mla", {}, Phase::decode, 64, 1, 131072);
  const sim::Prediction ascend = predict_case_tile(c, "910b");
  const sim::Prediction h200 = predict_case_tile(c, "h200");
  INFO("910b " << ascend.time_s << " s, h200 " << h200.time_s << " s");
  CHECK(ascend.time_s / h200.time_s < 6);
  CHECK(ascend.tensor_utilization > 0.1);
  // The cache is read about once, not once per query head.
  CHECK(ascend.hbm_bytes_moved < 2 * ascend.bytes.total());
}

// Under a causal (or windowed) mask a K/V tile is read only by the row blocks that see it, so the
// L2 reuse of K/V is the mean number of readers, not the number of row blocks: the tile engine
// never moves fewer bytes than the op must.
TEST_CASE("the tile engine never moves fewer HBM bytes than the op's compulsory bytes",
          "[tile][correctness]") {
  struct Shape {
    Phase phase;
    std::int64_t batch, q_len, kv_len;
    bool causal;
  };
  const std::vector<Shape> shapes = {
      {Phase::prefill, 1, 1024, 1024, true},  {Phase::prefill, 2, 4096, 4096, true},
      {Phase::prefill, 1, 1024, 1024, false}, {Phase::fwd, 1, 2048, 2048, true},
      {Phase::train, 1, 1024, 1024, true},    {Phase::decode, 1, 1, 4096, true},
      {Phase::decode, 64, 2, 8192, true},     {Phase::decode, 7, 1, 100, true},
  };
  for (const auto& variant : registry().variants()) {
    const models::Variant* v = variant.get();
    models::AttentionSpec spec;
    try {
      spec = v->make_spec({}, {});
    } catch (const common::SpecError&) {
      spec = v->make_spec({}, {true, 0});  // variants that change only the projections
    }
    for (const Shape& s : shapes) {
      if (!v->supports(s.phase)) continue;
      models::Workload w;
      w.phase = s.phase, w.batch = s.batch, w.q_len = s.q_len, w.kv_len = s.kv_len;
      w.causal = s.causal;
      models::CostModel cost;
      try {
        cost = v->cost(spec, w);
      } catch (const common::SpecError&) {
        continue;  // a shape the variant rejects (e.g. nsa without the causal mask)
      }
      for (const char* hw : {"a100", "h100", "b200", "910b"}) {
        const hw::Profile& p = catalog().resolve(hw);
        const sim::Prediction pred = sim::predict(sim::EngineKind::tile, cost, w, p, "auto");
        INFO(v->name() << " " << models::to_string(s.phase) << " B " << s.batch << " Sq " << s.q_len
                       << " Sk " << s.kv_len << " causal " << s.causal << " on " << hw);
        CHECK(std::isfinite(pred.time_s));
        CHECK(pred.time_s > 0);
        CHECK(pred.hbm_bytes_moved >= pred.bytes.total() * (1 - 1e-9));
      }
    }
  }
}

TEST_CASE("causal mha prefill moves at least its compulsory bytes (S 1024 on A100)",
          "[tile][correctness]") {
  const CorrectnessCase c =
      make_case("mha", {{"heads", 32}, {"head_dim", 128}}, Phase::prefill, 1, 1024, 1024);
  const sim::Prediction p = predict_case_tile(c, "a100");
  CHECK(p.hbm_bytes_moved >= p.bytes.total());
}

// One rule for the log-sum-exp: the op says whether a pass writes it (a softmax fwd does, a sigmoid
// keeps no row statistics), and the tile engine moves exactly the op's extra bytes.
TEST_CASE("the tile engine moves LSE bytes only where the op has them", "[tile][correctness]") {
  for (const char* variant : {"sigmoid", "mha"}) {
    const CorrectnessCase fwd = make_case(variant, {}, Phase::fwd, 1, 4096, 4096);
    const CorrectnessCase prefill = make_case(variant, {}, Phase::prefill, 1, 4096, 4096);
    const sim::Prediction a = predict_case_tile(fwd, "h100");
    const sim::Prediction b = predict_case_tile(prefill, "h100");
    INFO(variant);
    CHECK(a.hbm_bytes_moved - b.hbm_bytes_moved == Approx(a.bytes.lse - b.bytes.lse).margin(1));
  }
}
