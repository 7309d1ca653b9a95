// links.scale_up is the one source of the scale-up bandwidth: TPLA's all-reduce prices on it, and
// the old `interconnect` object is accepted alone, ignored when it agrees, refused when it does
// not.
#include <catch2/catch.hpp>

#include <string>

#include "common/errors.hpp"
#include "hwprofiles/profile_loader.hpp"
#include "sim/engine.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/profile_helpers.hpp"

using test_support::make;
using test_support::profile_doc;
using test_support::profile_parse_error;
using test_support::workload;

namespace {

// The link time of TPLA's all-reduce (2 shards, one decode step) on a profile.
double all_reduce_link_s(const hw::Profile& p) {
  const models::AttentionSpec tpla = make("tpla", {{"shards", 2}});
  const models::Workload w = workload(models::Phase::decode, 4, 1, 8192);
  const sim::Prediction pred =
      sim::predict(sim::EngineKind::roofline, tpla.variant->cost(tpla, w), w, p);
  for (const sim::LaunchPrediction& l : pred.launches) {
    if (l.link_s > 0) return l.link_s;
  }
  return 0;
}

// A profile's document with no scale-up latency: the all-reduce's link time is then its bytes over
// the bandwidth alone (the latency per step is pinned in tests/sim/test_parallel_links.cpp).
nlohmann::json bandwidth_only(const char* id) {
  nlohmann::json doc = profile_doc(id);
  doc["links"]["scale_up"]["latency_us"] = 0;
  return doc;
}

nlohmann::json with_interconnect(nlohmann::json doc, double GBps) {
  doc["interconnect"] = {{"name", "old link"}, {"bandwidth_GBps_per_dir", GBps}};
  return doc;
}

}  // namespace

TEST_CASE("built-in profiles carry no interconnect; the H100 PCIe scale-up link is PCIe Gen5",
          "[hw][links]") {
  const nlohmann::json pcie = profile_doc("h100-pcie-80gb");
  CHECK_FALSE(pcie.contains("interconnect"));
  const hw::Profile p = hw::parse_profile(pcie, "h100-pcie.json");
  CHECK(p.scale_up_bandwidth_Bps() == Approx(64e9));
  CHECK_FALSE(p.legacy_interconnect.has_value());
}

TEST_CASE("TPLA's all-reduce is priced on links.scale_up (64 GB/s on H100 PCIe, 450 on SXM)",
          "[hw][links]") {
  const hw::Profile pcie = hw::parse_profile(bandwidth_only("h100-pcie-80gb"), "pcie.json");
  const hw::Profile sxm = hw::parse_profile(bandwidth_only("h100-sxm5-80gb"), "sxm.json");
  const double t_pcie = all_reduce_link_s(pcie);
  REQUIRE(t_pcie > 0);
  CHECK(t_pcie / all_reduce_link_s(sxm) == Approx(450.0 / 64));
}

TEST_CASE("an old profile with interconnect and no links loads and prices TPLA on it",
          "[hw][links]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc.erase("links");
  const hw::Profile old = hw::parse_profile(with_interconnect(doc, 225), "old.json");
  REQUIRE(old.legacy_interconnect.has_value());
  CHECK(old.scale_up_bandwidth_Bps() == Approx(225e9));
  // The old object has no latency: compare with links.scale_up at none.
  const hw::Profile sxm = hw::parse_profile(bandwidth_only("h100-sxm5-80gb"), "sxm.json");
  CHECK(all_reduce_link_s(old) == Approx(2 * all_reduce_link_s(sxm)));
}

TEST_CASE("interconnect next to links: ignored when equal, refused when it contradicts",
          "[hw][links]") {
  const nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  const hw::Profile same = hw::parse_profile(with_interconnect(doc, 450), "same.json");
  CHECK_FALSE(same.legacy_interconnect.has_value());
  CHECK(same.scale_up_bandwidth_Bps() == Approx(450e9));
  const std::string err = profile_parse_error(with_interconnect(doc, 300));
  CHECK_THAT(err, Catch::Contains("contradicts links.scale_up.bandwidth_GBps_per_dir 450"));
  CHECK_THAT(err, Catch::Contains("SCHEMA.md"));
}

TEST_CASE("a collective on a profile with neither links nor interconnect is refused",
          "[hw][links]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc.erase("links");
  const hw::Profile bare = hw::parse_profile(doc, "bare.json");
  CHECK_THROWS_WITH(all_reduce_link_s(bare), Catch::Contains("no links.scale_up"));
}
