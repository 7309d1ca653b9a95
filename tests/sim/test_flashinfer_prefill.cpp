// flashinfer_prefill (sim/schedule_flashinfer_prefill.cpp): FlashInfer's batch prefill kernel,
// which also runs its tensor-core decode. Its CTA shape and split worked by hand from prefill.cuh,
// utils.cuh and scheduler.cuh, and where it stands against FlashInfer's CUDA-core decode and FA2.
#include <catch2/catch.hpp>

#include <string>

#include "sim/schedule_flashinfer.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::builtin_profile;
using test_support::fp16_decode_step;
using test_support::make;
using test_support::workload;

namespace {

// The H100's shared memory a SM and a block (hwprofiles/h100-sxm5-80gb.json, CUDA's tuning guide).
constexpr double kHopperSmem = 228 * 1024, kHopperBlock = 227 * 1024;

sim::Launches lower_prefill(const test_support::Query& q, std::string_view hw) {
  return test_support::lower_dense_forward("flashinfer_prefill", q.cost(), q.w,
                                           builtin_profile(hw));
}

double time_s(const test_support::Query& q, std::string_view hw, std::string_view kernel) {
  return test_support::tile_prediction(q, builtin_profile(hw), kernel).time_s;
}

}  // namespace

TEST_CASE(
    "a FlashInfer prefill CTA: 16 packed rows on 1 x 4 warps up to 16 rows, 64 past 16, 128 past "
    "64; keys an iteration the largest power-of-two MMA count that fits half an SM's shared memory",
    "[sim][flashinfer]") {
  // Up to 16 rows (a decode step of a group of 8): K and V of 2 MMA blocks x 16 keys x 4 warps
  // (2 x 32 KiB) and the Q tile (16 x 128 x 2 B) = 69,632 B, 128 keys an iteration.
  const sim::PrefillShape decode = sim::prefill_shape(8, 128, 128, 2, 2, kHopperSmem, kHopperBlock);
  CHECK(decode.cta_tile_q == 16);
  CHECK(decode.warps_q == 1);
  CHECK(decode.warps_kv == 4);
  CHECK(decode.mma_kv == 2);
  CHECK(decode.cta_tile_kv == 128);
  CHECK(decode.smem_bytes == 69632);
  // 17 rows: 64, 4 x 1 warps, 8 MMA blocks (12 would fit), 128 keys, 16 KiB + 64 KiB.
  const sim::PrefillShape mid = sim::prefill_shape(17, 128, 128, 2, 2, kHopperSmem, kHopperBlock);
  CHECK(mid.cta_tile_q == 64);
  CHECK(mid.warps_kv == 1);
  CHECK(mid.cta_tile_kv == 128);
  CHECK(mid.smem_bytes == 81920);
  // 65 rows: 128, two MMA rows a warp cap the keys at 8 / 2 = 4 blocks: 64 keys.
  const sim::PrefillShape big = sim::prefill_shape(65, 128, 128, 2, 2, kHopperSmem, kHopperBlock);
  CHECK(big.cta_tile_q == 128);
  CHECK(big.mma_q == 2);
  CHECK(big.cta_tile_kv == 64);
  CHECK(big.smem_bytes == 65536);
  // head_dim 256: one MMA block (64 keys) fits; no 128-row tile at 256.
  CHECK(sim::prefill_shape(8, 256, 256, 2, 2, kHopperSmem, kHopperBlock).cta_tile_kv == 64);
  CHECK(sim::prefill_shape(100, 256, 256, 2, 2, kHopperSmem, kHopperBlock).cta_tile_q == 64);
  // A100 (164 KiB an SM): still two blocks; a 100 KiB part: one (64 keys, 36,864 B).
  CHECK(sim::prefill_shape(8, 128, 128, 2, 2, 164 * 1024, 163 * 1024).cta_tile_kv == 128);
  const sim::PrefillShape small = sim::prefill_shape(8, 128, 128, 2, 2, 100 * 1024, 99 * 1024);
  CHECK(small.cta_tile_kv == 64);
  CHECK(small.smem_bytes == 36864);
}

TEST_CASE(
    "FlashInfer's prefill plan splits the keys only when the batch leaves its 2-CTA-an-SM grid "
    "short: the smallest chunk of whole pages, at least 128 tokens, that fits",
    "[sim][flashinfer]") {
  // B200 (148 SMs), 8 KV heads: 296 / 8 = 37 (request, chunk) pairs a KV head. Batch 16: two
  // chunks each (32 <= 37) of 256 of the 512 pages; batch 32: one (64 > 37).
  const sim::PrefillSplit b16 = sim::prefill_split(16, 1, 8192, 8, 148);
  CHECK(b16.chunks == 2);
  CHECK(b16.chunk_tokens == 4096);
  CHECK(sim::prefill_split(32, 1, 8192, 8, 148).chunks == 1);
  // H20 (78 SMs), 16 KV heads: 9 pairs, fewer than batch 128's requests: no split.
  CHECK(sim::prefill_split(128, 1, 16384, 16, 78).chunks == 1);
  // One request on an H100: 33 chunks allowed, 512 / 33 -> 16 pages (256 tokens): 32 chunks.
  const sim::PrefillSplit one = sim::prefill_split(1, 1, 8192, 8, 132);
  CHECK(one.chunks == 32);
  CHECK(one.chunk_tokens == 256);
  // Never below 8 pages: 1000 keys (63 pages) in chunks of 8 pages, 8 chunks.
  CHECK(sim::prefill_split(1, 1, 1000, 8, 132).chunks == 8);
  // A request of fewer keys than one least chunk is never split.
  CHECK(sim::prefill_split(1, 1, 100, 8, 132).chunks == 1);
  // Query tiles count as requests: 4 tiles x 8 requests fill 33 pairs with one chunk each.
  CHECK(sim::prefill_split(8, 4, 8192, 8, 132).chunks == 1);
}

