#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "models/workload.hpp"

using models::Phase;
using models::Workload;

namespace {
Workload workload_of_lengths(std::int64_t q, std::int64_t kv, bool causal) {
  Workload w;
  w.q_len = q;
  w.kv_len = kv;
  w.causal = causal;
  return w;
}
}  // namespace

TEST_CASE("non-causal attention scores every (query, key) pair", "[workload]") {
  CHECK(models::scored_pairs(workload_of_lengths(100, 300, false)) == 30000);
}

TEST_CASE("causal prefill scores L(L+1)/2 pairs", "[workload]") {
  CHECK(models::scored_pairs(workload_of_lengths(4, 4, true)) == 10);
  CHECK(models::scored_pairs(workload_of_lengths(8192, 8192, true)) == 8192.0 * 8193 / 2);
}

TEST_CASE("causal queries align to the end of the keys", "[workload]") {
  // One decode token sees the whole context, itself included.
  CHECK(models::scored_pairs(workload_of_lengths(1, 1000, true)) == 1000);
  // Chunked prefill: 2 new tokens after 3 cached: 4 + 5 keys.
  CHECK(models::scored_pairs(workload_of_lengths(2, 5, true)) == 9);
}

TEST_CASE("validate rejects zero and negative sizes naming the field", "[workload]") {
  Workload w = workload_of_lengths(10, 10, true);
  w.batch = 0;
  CHECK_THROWS_WITH(models::validate(w), Catch::Contains("batch must be an integer in [1, "));
  w = workload_of_lengths(-5, 10, false);
  CHECK_THROWS_AS(models::validate(w), common::SpecError);
  w = workload_of_lengths(10, 10, true);
  w.layers = -1;
  CHECK_THROWS_WITH(models::validate(w), Catch::Contains("layers"));
}

TEST_CASE("causal attention needs kv_len >= q_len", "[workload]") {
  CHECK_THROWS_WITH(models::validate(workload_of_lengths(100, 50, true)),
                    Catch::Contains("kv_len >= q_len"));
  CHECK_NOTHROW(models::validate(workload_of_lengths(100, 50, false)));
}

TEST_CASE("dtype and phase names parse, and unknown ones list the allowed names", "[workload]") {
  CHECK(models::parse_dtype("bf16") == models::DType::bf16);
  CHECK(models::bytes_per_element(models::DType::fp8) == 1);
  CHECK(models::bytes_per_element(models::DType::tf32) == 4);
  CHECK_THROWS_WITH(models::parse_dtype("int3"), Catch::Contains("allowed: fp32, tf32, fp16"));
  CHECK(models::parse_phase("train") == Phase::train);
  CHECK_THROWS_WITH(models::parse_phase("serve"), Catch::Contains("prefill, decode, fwd, bwd"));
}

TEST_CASE("train runs forward and backward, bwd only backward", "[workload]") {
  CHECK(models::has_forward(Phase::train));
  CHECK(models::has_backward(Phase::train));
  CHECK_FALSE(models::has_forward(Phase::bwd));
  CHECK_FALSE(models::has_backward(Phase::decode));
}

TEST_CASE("validate caps sizes (2^30 tokens, 2^24 batch, 2^16 layers) naming the allowed range",
          "[workload]") {
  // Issue #8/#12: 1e12 tokens ran for minutes in the tile engine's per-block sums.
  Workload w = workload_of_lengths(1, models::kMaxTokens, true);
  CHECK_NOTHROW(models::validate(w));
  w.kv_len = w.q_len = models::kMaxTokens + 1;
  CHECK_THROWS_WITH(models::validate(w), Catch::Contains("[1, 1073741824]"));
  w = workload_of_lengths(1, 1000000000000, false);
  CHECK_THROWS_WITH(models::validate(w), Catch::Contains("key/value length"));
  w = workload_of_lengths(10, 10, true);
  w.batch = models::kMaxBatch + 1;
  CHECK_THROWS_WITH(models::validate(w),
                    Catch::Contains("batch must be an integer in [1, 16777216]"));
  w = workload_of_lengths(10, 10, true);
  w.layers = models::kMaxLayers + 1;
  CHECK_THROWS_AS(models::validate(w), common::SpecError);
}

TEST_CASE("floor_sum adds floor(x / g) over a run of positions, negative positions counting 0",
          "[workload]") {
  // g = 4, x = 0 .. 9: 0 0 0 0 1 1 1 1 2 2 = 8.
  CHECK(models::floor_sum(9, 4) == 8);
  CHECK(models::floor_sum(-1, 4) == 0);
  // x = 5 .. 9: 1 1 1 2 2 = 7; x = -3 .. 5: 0 ... 0 1 1 = 2; an empty run is 0.
  CHECK(models::floor_sum_between(5, 9, 4) == 7);
  CHECK(models::floor_sum_between(-3, 5, 4) == 2);
  CHECK(models::floor_sum_between(6, 5, 4) == 0);
}
