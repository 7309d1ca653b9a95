#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "hwprofiles/catalog.hpp"
#include "hwprofiles/profile_loader.hpp"
#include "tests/support/profile_helpers.hpp"

using test_support::profile_doc;
using test_support::profile_parse_error;

TEST_CASE("the H100 links parse into SI units: 450 GB/s NVLink, 400 Gb/s = 50 GB/s network",
          "[hw][links]") {
  const hw::Profile p = hw::parse_profile(profile_doc("h100-sxm5-80gb"), "h100.json");
  REQUIRE(p.links.has_value());
  CHECK(p.links->scale_up.topology == hw::Topology::nvswitch);
  CHECK(p.links->scale_up.devices_per_node == 8);
  CHECK(p.links->scale_up.bandwidth_Bps_per_dir == Approx(450e9));
  CHECK(p.links->scale_up.latency_s == Approx(3.4e-6));
  REQUIRE(p.links->scale_out.has_value());
  CHECK(p.links->scale_out->bandwidth_Bps_per_dir == Approx(50e9));
  CHECK(p.links->scale_out->latency_s == Approx(14e-6));
  CHECK_FALSE(p.links->scale_up.source.empty());
}

TEST_CASE("a profile without links still loads (single-device use)", "[hw][links]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc.erase("links");
  CHECK(profile_parse_error(doc).empty());
  CHECK_FALSE(hw::parse_profile(doc, "t.json").links.has_value());
  doc = profile_doc("h100-sxm5-80gb");
  doc["links"].erase("scale_out");
  CHECK_FALSE(hw::parse_profile(doc, "t.json").links->scale_out.has_value());
}

TEST_CASE("every built-in profile has scale-up links with a source", "[hw][links]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  for (const hw::Profile& p : catalog.profiles()) {
    if (p.arch == "cpu") continue;
    INFO(p.id);
    REQUIRE(p.links.has_value());
    CHECK_FALSE(p.links->scale_up.source.empty());
    CHECK(p.links->scale_up.bandwidth_Bps_per_dir > 0);
  }
  CHECK(catalog.resolve("910b").links->scale_up.topology == hw::Topology::hccs_mesh);
  CHECK(catalog.resolve("gb200").links->scale_up.devices_per_node == 72);
}

TEST_CASE("an unknown links key names the pointer and the allowed keys", "[hw][links]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc["links"]["scale_up"]["bandwith_GBps_per_dir"] = 1;
  const std::string msg = profile_parse_error(doc);
  CHECK_THAT(msg, Catch::Contains("/links/scale_up/bandwith_GBps_per_dir"));
  CHECK_THAT(msg,
             Catch::Contains("allowed: name, topology, devices_per_node, bandwidth_GBps_per_dir"));
  doc = profile_doc("h100-sxm5-80gb");
  doc["links"]["scale_sideways"] = nlohmann::json::object();
  CHECK_THAT(profile_parse_error(doc), Catch::Contains("allowed: scale_up, scale_out"));
}

TEST_CASE("links figures outside their ranges are rejected", "[hw][links]") {
  auto with = [](const char* link, const char* key, const nlohmann::json& v) {
    nlohmann::json doc = profile_doc("h100-sxm5-80gb");
    doc["links"][link][key] = v;
    return profile_parse_error(doc);
  };
  CHECK_THAT(with("scale_up", "topology", "torus"),
             Catch::Contains("allowed: nvswitch, hccs_mesh, pcie"));
  CHECK_THAT(with("scale_up", "devices_per_node", 0), Catch::Contains("devices_per_node"));
  CHECK_THAT(with("scale_up", "devices_per_node", 1.5), Catch::Contains("devices_per_node"));
  CHECK_THAT(with("scale_up", "devices_per_node", 5000), Catch::Contains("devices_per_node"));
  CHECK_THAT(with("scale_up", "bandwidth_GBps_per_dir", 0), Catch::Contains("(0.1, 100000]"));
  CHECK_THAT(with("scale_up", "bandwidth_GBps_per_dir", 1e7), Catch::Contains("(0.1, 100000]"));
  CHECK_THAT(with("scale_out", "bandwidth_Gbps_per_dir", -400), Catch::Contains("(0.1, 100000]"));
  CHECK_THAT(with("scale_out", "latency_us", -1), Catch::Contains("latency_us"));
  CHECK_THAT(with("scale_out", "latency_us", 1e5), Catch::Contains("[0, 10000]"));
  CHECK(with("scale_up", "devices_per_node", 384).empty());
}

TEST_CASE("hw-set overrides link fields and re-validates them", "[hw][links]") {
  const hw::Profile base = hw::parse_profile(profile_doc("h100-sxm5-80gb"), "h100.json");
  const hw::Profile p = hw::with_overrides(
      base, {"links.scale_out.bandwidth_Gbps_per_dir=800", "links.scale_up.devices_per_node=4",
             "links.scale_up.topology=pcie"});
  CHECK(p.links->scale_out->bandwidth_Bps_per_dir == Approx(100e9));
  CHECK(p.links->scale_up.devices_per_node == 4);
  CHECK(p.links->scale_up.topology == hw::Topology::pcie);
  CHECK_THROWS_WITH(hw::with_overrides(base, {"links.scale_up.latency_usec=1"}),
                    Catch::Contains("unknown key 'latency_usec'"));
}

TEST_CASE(
    "the A800 is the A100 80GB with NVLink cut to 400 GB/s: every other figure and every "
    "calibration entry the same",
    "[hw][links]") {
  nlohmann::json a800 = profile_doc("a800-sxm4-80gb");
  nlohmann::json a100 = profile_doc("a100-sxm4-80gb");
  CHECK(a800["links"]["scale_up"]["bandwidth_GBps_per_dir"] == 200);
  CHECK(a100["links"]["scale_up"]["bandwidth_GBps_per_dir"] == 300);
  CHECK(a800["unofficial"].contains("links.scale_up.bandwidth_GBps_per_dir"));
  for (const char* field : {"compute", "memory", "calibration", "default_schedule", "arch"}) {
    INFO(field);
    CHECK(a800[field] == a100[field]);
  }
  CHECK(a800["links"]["scale_out"] == a100["links"]["scale_out"]);
}

TEST_CASE("an HCCS full mesh gives a collective over g devices g - 1 of its dpn - 1 links",
          "[hw][links]") {
  hw::ScaleUpLink mesh;
  mesh.topology = hw::Topology::hccs_mesh;
  mesh.devices_per_node = 8;
  mesh.bandwidth_Bps_per_dir = 196e9;
  CHECK(mesh.group_bandwidth_Bps(2) == Approx(196e9 / 7));  // one peer: one direct link
  CHECK(mesh.group_bandwidth_Bps(4) == Approx(196e9 * 3 / 7));
  CHECK(mesh.group_bandwidth_Bps(8) == Approx(196e9));  // the whole node: every link
  hw::ScaleUpLink sw = mesh;
  sw.topology = hw::Topology::nvswitch;
  CHECK(sw.group_bandwidth_Bps(2) == Approx(196e9));  // a switch: any peer at full bandwidth
}
