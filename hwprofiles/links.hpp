// Multi-device links of a profile: the scale-up domain (NVLink + NVSwitch, HCCS mesh, PCIe) and the
// scale-out network between nodes. Optional: a profile without them serves single-device queries.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace hw {

class JsonObject;

// How the devices of one node are wired. nvswitch: every device reaches every other at its full
// link bandwidth; hccs_mesh: one direct link per peer, so the device's bandwidth is shared by
// its (devices_per_node - 1) links; pcie: through the host's PCIe switches.
enum class Topology { nvswitch, hccs_mesh, pcie };
std::string_view to_string(Topology t);

struct ScaleUpLink {
  std::string name;
  Topology topology = Topology::nvswitch;
  double devices_per_node = 1;
  double bandwidth_Bps_per_dir = 0;  // one device, one direction, all its links together
  double latency_s = 0;              // one step of a collective (per hop)
  std::string source;
  // The bandwidth one device drives (one direction) in a collective over `group` devices of one
  // node. hccs_mesh: one direct link per peer, each 1/(devices_per_node - 1) of the device's
  // bandwidth, and a group reaches only its group - 1 peers' links, so bandwidth x (group - 1) /
  // (devices_per_node - 1) (a single peer, a ring hop: group 2). nvswitch and pcie: the device's
  // whole bandwidth to any peer.
  double group_bandwidth_Bps(double group) const;
};

struct ScaleOutLink {
  std::string name;
  double bandwidth_Bps_per_dir = 0;  // one device's NIC(s), one direction
  double latency_s = 0;              // one step of a collective (per hop)
  std::string source;
};

struct Links {
  ScaleUpLink scale_up;
  std::optional<ScaleOutLink> scale_out;  // absent: a single node
};

// Largest scale-up domain accepted: several times the largest shipping today (Huawei
// CloudMatrix384: 384 NPUs in one UB domain, arXiv:2506.12708).
inline constexpr double kMaxDevicesPerNode = 4096;

// Reads the `links` object (schema: hwprofiles/SCHEMA.md); throws ProfileError.
Links parse_links(JsonObject o);
nlohmann::json to_json(const Links& links);

}  // namespace hw
