// flashinfer_decode (sim/schedule_flashinfer.cpp): FlashInfer's CUDA-core batch decode, its CTA
// shape and split worked by hand from decode.cuh and scheduler.cuh, and where it stands against the
// tensor-core decoders.
#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "sim/schedule_flashinfer.hpp"
#include "sim/waves.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::builtin_profile;
using test_support::cost;
using test_support::fp16_decode_step;
using test_support::make;
using test_support::workload;

namespace {

sim::Launches lower(const test_support::Query& q, std::string_view hw) {
  return test_support::lower_dense_forward("flashinfer_decode", q.cost(), q.w, builtin_profile(hw));
}

}  // namespace

TEST_CASE(
    "a FlashInfer decode CTA: bdx threads across the head, the GQA group as bdy, slices of keys "
    "as bdz up to 128 threads, four keys a lane at a group of one",
    "[sim][flashinfer]") {
  // d 128, 16-bit KV: vec = max(16 / 2, 128 / 32) = 8, bdx = 16.
  const sim::DecodeShape mha = sim::decode_shape(128, 1, 2);
  CHECK(mha.bdx == 16);
  CHECK(mha.threads == 128);
  CHECK(mha.bdz == 8);
  CHECK(mha.keys_per_iter == 32);  // 4 x 1 x 8
  // Two stages of K and V for 32 keys (2 x 2 x 32 x 128 x 2 B) and 4 x 128 x 8 B of offsets.
  CHECK(mha.smem_bytes == 32768 + 4096);
  const sim::DecodeShape g4 = sim::decode_shape(128, 4, 2);
  CHECK(g4.bdz == 2);
  CHECK(g4.keys_per_iter == 8);
  CHECK(g4.smem_bytes == 8192 + 1024);
  const sim::DecodeShape g8 = sim::decode_shape(256, 8, 2);  // bdx 32 x bdy 8: 256 threads
  CHECK(g8.threads == 256);
  CHECK(g8.bdz == 1);
  CHECK(g8.keys_per_iter == 8);
  const sim::DecodeShape fp8 = sim::decode_shape(128, 1, 1);  // vec 16, bdx 8, 2 keys a lane
  CHECK(fp8.bdx == 8);
  CHECK(fp8.keys_per_iter == 2 * 16);
  // A group of 3: 48 threads a slice, 128 / 48 = 2 slices (integer division), 96 threads, 6 keys.
  const sim::DecodeShape g3 = sim::decode_shape(128, 3, 2);
  CHECK(g3.bdz == 2);
  CHECK(g3.block_threads == 96);
  CHECK(g3.keys_per_iter == 6);
  CHECK(sim::decode_shape(128, 6, 2).keys_per_iter == 6);  // 96 threads a slice, one slice
}

TEST_CASE(
    "FlashInfer splits a request's keys only when the batch leaves the grid short, in chunks of "
    "whole pages of at least 128 tokens",
    "[sim][flashinfer]") {
  CHECK(sim::decode_split(32000, 468, 468).chunks == 1);
  // 32 KV jobs on a 468-CTA grid: at most 14 chunks each; 2000 pages of 16 in chunks of 143.
  CHECK(sim::decode_split(32000, 32, 468).chunks == 14);
  CHECK(sim::decode_split(32000, 32, 468).chunk_tokens == 143 * 16);
  // 128 keys are one chunk of 8 pages, whatever the grid.
  CHECK(sim::decode_split(128, 1, 468).chunks == 1);
  CHECK(sim::decode_split(4096, 1, 10000).chunks == 32);  // 256 pages, 8 a chunk
  // 272 keys on a wide grid: chunks of 128, 128 and 16 (the minimum chunk, the last the rest).
  CHECK(sim::decode_split(272, 1, 10000).chunks == 3);
  CHECK(sim::decode_split(272, 1, 10000).chunk_tokens == 128);
}

