// The tile engine never makes more work cheaper (issue #8, "make the class of defect impossible"):
// one pinned case per cause the invariant grid found, each a pair of shapes where the smaller one
// used to price above the larger. The grid (test_invariant_grid.cpp) checks the law everywhere;
// these name the mechanism. The launches around the attention kernels and the backward's row
// blocks: test_tile_monotone_support.cpp.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string_view>

#include "tests/support/monotone_helpers.hpp"

using models::Phase;

namespace {

using test_support::bf16_time;
using test_support::drops;

double time_s(std::string_view variant, Phase phase, std::string_view hw, std::int64_t batch,
              std::int64_t len) {
  return test_support::default_variant_time(variant, phase, hw, batch, len);
}

// Tile-engine time of a causal bf16 MHA forward, B 4, H 32, on `kernel`.
double causal_fwd_s(std::string_view hw, std::string_view kernel, std::int64_t head_dim,
                    std::int64_t len) {
  return bf16_time(hw, kernel, test_support::make("mha", {{"heads", 32}, {"head_dim", head_dim}}),
                   models::Phase::fwd, 4, len, len);
}

}  // namespace

TEST_CASE("split-KV decode is not faster for a larger batch or context (fastest split count)",
          "[tile][monotone]") {
  // The wave heuristic took fewer splits and a cheaper combine for the larger batch.
  CHECK(time_s("mla", Phase::decode, "h100", 3, 4096) >=
        time_s("mla", Phase::decode, "h100", 2, 4096));
  CHECK(time_s("core-context", Phase::decode, "h100", 2, 4096) >=
        time_s("core-context", Phase::decode, "h100", 1, 4096));
  CHECK(time_s("dma", Phase::decode, "h100", 1, 65536) >=
        time_s("dma", Phase::decode, "h100", 1, 4096));
  // IncreFlashAttention on the 910B: batch 2 stopped a split batch 1 paid for.
  CHECK(time_s("dma", Phase::decode, "ascend-910b1", 2, 4096) >=
        time_s("dma", Phase::decode, "ascend-910b1", 1, 4096));
  // A window visits 4 tiles at any context: more splits than that are empty CTAs, not parallelism.
  CHECK(time_s("swa", Phase::decode, "ascend-910b3", 1, 65536) >=
        time_s("swa", Phase::decode, "ascend-910b3", 1, 4096));
}

TEST_CASE("fa2 one-token GQA prefill does not cost more than two tokens (packing is a choice)",
          "[tile][monotone]") {
  CHECK(time_s("mqa", Phase::prefill, "a100", 1, 2) >= time_s("mqa", Phase::prefill, "a100", 1, 1));
  CHECK(time_s("gqa", Phase::fwd, "a100", 1, 2) >= time_s("gqa", Phase::fwd, "a100", 1, 1));
}

TEST_CASE(
    "fa4 and Blackwell cuDNN causal prefill are not faster for a longer sequence (diagonal blocks "
    "in turn, longest-first packing)",
    "[tile][monotone]") {
  // Pairs where the longer sequence once priced 5-23 % cheaper: a per-job cost in the shortest
  // job, then longest-first packing's rounding to whole shortest jobs (sim::makespan).
  const struct {
    const char* hw;
    std::int64_t head_dim, shorter, longer;
  } pairs[] = {{"gb300", 64, 448, 512},  {"gb300", 128, 992, 1024},  {"b200", 128, 2272, 2304},
               {"gb300", 64, 288, 320},  {"gb300", 128, 1216, 1248}, {"b200", 64, 1376, 1408},
               {"gb200", 64, 1184, 1216}};
  for (const auto& c : pairs) {
    INFO(c.hw << " hd " << c.head_dim << ": " << c.shorter << " vs " << c.longer);
    const std::string_view kernel = c.hw == std::string_view("gb200") ? "cudnn" : "fa4";
    CHECK(causal_fwd_s(c.hw, kernel, c.head_dim, c.longer) >=
          causal_fwd_s(c.hw, kernel, c.head_dim, c.shorter));
  }
}

