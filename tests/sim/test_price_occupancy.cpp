// How the tile engine prices CTAs stacked on an SM (sim/price.cpp): more resident slots never
// make a block-scheduled grid slower, and a launch's bound counts every byte it moves.
#include <catch2/catch.hpp>

#include "hwprofiles/catalog.hpp"
#include "models/workload.hpp"
#include "sim/engine.hpp"
#include "sim/price.hpp"
#include "sim/waves.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

namespace {

// The causal GQA prefill (32/8 heads) on `p` with `kernel`, one CTA per SM when `one_cta_per_sm`.
sim::Prediction causal_prefill(hw::Profile p, std::int64_t len, std::int64_t d, const char* kernel,
                               bool one_cta_per_sm) {
  if (one_cta_per_sm) p.memory.max_ctas_per_sm = 1;
  test_support::Query q{
      test_support::make("gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", double(d)}}),
      test_support::workload(models::Phase::prefill, 1, len, len, true)};
  return sim::predict_tile(q.cost(), q.w, p, kernel);
}

}  // namespace

TEST_CASE("more CTAs resident per SM never make a block-scheduled grid slower", "[sim][tile]") {
  // A100 at 512 tokens: 128 causal row blocks of 2 to 8 key tiles over 108 SMs. Stacked two to an
  // SM, the longest block was priced as sharing the SM with an equally long one throughout: 41.6
  // us against 35.6 us with one CTA per SM.
  struct Case {
    const char* hw;
    std::int64_t len, d;
    const char* kernel;
  };
  for (const Case& c : {Case{"a100", 512, 128, "fa2"}, Case{"a100", 4096, 32, "fa2"},
                        Case{"h100", 4096, 64, "fa2"}, Case{"a100", 385, 128, "fa2"}}) {
    INFO(c.hw << " " << c.len << " tokens, head_dim " << c.d);
    const hw::Profile& p = test_support::catalog().resolve(c.hw);
    const sim::Prediction stacked = causal_prefill(p, c.len, c.d, c.kernel, false);
    const sim::Prediction alone = causal_prefill(p, c.len, c.d, c.kernel, true);
    REQUIRE(stacked.launches[0].ctas_per_sm > 1);
    REQUIRE(alone.launches[0].ctas_per_sm == 1);
    CHECK(stacked.time_s <= alone.time_s);
  }
  // So a wider head (fewer CTAs fit an SM, more FLOPs) is never cheaper.
  const hw::Profile& a100 = test_support::catalog().resolve("a100");
  CHECK(causal_prefill(a100, 4096, 33, "fa2", false).time_s >=
        causal_prefill(a100, 4096, 32, "fa2", false).time_s);
  CHECK(causal_prefill(a100, 512, 129, "fa2", false).time_s >=
        causal_prefill(a100, 512, 128, "fa2", false).time_s);
}

TEST_CASE("a launch is hbm-bound when its tiles' and its jobs' bytes outlast its pipes",
          "[sim][tile]") {
  const hw::Profile& h100 = test_support::catalog().resolve("h100");
  static const hw::ScheduleCalibration cal{1.0, 0.0, 0.0, 0.0, std::nullopt};
  sim::Launch l = test_support::full_wave_launch(h100, cal, "fa3", 10);
  const double sm_rate =
      h100.memory.hbm_bandwidth_Bps * h100.calibration.hbm_fraction / h100.compute.sm_count;
  const double tensor_s = 1e-6;  // a tile's matmul time on one SM
  l.per_tile.tensor_flops = 1;   // any: the SM's rate depends only on the launch having FLOPs
  const double rate = sim::sm_tensor_flops(h100, models::Workload{}, l);
  REQUIRE(rate > 0);
  l.per_tile.tensor_flops = tensor_s * rate;
  l.per_tile.hbm_bytes = 0.6 * tensor_s * sm_rate;  // each tile's bytes: 60 % of its matmul
  models::Workload w;
  CHECK(sim::price_launch(l, h100, w, 1).bound == sim::Resource::tensor);
  // Each job also writes its partials: 10 tiles' worth of 60 % more, 1.2x the matmul in all.
  l.per_job_hbm_bytes = 10 * 0.6 * tensor_s * sm_rate;
  const sim::LaunchPrediction r = sim::price_launch(l, h100, w, 1);
  CHECK(r.hbm_s > r.tensor_s);
  CHECK(r.bound == sim::Resource::hbm);
}

