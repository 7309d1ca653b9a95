// The tile engine never makes more work cheaper, for the launches around the attention kernels
// (elementwise, memory and GEMM launches) and for the backward's partial row blocks: one pinned
// case per cause found, each a pair of shapes where the smaller one priced above the larger.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string_view>
#include <tuple>

#include "models/projections.hpp"
#include "tests/support/monotone_helpers.hpp"

using models::Phase;
using test_support::bf16_time;
using test_support::drops;

using test_support::builtin_profile;
using test_support::default_variant_time;

TEST_CASE("an elementwise op that gains a chunk and a CTA is not faster (longest CTA holds)",
          "[tile][monotone]") {
  // gated: the output gate moves 48 KiB at batch 2 (one chunk), 72 KiB at batch 3 (two CTAs).
  CHECK(default_variant_time("gated", Phase::decode, "a100", 3, 1) >=
        default_variant_time("gated", Phase::decode, "a100", 2, 1));
  // superlinear: the span search's FLOPs cross a chunk from kv 1 to 2 at batch 1024.
  CHECK(default_variant_time("superlinear", Phase::decode, "h100", 1024, 2) >=
        default_variant_time("superlinear", Phase::decode, "h100", 1024, 1));
}

TEST_CASE(
    "an elementwise grid's last wave runs lighter: twice the work never takes more than twice "
    "the time, and llsa split over two devices is not superlinear",
    "[tile][monotone]") {
  // A grid-stride loop capped at 8 CTAs an SM priced the CTAs with a second chunk as if all 8
  // still shared their SM: llsa's pooling (A100 PCIe, 32 heads, 4096 tokens) took 88 us against
  // 30 us for 16 heads, and --tp 2 priced a device below half the single device's time.
  for (const char* hw : {"a100-pcie", "h100", "910b"}) {
    auto time = [&](double values) {
      models::CostModel cost;
      cost.ops.push_back(
          models::elementwise_op("pass_fwd", models::Pass::forward, values, 6, 0, 2));
      models::Workload w = test_support::workload(Phase::prefill, 1, 1, 1, true);
      return sim::predict(sim::EngineKind::tile, cost, w, builtin_profile(hw)).time_s;
    };
    for (double values = 1 << 16; values < 1 << 30; values *= 1.37) {
      INFO(hw << " at " << values << " values");
      CHECK(time(2 * values) <= 2 * time(values));
    }
  }
  const models::AttentionSpec llsa = test_support::make("llsa", {});
  const models::AttentionSpec half = test_support::make("llsa", {{"heads", 16}, {"kv_heads", 4}});
  const auto llsa_time = [](const models::AttentionSpec& spec) {
    return bf16_time("a100-pcie", "auto", spec, Phase::prefill, 1, 4096, 4096);
  };
  CHECK(llsa_time(half) >= llsa_time(llsa) / 2);
}

TEST_CASE("an elementwise grid counts work as well as bytes: an fp8 KV cache is never slower",
          "[tile][monotone]") {
  // dma's value_importance is FP32 work over the cached values: sized by its bytes alone, the fp8
  // cache halved its CTAs (4 -> 2 on A100 at 100 tokens) and priced the step 22 % slower. Sized
  // at the FP32 FLOP rate where the price issues a lane instruction per FLOP (half that rate),
  // superlinear's span search on 910B (decode, 8k) ran on 2 CTAs instead of 3, 2 % slower, and
  // kdgqa's key norms on B200 (prefill, 1k) on 22 instead of 32.
  const auto fp8_over_bf16 = [](const char* variant, Phase phase, const char* hw,
                                std::int64_t len) {
    test_support::Query q{
        test_support::make(variant, {}),
        test_support::workload(phase, 1, phase == Phase::decode ? 1 : len, len, true)};
    q.w.dtype = q.w.kv_dtype = models::DType::bf16;
    const double bf16 =
        sim::predict(sim::EngineKind::tile, q.cost(), q.w, builtin_profile(hw)).time_s;
    q.w.kv_dtype = models::DType::fp8;
    return sim::predict(sim::EngineKind::tile, q.cost(), q.w, builtin_profile(hw)).time_s / bf16;
  };
  for (const char* hw : {"a100", "h100", "b200"}) {
    for (std::int64_t len : {100, 1000, 8192}) {
      INFO(hw << " at " << len << " tokens");
      CHECK(fp8_over_bf16("dma", Phase::prefill, hw, len) <= 1);
    }
  }
  CHECK(fp8_over_bf16("superlinear", Phase::decode, "910b", 8192) <= 1);
  CHECK(fp8_over_bf16("kdgqa", Phase::prefill, "b200", 1024) <= 1);
  CHECK(fp8_over_bf16("kdgqa", Phase::prefill, "a100", 1024) <= 1);
  CHECK(fp8_over_bf16("core-context", Phase::prefill, "910b", 1024) <= 1);
}

