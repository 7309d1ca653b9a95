// Multi-device layouts of one attention layer: tensor parallelism (Megatron head split) and
// context parallelism (ring, zig-zag ring, Ulysses all-to-all, all-gather; LASP-2 and ZeCO for
// linear attention; core attention disaggregation onto a pool of attention servers; a sharded KV
// cache for decode). Each device's work is priced by the single-device engine on its shard; the
// collectives come from sim/collectives.hpp on the profile's links.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "hwprofiles/profile.hpp"
#include "models/variant.hpp"
#include "models/workload.hpp"
#include "sim/engine.hpp"

namespace sim {

// cad: core attention disaggregation (arXiv:2510.18121); the cp devices are the attention servers.
enum class CpStrategy { ring, zigzag, ulysses, allgather, lasp2, zeco, cad };
std::string_view to_string(CpStrategy s);
// Throws common::SpecError naming the known strategies.
CpStrategy parse_cp_strategy(std::string_view name);

// tp x cp devices over `nodes` nodes; TP is the inner dimension (a TP group stays in one node).
struct ParallelLayout {
  int tp = 1;
  int cp = 1;
  CpStrategy strategy = CpStrategy::ring;
  int nodes = 1;
  // For a variant that keeps a recurrent state instead of a KV cache (linear attention): lasp2 or
  // zeco in place of `strategy`, so one layout covers both kinds of layers of a hybrid model.
  std::optional<CpStrategy> state_strategy = std::nullopt;
  // The strategy was named (--cp-strategy), not the default: it must apply to the variant and
  // phase even at cp 1, where it moves nothing (predict_parallel refuses it as at cp 2).
  bool strategy_given = false;
  int devices() const { return tp * cp; }
};

// What one device does and moves over the whole workload (all layers).
struct DeviceCost {
  models::FlopCounts flops;
  double hbm_bytes = 0;        // compulsory HBM traffic of its kernels
  double kv_cache_bytes = 0;   // the KV cache it holds after the pass
  double state_bytes = 0;      // the recurrent state it holds (linear attention), all layers
  double scale_up_bytes = 0;   // sent on the scale-up link (NVLink, HCCS, PCIe), one direction
  double scale_out_bytes = 0;  // sent on the scale-out network, one direction
  double compute_s = 0;
  double comm_s = 0;          // every transfer's time, overlapped or not
  double exposed_comm_s = 0;  // the part not hidden behind compute
  // The caller's host floor over this device's calls (0 for a direct call): one per kernel call,
  // i.e. per layer and pass, on every device (sim::apply_caller_floor).
  double caller_floor_s = 0;
  // max(compute_s + exposed_comm_s, caller_floor_s); their sum for an in-turn caller
  // (calibration.caller_floor_us.in_turn, e.g. torch_npu on the 910B profiles).
  double total_s = 0;
};

// Core attention disaggregation: how the tasks were cut and what the busiest attention server
// exchanges with the devices that own the tokens (all layers, both link classes).
struct PoolDispatch {
  std::int64_t shard_tokens = 0;  // query tokens per task
  std::int64_t tasks = 0;         // tasks per layer and pass
  double dispatch_bytes = 0;      // received: Q, K, V (backward: also O, dO, LSE)
  double return_bytes = 0;        // sent back: O, LSE (backward: dQ, dK, dV)
};

struct ParallelPrediction {
  ParallelLayout layout;
  int devices_per_node = 1;         // devices of this layout on one node
  models::HeadConfig device_heads;  // the head shape one device computes
  // Some KV is held by several devices: fewer KV heads than the head split's ways (TP, and
  // Ulysses over the CP group), or a KV the heads do not divide (MLA's latent).
  bool kv_heads_replicated = false;
  DeviceCost per_device;  // the busiest device; it sets the time
  DeviceCost cluster;     // sums over all devices (times: the wall clock, = per_device)
  // Load balance: the busiest device's FLOPs over the mean device's (1 = perfect).
  double balance = 1;
  std::optional<PoolDispatch> pool;  // --cp-strategy cad only
};

// Throws common::SpecError for a layout the workload, the variant or the profile cannot run
// (TP not dividing the heads, CP not dividing the sequence, too many devices per node, a profile
// without links), with the numbers involved. `caller` sets each device's host floor as in the
// single-device predict(): a device takes at least calls x calibration.caller_floor_us[caller].
ParallelPrediction predict_parallel(EngineKind engine, const models::AttentionSpec& spec,
                                    const models::Workload& w, const hw::Profile& profile,
                                    std::string_view kernel, const ParallelLayout& layout,
                                    hw::Caller caller = hw::Caller::direct);

}  // namespace sim
