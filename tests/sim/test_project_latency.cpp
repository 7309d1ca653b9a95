// Measured chain latencies (compute.latency_ns, hwprofiles/SCHEMA.md "Measured latencies") and the
// project_* schedules' waits built from them (sim/schedule_project_latency.hpp), on hand-worked
// numbers; the published figures where a profile has none.
#include <catch2/catch.hpp>

#include <string>
#include <utility>

#include "hwprofiles/profile_loader.hpp"
#include "sim/schedule_project_latency.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/profile_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::builtin_profile;
using test_support::profile_doc;
using test_support::profile_parse_error;
namespace lat = sim::project_cuda;

TEST_CASE("latency_ns is read in nanoseconds and converted to cycles of the tensor clock",
          "[hw][project-latency]") {
  const hw::Profile& p = builtin_profile("h200");
  REQUIRE(p.compute.latency);
  CHECK(p.compute.latency->global_s == Approx(347.4e-9));
  CHECK_FALSE(p.compute.latency->source.empty());
  const lat::Latencies l = lat::latencies(p);
  // 347.4 ns x 1830 MHz = 635.7 cycles; 18.2 ns x 1830 MHz = 33.3 (33 cycles at the 1.81 GHz
  // the probe read).
  CHECK(l.global == Approx(635.742));
  CHECK(l.l2 == Approx(344.406));
  CHECK(l.shared == Approx(26.352));
  CHECK(l.mma == Approx(33.306));
}

TEST_CASE("a profile without latency_ns keeps the published figures and no WMMA chain",
          "[hw][project-latency]") {
  // H100 PCIe: Hopper, but its clocks differ from the H200's and nothing was measured on it.
  const lat::Latencies l = lat::latencies(builtin_profile("h100-pcie-80gb"));
  CHECK(l.global == 400);
  CHECK(l.l2 == 200);
  CHECK(l.shared == 20);
  CHECK(l.shuffle == 20);
  CHECK(l.exp == 20);
  CHECK(l.mma == 0);
  // The flash tile's wait as it was before the measurements: D/8 round trips and 16 rows of 14
  // steps at the shared latency.
  CHECK(lat::flash_tile_latency_cycles(l, 64) == 8 * 400 + 16 * 14 * 20);
  // The split-KV step did change (hwprofiles/SCHEMA.md): on sm_90 head_dim 128 waits for
  // 5 round trips, plus the 5-step reduction and two exp2f at the shared latency: 2140 cycles,
  // 900 before the H200 runs; an sm_80 profile keeps the source's 2 round trips (940).
  CHECK(lat::split_step_latency_cycles(l, lat::split_round_trips(true, 128, 128), 1) == 2140);
  CHECK(lat::split_step_latency_cycles(lat::latencies(builtin_profile("a100")),
                                       lat::split_round_trips(false, 128, 128), 1) == 940);
}

TEST_CASE("latency_ns is strict: every link positive, a source, no other key",
          "[hw][project-latency]") {
  nlohmann::json zero = profile_doc("h200-sxm-141gb");
  zero["compute"]["latency_ns"]["shared"] = 0;
  CHECK_THAT(profile_parse_error(zero), Catch::Contains("/compute/latency_ns/shared"));
  nlohmann::json unsourced = profile_doc("h200-sxm-141gb");
  unsourced["compute"]["latency_ns"].erase("source");
  CHECK_THAT(profile_parse_error(unsourced), Catch::Contains("latency_ns/source"));
  nlohmann::json extra = profile_doc("h200-sxm-141gb");
  extra["compute"]["latency_ns"]["l1"] = 20;
  CHECK_THAT(profile_parse_error(extra), Catch::Contains("latency_ns/l1"));
  nlohmann::json missing = profile_doc("h200-sxm-141gb");
  missing["compute"]["latency_ns"].erase("mma");
  CHECK_THAT(profile_parse_error(missing), Catch::Contains("latency_ns/mma"));
}

