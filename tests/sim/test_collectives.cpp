#include <catch2/catch.hpp>

#include "sim/collectives.hpp"

namespace {

// 100 GB/s and 2 us per step: round numbers to work the formulas by hand.
const sim::LinkCost kLink{100e9, 2e-6};
const sim::LinkCost kNet{25e9, 10e-6};
constexpr auto kUp = sim::LinkClass::scale_up;

}  // namespace

TEST_CASE("ring all-reduce moves 2(p-1)/p of the buffer per device in 2(p-1) steps",
          "[sim][collectives]") {
  // 8 devices, 1 GB: 2 x 7/8 GB = 1.75 GB sent; 1.75e9 / 100e9 = 17.5 ms plus 14 x 2 us.
  const sim::CommCost c = sim::ring_all_reduce(1e9, 8, kLink, kUp);
  CHECK(c.scale_up_bytes == Approx(1.75e9));
  CHECK(c.scale_out_bytes == 0);
  CHECK(c.time_s == Approx(17.5e-3 + 14 * 2e-6));
}

TEST_CASE("ring all-gather and reduce-scatter each move (p-1)/p of the buffer in p-1 steps",
          "[sim][collectives]") {
  const sim::CommCost ag = sim::ring_all_gather(4e9, 4, kLink, kUp);
  CHECK(ag.scale_up_bytes == Approx(3e9));
  CHECK(ag.time_s == Approx(30e-3 + 3 * 2e-6));
  const sim::CommCost rs = sim::ring_reduce_scatter(4e9, 4, kLink, kUp);
  CHECK(rs.scale_up_bytes == Approx(ag.scale_up_bytes));
  CHECK(rs.time_s == Approx(ag.time_s));
}

TEST_CASE("tree all-reduce latency grows as log2 p, ring all-reduce latency as p",
          "[sim][collectives]") {
  // A 1-byte buffer is pure latency: tree 2 ceil(log2 p) steps, ring 2(p-1).
  const sim::LinkCost latency_only{1e30, 1e-6};
  CHECK(sim::tree_all_reduce(1, 64, latency_only, kUp).time_s == Approx(12e-6));
  CHECK(sim::tree_all_reduce(1, 5, latency_only, kUp).time_s == Approx(6e-6));
  CHECK(sim::ring_all_reduce(1, 64, latency_only, kUp).time_s == Approx(126e-6));
  // Bandwidth: the tree sends the buffer up and down (2n), the ring 2(p-1)/p n.
  CHECK(sim::tree_all_reduce(1e9, 64, kLink, kUp).scale_up_bytes == Approx(2e9));
}

TEST_CASE("all-to-all sends (p-1)/p of what a device holds", "[sim][collectives]") {
  const sim::CommCost c = sim::all_to_all(8e9, 8, kLink, kUp);
  CHECK(c.scale_up_bytes == Approx(7e9));
  CHECK(c.time_s == Approx(70e-3 + 7 * 2e-6));
}

TEST_CASE("a point-to-point send costs one latency plus bytes over bandwidth",
          "[sim][collectives]") {
  const sim::CommCost c = sim::send_recv(1e9, kNet, sim::LinkClass::scale_out);
  CHECK(c.scale_out_bytes == Approx(1e9));
  CHECK(c.scale_up_bytes == 0);
  CHECK(c.time_s == Approx(10e-6 + 40e-3));
}

TEST_CASE("one device or an empty buffer communicates nothing", "[sim][collectives]") {
  CHECK(sim::ring_all_reduce(1e9, 1, kLink, kUp).time_s == 0);
  CHECK(sim::tree_all_reduce(1e9, 1, kLink, kUp).bytes() == 0);
  CHECK(sim::all_to_all(0, 8, kLink, kUp).time_s == 0);
  CHECK(sim::send_recv(0, kLink, kUp).time_s == 0);
}

TEST_CASE("hierarchical all-reduce: 2(g-1)/g n on NVLink, 2(m-1)/m n/g on the network",
          "[sim][collectives]") {
  // 4 nodes x 8 devices, 1 GB. Inside: RS + AG of 1 GB over 8 = 1.75 GB; across: ring all-reduce
  // of 1/8 GB over 4 nodes = 2 x 3/4 x 0.125 GB = 0.1875 GB.
  const sim::Hierarchy h{8, 4, kLink, kNet};
  const sim::CommCost c = sim::hierarchical_all_reduce(1e9, h);
  CHECK(c.scale_up_bytes == Approx(1.75e9));
  CHECK(c.scale_out_bytes == Approx(0.1875e9));
  const double t_up = 1.75e9 / 100e9 + 14 * 2e-6;
  const double t_out = 0.1875e9 / 25e9 + 6 * 10e-6;
  CHECK(c.time_s == Approx(t_up + t_out));
}

TEST_CASE("a one-node hierarchy equals the flat collective on the scale-up link",
          "[sim][collectives]") {
  const sim::Hierarchy h{8, 1, kLink, kNet};
  CHECK(sim::hierarchical_all_reduce(3e9, h).time_s ==
        Approx(sim::ring_all_reduce(3e9, 8, kLink, kUp).time_s));
  CHECK(sim::hierarchical_all_gather(3e9, h).scale_out_bytes == 0);
  CHECK(sim::hierarchical_all_to_all(3e9, h).time_s ==
        Approx(sim::all_to_all(3e9, 8, kLink, kUp).time_s));
}

TEST_CASE("hierarchical all-gather: each device receives (p-1)/p of the buffer in all",
          "[sim][collectives]") {
  // 2 nodes x 4 devices, 8 GB gathered: across nodes (2-1)/2 x 2 GB = 1 GB, inside 3/4 x 8 = 6 GB.
  const sim::Hierarchy h{4, 2, kLink, kNet};
  const sim::CommCost c = sim::hierarchical_all_gather(8e9, h);
  CHECK(c.scale_out_bytes == Approx(1e9));
  CHECK(c.scale_up_bytes == Approx(6e9));
  CHECK(c.bytes() == Approx(7e9));  // = (p-1)/p x 8 GB, as flat
  CHECK(sim::hierarchical_reduce_scatter(8e9, h).bytes() == Approx(7e9));
}

TEST_CASE("hierarchical all-to-all splits a device's data by destination", "[sim][collectives]") {
  // 2 nodes x 4 devices, 8 GB per device: 1 GB to each; 3 GB stay in the node, 4 GB leave it.
  const sim::Hierarchy h{4, 2, kLink, kNet};
  const sim::CommCost c = sim::hierarchical_all_to_all(8e9, h);
  CHECK(c.scale_up_bytes == Approx(3e9));
  CHECK(c.scale_out_bytes == Approx(4e9));
  CHECK(c.time_s == Approx(4e9 / 25e9 + 4 * 10e-6));  // the network part is the longer one
}