TEST_CASE(
    "a launch is compute-bound when its pipes together outlast its bytes, though each alone "
    "does not",
    "[sim][tile]") {
  // A decode step's matmuls and softmax barely overlap: each takes 60 % of the bytes' time, both
  // together 120 %. Fewer bytes would not make it faster, so it is not memory-bound.
  const hw::Profile& h100 = test_support::catalog().resolve("h100");
  static const hw::ScheduleCalibration cal{1.0, 0.0, 0.0, 0.0, std::nullopt};
  sim::Launch l = test_support::full_wave_launch(h100, cal, "fa3", 10);
  l.per_tile.tensor_flops = 1;
  const double tensor_rate = sim::sm_tensor_flops(h100, models::Workload{}, l);
  const double alu_rate = h100.compute.vector_fp32_flops * h100.calibration.vector_fraction /
                          h100.compute.sm_count / 2;  // FP32 operations: an FMA is 2 FLOPs
  const double sm_rate =
      h100.memory.hbm_bandwidth_Bps * h100.calibration.hbm_fraction / h100.compute.sm_count;
  l.per_tile.tensor_flops = 0.6e-6 * tensor_rate;
  l.per_tile.alu_ops = 0.5e-6 * alu_rate;
  l.per_tile.hbm_bytes = 1e-6 * sm_rate;
  const models::Workload w;
  const sim::LaunchPrediction r = sim::price_launch(l, h100, w, 1);
  REQUIRE(r.tensor_s < r.hbm_s);
  REQUIRE(r.vector_s < r.hbm_s);
  CHECK(r.compute_s > r.hbm_s);
  CHECK(r.bound == sim::Resource::tensor);
  // The same bytes over a single pipe's worth of work are memory-bound.
  l.per_tile.alu_ops = 0;
  CHECK(sim::price_launch(l, h100, w, 1).bound == sim::Resource::hbm);
}

TEST_CASE(
    "a launch's resource times are its work on the SMs its grid occupies, so its bound "
    "agrees with them",
    "[sim][tile]") {
  // A100 prefill of 128 tokens: 32 CTAs on 108 SMs. Its tensor time had been spread over all 108
  // SMs (0.86 us) beside HBM at the device's bandwidth (2.3 us), labelled tensor.
  for (const char* hw : {"a100", "h100", "b200", "ascend-910b2"}) {
    for (const auto& [phase, len] : {std::pair{models::Phase::prefill, std::int64_t{128}},
                                     std::pair{models::Phase::prefill, std::int64_t{4096}},
                                     std::pair{models::Phase::decode, std::int64_t{1024}},
                                     std::pair{models::Phase::decode, std::int64_t{65536}}}) {
      test_support::Query q{
          test_support::make("gqa", {}),
          test_support::workload(phase, 2, phase == models::Phase::decode ? 1 : len, len, true)};
      const sim::Prediction p =
          sim::predict(sim::EngineKind::tile, q.cost(), q.w, test_support::catalog().resolve(hw));
      for (const sim::LaunchPrediction& l : p.launches) {
        INFO(hw << " " << models::to_string(phase) << " " << len << " " << l.name);
        CHECK(l.tensor_s <= l.time_s);
        CHECK(l.hbm_s <= l.time_s);
        if (l.bound == sim::Resource::hbm) CHECK(l.hbm_s >= l.compute_s);
        if (l.bound == sim::Resource::tensor) {
          CHECK(l.compute_s > l.hbm_s);
          CHECK(l.tensor_s >= std::max(l.exp_s, l.vector_s));
        }
      }
    }
  }
  test_support::Query q{test_support::make("gqa", {}),
                        test_support::workload(models::Phase::prefill, 1, 128, 128, true)};
  const hw::Profile& a100 = test_support::catalog().resolve("a100");
  const sim::LaunchPrediction l =
      sim::predict(sim::EngineKind::tile, q.cost(), q.w, a100).launches[0];
  REQUIRE(l.ctas < a100.compute.sm_count);
  CHECK(l.tensor_s > l.hbm_s);
  CHECK(l.bound == sim::Resource::tensor);
}