TEST_CASE("the flash tile waits for its loads, 16 row chains with the O rescale, and D/2 WMMAs",
          "[tile][project-latency]") {
  lat::Latencies l;
  l.global = 600, l.shared = 30, l.shuffle = 35, l.exp = 45, l.mma = 33, l.measured = true;
  // head_dim 64: 8 round trips; per row 2 x 30 + 10 x 35 + 2 x 45 + 2 x 30 (rescale) = 560;
  // 32 products of 33.
  CHECK(lat::flash_tile_latency_cycles(l, 64) == Approx(8 * 600 + 16 * 560 + 32 * 33));
  // head_dim 128 doubles the round trips, the rescales and the products.
  CHECK(lat::flash_tile_latency_cycles(l, 128) == Approx(16 * 600 + 16 * 620 + 64 * 33));
}

TEST_CASE("a split step waits for the round trips sm_90's SASS keeps apart, later rows via L2",
          "[tile][project-latency]") {
  CHECK(lat::split_round_trips(true, 64, 64).global == 2);
  CHECK(lat::split_round_trips(true, 32, 32).global == 3);
  CHECK(lat::split_round_trips(true, 128, 128).global == 5);
  const lat::RoundTrips mla = lat::split_round_trips(true, 576, 512);
  CHECK(mla.global == 4);
  CHECK(mla.l2 == 4);
  CHECK(lat::split_round_trips(false, 128, 128).global == 2);  // the source's K, then V
  lat::Latencies l;
  l.global = 600, l.l2 = 300, l.shuffle = 35, l.exp = 45;
  const double tail = 5 * 35 + 2 * 45;
  CHECK(lat::split_step_latency_cycles(l, {5, 0}, 1) == Approx(5 * 600 + tail));
  CHECK(lat::split_step_latency_cycles(l, {4, 4}, 1) == Approx(4 * 600 + 4 * 300 + tail));
  // Four query rows: the first from HBM, three again through L2.
  CHECK(lat::split_step_latency_cycles(l, {5, 0}, 4) == Approx((3000 + 3 * 1500) / 4.0 + tail));
}

// The shared loads linear_kernel<D> issues for one chunk of n tokens, counted by walking its four
// loops as validate/cuda/cuda_decode.cu writes them (two operands per term).
double walk_linear_kernel_loads(int d, int n) {
  double loads = 0;
  for (int t = 0; t < n; ++t)
    for (int j = 0; j < n; ++j)
      if (j <= t) loads += 2.0 * d;  // scores: qs[t][r] and kt[r][j] for each r
  for (int t = 0; t < n; ++t)
    for (int c = 0; c < d; ++c)
      loads += 2.0 * (t + 1) + 2.0 * d;  // intra (a, vs) and inter (qs, st)
  loads += 2.0 * d * d * n;              // state update: kt[r][t] and vs[t][c] for each t
  return loads;
}

TEST_CASE("the linear kernel's shared loads are the four loops' operands, two per term",
          "[tile][project-latency]") {
  for (const auto& [d, n] : {std::pair{64, 64}, std::pair{32, 37}, std::pair{128, 16}}) {
    INFO(d << " / " << n);
    CHECK(lat::linear_shared_loads_per_chunk(d, n) == Approx(walk_linear_kernel_loads(d, n)));
  }
}

TEST_CASE("the Hopper parts at the H200's clocks carry its measured latencies, saying so",
          "[hw][project-latency]") {
  const hw::ChainLatencies& h200 = *builtin_profile("h200").compute.latency;
  for (const char* id : {"h100-sxm5-80gb", "h800-sxm5-80gb", "h20"}) {
    INFO(id);
    const hw::Profile& p = builtin_profile(id);
    REQUIRE(p.compute.latency);
    CHECK(p.compute.max_clock_hz == builtin_profile("h200").compute.max_clock_hz);
    CHECK(p.compute.latency->global_s == h200.global_s);
    CHECK(p.compute.latency->mma_s == h200.mma_s);
    CHECK_THAT(p.compute.latency->source, Catch::Contains("copied from h200-sxm-141gb"));
  }
}
