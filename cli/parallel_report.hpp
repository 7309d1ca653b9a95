// The per-device and cluster view of a multi-device query: JSON `layout`, `per_device` and
// `cluster` objects added to each result, the same fields in CSV, and a second table.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/output.hpp"
#include "cli/report.hpp"
#include "sim/parallel.hpp"

namespace cli {

nlohmann::ordered_json parallel_json(const sim::ParallelPrediction& p);
// One device's (or the cluster's) costs: flops, hbm_bytes, kv_cache_bytes, comm_bytes by link
// class, compute_s, comm_s, exposed_comm_s, total_s.
nlohmann::ordered_json device_json(const sim::DeviceCost& d);
// The layout without a variant's head split: tp, cp, cp_strategy, nodes, devices, devices_per_node.
nlohmann::ordered_json layout_json(const sim::ParallelLayout& l, int devices_per_node);
// "tp=8 cp=4 cp_strategy=ring nodes=4 (32 devices, 8 per node)"
std::string describe_layout(const sim::ParallelLayout& l, int devices_per_node);

// Adds `d` to `sum`: what one device (or the cluster) does over several layer groups run one
// after the other.
void add_device_cost(sim::DeviceCost& sum, const sim::DeviceCost& d);

// The table of per-device values: a header line and one line per row, each after `prefix`
// (the caller's own leading columns, already padded).
std::string device_table_header(const std::string& prefix);
std::string device_table_row(const std::string& prefix, const sim::DeviceCost& d);

// `parallel[i]` belongs to `results[i]`.
std::string render_parallel_results(const std::vector<QueryResult>& results,
                                    const std::vector<sim::ParallelPrediction>& parallel,
                                    Format format);

}  // namespace cli
