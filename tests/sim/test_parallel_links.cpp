// What a layout's collectives cost on the profile's links: the HCCS full mesh gives a group only
// the direct links to its peers, and a ring spread over nodes is as slow as its slowest hop.
#include <catch2/catch.hpp>

#include "hwprofiles/profile_loader.hpp"
#include "sim/collectives.hpp"
#include "sim/parallel.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/profile_helpers.hpp"

using test_support::catalog;
using test_support::gqa_32_8_d128;
using test_support::workload;

namespace {

sim::ParallelPrediction predict_layout(const models::AttentionSpec& spec, const models::Workload& w,
                                       const sim::ParallelLayout& l, const hw::Profile& hw) {
  return sim::predict_parallel(sim::EngineKind::tile, spec, w, hw, "auto", l);
}

const hw::ScaleUpLink& scale_up(const hw::Profile& p) {
  REQUIRE(p.links.has_value());
  return p.links->scale_up;
}

// One direct HCCS link per peer: `links` of the device's devices_per_node - 1.
sim::LinkCost mesh_links(const hw::Profile& p, double links) {
  const hw::ScaleUpLink& up = scale_up(p);
  return {up.bandwidth_Bps_per_dir * links / (up.devices_per_node - 1), up.latency_s};
}

}  // namespace

TEST_CASE("hccs mesh: a TP 2 all-reduce runs on the one direct link of the pair",
          "[sim][parallel][links]") {
  const hw::Profile& p = catalog().resolve("910b");
  REQUIRE(scale_up(p).topology == hw::Topology::hccs_mesh);
  const models::Workload w = workload(models::Phase::prefill, 1, 8192, 8192);
  const sim::ParallelPrediction tp2 =
      predict_layout(gqa_32_8_d128(true), w, {2, 1, sim::CpStrategy::ring, 1}, p);
  const double payload = 8192.0 * 4096 * 2;  // B x L x D, bf16
  const sim::CommCost one_link =
      sim::ring_all_reduce(payload, 2, mesh_links(p, 1), sim::LinkClass::scale_up);
  CHECK(tp2.per_device.comm_s == Approx(one_link.time_s));
  CHECK(tp2.per_device.scale_up_bytes == Approx(payload));
}

TEST_CASE("hccs mesh: CP collectives over 4 devices drive 3 of the 7 links",
          "[sim][parallel][links]") {
  const hw::Profile& p = catalog().resolve("910b");
  const models::Workload w = workload(models::Phase::prefill, 1, 8192, 8192);
  const double kv = 8192.0 * 8 * 128 * 2 * 2;  // the whole K/V: L x Hkv x (d + dv), bf16
  const sim::Hierarchy group{4, 1, mesh_links(p, 3), {}};
  const sim::ParallelPrediction ag =
      predict_layout(gqa_32_8_d128(), w, {1, 4, sim::CpStrategy::allgather, 1}, p);
  CHECK(ag.per_device.comm_s == Approx(sim::hierarchical_all_gather(kv, group).time_s));
  // The all-gather cannot beat a ring of one-link hops by more than the 3 links it has.
  const sim::ParallelPrediction ring =
      predict_layout(gqa_32_8_d128(), w, {1, 4, sim::CpStrategy::ring, 1}, p);
  CHECK(ag.per_device.comm_s > ring.per_device.comm_s / 3);
}

TEST_CASE("hccs mesh: a decode gather between 2 devices runs on one link",
          "[sim][parallel][links]") {
  const hw::Profile& p = catalog().resolve("910b");
  const models::Workload w = workload(models::Phase::decode, 64, 1, 32768);
  const sim::ParallelPrediction d =
      predict_layout(gqa_32_8_d128(), w, {1, 2, sim::CpStrategy::ring, 1}, p);
  const double partials = 2.0 * 64 * 32 * 1 * (128 + 1) * 4;  // B x Hq x q x (dv + 1), fp32
  const sim::Hierarchy pair{2, 1, mesh_links(p, 1), {}};
  CHECK(d.per_device.comm_s == Approx(sim::hierarchical_all_gather(partials, pair).time_s));
}

