// Renders query results: JSON (the stable schema), CSV (the same fields flattened) and a table.
#pragma once

#include <optional>
#include <string_view>

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/output.hpp"
#include "models/cost_model.hpp"
#include "models/variant.hpp"
#include "models/workload.hpp"
#include "sim/engine.hpp"

namespace cli {

// `query --measured`: a kernel's measured time against the floor of its work on the device (the
// roofline at the profile's peak rates: every FLOP and compulsory HBM byte at the datasheet
// peaks, no launch or host cost) and against the prediction.
struct MeasuredComparison {
  double measured_s = 0;
  double floor_s = 0;
  std::string floor_bound;  // the resource that sets the floor
};

struct QueryResult {
  std::string hw;
  models::AttentionSpec spec;
  models::Workload workload;
  sim::EngineKind engine = sim::EngineKind::roofline;
  std::string kernel = "auto";
  models::CostModel cost;
  sim::Prediction prediction;
  std::optional<MeasuredComparison> measured;  // --measured
};

nlohmann::ordered_json to_json(const QueryResult& r);

// A spec's parameters as query's `params` names them: heads, kv_heads, head_dim, v_head_dim, then
// the variant's own (resolved: defaults filled in), and hidden_size when the projections are
// counted. sweep's params columns are these too.
std::vector<std::pair<std::string, double>> spec_params(const models::AttentionSpec& spec);

// The schedule of the longest attention launch (not a projection GEMM or an elementwise pass):
// what `--kernel auto` ran, the table's `kernel` column; none on the roofline.
std::optional<std::string_view> main_schedule(const QueryResult& r);

// {tensor, vector, exp, total}, as every JSON report writes FLOP counts.
nlohmann::ordered_json flops_json(const models::FlopCounts& f);
// {"attnsim_version": ..., "results": [...]}
nlohmann::ordered_json results_document(const std::vector<QueryResult>& results);

// `svg` draws the results as a chart (--format svg); empty: none.
std::string render_results(const std::vector<QueryResult>& results, Format format,
                           std::function<std::string()> svg = {});

// Flattens nested objects ("flops": {"tensor": 1} -> "flops_tensor"); arrays are left out.
void flatten_json(const nlohmann::ordered_json& value, const std::string& prefix,
                  nlohmann::ordered_json& flat);
// One header row plus one row per object, columns in first-seen order.
std::string csv_from_objects(const std::vector<nlohmann::ordered_json>& rows);

}  // namespace cli
