// FA3's split of the keys in an inference call (sim/schedule_fa3_fa4.cpp, lower_flash_splits):
// FA3's and FA4's num_splits_heuristic never split a CTA of at most four KV tiles.
#include <catch2/catch.hpp>

#include "sim/engine.hpp"
#include "tests/support/model_helpers.hpp"

namespace {

// Launches of FA3 on a decode step of one request, 4 heads of 128, over `kv` cached keys, not
// causal (176-key tiles), on an H20.
std::size_t fa3_decode_launches(std::int64_t kv, double* max_tiles, const char* hw = "h20",
                                const char* kernel = "fa3") {
  const hw::Profile& h20 = test_support::catalog().resolve(hw);
  test_support::Query q{test_support::make("mha", {{"heads", 4}, {"head_dim", 128}}),
                        test_support::workload(models::Phase::decode, 1, 1, kv, false)};
  q.w.dtype = q.w.kv_dtype = models::DType::fp16;
  const sim::Prediction p = sim::predict_tile(q.cost(), q.w, h20, kernel);
  *max_tiles = p.launches[0].job_tiles_max;
  return p.launches.size();
}

}  // namespace

TEST_CASE("fa3 and fa4 never split a CTA of four KV tiles or fewer, and may split one of more",
          "[tile][fa3]") {
  // Four CTAs (one request x 4 heads) leave the H20's 78 SMs idle, so splitting would price
  // faster on the device, but FA3's heuristic returns one split for num_n_blocks <= 4
  // (hopper/heuristics.h): one launch, no combine.
  double tiles = 0;
  for (std::int64_t kv : {128, 256, 512, 640}) {
    INFO("kv " << kv);
    CHECK(fa3_decode_launches(kv, &tiles) == 1);
    CHECK(tiles <= 4);
  }
  // Past four tiles the split that prices fastest runs, with its combine launch.
  CHECK(fa3_decode_launches(1024, &tiles) == 2);
  CHECK(fa3_decode_launches(32000, &tiles) == 2);
  // FA4's heuristic has the same rule (flash_attn/cute/interface.py).
  CHECK(fa3_decode_launches(512, &tiles, "b200", "fa4") == 1);
  CHECK(tiles <= 4);
  CHECK(fa3_decode_launches(32000, &tiles, "b200", "fa4") == 2);
}