TEST_CASE(
    "the decode loop's instructions per thread and trip follow its SASS: FP32 work, conversions, "
    "shuffles, one exp2 a key and the trip's loads, barriers and addresses",
    "[sim][flashinfer]") {
  // nvdisasm of the loop (sm_90, FlashInfer fb28d72, nvcc 13.0 -O3 -use_fast_math), per thread
  // and trip: FP32-pipe instructions and all instructions, at (head_dim, group).
  const struct {
    double d, group, fp32, total;
  } counted[] = {
      {128, 1, 110, 287.6}, {256, 1, 114, 292.1}, {128, 8, 210, 447.7}, {256, 8, 218, 462.8}};
  for (const auto& c : counted) {
    INFO("head_dim " << c.d << ", group " << c.group);
    const sim::DecodeShape s = sim::decode_shape(c.d, c.group, 2);
    CHECK(s.fp32_per_trip == c.fp32);
    CHECK(s.instructions_per_trip == Approx(c.total).epsilon(0.01));
  }
  // bf16 K and V: 1.5 instructions an element to widen, fp16's one: counted 79.9 and 64.0 a key
  // at head_dim 128, groups 1 and 8 (4 and 8 keys a trip); the FP32 work is the same.
  CHECK(sim::decode_shape(128, 1, 2, true).instructions_per_trip ==
        Approx(4 * 79.91).epsilon(0.01));
  CHECK(sim::decode_shape(128, 8, 2, true).instructions_per_trip ==
        Approx(8 * 63.96).epsilon(0.01));
  CHECK(sim::decode_shape(128, 8, 2, true).fp32_per_trip == 210);
  // A group of 8 at head_dim 128: 8 keys a thread a trip, 16 lanes a (key, query head) pair:
  // 447 / 8 x 16 / 32 = 28 warp instructions a pair, 7 SM clocks at four a clock.
  const sim::DecodeShape g8 = sim::decode_shape(128, 8, 2);
  CHECK(g8.instructions_per_trip / 8 * g8.bdx / 32 == Approx(27.9).epsilon(0.01));
}

TEST_CASE(
    "a group of 8 is bound by instruction issue, not by the FP32 pipe's width: Ampere and Hopper "
    "take about the same SM clocks a (key, query head) pair, as measured",
    "[sim][flashinfer]") {
  // 128 requests x 128/16 heads x 16384 keys (validate/data/candidates/h200_decode_timings.csv,
  // TheRainstorm/attention_tests readme, page 128; not in the fit): A800 SXM4 15.49 ms, H20
  // 14.68 ms, about 8.8 and 8.5 SM clocks a pair at 1410 and 1980 MHz.
  const test_support::Query q = fp16_decode_step(128, 128, 16, 16384, 1, 128);
  const double pairs = 128.0 * 128 * 16384;
  auto clocks_per_pair = [&](const char* hw) {
    const hw::Profile& p = builtin_profile(hw);
    const double s = test_support::tile_prediction(q, p, "flashinfer_decode").time_s;
    return s * p.compute.sm_count * p.compute.max_clock_hz / pairs;
  };
  const double a800 = clocks_per_pair("a800-sxm4-80gb");
  const double h20 = clocks_per_pair("h20");
  // Ampere's FP32 pipe is half as wide as Hopper's: priced on it alone, the A800 took 13.4
  // clocks a pair, 1.5x the H20's.
  CHECK(a800 / h20 < 1.25);
  CHECK(a800 == Approx(8.8).epsilon(0.15));
  CHECK(h20 == Approx(8.5).epsilon(0.15));
}

TEST_CASE(
    "a FlashInfer decode grid just over one wave runs its last CTAs alone, latency-bound: 512 MHA "
    "CTAs on the H20's 468 slots take well over their bytes' time, 4096 do not",
    "[sim][flashinfer]") {
  // validate/data/measured/flashinfer_h20_decode.csv, head_dim 256 and 32/32 heads: 16 requests
  // at 32000 keys 5.58 ms, 128 at 4000 keys 4.45 ms, for the same 16.8 GB of K and V.
  const hw::Profile& h20 = builtin_profile("h20");
  auto over_bytes = [&](std::int64_t batch, std::int64_t kv) {
    const test_support::Query q = fp16_decode_step(batch, 32, 32, kv, 1, 256);
    const sim::Prediction p = test_support::tile_prediction(q, h20, "flashinfer_decode");
    REQUIRE(p.launches.size() == 1);
    const sim::LaunchPrediction& l = p.launches[0];
    return (l.time_s - l.fixed_s) / l.hbm_s;
  };
  CHECK(over_bytes(16, 32000) > 1.1);  // measured 1.19 x what 4096 CTAs take
  CHECK(over_bytes(128, 4000) == Approx(1.0).epsilon(0.02));
}

