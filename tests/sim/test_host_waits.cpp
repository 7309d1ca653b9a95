// The host's waits on the device (sim/engine.cpp, host_wait_excess_s): a per-launch caller's
// host and device work overlap between two waits; after a wait the device idles until the host
// issues the next launch.
#include <catch2/catch.hpp>

#include "sim/engine.hpp"

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
    "a wait ends the overlap: the device idles until the host issues the next launch, and the "
    "host's launches after it are paid in turn",
    "[sim][host]") {
  // A (100 us, one launch); B (5 us, five launches, one wait); C (200 us, one launch).
  // Before the wait: max(10, 100) = 100. After: max(host 50 + 10, device 5 + 200 + the first
  // launch's 10) = 215. In all 315 against max(305, 70): 10 us exposed.
  sim::Prediction p;
  p.launches.push_back(launch(100, 1, 0));
  p.launches.push_back(launch(5, 5, 1));
  p.launches.push_back(launch(200, 1, 0));
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) == Approx(10e-6));
  // Two waits split B in halves: the half between them is its own segment, max(25, 2.5 + 10),
  // and the last segment is max(25 + 10, 2.5 + 200 + 10): 100 + 25 + 212.5 against 305.
  p.launches[1] = launch(5, 5, 2);
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) == Approx(32.5e-6));
  // A host-bound piece: B's launches take longer than everything the device has left.
  p.launches[1] = launch(5, 50, 1);
  // 100, then max(500 + 10, 5 + 200 + 10) = 510: 610 against max(305, 520). The host could not
  // issue B's launches while A ran: A's 100 us, less its own launch, are exposed.
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) == Approx(90e-6));
}

TEST_CASE(
    "each layer replays its launches in order, so a layer's wait also drains the layer before",
    "[sim][host]") {
  // Two layers of A, B (one wait), C: 100 | B C A: max(70, 5 + 200 + 100 + 10) = 315 | B C:
  // max(60, 215) = 215. 630 against max(610, 140).
  sim::Prediction p;
  p.launches.push_back(launch(100, 1, 0, 2));
  p.launches.push_back(launch(5, 5, 1, 2));
  p.launches.push_back(launch(200, 1, 0, 2));
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) == Approx(20e-6));
}

TEST_CASE("a caller without host cost, or a collective's launch, adds no host time at a wait",
          "[sim][host]") {
  sim::Prediction p;
  p.launches.push_back(launch(100, 1, 0));
  p.launches.push_back(launch(5, 5, 1));
  p.launches.push_back(launch(200, 1, 0));
  CHECK(sim::host_wait_excess_s(p, 0) == 0);
  // The collective after the wait is issued by the communication runtime: no host launch, but
  // the device still waits for B's launches to be issued first.
  p.launches[2].link_s = p.launches[2].time_s;
  // 100, then max(50, 5 + 200 + 10) = 215: 315 against max(305, 60).
  CHECK(sim::host_wait_excess_s(p, kPerLaunch) == Approx(10e-6));
}