TEST_CASE(
    "flashinfer_prefill reads each KV head's K and V once for its packed group, launches the merge "
    "only for a split, and prices a padded 16-row tile's products",
    "[sim][flashinfer]") {
  const sim::Launches whole = lower_prefill(fp16_decode_step(128, 128, 16, 16384), "h20");
  REQUIRE(whole.size() == 1);
  CHECK(std::string(whole[0].name) == "batch_prefill");
  CHECK(whole[0].jobs.count == 128 * 16);
  CHECK(whole[0].jobs.max_tiles == 128);  // 16384 keys, 128 an iteration
  CHECK(whole[0].jobs.total_tiles * whole[0].per_tile.hbm_bytes ==
        Approx(128.0 * 16 * 16384 * 512).epsilon(0.01));
  // Each iteration multiplies the whole 16-row tile (8 rows of it real): 2 x 16 x 128 x 256.
  CHECK(whole[0].per_tile.tensor_flops == 2.0 * 16 * 128 * 256);
  CHECK(whole[0].mma_class == hw::MmaClass::mma_sync);
  const sim::Launches split = lower_prefill(fp16_decode_step(1, 32, 8, 8192), "h100");
  REQUIRE(split.size() == 2);
  CHECK(split[0].jobs.count == 8 * 32);
  CHECK(std::string(split[1].name) == "merge_states");
  // The merge takes every (request, query token, query head): 32 heads, and 64 at two tokens.
  CHECK(split[1].jobs.total_tiles == 32);
  CHECK(lower_prefill(fp16_decode_step(1, 32, 8, 8192, 2), "h100")[1].jobs.total_tiles == 64);
  // Split partials in the output type (16-bit O, fp32 LSE): 8 KV jobs' Q (4 rows of 128 x 2 B) a
  // chunk, 32 chunks, and 32 x 32 heads x (256 + 4) B written, over 256 CTAs.
  CHECK(split[0].per_job_hbm_bytes == Approx((32.0 * 8 * 4 * 256 + 32.0 * 32 * 260) / 256));
}

TEST_CASE(
    "flashinfer_prefill walks a chunk of whole pages in whole iterations, the last one masked: a "
    "chunk that is not a whole number of key tiles costs its own keys, not the next tile's",
    "[sim][flashinfer]") {
  // H100, one request, 8 KV heads: 4352 keys (272 pages) go in 31 chunks of 9 pages (144 keys,
  // two 128-key iterations) and a last one of 2 pages (32 keys, one iteration).
  const sim::Launches l = lower_prefill(fp16_decode_step(1, 32, 8, 4352), "h100");
  CHECK(l[0].jobs.count == 8 * 31);
  CHECK(l[0].jobs.max_tiles == 2);
  CHECK(l[0].jobs.min_tiles == 1);
  CHECK(l[0].jobs.total_tiles == 8 * (30 * 2 + 1));
  // K and V of 4352 keys a KV head, whatever the iterations.
  CHECK(l[0].jobs.total_tiles * l[0].per_tile.hbm_bytes == Approx(8.0 * 4352 * 512).epsilon(0.01));
  // A full chunk's tiles hold 72 keys each, the mean tile 4352 / 61.
  CHECK(l[0].max_tile_hbm_scale == Approx(72.0 / (4352.0 / 61)));
  // Half the keys of 8192 cost clearly less than 8192 (they priced the same when the split
  // rounded each chunk up to whole tiles); at head_dim 64 (256-key iterations) too.
  CHECK(time_s(fp16_decode_step(1, 32, 8, 4352), "h100", "flashinfer_prefill") <
        0.8 * time_s(fp16_decode_step(1, 32, 8, 8192), "h100", "flashinfer_prefill"));
  const test_support::Query d64 = fp16_decode_step(1, 32, 8, 4096, 1, 64);
  const test_support::Query d64_long = fp16_decode_step(1, 32, 8, 8192, 1, 64);
  CHECK(time_s(d64, "h100", "flashinfer_prefill") <
        0.85 * time_s(d64_long, "h100", "flashinfer_prefill"));
}

