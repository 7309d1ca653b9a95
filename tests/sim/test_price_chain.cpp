// A tile's dependency chain (calibration chain_cycles): where a schedule entry has one, a tile
// takes at least (its matmul time + its softmax time + the chain's cycles) over the tiles the
// kernel keeps in flight; where it has none, the overlap rule alone prices the tile.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>

#include "hwprofiles/catalog.hpp"
#include "models/workload.hpp"
#include "sim/engine.hpp"
#include "sim/price.hpp"
#include "sim/schedule.hpp"
#include "sim/waves.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

namespace {

// One full wave of one-CTA-per-SM jobs of 100 tiles, each tile `flops` of bf16 MMAs and `exps`
// exps, with no bytes and no fixed cycles: the launch's time above its launch cost.
double chain_seconds(const hw::Profile& p, double flops, double exps, double overlap,
                     std::optional<double> chain, double in_flight) {
  const hw::ScheduleCalibration cal{1.0, overlap, 0.0, 0.0, chain};
  sim::Launch l = test_support::full_wave_launch(p, cal, "fa4");
  l.per_tile.tensor_flops = flops;
  l.per_tile.exp_ops = exps;
  l.tiles_in_flight = in_flight;
  models::Workload w;
  w.dtype = w.kv_dtype = models::DType::bf16;
  const sim::LaunchPrediction r = sim::price_launch(l, p, w, 1);
  return r.time_s - r.fixed_s;
}

}  // namespace

TEST_CASE("a tile with a chain takes at least its pipes plus the chain over the tiles in flight",
          "[sim][tile]") {
  const hw::Profile& gb300 = test_support::catalog().resolve("gb300");
  const double clock = gb300.compute.tensor_clock_hz;
  // A 256 x 128 tile at hd 64: 8.4 MFLOP of MMAs and 32768 exps, the two pipes about balanced.
  const double flops = 2.0 * 256 * 128 * 128, exps = 256.0 * 128;
  const double matmul = chain_seconds(gb300, flops, 0, 0.5, std::nullopt, 2);
  const double softmax = chain_seconds(gb300, 0, exps, 0.5, std::nullopt, 2);
  REQUIRE(matmul > 0);
  REQUIRE(softmax > 0);
  // No chain: the overlap rule, the longer pipe plus half the shorter.
  const double rule = sim::overlapped(matmul, softmax, 0.5);
  CHECK(chain_seconds(gb300, flops, exps, 0.5, std::nullopt, 2) == Approx(rule).epsilon(1e-9));
  // A chain of 2000 cycles per tile binds: (pipes + 100 tiles x 2000 cycles) / 2 in flight.
  const double chained = (matmul + softmax + 100 * 2000 / clock) / 2;
  REQUIRE(chained > rule);
  CHECK(chain_seconds(gb300, flops, exps, 0.5, 2000.0, 2) == Approx(chained).epsilon(1e-9));
  // One tile in flight exposes the whole chain.
  CHECK(chain_seconds(gb300, flops, exps, 0.5, 2000.0, 1) ==
        Approx(matmul + softmax + 100 * 2000 / clock).epsilon(1e-9));
  // A chain too short to bind leaves the overlap rule's price.
  CHECK(chain_seconds(gb300, flops, exps, 0.5, 0.0, 2) == Approx(rule).epsilon(1e-9));
}

TEST_CASE("fa4 and fa3 keep two query tiles or warpgroups in flight, fa3 at hd 64 three",
          "[sim][tile]") {
  const struct {
    const char* hw;
    const char* kernel;
    std::int64_t head_dim;
    double in_flight;
  } cases[] = {{"gb300", "fa4", 128, 2}, {"b200", "cudnn", 64, 2},  {"h100", "fa3", 128, 2},
               {"h100", "fa3", 64, 3},   {"h100", "cudnn", 128, 2}, {"h100", "fa2", 128, 1}};
  for (const auto& k : cases) {
    INFO(k.hw << " " << k.kernel << " hd " << k.head_dim);
    test_support::Query q{test_support::make("mha", {{"heads", 16}, {"head_dim", k.head_dim}}),
                          test_support::workload(models::Phase::fwd, 4, 4096, 4096, false)};
    q.w.dtype = q.w.kv_dtype = models::DType::bf16;
    const hw::Profile& p = test_support::catalog().resolve(k.hw);
    const sim::Launches out = test_support::lower_dense_forward(k.kernel, q.cost(), q.w, p);
    REQUIRE_FALSE(out.empty());
    CHECK(out[0].tiles_in_flight == k.in_flight);
  }
}
