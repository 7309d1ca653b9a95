// `query --model NAME` / `--hf-config FILE`: a whole model's attention stack, priced layer group by
// layer group (full, sliding-window, linear), with totals over all layers and whether the KV cache
// fits the device.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/output.hpp"
#include "cli/report.hpp"
#include "hwprofiles/profile.hpp"
#include "models/hf_config.hpp"
#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "sim/parallel.hpp"

namespace cli {

struct ModelQuery {
  models::ModelConfig model;
  models::Workload workload;  // its `layers` is ignored: each group has its own
  bool include_projections = false;
  sim::EngineKind engine = sim::EngineKind::tile;
  std::string kernel = "auto";
  hw::Caller caller = hw::Caller::direct;  // whose per-call host floor applies
  // Each layer group also priced per device under this layout (--tp/--cp/--cp-strategy/--nodes).
  std::optional<sim::ParallelLayout> layout = std::nullopt;
};

// One layer group's result on one profile.
struct GroupResult {
  const models::LayerGroup* group = nullptr;
  QueryResult result;                               // workload.layers = the group's layer count
  std::optional<sim::ParallelPrediction> parallel;  // with a layout: the group per device
};

// The model under a layout: the groups' per-device and cluster costs summed over all layers.
struct ModelLayoutTotals {
  sim::ParallelLayout layout;
  int devices_per_node = 1;
  sim::DeviceCost per_device;
  sim::DeviceCost cluster;
};

// All groups of the model on one profile, with the totals.
struct ModelResult {
  std::string hw;
  double memory_bytes = 0;  // the profile's HBM capacity
  std::vector<GroupResult> groups;
  double time_s = 0;                // attention (and projections, if asked) over all layers
  models::FlopCounts flops;         // over all layers
  double hbm_bytes = 0;             // compulsory HBM traffic over all layers (bytes.hbm, bytes_hbm)
  double hbm_bytes_moved = 0;       // what the launches move over all layers
  double caller_floor_s = 0;        // each layer group is a call: the sum of their host floors
  double arithmetic_intensity = 0;  // tensor FLOPs per compulsory HBM byte, as a group's
  double tensor_utilization = 0;    // the groups' tensor FLOP/s over the peak, time-weighted
  sim::Resource bound = sim::Resource::launch;  // the bound of the group that takes longest
  double kv_cache_bytes = 0;  // all softmax layers, at the workload's context and batch
  double state_bytes = 0;     // all linear layers' recurrent state
  std::optional<ModelLayoutTotals> parallel;  // with a layout
  // KV cache plus state against the HBM capacity (weights and activations not counted); with a
  // layout, one device's share against one device's capacity.
  bool fits = false;
  double max_batch = 0;  // the largest batch whose cache and state fit, at this context
};

// Throws common::SpecError naming the layer group when the layout cannot split one of them.
ModelResult run_model(const models::Registry& registry, const ModelQuery& query,
                      const hw::Profile& profile);

nlohmann::ordered_json to_json(const ModelQuery& query, const ModelResult& r);

// fp32_kernel_warning for each layer group of `r` whose main schedule has no fp32 path, labelled
// "<hw> (<label>, <group kind> layers)"; each schedule once.
std::vector<std::string> fp32_kernel_warnings(const ModelResult& r, models::DType dtype,
                                              std::string_view label);
// flashmla_dtype_warning for the layer groups of `r` (priced on `profile`) whose absorbed MLA
// decode FlashMLA would run but for its number formats; each line once.
std::vector<std::string> flashmla_dtype_warnings(const ModelResult& r, const hw::Profile& profile,
                                                 std::string_view kernel);
// `svg` draws the results as a chart (--format svg); empty: none.
std::string render_models(const ModelQuery& query, const std::vector<ModelResult>& results,
                          Format format, std::function<std::string()> svg = {});

}  // namespace cli