TEST_CASE(
    "FlashInfer's decode occupancy: a group of one is bound by shared memory (6 CTAs per SM), a "
    "group of 8 by its registers (8 CTAs at head_dim 128, 4 at 256), and the split follows it",
    "[sim][flashinfer]") {
  const hw::Profile& h20 = builtin_profile("h20");  // 228 KiB of shared memory, 64 Ki registers
  // 36 KiB + 1 KiB reserved a CTA: 6 fit; 69 registers (72 allocated) x 128 threads would allow 7.
  const sim::Launches mha = lower(fp16_decode_step(16, 32, 32, 4000, 1, 128), "h20");
  CHECK(mha[0].cta.regs_per_thread == 69);
  CHECK(sim::ctas_per_sm(mha[0].cta, h20) == 6);
  // A group of 8 at head_dim 128: 64 registers x 128 threads, 8 CTAs (shared memory allows 22).
  const sim::Launches g8 = lower(fp16_decode_step(16, 32, 4, 4000, 1, 128), "h20");
  CHECK(sim::ctas_per_sm(g8[0].cta, h20) == 8);
  // head_dim 256: 56 registers x 256 threads, 4 CTAs (threads allow 8).
  const sim::Launches wide = lower(fp16_decode_step(16, 32, 4, 4000, 1, 256), "h20");
  CHECK(wide[0].cta.threads == 256);
  CHECK(sim::ctas_per_sm(wide[0].cta, h20) == 4);
  // The plan's grid is 4 x 78 = 312 CTAs: 64 KV jobs take at most 4 chunks each, so 250 pages
  // go in chunks of 63: 4 chunks (a grid that ignored the registers, 624, would give 9).
  CHECK(wide[0].jobs.count == 64 * 4);
  // A group of 3 is 96 threads, three warps: alone on an SM it issues to three schedulers.
  CHECK(lower(fp16_decode_step(16, 24, 8, 4000, 1, 128), "h20")[0].issue_share == 0.75);
  CHECK(g8[0].issue_share == 1);
  // The merge kernel: 40 registers x 128 threads, 12 CTAs per SM.
  REQUIRE(wide.size() == 2);
  CHECK(sim::ctas_per_sm(wide[1].cta, h20) == 12);
}

TEST_CASE("flashinfer_decode launches the decode grid, and the merge only for a split",
          "[sim][flashinfer]") {
  // H20 (78 SMs): batch 1, 32 KV heads, 32000 keys split; batch 128 fills the grid.
  const sim::Launches split = lower(fp16_decode_step(1, 32, 32, 32000, 1, 128), "h20");
  REQUIRE(split.size() == 2);
  CHECK(std::string(split[0].name) == "batch_decode");
  CHECK(std::string(split[1].name) == "merge_states");
  CHECK(split[0].jobs.count > 32);
  CHECK(split[1].launch_fixed_share == 0);  // programmatic dependent launch on sm_90
  const sim::Launches whole = lower(fp16_decode_step(128, 32, 32, 4000, 1, 128), "h20");
  REQUIRE(whole.size() == 1);
  CHECK(whole[0].jobs.count == 128 * 32);
  CHECK(whole[0].jobs.max_tiles == 125);  // 4000 keys, 32 an iteration
  // 272 keys on one KV head: chunks of 128, 128 and 16 keys, 4, 4 and 1 iterations.
  const sim::Launches ragged = lower(fp16_decode_step(1, 1, 1, 272, 1, 128), "h100");
  REQUIRE(ragged.size() == 2);
  CHECK(ragged[0].jobs.count == 3);
  CHECK(ragged[0].jobs.min_tiles == 1);
  CHECK(ragged[0].jobs.max_tiles == 4);
  CHECK(ragged[0].jobs.total_tiles == 9);
  // One key: K and V of that key alone, not a whole iteration's.
  const sim::Launches one = lower(fp16_decode_step(1, 8, 8, 1, 1, 128), "h100");
  CHECK(one[0].jobs.total_tiles * one[0].per_tile.hbm_bytes == Approx(8.0 * 516));
  // K and V once per KV head: 4000 x 512 B (and a 4-byte page index per key) per job.
  CHECK(whole[0].jobs.total_tiles * whole[0].per_tile.hbm_bytes == Approx(128.0 * 32 * 4000 * 516));
  // No tensor work: the group's q.k and p.v run as FP32 FMAs.
  CHECK(whole[0].per_tile.tensor_flops == 0);
  CHECK(whole[0].per_tile.alu_ops > 0);
}

