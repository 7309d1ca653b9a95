// Core attention disaggregation: the task placement (sim/cad_schedule.hpp) and its pricing
// (--cp-strategy cad), hand-worked.
#include <algorithm>

#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "sim/cad_schedule.hpp"
#include "sim/parallel.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::catalog;
using test_support::make;
using test_support::workload;

namespace {

sim::ParallelPrediction cad(const models::Workload& w, int tp, int cp, int nodes = 1) {
  const models::AttentionSpec spec =
      make("gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}});
  return sim::predict_parallel(sim::EngineKind::tile, spec, w, catalog().resolve("h100"), "auto",
                               {tp, cp, sim::CpStrategy::cad, nodes});
}

}  // namespace

TEST_CASE("cad cuts a causal document into 128-token tasks whose pairs grow along it",
          "[sim][parallel][cad]") {
  // 512 tokens: tasks of 8256, 24640, 41024 and 57408 pairs (128 x 128 (i) + 128 x 129 / 2).
  // Longest first on 2 servers: 57408 | 41024, then 24640 -> server 1, 8256 -> server 0: equal.
  const sim::CadSchedule two = sim::schedule_cad(1, 512, true, 2);
  CHECK(two.shard_tokens == 128);
  CHECK(two.tasks == 4);
  CHECK(two.total_pairs() == 512.0 * 513 / 2);
  CHECK(two.servers[0].pairs == 57408 + 8256);
  CHECK(two.servers[1].pairs == 41024 + 24640);
  CHECK(two.balance() == 1);
  // Each server needs K/V up to its furthest query: 512 keys for server 0, 384 for server 1.
  CHECK(two.servers[0].kv_tokens == 512);
  CHECK(two.servers[1].kv_tokens == 384);
  CHECK(two.servers[0].q_tokens == 256);
  // 3 servers: 57408 | 41024 | 24640 + 8256; the busiest has 57408 of a mean 131328 / 3.
  const sim::CadSchedule three = sim::schedule_cad(1, 512, true, 3);
  CHECK(three.busiest() == 0);
  CHECK(three.balance() == Approx(57408.0 * 3 / 131328));
}

TEST_CASE("cad balance of equal non-causal tasks is set by how many each server gets",
          "[sim][parallel][cad]") {
  // 2 documents of 256 tokens: 4 tasks of 128 x 256 pairs on 3 servers: 2, 1, 1.
  const sim::CadSchedule s = sim::schedule_cad(2, 256, false, 3);
  CHECK(s.tasks == 4);
  CHECK(s.servers[0].pairs == 2 * 128.0 * 256);
  CHECK(s.balance() == Approx(1.5));
  // A non-causal task needs its whole document: server 0 holds one task of each document.
  CHECK(s.servers[0].kv_tokens == 512);
  CHECK(s.servers[1].kv_tokens == 256);
}

TEST_CASE("cad grows the shard until the tasks fit; more servers than tasks leaves some idle",
          "[sim][parallel][cad]") {
  const sim::CadSchedule big = sim::schedule_cad(1, std::int64_t{1} << 28, true, 8);
  CHECK(big.shard_tokens == 256);
  CHECK(big.tasks == sim::kCadMaxTasks);
  CHECK(big.balance() == Approx(1).epsilon(1e-6));
  // 256 tokens = 2 tasks on 4 servers: the mean server has a quarter, the busiest 3/4 of it all.
  const sim::CadSchedule idle = sim::schedule_cad(1, 256, true, 4);
  CHECK(idle.balance() == Approx(4 * (128.0 * 128 + 128.0 * 129 / 2) / (256.0 * 257 / 2)));
  CHECK_THROWS_AS(sim::schedule_cad(1, 256, true, 0), common::SpecError);
}

TEST_CASE("cad dispatches Q and the K/V each server needs, and returns O and the LSE",
          "[sim][parallel][cad]") {
  // 512 causal tokens, pool of 2 on one H100 node (450 GB/s, 3.4 us per step). Server 0: 256
  // query tokens x 32 heads x 128 x 2 B of Q = 2 MiB, 512 keys x 8 KV heads x 256 x 2 B = 2 MiB;
  // returns 256 x 32 x (128 x 2 + 4) B. An all-to-all over 2 sends half of each.
  const sim::ParallelPrediction p = cad(workload(models::Phase::fwd, 1, 512, 512), 1, 2);
  REQUIRE(p.pool);
  const double in = 256.0 * 32 * 128 * 2 + 512.0 * 8 * 256 * 2;
  const double out = 256.0 * 32 * (128 * 2 + 4);
  CHECK(p.pool->tasks == 4);
  CHECK(p.pool->dispatch_bytes == Approx(in / 2));
  CHECK(p.pool->return_bytes == Approx(out / 2));
  CHECK(p.per_device.scale_up_bytes == Approx((in + out) / 2));
  CHECK(p.per_device.comm_s == Approx(2 * 3.4e-6 + (in + out) / 2 / 450e9));
  // Ping-pong: only what the compute does not cover is exposed.
  CHECK(p.per_device.exposed_comm_s ==
        Approx(std::max(0.0, p.per_device.comm_s - p.per_device.compute_s)));
  CHECK(p.balance == Approx(1));
  // Each device owns L / cp tokens' K/V.
  CHECK(p.per_device.kv_cache_bytes == Approx(256.0 * 8 * 256 * 2));
}

TEST_CASE(
    "cad keeps the single-device FLOPs over the pool and balances causal work better than "
    "a plain ring",
    "[sim][parallel][cad]") {
  const models::Workload w = workload(models::Phase::train, 2, 65536, 65536);
  const sim::ParallelPrediction one = cad(w, 1, 1);
  const sim::ParallelPrediction pool = cad(w, 2, 4);
  CHECK(pool.cluster.flops.tensor == Approx(one.per_device.flops.tensor).epsilon(1e-12));
  CHECK(pool.cluster.flops.exp == Approx(one.per_device.flops.exp).epsilon(1e-12));
  CHECK(pool.balance < 1.001);
  CHECK(pool.per_device.kv_cache_bytes == Approx(one.per_device.kv_cache_bytes / 8));
  const models::AttentionSpec spec =
      make("gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}});
  const sim::ParallelPrediction ring = sim::predict_parallel(
      sim::EngineKind::tile, spec, w, catalog().resolve("h100"), "auto", {2, 4});
  CHECK(ring.balance > 1.5);  // the last rank of a causal ring: 7/4 of the mean
  CHECK(pool.per_device.compute_s < ring.per_device.compute_s);
}

TEST_CASE("cad across nodes sends the remote share on the network", "[sim][parallel][cad]") {
  // Pool of 4 over 2 nodes: 1 of 3 peers in the node, 2 across: 1/4 of the bytes on NVLink, 2/4
  // on the network.
  const sim::ParallelPrediction p = cad(workload(models::Phase::fwd, 1, 8192, 8192), 1, 4, 2);
  REQUIRE(p.pool);
  const double moved = p.pool->dispatch_bytes + p.pool->return_bytes;
  CHECK(p.per_device.scale_out_bytes == Approx(2 * p.per_device.scale_up_bytes));
  CHECK(p.per_device.scale_up_bytes + p.per_device.scale_out_bytes == Approx(moved));
}

TEST_CASE("cad refuses linear attention and decode", "[sim][parallel][cad]") {
  const models::AttentionSpec lin = make("linear", {{"heads", 16}, {"head_dim", 128}});
  const models::Workload w = workload(models::Phase::prefill, 1, 4096, 4096);
  CHECK_THROWS_WITH(sim::predict_parallel(sim::EngineKind::tile, lin, w, catalog().resolve("h100"),
                                          "auto", {1, 2, sim::CpStrategy::cad, 1}),
                    Catch::Contains("use lasp2 or zeco"));
  CHECK_THROWS_WITH(cad(workload(models::Phase::decode, 1, 1, 4096), 1, 2),
                    Catch::Contains("use ring or allgather"));
}