TEST_CASE("a memory launch that gains a row block is not faster (bwd preprocess and convert)",
          "[tile][monotone]") {
  CHECK(default_variant_time("mha", Phase::bwd, "h100", 1, 17) >=
        default_variant_time("mha", Phase::bwd, "h100", 1, 2));
  CHECK(default_variant_time("mha", Phase::bwd, "a100", 1, 17) >=
        default_variant_time("mha", Phase::bwd, "a100", 1, 2));
  // A full wave of a memory launch runs whole chunks: GQA d 64, batch 2, on A100 FA2, 254 -> 255
  // tokens turns 127 whole chunks of 128 rows into 127.5, and the mean job of 128 CTAs thinned
  // (the preprocess and convert launches, 0.05 % faster in all).
  const models::AttentionSpec gqa =
      test_support::make("gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 64}});
  CHECK(bf16_time("a100", "fa2", gqa, Phase::bwd, 2, 255, 255) >=
        bf16_time("a100", "fa2", gqa, Phase::bwd, 2, 254, 254));
  CHECK(bf16_time("b200", "cudnn", gqa, Phase::bwd, 2, 335, 335) >=
        bf16_time("b200", "cudnn", gqa, Phase::bwd, 2, 334, 334));
}

TEST_CASE("a GEMM that gains a row tile is not faster (each CTA loads its whole operand tiles)",
          "[tile][monotone]") {
  CHECK(default_variant_time("gam", Phase::prefill, "ascend-910b1", 1, 256) >=
        default_variant_time("gam", Phase::prefill, "ascend-910b1", 1, 17));
}

TEST_CASE(
    "a backward that gains a partial row block is not faster (the longest CTA's tiles are whole)",
    "[tile][monotone]") {
  // MLA's non-absorbed backward (d 192, dv 128) on FA3's 64 x 96 tiles, H100: every KV tile's CTA
  // of a 129-token sequence visits one more row block than at 128, holding one row. Counted as a
  // whole tile's share of the bytes but priced at its one row's, the longest CTA thinned: 129
  // tokens priced below 128.
  const models::AttentionSpec mla = test_support::make("mla", {{"mode", 2}});
  auto time = [&](std::int64_t len) {
    return bf16_time("h100", "fa3", mla, Phase::bwd, 1, len, len);
  };
  CHECK(time(129) >= time(128));
  // Token by token over five row blocks, for MLA and a d-128 MHA on FA3 (H100) and FA2 (A100).
  const models::AttentionSpec mha = test_support::make("mha", {{"heads", 32}, {"head_dim", 128}});
  for (const auto& [hw, kernel, spec] :
       {std::tuple{"h100", "fa3", &mla}, std::tuple{"h100", "fa3", &mha},
        std::tuple{"a100", "fa2", &mha}}) {
    auto longer = [&](std::int64_t len) {
      return bf16_time(hw, kernel, *spec, Phase::bwd, 2, len, len);
    };
    const auto [count, first] = drops(longer, 64, 384, 1);
    INFO(hw << " " << kernel << " d " << spec->heads.head_dim << ": first drop at " << first);
    CHECK(count == 0);
  }
}