TEST_CASE(
    "on a device with a capped tensor pipe, CUDA-core decode of one query head per KV head beats "
    "the tensor-core decoders' padded tiles, as FlashInfer beats FA3 on the H20",
    "[sim][flashinfer]") {
  // validate/data/measured: 2.51 ms FlashInfer against 8.16 ms FA3 at this shape.
  const test_support::Query q = fp16_decode_step(16, 32, 32, 32000, 1, 128);
  const hw::Profile& h20 = builtin_profile("h20");
  const double flashinfer = test_support::tile_prediction(q, h20, "flashinfer_decode").time_s;
  const double fa3 = test_support::tile_prediction(q, h20, "fa3").time_s;
  const double split_kv = test_support::tile_prediction(q, h20, "split_kv").time_s;
  CHECK(fa3 > 2.5 * flashinfer);
  CHECK(split_kv > 2.5 * flashinfer);
}

TEST_CASE(
    "flashinfer_decode refuses what the CUDA-core kernel has no instance for: several query "
    "tokens, other group sizes and head widths, V wider than K",
    "[sim][flashinfer]") {
  test_support::Query two = fp16_decode_step(4, 32, 8, 4096, 1, 128);
  two.w.q_len = 2;
  CHECK_THROWS_WITH(lower(two, "h100"), Catch::Contains("got q_len 2"));
  CHECK_THROWS_WITH(lower(fp16_decode_step(4, 40, 8, 4096, 1, 128), "h100"),
                    Catch::Contains("a group of 5"));
  CHECK_THROWS_WITH(lower(fp16_decode_step(4, 32, 8, 4096, 1, 96), "h100"),
                    Catch::Contains("head_dim 96 is not instantiated"));
  test_support::Query wide_v{
      make("gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}, {"v_head_dim", 256}}),
      workload(models::Phase::decode, 4, 1, 4096)};
  CHECK_THROWS_WITH(lower(wide_v, "h100"), Catch::Contains("v_head_dim == head_dim"));
}

TEST_CASE(
    "a call through FlashInfer's Python wrapper pays the flashinfer floor, lighter than the "
    "pytorch floor on the H20 (and extra_launch for its merge) and the pytorch value on profiles "
    "without FlashInfer timings",
    "[sim][flashinfer][caller]") {
  const test_support::Query q =
      fp16_decode_step(1, 4, 4, 128, 1, 128);  // a few microseconds of device time
  const hw::Profile h20 = builtin_profile("h20");
  REQUIRE(sim::predict_tile(q.cost(), q.w, h20, "flashinfer_decode").time_s < 15e-6);
  sim::ScheduleOptions wrapper;
  wrapper.caller = hw::Caller::flashinfer;
  const sim::Prediction fi = sim::predict_tile(q.cost(), q.w, h20, "flashinfer_decode", wrapper);
  CHECK(fi.time_s == Approx(18e-6));  // hwprofiles/h20.json, fitted on FlashInfer's H20 rows
  CHECK(fi.bound == sim::Resource::host);
  sim::ScheduleOptions torch;
  torch.caller = hw::Caller::pytorch;
  CHECK(sim::predict_tile(q.cost(), q.w, h20, "flashinfer_decode", torch).time_s == Approx(24e-6));
  // A split call (one request of 2000 keys: the decode and the merge launch) pays the H20's
  // extra_launch, 3.5 us, once.
  const test_support::Query split = fp16_decode_step(1, 4, 4, 2000, 1, 128);
  const sim::Prediction two =
      sim::predict_tile(split.cost(), split.w, h20, "flashinfer_decode", wrapper);
  REQUIRE(sim::host_launch_count(two) == 2);
  CHECK(two.caller_floor_s == Approx(21.5e-6));
  CHECK_FALSE(hw::caller_per_launch(hw::Caller::flashinfer));  // per call, split or not
  for (const char* id : {"h100-sxm5-80gb", "a100-sxm4-80gb", "b200", "gb300"}) {
    const hw::Profile p = builtin_profile(id);
    INFO(id);
    CHECK(p.caller_floor_s(hw::Caller::flashinfer) > 0);
    CHECK(p.caller_floor_s(hw::Caller::flashinfer) == p.caller_floor_s(hw::Caller::pytorch));
  }
}