TEST_CASE("nvswitch: a TP 2 all-reduce keeps the device's whole bandwidth",
          "[sim][parallel][links]") {
  const hw::Profile& p = catalog().resolve("h100");
  const models::Workload w = workload(models::Phase::prefill, 1, 8192, 8192);
  const sim::ParallelPrediction tp2 =
      predict_layout(gqa_32_8_d128(true), w, {2, 1, sim::CpStrategy::ring, 1}, p);
  const sim::LinkCost all{scale_up(p).bandwidth_Bps_per_dir, scale_up(p).latency_s};
  CHECK(tp2.per_device.comm_s ==
        Approx(sim::ring_all_reduce(8192.0 * 4096 * 2, 2, all, sim::LinkClass::scale_up).time_s));
}

TEST_CASE("tpla's all-reduce pays a latency per step, as the --tp all-reduce of the same bytes",
          "[sim][parallel][links]") {
  const hw::Profile& p = catalog().resolve("h100");
  const models::Workload w = workload(models::Phase::decode, 64, 1, 32768);
  const models::AttentionSpec tpla = test_support::make("tpla", {{"shards", 8}});
  const sim::Prediction pred =
      sim::predict(sim::EngineKind::tile, tpla.variant->cost(tpla, w), w, p, "auto");
  const sim::LaunchPrediction* ar = nullptr;
  for (const sim::LaunchPrediction& l : pred.launches) {
    if (l.name == std::string_view("partial_output_all_reduce")) ar = &l;
  }
  REQUIRE(ar != nullptr);
  // MLA split 8 ways with its projections all-reduces the same B x q x D activations.
  const models::AttentionSpec mla = test_support::make("mla", {}, {true, 0});
  const sim::ParallelPrediction tp8 = predict_layout(mla, w, {8, 1, sim::CpStrategy::ring, 1}, p);
  REQUIRE(tp8.per_device.scale_up_bytes == Approx(2.0 * 7 / 8 * 64 * 7168 * 2));
  CHECK(ar->link_s == Approx(tp8.per_device.comm_s));
  const sim::LinkCost all{scale_up(p).bandwidth_Bps_per_dir, scale_up(p).latency_s};
  CHECK(ar->link_s ==
        Approx(sim::ring_all_reduce(64.0 * 7168 * 2, 8, all, sim::LinkClass::scale_up).time_s));
}

TEST_CASE("a ring over nodes steps at its slowest hop, the in-node one when that is slower",
          "[sim][parallel][links]") {
  // 910B with an 800 Gb/s network (100 GB/s per device) beside 28 GB/s HCCS peer links.
  nlohmann::json doc = test_support::profile_doc("ascend-910b2");
  doc["links"]["scale_out"]["bandwidth_Gbps_per_dir"] = 800;
  const hw::Profile p = hw::parse_profile(doc, "fast-network.json");
  const models::Workload w = workload(models::Phase::prefill, 1, 8192, 8192);
  const sim::ParallelPrediction one_node =
      predict_layout(gqa_32_8_d128(), w, {1, 4, sim::CpStrategy::ring, 1}, p);
  const sim::ParallelPrediction two_nodes =
      predict_layout(gqa_32_8_d128(), w, {1, 4, sim::CpStrategy::ring, 2}, p);
  // Two ranks a node: half the hops stay on one HCCS link, as every hop of the one-node ring.
  CHECK(two_nodes.per_device.comm_s == Approx(one_node.per_device.comm_s));
  // One rank a node: every hop is on the network.
  const sim::ParallelPrediction four_nodes =
      predict_layout(gqa_32_8_d128(), w, {1, 4, sim::CpStrategy::ring, 4}, p);
  const double block = 2048.0 * 8 * 256 * 2;  // L/4 tokens of K/V, bf16
  const sim::LinkCost net{100e9, p.links->scale_out->latency_s};
  CHECK(four_nodes.per_device.comm_s ==
        Approx(3 * sim::send_recv(block, net, sim::LinkClass::scale_out).time_s));
  // ZeCO's All-Scan chain likewise.
  const models::AttentionSpec linear = test_support::gla(16, 128, 1);
  const sim::ParallelPrediction zeco_one =
      predict_layout(linear, w, {1, 4, sim::CpStrategy::zeco, 1}, p);
  const sim::ParallelPrediction zeco_two =
      predict_layout(linear, w, {1, 4, sim::CpStrategy::zeco, 2}, p);
  CHECK(zeco_two.per_device.comm_s == Approx(zeco_one.per_device.comm_s));
}
