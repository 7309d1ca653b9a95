// What an engine predicts for one workload on one device.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "hwprofiles/profile.hpp"
#include "models/cost_model.hpp"

namespace sim {

// The resource that sets a launch's (or the whole prediction's) time.
// latency: one CTA's waits per tile (TileWork::latency_cycles, and the tile overhead of a launch
// that declares it a wait) take longer than the pipes and bytes of the CTAs stacked on its SM
// (tile engine only). launch: the device's fixed launch costs. host: the caller's host work
// (--caller's floor: Python dispatch, framework checks) outlasts the device (whole predictions
// only).
enum class Resource { tensor, vector, exp, hbm, link, launch, latency, host };
inline constexpr std::size_t kResourceCount = 8;
std::string_view to_string(Resource r);

struct LaunchPrediction {
  // The model's op this launch computes (models::Op::name: `selected_attention_fwd`,
  // `score_column_sums`), as the roofline names its one launch per op; the same on both engines.
  const char* op = "";
  // The kernel's own name for the launch (`attention_fwd`, `split_kernel`, `combine`): where an
  // op lowers to several launches, what tells them apart. The roofline's launch is the op itself:
  // its name. Measured launches are matched by it (validate).
  const char* name = "";
  std::string_view schedule = "roofline";
  double ctas = 0;         // tile engine: CTAs launched (a persistent grid: its resident ones)
  double jobs = 0;         // tile engine: work units (a persistent grid's CTAs take them in turn)
  double ctas_per_sm = 0;  // tile engine: occupancy
  double waves = 0;        // tile engine: ceil(jobs / (SMs x occupancy))
  // Tile engine: the (row block, KV tile) iterations of all jobs, and the fewest and most one job
  // holds (a causal grid's first and last row blocks; a split's share of a row block's tiles).
  double tiles = 0, job_tiles_min = 0, job_tiles_max = 0;
  std::int64_t count = 1;        // launches of this kind (one per layer)
  double host_launches = 1;      // host-side launches each stands for (Launch::host_launches)
  double host_jit_launches = 0;  // of them, Triton JIT launches (Launch::host_jit_launches)
  double host_waits = 0;         // the host's waits on the device in each (Launch::host_waits)
  double time_s = 0;             // one launch
  Resource bound = Resource::launch;
  // Time each resource alone would need for one launch at the engine's rates (the tile engine's
  // on the SMs its grid occupies).
  double tensor_s = 0, vector_s = 0, exp_s = 0, hbm_s = 0, link_s = 0, fixed_s = 0;
  // The pipes together, as the engine combines them: the longest on the roofline; the tile
  // engine's matmuls and softmax with the schedule's overlap, plus its per-tile cycles. `bound`
  // names a pipe when this outlasts the bytes.
  double compute_s = 0;
  models::FlopCounts flops;  // one launch
  double hbm_bytes = 0;      // one launch
};

struct Prediction {
  double time_s = 0;  // all launches, all layers
  Resource bound = Resource::launch;
  models::FlopCounts flops;         // all layers
  models::HbmBytes bytes;           // all layers, compulsory (the model's)
  double hbm_bytes_moved = 0;       // all layers, as the engine's launches move them (after L2)
  double arithmetic_intensity = 0;  // tensor FLOPs per HBM byte
  // The model's matmul FLOP/s over the dense peak of the units that run them: the tensor peak at
  // the dtype, or the FP32 peak for fp32, which has no tensor-core path.
  double tensor_utilization = 0;
  // The caller's host floor over all calls (0 for a direct call): time_s is at least this.
  double caller_floor_s = 0;
  hw::Caller caller = hw::Caller::direct;  // whose host floor applies
  std::string_view form;  // the cost model's form priced (models::CostModel::form), if it names one
  common::StaticVector<LaunchPrediction, 64> launches;
};

}  // namespace sim