TEST_CASE("under a sliding window flashinfer_prefill walks and splits only the window's pages",
          "[sim][flashinfer]") {
  // window 256 at 131072 keys: 255 + 16 rows -> 17 pages, in chunks of 8: 3 chunks a KV head.
  test_support::Query q{make("swa", {{"heads", 32}, {"kv_heads", 8}, {"window", 256}}),
                        workload(models::Phase::decode, 1, 1, 131072)};
  const sim::Launches l = lower_prefill(q, "h100");
  REQUIRE(l.size() == 2);
  CHECK(l[0].jobs.count == 8 * 3);
  CHECK(l[0].jobs.total_tiles == 8 * 3);  // 128, 128 and 16 keys: one iteration each
}

TEST_CASE(
    "FlashInfer's tensor-core decode beats its CUDA-core decode and FA2's 64-row tiles at a group "
    "of 8 on the H20's capped tensor pipe, as measured, and at MHA streams the CUDA-core decode's "
    "bytes, within 5 % of its measured time",
    "[sim][flashinfer]") {
  // TheRainstorm/attention_tests readme (validate/data/measured/flashinfer_tc_decode.csv and
  // validate/data/candidates/h200_decode_timings.csv): 128 x 128/16 heads, 16384 keys: 5.05 ms
  // tensor-core, 14.68 ms CUDA-core; 16 x 32/32 heads, 32000 keys: 2.48 and 2.46 ms.
  const test_support::Query gqa = fp16_decode_step(128, 128, 16, 16384);
  const double tc = time_s(gqa, "h20", "flashinfer_prefill");
  CHECK(time_s(gqa, "h20", "flashinfer_decode") > 2 * tc);
  CHECK(time_s(gqa, "h20", "fa2") > 2 * tc);
  // Both stream the same bytes at a group of one (priced 2.43 and 2.68 ms; measured 2.48 and
  // 2.46, page 128 against 16 for the CUDA-core row of flashinfer_h20_decode.csv).
  // The bytes differ by the CUDA-core decode's page-table index a key (4 B of 516).
  const test_support::Query mha = fp16_decode_step(16, 32, 32, 32000);
  const sim::Prediction tc_mha =
      test_support::tile_prediction(mha, builtin_profile("h20"), "flashinfer_prefill");
  const sim::Prediction cuda_mha =
      test_support::tile_prediction(mha, builtin_profile("h20"), "flashinfer_decode");
  CHECK(tc_mha.hbm_bytes_moved == Approx(cuda_mha.hbm_bytes_moved).epsilon(0.01));
  CHECK(tc_mha.time_s == Approx(2.48e-3).epsilon(0.05));
}

TEST_CASE(
    "flashinfer_prefill runs several query tokens a request: packed into the same 16-row tile up "
    "to 16 rows, never cheaper than one token",
    "[sim][flashinfer]") {
  const double one = time_s(fp16_decode_step(32, 32, 8, 8192), "h100", "flashinfer_prefill");
  const double two = time_s(fp16_decode_step(32, 32, 8, 8192, 2), "h100", "flashinfer_prefill");
  CHECK(two >= one);
  CHECK(two < 1.1 * one);  // 4 and 8 rows: one tile either way, the same K/V bytes
  const sim::Launches l = lower_prefill(fp16_decode_step(32, 32, 8, 8192, 5), "h100");
  CHECK(l[0].per_tile.tensor_flops == 2.0 * 64 * 128 * 256);  // 20 rows: a 64-row tile
}

TEST_CASE(
    "flashinfer_prefill refuses what the kernel has no instance for: head dims, a wider V, sinks",
    "[sim][flashinfer]") {
  test_support::Query d96{make("gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 96}}),
                          workload(models::Phase::decode, 4, 1, 4096)};
  CHECK_THROWS_WITH(lower_prefill(d96, "h100"), Catch::Contains("head_dim 96 is not instantiated"));
  test_support::Query wide_v{
      make("gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}, {"v_head_dim", 256}}),
      workload(models::Phase::decode, 4, 1, 4096)};
  CHECK_THROWS_WITH(lower_prefill(wide_v, "h100"), Catch::Contains("v_head_dim == head_dim"));
  // Sink tokens: the window's pages are all it walks, so the kernel has no sinks to price.
  test_support::Query sinks{
      make("swa", {{"heads", 32}, {"kv_heads", 8}, {"window", 256}, {"n_sink", 4}}),
      workload(models::Phase::decode, 4, 1, 131072)};
  CHECK_THROWS_WITH(lower_prefill(sinks, "h100"), Catch::Contains("no selection, sinks"));
}

TEST_CASE(
    "every built-in flashinfer_prefill entry holds its profile's fa2 mma_fraction and "
    "softmax_overlap (the same mma.sync loop), so a refit of fa2 cannot leave it behind",
    "[sim][flashinfer][hw]") {
  int checked = 0;
  for (const hw::Profile& p : test_support::catalog().profiles()) {
    const auto& entries = p.calibration.schedules;
    const auto own = entries.find("flashinfer_prefill");
    if (own == entries.end()) continue;
    INFO(p.id);
    REQUIRE(entries.count("fa2"));
    CHECK(own->second.mma_fraction == entries.at("fa2").mma_fraction);
    CHECK(own->second.softmax_overlap == entries.at("fa2").softmax_overlap);
    ++checked;
  }
  CHECK(checked >= 10);
}
