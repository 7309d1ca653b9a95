// How the tile engine prices CTAs stacked on an SM (sim/price.cpp): more resident slots never
// make a block-scheduled grid slower, and a launch's bound counts every byte it moves.
#include <catch2/catch.hpp>

#include "hwprofiles/catalog.hpp"
#include "models/workload.hpp"
#include "sim/engine.hpp"
#include "sim/price.hpp"
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