TEST_CASE("a persistent grid launches the CTAs its SMs hold and reports its work units as jobs",
          "[sim][tile]") {
  // FA3 on H100 at 8192 causal tokens: 2048 row blocks taken in turn by 132 resident CTAs.
  test_support::Query q{test_support::make("mha", {{"heads", 32}, {"head_dim", 128}}),
                        test_support::workload(models::Phase::prefill, 4, 8192, 8192, true)};
  const hw::Profile& h100 = test_support::catalog().resolve("h100");
  const sim::LaunchPrediction fa3 = sim::predict_tile(q.cost(), q.w, h100, "fa3").launches[0];
  CHECK(fa3.jobs == 4 * 32 * 8192 / 128);
  CHECK(fa3.ctas == h100.compute.sm_count * fa3.ctas_per_sm);
  CHECK(fa3.waves == std::ceil(fa3.jobs / fa3.ctas));
  // An in-order grid (FA2) launches one CTA per job.
  const sim::LaunchPrediction fa2 = sim::predict_tile(q.cost(), q.w, h100, "fa2").launches[0];
  CHECK(fa2.ctas == fa2.jobs);
  CHECK(fa2.jobs == 4 * 32 * 8192 / 128);
}

TEST_CASE("a launch's prediction reports its tiles and its shortest and longest job's tiles",
          "[sim][tile]") {
  // Causal prefill of 1024 tokens, batch 4 x 8 heads, FA2's 128 x 64 tiles at d 128 on an A100
  // (enough row blocks that FA2 does not split the keys): row block i (0-based) of 8 visits
  // 2 (i + 1) key tiles, so 2 to 16 a job and 2 x 36 = 72 a head, 32 x 72 in all.
  test_support::Query q{
      test_support::make("mha", {{"heads", 8}, {"kv_heads", 8}, {"head_dim", 128}}),
      test_support::workload(models::Phase::prefill, 4, 1024, 1024, true)};
  const sim::Prediction p =
      sim::predict_tile(q.cost(), q.w, test_support::catalog().resolve("a100"), "fa2");
  REQUIRE(p.launches.size() == 1);
  CHECK(p.launches[0].jobs == 32 * 8);
  CHECK(p.launches[0].tiles == 32 * 72);
  CHECK(p.launches[0].job_tiles_min == 2);
  CHECK(p.launches[0].job_tiles_max == 16);
}

TEST_CASE(
    "a grid of equal jobs runs in the hardware's waves: a partial last wave's CTAs, alone on "
    "their SMs, take their own waits, which pricing at fewer CTAs an SM would spread away",
    "[sim][tile]") {
  const hw::Profile& h100 = test_support::catalog().resolve("h100");
  static const hw::ScheduleCalibration cal{1.0, 0.0, 0.0, 0.0, std::nullopt};
  const double sms = h100.compute.sm_count;
  const double clock = h100.compute.tensor_clock_hz;
  sim::Launch l = test_support::full_wave_launch(h100, cal, "fa2", 10);
  l.cta.smem_bytes = h100.memory.smem_per_sm_bytes / 3;  // three CTAs an SM
  REQUIRE(sim::ctas_per_sm(l.cta, h100) == 3);
  // One full wave of 396 CTAs and a last one of 12. A tile's bytes take tile_s at an SM's fair
  // share of the bandwidth; a CTA waits 1.5 tile_s a tile, which three sharing an SM hide.
  l.jobs.count = 3 * sms + 12;
  l.jobs.total_tiles = l.jobs.count * 10;
  const double sm_rate =
      h100.memory.hbm_bandwidth_Bps * h100.calibration.hbm_fraction / h100.compute.sm_count;
  const double tile_s = 1e-5;
  l.per_tile.hbm_bytes = tile_s * sm_rate;
  l.per_tile.latency_cycles = 1.5 * tile_s * clock;
  l.overhead_is_wait = true;
  models::Workload w;
  l.equal_jobs = true;
  const sim::LaunchPrediction waves = sim::price_launch(l, h100, w, 1);
  // The full wave: 10 tiles of three CTAs' bytes; the last: 10 tiles of one CTA's wait (its bytes,
  // at a twelfth of the device, take less).
  CHECK(waves.time_s - waves.fixed_s == Approx(10 * 3 * tile_s + 10 * 1.5 * tile_s));
  // Priced at two CTAs an SM instead, the last wave (144 CTAs) shares SMs and streams: less.
  l.equal_jobs = false;
  const sim::LaunchPrediction spread = sim::price_launch(l, h100, w, 1);
  CHECK(spread.time_s < 0.85 * waves.time_s);
}
