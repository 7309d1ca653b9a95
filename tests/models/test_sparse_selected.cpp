// Content-selected sparse attention (docs/variants.md §D3 DMA, §D4 LLSA, §D5 Routing,
// §D6 Superlinear, §D7 DHSA, Appendix C.4).
#include <catch2/catch.hpp>

#include <cstring>
#include <vector>

#include "common/errors.hpp"
#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::attention_flops;
using test_support::cost;
using test_support::h100_tile_time;
using test_support::make;
using test_support::only;
using test_support::op_named;
using test_support::registry;
using test_support::workload;

using models::Phase;

namespace {

double forward_pairs(const models::CostModel& c) {
  double p = 0;
  for (const models::Op& op : c.ops) {
    if (op.kind == models::OpKind::dense_attention && op.pass == models::Pass::forward) {
      p += op.attention.pairs_per_head * static_cast<double>(op.attention.batch);
    }
  }
  return p;
}

const models::ParamValues kGqa32x8 = {{"heads", 32}, {"kv_heads", 8}};  // d = dv = 128
constexpr double kGqaFlopsPerPair = 16384;                              // 2 * 32 * (128 + 128)

}  // namespace

// ------------------------------------------------------------------------------------------ DMA

TEST_CASE("dma: decode attends to at most keep keys, the cache stays full", "[variants][dma]") {
  auto p = kGqa32x8;
  p.emplace_back("keep", 1024);
  const auto c = cost(make("dma", p), workload(Phase::decode, 1, 1, 65536));
  CHECK(forward_pairs(c) == 1024.0);
  CHECK(attention_flops(c) == kGqaFlopsPerPair * 1024);  // 16,777,216
  CHECK(c.total_bytes().k == 2.0 * 1024 * 8 * 128);      // s keys Hkv d = 2,097,152
  CHECK(c.kv_cache_bytes == 4096.0 * 65536);             // every token, Hkv (d + dv) s
  CHECK(forward_pairs(cost(make("dma", p), workload(Phase::decode, 1, 1, 512))) == 512.0);
  // Prefill L = 8192: sum_t min(t, 1024) = 524,800 + 1024 * 7168 = 7,864,832 pairs.
  CHECK(forward_pairs(cost(make("dma", p), workload(Phase::prefill, 1, 8192, 8192))) == 7864832.0);
}

TEST_CASE("dma: a materialised mask costs B Hkv prefix x 4 B, the index path costs none",
          "[variants][dma]") {
  // L = 1024: causal prefix L (L + 1) / 2 = 524,800 per KV head; mask + bias 2 B each.
  auto dense = kGqa32x8, lean = kGqa32x8;
  dense.emplace_back("dense_mask", 1);
  lean.emplace_back("dense_mask", 0);
  const auto w = workload(Phase::prefill, 1, 1024, 1024);
  CHECK(op_named(cost(make("dma", dense), w), "top_keep").bytes.total() == 8.0 * 524800 * 4);
  CHECK(op_named(cost(make("dma", lean), w), "top_keep").bytes.total() == 0);
  CHECK(op_named(cost(make("dma", lean), w), "top_keep").flops.total() > 0);
}