TEST_CASE("fa3 causal prefill is not faster for a longer sequence (longest-first packing)",
          "[tile][monotone]") {
  // H100 hd 128, 288 and 320 tokens: rounding to whole shortest jobs priced 320 12 % lower.
  CHECK(causal_fwd_s("h100", "fa3", 128, 320) >= causal_fwd_s("h100", "fa3", 128, 288));
}

TEST_CASE("fa2's in-order grid is not faster for a longer causal prefill (a light last wave)",
          "[tile][monotone]") {
  // H100 hd 64, 2048 and 2080 tokens: the 65th row block starts a last wave of 128 CTAs whose
  // longest job ran nearly alone, 2.4 % below the grid one wave shorter.
  CHECK(causal_fwd_s("h100", "fa2", 64, 2080) >= causal_fwd_s("h100", "fa2", 64, 2048));
}

TEST_CASE("causal prefill never gets cheaper with length, in steps of 32 tokens to 16k",
          "[tile][monotone][sweep]") {
  // The fine check the invariant grid's coarse lengths miss: every flash kernel with a
  // longest-first, static or in-order grid, at head dims 64 and 128 (B 4, H 32, bf16).
  const struct {
    const char* hw;
    const char* kernel;
  } combos[] = {{"gb300", "fa4"}, {"b200", "fa4"}, {"gb200", "cudnn"},
                {"h100", "fa3"},  {"h100", "fa2"}, {"a100", "fa2"}};
  for (const auto& c : combos) {
    for (std::int64_t head_dim : {64, 128}) {
      const auto [count, first] =
          drops([&](std::int64_t len) { return causal_fwd_s(c.hw, c.kernel, head_dim, len); }, 256,
                16384, 32);
      INFO(c.hw << " " << c.kernel << " hd " << head_dim << ": first drop at " << first);
      CHECK(count == 0);
    }
  }
}

