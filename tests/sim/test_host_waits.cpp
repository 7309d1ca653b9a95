// The host's waits on the device (sim/host_waits.cpp, host_wait_excess_s): a per-launch caller's
// host runs ahead of the device until its first wait; after a wait the host and device clocks
// meet, and every launch starts no earlier than the host issues it.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <vector>

#include "sim/engine.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

namespace {

// A launch of `device_us` on the device that the host issues as `host_launches` launches, with
// `waits` waits among them, `layers` times.
sim::LaunchPrediction launch(double device_us, double host_launches, double waits,
                             std::int64_t layers = 1) {
  sim::LaunchPrediction l;
  l.time_s = device_us * 1e-6;
  l.host_launches = host_launches;
  l.host_waits = waits;
  l.count = layers;
  return l;
}

constexpr double kPerLaunch = 10e-6;  // the caller's host time per launch

}  // namespace

TEST_CASE("without waits the host runs ahead of the device and adds nothing", "[sim][host]") {
  sim::Prediction p;
  p.launches.push_back(launch(100, 1, 0));
  p.launches.push_back(launch(5, 5, 0));
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) == 0);
}

TEST_CASE(
    "after a wait every launch starts no earlier than the host issues it: the host's launches "
    "after the wait are paid in turn with the device",
    "[sim][host]") {
  // A (100 us, one launch); B (5 us, five launches after one wait); C (200 us, one launch).
  // Before the wait: max(10, 100) = 100. B's launches are issued at 110 .. 150 (its last 1 us
  // share ends at 151); C is issued at 160 and ends at 360. Against max(305, 70): 55 us.
  sim::Prediction p;
  p.launches.push_back(launch(100, 1, 0));
  p.launches.push_back(launch(5, 5, 1));
  p.launches.push_back(launch(200, 1, 0));
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) == Approx(55e-6));
  // Two waits split B into 3 and 2 launches: 100, then 131 (the first piece), a wait, 152, and
  // C issued at 161, ending at 361.
  p.launches[1] = launch(5, 5, 2);
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) == Approx(56e-6));
  // A host-bound B: its 50 launches end at 600, C at 810; against max(305, 520).
  p.launches[1] = launch(5, 50, 1);
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) == Approx(290e-6));
}

TEST_CASE(
    "each layer replays its launches in order: a layer's wait also drains the layer before, and "
    "every layer after the first adds the same time",
    "[sim][host]") {
  // Two layers of A, B (one wait), C: 360 as above, then A issued at 170 runs 360 .. 460, the
  // wait, B to 511, C issued at 520 ends at 720. 720 against max(610, 140).
  sim::Prediction p;
  p.launches.push_back(launch(100, 1, 0, 2));
  p.launches.push_back(launch(5, 5, 1, 2));
  p.launches.push_back(launch(200, 1, 0, 2));
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) == Approx(110e-6));
  // Five layers: 360 a layer (1800 against max(1525, 350)).
  for (sim::LaunchPrediction& l : p.launches) l.count = 5;
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) == Approx(275e-6));
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) ==
        Approx(test_support::reference_wait_excess(p, kPerLaunch)));
}

TEST_CASE(
    "waits split a lump into pieces of whole launches, the longer first: a device-bound lump's "
    "first piece carries three of its five launches",
    "[sim][host]") {
  // Five 14 us launches behind two waits, then a host-bound lump of fifty 1 us launches. Pieces
  // of 3 and 2 launches: 52, then 90; the fifty launches end at 72 + 501 = 573. Against
  // max(120, 550): 23 us (halves of 2.5 launches would give 21).
  sim::Prediction p;
  p.launches.push_back(launch(70, 5, 2));
  p.launches.push_back(launch(50, 50, 0));
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) == Approx(23e-6));
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) ==
        Approx(test_support::reference_wait_excess(p, kPerLaunch)).epsilon(1e-9));
}

TEST_CASE("a caller without host cost, or a collective's launch, adds no host time at a wait",
          "[sim][host]") {
  sim::Prediction p;
  p.launches.push_back(launch(100, 1, 0));
  p.launches.push_back(launch(5, 5, 1));
  p.launches.push_back(launch(200, 50, 0));
  CHECK(sim::host_wait_excess_s(p, 0) == 0);
  // C as a collective: issued by the communication runtime, not 50 host launches; it runs once
  // B's last launch is issued (150) and B has finished (151): 351 against max(305, 60).
  p.launches[2].link_s = p.launches[2].time_s;
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) == Approx(46e-6));
}