TEST_CASE(
    "dma trains its bias: the importance's gradient, and with a materialised bias the kernel's "
    "re-read of mask and bias, its dbias per query head and the reductions to (B, Hkv, 1, Lk)",
    "[variants][dma]") {
  // 32 query heads, 8 KV heads (g = 4), d = 128, keep 1024, B = 1.
  auto dense = kGqa32x8, lean = kGqa32x8;
  dense.emplace_back("dense_mask", 1);
  lean.emplace_back("dense_mask", 0);
  const auto w = workload(Phase::train, 1, 2048, 2048);
  const auto c = cost(make("dma", dense), w);
  // Importance: 2048 x 8 items, twice 2 Hkv d + 4 = 2052 FLOPs, reading V and writing dV (2 d s).
  CHECK(op_named(c, "value_importance_bwd").flops.vector == 16384.0 * 2 * 2052);
  CHECK(op_named(c, "value_importance_bwd").bytes.total() == 16384.0 * 2 * 128 * 2);
  // Prefix pairs 2048 x 2049 / 2 = 2,098,176 per KV head; kept 524,800 + 1024 x 1024 =
  // 1,573,376 per query head. Kernel: mask and bias 4 B a pair, dbias 2 B a kept pair per head.
  CHECK(op_named(c, "mask_bias_bwd").bytes.total() == 8.0 * 2098176 * 4 + 32.0 * 1573376 * 2);
  // Zeroed (2g), read (2g) and written (2) by the group sum, read by the sum over queries (2).
  CHECK(op_named(c, "bias_grad_reduce_bwd").bytes.total() == 8.0 * 2098176 * (8 + 8 + 2 + 2));
  // The index path has no materialised bias: only the importance's gradient.
  const auto l = cost(make("dma", lean), w);
  CHECK(op_named(l, "value_importance_bwd").flops.vector == 16384.0 * 2 * 2052);
  CHECK(l.total_bytes().total() + 8.0 * 2098176 * (4 + 20) + 32.0 * 1573376 * 2 +
            8.0 * 2098176 * 4 ==
        Approx(c.total_bytes().total()));
  // A phase without a backward trains nothing.
  const auto p = cost(make("dma", dense), workload(Phase::prefill, 1, 2048, 2048));
  for (const models::Op& op : p.ops) CHECK(op.pass == models::Pass::forward);
}

// ----------------------------------------------------------------------------------------- LLSA

TEST_CASE("llsa: K B + K2 B + N / B^2 = 512 keys per query at N = 65,536: 128x fewer pairs",
          "[variants][llsa]") {
  // DiT-S: 6 heads, d = 64; 2 * 6 * 128 = 1536 FLOPs per pair. 128 + 128 + 256 = 512 keys.
  const models::ParamValues heads = {{"heads", 6}, {"kv_heads", 6}, {"head_dim", 64}};
  auto p = heads;
  p.emplace_back("block", 16);
  p.emplace_back("top_k", 8);
  p.emplace_back("top_k2", 8);
  const auto w = workload(Phase::prefill, 1, 65536, 65536, false);
  const auto c = cost(make("llsa", p), w);
  CHECK(forward_pairs(c) == 65536.0 * 512);
  CHECK(attention_flops(c) == 1536.0 * 65536 * 512);  // 51,539,607,552
  const double full = cost(make("mha", {{"heads", 6}, {"head_dim", 64}}), w).total_flops().tensor;
  CHECK(full / attention_flops(c) == 128);
  // Each query block gathers its own keys: s Hkv (N / B) keys d = 2 * 6 * 4096 * 512 * 64.
  CHECK(op_named(c, "sparse_attention_fwd").bytes.k == 1610612736.0);
}

TEST_CASE("llsa: selection is 2 d (N/B^2)^2 dense plus 2 d (N/B) K2 B sparse per head",
          "[variants][llsa]") {
  const auto c = cost(make("llsa", {{"heads", 6}, {"kv_heads", 6}, {"head_dim", 64}}),
                      workload(Phase::prefill, 1, 65536, 65536, false));
  // Level 2: 2 * 64 * 256^2 = 8,388,608 per head x 6 = 50,331,648.
  CHECK(op_named(c, "level2_scores").flops.total() == 50331648.0);
  // Level 1: 2 * 64 * 4096 * 128 = 67,108,864 per head x 6 = 402,653,184.
  CHECK(op_named(c, "level1_scores").flops.total() == 402653184.0);
  CHECK_FALSE(registry().find("llsa").supports(Phase::decode));
  CHECK_THROWS_AS(cost(make("llsa", {}), workload(Phase::decode, 1, 1, 4096)), common::SpecError);
}

// -------------------------------------------------------------------------------------- Routing