TEST_CASE("a decode step never gets cheaper with the context, in steps of 64 tokens to 16k",
          "[tile][monotone][sweep]") {
  // Split-KV decode at the fastest split count: a split's longest job is whole key tiles, which
  // the mean tile (with the partial last one's share) priced up to 1.8 % too cheap.
  const struct {
    const char* hw;
    const char* kernel;
  } combos[] = {
      {"h100", "split_kv"}, {"h100", "fa3"}, {"b200", "fa4"}, {"gb200", "cudnn"}, {"h100", "lean"}};
  for (const auto& c : combos) {
    for (std::int64_t batch : {1, 4}) {
      auto time = [&](std::int64_t len) {
        return bf16_time(
            c.hw, c.kernel,
            test_support::make("gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}}),
            models::Phase::decode, batch, 1, len);
      };
      const auto [count, first] = drops(time, 256, 16384, 64);
      INFO(c.hw << " " << c.kernel << " batch " << batch << ": first drop at " << first);
      CHECK(count == 0);
    }
  }
}

TEST_CASE(
    "fa3 forward is not faster for a longer sequence (a training call does not split; the faster "
    "GQA layout)",
    "[tile][monotone]") {
  auto time = [](std::string_view hw, std::int64_t heads, std::int64_t kv_heads, std::int64_t batch,
                 std::int64_t len) {
    return bf16_time(
        hw, "fa3",
        test_support::make("gqa", {{"heads", heads}, {"kv_heads", kv_heads}, {"head_dim", 256}}),
        models::Phase::fwd, batch, len, len);
  };
  // H100, B 2, H 16: FA3's split heuristic split 384 tokens 4 ways (fewer than 0.8 x 132 row
  // blocks) and not 400, whose fp32 partials then made 384 cost 3.3 x as much.
  CHECK(time("h100", 16, 16, 2, 400) >= time("h100", 16, 16, 2, 384));
  // H20, GQA 64/8, B 8: should_pack_gqa left 256 tokens unpacked (they fill their row tiles) and
  // packed 272, whose causal rows visit fewer masked tiles: 19 % cheaper.
  CHECK(time("h20", 64, 8, 8, 272) >= time("h20", 64, 8, 8, 256));
}

TEST_CASE("GQA causal prefill never gets cheaper with length on FA3, FA4 and Blackwell cuDNN",
          "[tile][monotone][sweep]") {
  const struct {
    const char* hw;
    const char* kernel;
  } combos[] = {{"h100", "fa3"}, {"h20", "fa3"}, {"b200", "fa4"}, {"gb200", "cudnn"}};
  for (const auto& c : combos) {
    for (std::int64_t head_dim : {64, 256}) {
      for (std::int64_t batch : {1, 8}) {
        auto time = [&](std::int64_t len) {
          return bf16_time(
              c.hw, c.kernel,
              test_support::make(
                  "gqa", {{"heads", 8 * batch}, {"kv_heads", batch}, {"head_dim", head_dim}}),
              models::Phase::fwd, batch, len, len);
        };
        const auto [count, first] = drops(time, 64, 8192, 16);
        INFO(c.hw << " " << c.kernel << " hd " << head_dim << " batch " << batch
                  << ": first drop at " << first);
        CHECK(count == 0);
      }
    }
  }
}

TEST_CASE(
    "a longest-first grid that gains a partial row block is not cheaper (its shortest job holds a "
    "full block's Q and O)",
    "[tile][monotone]") {
  // H100 FA3, GQA 32/8, d 128, B 4, token by token to 700: 161 tokens pack into five full row
  // blocks of 32 tokens x 4 heads and one of a single token; the shortest job (a first row block)
  // was priced at the mean job's Q and O bytes, which that tiny block pulls down: 2.6 % cheaper
  // than 160 tokens. GQA 64/8 at B 1 dropped 2.1 % from 272 to 273 tokens the same way.
  for (const auto& [heads, batch] : {std::pair<std::int64_t, std::int64_t>{32, 4}, {64, 1}}) {
    const models::AttentionSpec gqa =
        test_support::make("gqa", {{"heads", heads}, {"kv_heads", 8}, {"head_dim", 128}});
    auto time = [&](std::int64_t len) {
      return bf16_time("h100", "fa3", gqa, Phase::prefill, batch, len, len);
    };
    const auto [count, first] = drops(time, 100, 700, 1);
    INFO("heads " << heads << " batch " << batch << ": first drop at " << first);
    CHECK(count == 0);
  }
}

TEST_CASE("an inference prefill never gets cheaper with more cached keys, nor a training forward",
          "[tile][monotone][sweep]") {
  // 1024 or 4096 queries of one head after a growing cache, B 1 (a grid too small to fill the
  // SMs): splitting only calls with cached keys priced one cached key 43 % cheaper than none.
  const struct {
    const char* hw;
    const char* kernel;
  } combos[] = {{"h100", "fa3"}, {"b200", "fa4"}, {"gb200", "cudnn"}};
  for (const auto& c : combos) {
    for (models::Phase phase : {models::Phase::prefill, models::Phase::fwd}) {
      for (std::int64_t q_len : {1024, 4096}) {
        auto time = [&](std::int64_t kv_len) {
          return bf16_time(c.hw, c.kernel,
                           test_support::make("mha", {{"heads", 1}, {"head_dim", 128}}), phase, 1,
                           q_len, kv_len);
        };
        // Steps of one 128-key tile keep the diagonal's place in its key block (which block
        // boundaries it crosses is priced, and repeats with the offset).
        const auto [count, first] = drops(time, q_len, q_len + 16384, 128);
        INFO(c.hw << " " << c.kernel << " " << models::to_string(phase) << " q_len " << q_len
                  << ": first drop at kv_len " << first);
        CHECK(count == 0);
        CHECK(time(q_len + 1) >= time(q_len));
      }
    }
  }
}

TEST_CASE(
    "fa2 splits the keys of a call of few query rows: one token after cached keys prices as a "
    "decode step, and a chunk of new tokens never less than fewer",
    "[tile][monotone]") {
  // A100 (GQA 32/8, d 128): FA2's mha_fwd asks its split heuristic whenever batch x heads x
  // 64-row blocks stay below 0.8 x 2 x 108; a one-token prefill over 4096 cached keys ran 32
  // unsplit CTAs for 133 us against the decode step's 30 us.
  const models::AttentionSpec gqa = test_support::gqa_32_8_d128();
  for (std::int64_t keys : {4096, 65536}) {
    INFO(keys << " keys");
    const double one = bf16_time("a100", "fa2", gqa, Phase::prefill, 1, 1, keys);
    const double step = bf16_time("a100", "auto", gqa, Phase::decode, 1, 1, keys);
    CHECK(one == Approx(step));
  }
  const auto chunk = [&](std::int64_t q_len) {
    return bf16_time("a100", "fa2", gqa, Phase::prefill, 1, q_len, 8192);
  };
  // Token by token within one 64-row block; and no split call above the first call the unsplit
  // kernel prices faster (256 tokens; FA2 may split up to 320, while 32 heads x 64-row blocks stay
  // below 0.8 x 2 x 108). Longer causal
  // chunks are not compared token by token: each one moves every earlier row block's diagonal by
  // a key, which can save a masked key tile (448 queries visit 3 more tiles a head than 512).
  const auto [count, first] = drops(chunk, 1, 64, 1);
  INFO("first drop at q_len " << first);
  CHECK(count == 0);
  for (std::int64_t q_len = 64; q_len < 256; q_len += 32) {
    INFO("q_len " << q_len);
    CHECK(chunk(q_len) <= chunk(256));
  }
}

TEST_CASE(
    "MLA chunked prefill after a fixed cache never gets cheaper with more new tokens, across "
    "the absorbed / non-absorbed switch (auto prices both forms and takes the faster)",
    "[tile][monotone]") {
  // 32,768 cached tokens, DeepSeek-V3's MLA: the form with fewer FLOPs turns non-absorbed at about
  // 170 new tokens (docs/variants.md#b1-mla). Auto took that form whatever it cost: the absorbed
  // one ran on the unfused path where no fused kernel takes its 576-wide heads, and the
  // non-absorbed one left its decompression of the cache out, so 171 tokens priced 76 % below 170
  // on H100. Both forms now count what they do, and the faster is the prediction.
  const models::AttentionSpec mla = test_support::make("mla", {});
  for (const char* hw : {"h100", "b200", "a100", "910b"}) {
    auto time = [&](std::int64_t q_len) {
      return bf16_time(hw, "auto", mla, Phase::prefill, 1, q_len, 32768 + q_len);
    };
    const auto [count, first] = drops(time, 150, 200, 1);
    INFO(hw << ": first drop at " << first);
    CHECK(count == 0);
    CHECK(time(171) >= time(170));
    CHECK(time(1) <= time(64));
  }
}

TEST_CASE(
    "a per-head GEMM is a batched grid: MLA's output absorb at two tokens is not cheaper "
    "than at one",
    "[tile][monotone]") {
  // o_absorb multiplies each head's dv-wide output by its own d_c x dv weights: 128 products.
  // Priced as one product of tokens x 128 rows against one weight, one token ran one CTA that
  // read all 16.8 MB of weights, 118 us on H100, and two tokens 63 us.
  const models::AttentionSpec mla =
      test_support::make("mla", {}, models::ProjectionConfig{true, 0});
  auto time = [&](std::int64_t q_len) {
    return bf16_time("h100", "auto", mla, Phase::decode, 1, q_len, 32768);
  };
  CHECK(time(2) >= time(1));
  CHECK(time(3) >= time(2));
}