TEST_CASE(
    "the closed forms agree with a launch-by-launch replay, on lumps, pieces, collectives and "
    "layers, and on NSA's selected backward",
    "[sim][host]") {
  sim::Prediction p;
  p.launches.push_back(launch(40, 3, 0, 7));
  p.launches.push_back(launch(3, 12, 3, 7));
  p.launches.push_back(launch(250, 1, 0, 7));
  p.launches.push_back(launch(2, 8, 4, 7));
  p.launches.push_back(launch(30, 0, 0, 7));
  p.launches[p.launches.size() - 1].link_s = 30e-6;
  p.launches.push_back(launch(90, 2, 1, 7));
  p.launches.push_back(launch(7, 5, 2, 7));   // pieces of 3 and 2 launches
  p.launches.push_back(launch(12, 2, 4, 7));  // more waits than launches
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) ==
        Approx(test_support::reference_wait_excess(p, kPerLaunch)).epsilon(1e-9));
  CHECK(sim::host_wait_excess_s(p, 3e-6) ==
        Approx(test_support::reference_wait_excess(p, 3e-6)).epsilon(1e-9));
  // NSA's selected backward at 2k tokens on an A100, three layers.
  const models::AttentionSpec nsa = test_support::make("nsa", {{"heads", 64},
                                                               {"kv_heads", 4},
                                                               {"head_dim", 128},
                                                               {"v_head_dim", 128},
                                                               {"top_k", 4},
                                                               {"select_block", 64}});
  models::Workload w = test_support::workload(models::Phase::bwd, 1, 2048, 2048);
  w.dtype = w.kv_dtype = models::DType::bf16;
  w.layers = 3;
  const models::CostModel c =
      test_support::only(test_support::cost(nsa, w), {"selected_attention_bwd"});
  const sim::Prediction bwd =
      sim::predict_tile(c, w, test_support::builtin_profile("a100-sxm4-80gb"), "nsa_triton");
  const double f =
      test_support::builtin_profile("a100-sxm4-80gb").caller_floor_s(hw::Caller::triton);
  CHECK(sim::host_wait_excess_s(bwd, f) > 0);
  CHECK(sim::host_wait_excess_s(bwd, f) ==
        Approx(test_support::reference_wait_excess(bwd, f)).epsilon(1e-9));
  // With a Triton JIT launch costing 30 us more: the backward's Triton kernels are marked, so
  // the host's part after each wait grows, and the replays still agree.
  const sim::HostCost jit{f, 30e-6};
  CHECK(sim::host_wait_excess_s(bwd, jit) > sim::host_wait_excess_s(bwd, f));
  CHECK(sim::host_wait_excess_s(bwd, jit) ==
        Approx(test_support::reference_wait_excess(bwd, f, 30e-6)).epsilon(1e-9));
}

TEST_CASE(
    "a lump's Triton JIT launches add their extra host time after a wait, shared by its launches",
    "[sim][host]") {
  // A (100 us, one launch); B (4 us, two launches after a wait, one of them a Triton kernel);
  // C (200 us, one Triton launch). Host 10 us a launch, 20 us more a Triton launch: B's
  // launches take 20 us each (40 in all), issued from 100 to 140, its last 2 us share ending at
  // 142; C is issued at 170 (30 us) and ends at 370. Against max(304, 10 + 40 + 30): 66 us.
  sim::Prediction p;
  p.launches.push_back(launch(100, 1, 0));
  p.launches.push_back(launch(4, 2, 1));
  p.launches[1].host_jit_launches = 1;
  p.launches.push_back(launch(200, 1, 0));
  p.launches[2].host_jit_launches = 1;
  const sim::HostCost cost{10e-6, 20e-6};
  CHECK(sim::host_wait_excess_s(p, cost) == Approx(66e-6));
  CHECK(sim::host_wait_excess_s(p, cost) ==
        Approx(test_support::reference_wait_excess(p, 10e-6, 20e-6)).epsilon(1e-9));
  CHECK(sim::launch_host_s(p.launches[1], cost) == Approx(40e-6));
  // A collective's launch is the runtime's: no host time.
  p.launches[2].link_s = p.launches[2].time_s;
  CHECK(sim::launch_host_s(p.launches[2], cost) == 0);
}
