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

// `parallel[i]` belongs to `results[i]`.
std::string render_parallel_results(const std::vector<QueryResult>& results,
                                    const std::vector<sim::ParallelPrediction>& parallel,
                                    Format format);

}  // namespace cli
