// Shared pieces of the parallel layouts (sim/parallel.cpp, sim/parallel_layouts.cpp, and the
// files beside them).
#pragma once

#include "sim/collectives.hpp"
#include "sim/parallel.hpp"

namespace sim::parallel_detail {

// Where the layout's devices sit and what their links cost.
struct Placement {
  int per_node = 1;  // layout devices on one node
  int nodes = 1;
  hw::ScaleUpLink up;  // the node's scale-up link (a layout of one device: none, unused)
  LinkCost out;        // scale-out, per device
  int tp = 1;
  // A collective among `group` devices of one node: on an HCCS full mesh it drives only the
  // group - 1 direct links to its peers (hw::ScaleUpLink::group_bandwidth_Bps).
  LinkCost up_group(int group) const { return {up.group_bandwidth_Bps(group), up.latency_s}; }
  // One peer: a hop of a ring.
  LinkCost up_peer() const { return up_group(2); }
  // The CP ranks of one TP rank on one node.
  int cp_per_node() const { return per_node / tp; }
  // The CP ranks of one TP rank: cp_per_node() of them on each node.
  Hierarchy cp_group() const { return {cp_per_node(), nodes, up_group(cp_per_node()), out}; }
};

struct Context {
  EngineKind engine;
  const hw::Profile& profile;
  std::string_view kernel;
  ParallelLayout layout;
  Placement place;
  models::AttentionSpec spec;  // the TP shard (heads / tp)
  models::Workload w;          // the whole sequence (one layer for the CP strategies)
};

struct HeadShard {
  models::AttentionSpec spec;
  bool replicated = false;  // fewer KV heads than ways: one KV head per device, replicated
  double kv_copies = 1;     // devices holding each KV value (kv_copies below), where computed
};
// Megatron head split over `ways` devices (sim/parallel_heads.cpp); throws SpecError naming
// `flag` and the numbers.
HeadShard split_heads(const models::AttentionSpec& spec, int ways, std::string_view flag);
// Whether a split over `ways` devices holds some KV more than once: a KV head on several devices
// (split_heads), or a KV that the heads do not divide (MLA's latent, on every device): the
// devices' shards together at least twice the whole (GLA's shared RoPE key alone is not).
bool replicates_kv(const HeadShard& shard, const models::AttentionSpec& whole, int ways,
                   const models::Workload& w);
// How many devices of the split hold each KV value on the mean: the devices' shards over the
// whole (at least 1; MQA split 4 ways: 4, MLA's latent: the ways).
double kv_copies(const HeadShard& shard, const models::AttentionSpec& whole, int ways,
                 const models::Workload& w);

// One kernel run on one device, one layer.
struct Block {
  models::CostModel cost;
  Prediction prediction;
};
Block run(const Context& c, const models::AttentionSpec& spec, const models::Workload& w);
// The devices of the layout (tp x cp).
double devices(const Context& c);
// One step of a ring over the CP group (sim/parallel_layouts.cpp): the slowest hop, `bytes` a
// rank.
CommCost ring_hop(double bytes, const Placement& p);
// The K/V bytes per token and layer that a layout passing K/V between ranks moves for `b`: what
// the form its prediction priced reads (models::CostModel::kv_block_bytes_per_token_per_layer).
double kv_block_bytes_per_token(const Block& b);

// Adds `count` runs of a block to a device's compute.
void add_compute(DeviceCost& d, const Block& b, double count);

// Context-parallel strategies: fill `d` (busiest device) and `cluster` for one layer.
void ring(const Context& c, DeviceCost& d, DeviceCost& cluster);
// Returns the head shard one device computes after the all-to-all (`replicated` as replicates_kv).
HeadShard ulysses(const Context& c, DeviceCost& d, DeviceCost& cluster);
void all_gather_cp(const Context& c, DeviceCost& d, DeviceCost& cluster);
// Linear attention's state exchange, LASP-2 or ZeCO (sim/parallel_linear.cpp).
void linear_sp(const Context& c, DeviceCost& d, DeviceCost& cluster);
// Core attention disaggregation onto the cp devices as attention servers (sim/parallel_cad.cpp).
PoolDispatch cad(const Context& c, DeviceCost& d, DeviceCost& cluster);
// Decode with the KV cache sharded over the cp devices (sim/parallel_decode.cpp).
void sharded_decode(const Context& c, DeviceCost& d, DeviceCost& cluster);

void add_comm(DeviceCost& d, const CommCost& c, double times);

// Transfers per pass: 1 for a forward, and the backward sends the forward's data again plus the
// gradients of what it received (`backward_factor` times the forward's bytes).
double pass_factor(models::Phase p, double backward_factor);

}  // namespace sim::parallel_detail