TEST_CASE("routing: k = sqrt(n) clusters score n^2 / k within-cluster pairs (non-causal)",
          "[variants][routing]") {
  // n = 4096, k = 64 clusters of 64: 64 * 64^2 = 262,144 = 4096^2 / 64 pairs per head.
  const auto w = workload(Phase::prefill, 1, 4096, 4096, false);
  const auto automatic = cost(make("routing", kGqa32x8), w);
  auto k64 = kGqa32x8;
  k64.emplace_back("clusters", 64);
  CHECK(forward_pairs(automatic) == 262144.0);
  CHECK(attention_flops(automatic) == kGqaFlopsPerPair * 262144);
  CHECK(attention_flops(cost(make("routing", k64), w)) == attention_flops(automatic));
  // n = 16,384: k = 128, 16,384^2 / 128 = 2,097,152 pairs.
  CHECK(forward_pairs(cost(make("routing", kGqa32x8),
                           workload(Phase::prefill, 1, 16384, 16384, false))) == 2097152.0);
  // Causal: each cluster of 64 scores 64 * 65 / 2 pairs: 64 * 2080 = 133,120.
  CHECK(forward_pairs(cost(make("routing", kGqa32x8), workload(Phase::prefill, 1, 4096, 4096))) ==
        133120.0);
}

TEST_CASE("routing: assignment costs 2 n k d per head, decode attends ~T / k keys",
          "[variants][routing]") {
  const auto c = cost(make("routing", kGqa32x8), workload(Phase::prefill, 1, 4096, 4096, false));
  // 2 * 4096 * 64 * 128 = 67,108,864 per head x 32 heads.
  CHECK(op_named(c, "route_to_centroids").flops.total() == 32.0 * 67108864);
  const auto d = cost(make("routing", kGqa32x8), workload(Phase::decode, 1, 1, 4096));
  CHECK(forward_pairs(d) == 64.0);           // 4096 / 64
  CHECK(d.kv_cache_bytes == 4096.0 * 4096);  // full cache
}

// ---------------------------------------------------------------------------------- Superlinear

TEST_CASE("superlinear: span attention reads top_k sqrt(L) keys per query",
          "[variants][superlinear]") {
  // L = 65,536: sqrt(L) = 256, top_k = 4: 1024 keys per query.
  auto p = kGqa32x8;
  p.emplace_back("top_k", 4);
  const auto pre = cost(make("superlinear", p), workload(Phase::prefill, 1, 65536, 65536, false));
  CHECK(forward_pairs(pre) == 65536.0 * 1024);
  const auto dec = cost(make("superlinear", p), workload(Phase::decode, 1, 1, 65536));
  CHECK(forward_pairs(dec) == 1024.0);
  CHECK(attention_flops(dec) == kGqaFlopsPerPair * 1024);
  // L = 16,384: 4 * 128 = 512 keys.
  CHECK(forward_pairs(cost(make("superlinear", p), workload(Phase::decode, 1, 1, 16384))) == 512.0);
  // Span search 2 d c sqrt(L) per query head: 2 * 128 * 256 = 65,536 x 32 heads.
  CHECK(op_named(dec, "span_search").flops.total() == 32.0 * 65536);
  CHECK(dec.kv_cache_bytes == 4096.0 * 65536);  // the full cache is kept
}

TEST_CASE("superlinear: a causal query chooses its spans in its prefix, min(t, top_k sqrt(L)) keys",
          "[variants][superlinear]") {
  // L = 65,536, 1024 keys a query: sum_t min(t, 1024) = 1024 * 1025 / 2 + 1024 * 64,512.
  const auto pre = cost(make("superlinear", kGqa32x8), workload(Phase::prefill, 1, 65536, 65536));
  CHECK(forward_pairs(pre) == 524800.0 + 1024.0 * 64512);
  // Decode sees the whole prefix: the full 1024 keys either way.
  CHECK(forward_pairs(cost(make("superlinear", kGqa32x8), workload(Phase::decode, 1, 1, 65536))) ==
        1024.0);
}

