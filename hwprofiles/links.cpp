#include "hwprofiles/links.hpp"

#include <algorithm>

#include "hwprofiles/json_object.hpp"
#include "hwprofiles/profile.hpp"
#include "hwprofiles/ranges.hpp"

namespace hw {

namespace {

constexpr double kGiga = 1e9;
constexpr double kBitsPerByte = 8;
constexpr double kMicro = 1e-6;
// Ranges that refuse typos (1e300) and accept any real link (hwprofiles/ranges.hpp): NVLink5 is
// 900 GB/s per direction (NVIDIA HGX spec, https://www.nvidia.com/en-us/data-center/hgx/), NICs
// ship at 800 Gb/s (ConnectX-8); a collective step over any network takes well under a
// millisecond.
double latency(JsonObject& o) {
  return o.in_range("latency_us", ranges::kLinkLatencyUs) * kMicro;
}

Topology parse_topology(JsonObject& o) {
  const std::string name = o.string("topology");
  for (Topology t : {Topology::nvswitch, Topology::hccs_mesh, Topology::pcie}) {
    if (to_string(t) == name) return t;
  }
  o.fail("topology", "unknown topology '" + name + "'; allowed: nvswitch, hccs_mesh, pcie");
}

ScaleUpLink parse_scale_up(JsonObject o) {
  ScaleUpLink l;
  l.name = o.string("name");
  l.topology = parse_topology(o);
  l.devices_per_node = o.count("devices_per_node", kMaxDevicesPerNode);
  l.bandwidth_Bps_per_dir = o.in_range("bandwidth_GBps_per_dir", ranges::kScaleUpGBps) * kGiga;
  l.latency_s = latency(o);
  l.source = o.string("source");
  o.finish();
  return l;
}

ScaleOutLink parse_scale_out(JsonObject o) {
  ScaleOutLink l;
  l.name = o.string("name");
  l.bandwidth_Bps_per_dir =
      o.in_range("bandwidth_Gbps_per_dir", ranges::kScaleOutGbps) * kGiga / kBitsPerByte;
  l.latency_s = latency(o);
  l.source = o.string("source");
  o.finish();
  return l;
}

}  // namespace

double ScaleUpLink::group_bandwidth_Bps(double group) const {
  if (topology != Topology::hccs_mesh || devices_per_node <= 1 || group >= devices_per_node) {
    return bandwidth_Bps_per_dir;
  }
  return bandwidth_Bps_per_dir * std::max(1.0, group - 1) / (devices_per_node - 1);
}

std::string_view to_string(Topology t) {
  switch (t) {
    case Topology::nvswitch:
      return "nvswitch";
    case Topology::hccs_mesh:
      return "hccs_mesh";
    case Topology::pcie:
      return "pcie";
  }
  return "?";
}

Links parse_links(JsonObject o) {
  Links links;
  links.scale_up = parse_scale_up(o.object("scale_up"));
  if (auto out = o.optional_object("scale_out")) links.scale_out = parse_scale_out(*out);
  o.finish();
  return links;
}

nlohmann::json to_json(const Links& links) {
  const ScaleUpLink& up = links.scale_up;
  nlohmann::json doc = {{"scale_up",
                         {{"name", up.name},
                          {"topology", std::string(to_string(up.topology))},
                          {"devices_per_node", up.devices_per_node},
                          {"bandwidth_GBps_per_dir", up.bandwidth_Bps_per_dir / kGiga},
                          {"latency_us", up.latency_s / kMicro},
                          {"source", up.source}}}};
  if (links.scale_out) {
    const ScaleOutLink& out = *links.scale_out;
    doc["scale_out"] = {
        {"name", out.name},
        {"bandwidth_Gbps_per_dir", out.bandwidth_Bps_per_dir * kBitsPerByte / kGiga},
        {"latency_us", out.latency_s / kMicro},
        {"source", out.source}};
  }
  return doc;
}

}  // namespace hw