TEST_CASE(
    "superlinear and dhsa without a mask read every key once when the queries' choices "
    "cover them, and the backward writes dK and dV for every key",
    "[variants][superlinear][dhsa]") {
  // 8 KV heads x (128 + 128) x 2 bytes = 4096 bytes of K and V per token.
  struct Case {
    const char *variant, *fwd, *bwd;
  };
  for (const Case& v : {Case{"superlinear", "span_attention_fwd", "span_attention_bwd"},
                        Case{"dhsa", "sparse_attention_fwd", "sparse_attention_bwd"}}) {
    INFO(v.variant);
    const auto c = cost(make(v.variant, kGqa32x8), workload(Phase::train, 1, 8192, 8192, false));
    CHECK(op_named(c, v.fwd).bytes.k + op_named(c, v.fwd).bytes.v == 4096.0 * 8192);
    CHECK(op_named(c, v.bwd).bytes.k + op_named(c, v.bwd).bytes.v == 4096.0 * 8192);
    // dQ: 8192 x 32 x 128 x 2 bytes; dK and dV: 8192 x 4096 bytes.
    CHECK(op_named(c, v.bwd).bytes.grad_in ==
          Approx(8192.0 * 32 * 128 * 2 + 8192.0 * 4096).epsilon(1e-12));
  }
  // Two decode-like queries without a mask read at most their own keys: 2 x 2048 of 65,536.
  const auto d = cost(make("dhsa", kGqa32x8), workload(Phase::prefill, 1, 2, 65536, false));
  CHECK(op_named(d, "sparse_attention_fwd").bytes.k == 2.0 * 2048 * 8 * 128 * 2);
}

// ----------------------------------------------------------------------------------------- DHSA

TEST_CASE("dhsa: each query attends to its budget of keys", "[variants][dhsa]") {
  auto p = kGqa32x8;
  p.emplace_back("budget", 2048);
  CHECK(forward_pairs(cost(make("dhsa", p), workload(Phase::decode, 1, 1, 65536))) == 2048.0);
  CHECK(forward_pairs(cost(make("dhsa", p), workload(Phase::prefill, 1, 8192, 8192, false))) ==
        8192.0 * 2048);
  // Causal L = 8192: sum_t min(t, 2048) = 2,098,176 + 2048 * 6144 = 14,681,088.
  CHECK(forward_pairs(cost(make("dhsa", p), workload(Phase::prefill, 1, 8192, 8192))) ==
        14681088.0);
}

TEST_CASE("dhsa: chunk similarity costs 2 H N_c^2 d", "[variants][dhsa]") {
  // L = 8192, chunk 64: N_c = 128; 2 * 32 * 128^2 * 128 = 134,217,728.
  const auto c = cost(make("dhsa", kGqa32x8), workload(Phase::prefill, 1, 8192, 8192));
  CHECK(op_named(c, "chunk_similarity").flops.total() == 134217728.0);
  CHECK(c.kv_cache_bytes == 4096.0 * 8192);  // unchanged (full)
}

// ------------------------------------------------------------------------------ selection floor

TEST_CASE("dma, llsa, routing, superlinear, dhsa never predict less than their selection pass",
          "[variants][dma][llsa][routing][superlinear][dhsa]") {
  struct Case {
    const char* variant;
    std::vector<const char*> prefill, decode;  // empty decode: no decode phase
  };
  const Case cases[] = {
      {"dma", {"value_importance", "top_keep"}, {"value_importance", "top_keep"}},
      {"llsa", {"level2_scores", "level1_scores", "pooling"}, {}},
      {"routing", {"route_to_centroids", "cluster_permute"}, {"route_to_centroids"}},
      {"superlinear", {"span_search"}, {"span_search"}},
      {"dhsa",
       {"chunk_representations", "chunk_similarity", "budget_select"},
       {"chunk_representations", "chunk_similarity", "budget_select"}},
  };
  for (const Case& k : cases) {
    const bool causal = std::strcmp(k.variant, "llsa") != 0;
    for (Phase phase : {Phase::prefill, Phase::decode}) {
      const auto& names = phase == Phase::decode ? k.decode : k.prefill;
      if (names.empty()) continue;
      INFO(k.variant << " " << std::string(models::to_string(phase)));
      const bool decode = phase == Phase::decode;
      const auto w =
          workload(phase, decode ? 8 : 1, decode ? 1 : 16384, decode ? 65536 : 16384, causal);
      const auto c = cost(make(k.variant, {}), w);
      const auto selection = only(c, names);
      REQUIRE(selection.ops.size() == names.size());
      const double sel = h100_tile_time(selection, w);
      CHECK(sel > 0);
      CHECK(h100_tile_time(c, w) >= sel);
    }
  }
}
