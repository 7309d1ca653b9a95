#include "cli/report.hpp"

#include "cli/printer.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

#include "models/variant.hpp"

namespace cli {

nlohmann::ordered_json flops_json(const models::FlopCounts& f) {
  return {{"tensor", f.tensor}, {"vector", f.vector}, {"exp", f.exp}, {"total", f.total()}};
}

namespace {

nlohmann::ordered_json bytes_json(const models::HbmBytes& b) {
  return {{"hbm", b.total()},
          {"q", b.q},
          {"k", b.k},
          {"v", b.v},
          {"o", b.o},
          {"lse", b.lse},
          {"grad_out", b.grad_out},
          {"grad_in", b.grad_in},
          {"weights", b.weights},
          {"activations", b.activations},
          {"state", b.state}};
}

nlohmann::ordered_json launch_json(const sim::LaunchPrediction& l) {
  return {{"name", l.op},
          {"launch", l.name},
          {"schedule", l.schedule},
          {"ctas", l.ctas},
          {"jobs", l.jobs},
          {"ctas_per_sm", l.ctas_per_sm},
          {"waves", l.waves},
          {"tiles", l.tiles},
          {"job_tiles", {{"min", l.job_tiles_min}, {"max", l.job_tiles_max}}},
          {"count", l.count},
          {"time_s", l.time_s},
          {"bound", sim::to_string(l.bound)},
          {"tensor_s", l.tensor_s},
          {"vector_s", l.vector_s},
          {"exp_s", l.exp_s},
          {"compute_s", l.compute_s},
          {"hbm_s", l.hbm_s},
          {"link_s", l.link_s},
          {"fixed_s", l.fixed_s},
          {"flops", flops_json(l.flops)},
          {"hbm_bytes", l.hbm_bytes}};
}

// The kernel a result names, or null (the roofline's).
nlohmann::ordered_json kernel_json(std::optional<std::string_view> kernel) {
  return kernel ? nlohmann::ordered_json(*kernel) : nlohmann::ordered_json(nullptr);
}

std::string csv_cell(const nlohmann::ordered_json& v) {
  if (v.is_null()) return "";
  if (v.is_string()) return csv_quote(v.get<std::string>());
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return std::to_string(v.get<std::int64_t>());
  // A non-finite number is what JSON writes as null: an empty cell here too; others at their
  // shortest round trip, so counts are exact.
  const double number = v.get<double>();
  return std::isfinite(number) ? fmt::format("{}", Number{number}) : "";
}

// " caller=NAME" for a call through a framework (its host floor applies); nothing for a direct
// call.
std::string caller_note(hw::Caller caller) {
  return caller == hw::Caller::direct ? "" : fmt::format(" caller={}", hw::to_string(caller));
}

std::string render_table(const std::vector<QueryResult>& results) {
  std::ostringstream out;
  if (results.empty()) return "";
  const QueryResult& first = results.front();
  const models::HeadConfig& h = first.spec.heads;
  const models::Workload& w = first.workload;
  out << fmt::format(
      "{} heads={} kv_heads={} head_dim={} v_head_dim={} | {} batch={} q_len={} kv_len={} {} "
      "dtype={} kv_dtype={} layers={}{} | engine={} kernel={}{}\n",
      first.spec.variant->name(), h.heads, h.kv_heads, h.head_dim, h.v_head_dim,
      models::to_string(w.phase), w.batch, w.q_len, w.kv_len,
      models::effective_causal(*first.spec.variant, w) ? "causal" : "non-causal",
      models::to_string(w.dtype), models::to_string(w.kv_dtype), w.layers,
      first.spec.projections.include ? " +projections" : "", sim::to_string(first.engine),
      sim::named_kernel(first.engine, first.kernel).value_or("-"),
      caller_note(first.prediction.caller));
  out << fmt::format("{:<18} {:>10} {:>7} {:>9} {:>12} {:>11} {:>11} {:>10} {:>7} {:>6}\n", "hw",
                     "time", "bound", "kernel", "tensor FLOP", "exp", "HBM bytes", "KV/state",
                     "FLOP/B", "util");
  for (const QueryResult& r : results) {
    const sim::Prediction& p = r.prediction;
    const std::string_view kernel = main_schedule(r).value_or("-");
    out << fmt::format("{:<18} {:>10} {:>7} {:>9} {:>12} {:>11} {:>11} {:>10} {:>7.1f} {:>5.1f}%\n",
                       r.hw, human_time(p.time_s), sim::to_string(p.bound), kernel,
                       human_count(p.flops.tensor), human_count(p.flops.exp),
                       human_bytes(p.bytes.total()),
                       human_bytes(r.cost.kv_cache_bytes + r.cost.state_bytes),
                       p.arithmetic_intensity, 100 * p.tensor_utilization);
    if (r.measured) {
      const MeasuredComparison& m = *r.measured;
      out << fmt::format(
          "  measured {}: {:.2f}x the floor of its work ({}, {}-bound: the kernel reaches {:.0f} % "
          "of it); predicted {} ({:+.1f} % against the measurement)\n",
          human_time(m.measured_s), m.measured_s / m.floor_s, human_time(m.floor_s), m.floor_bound,
          100 * m.floor_s / m.measured_s, human_time(p.time_s),
          100 * (p.time_s - m.measured_s) / m.measured_s);
    }
  }
  return out.str();
}

}  // namespace

// The schedule of the longest launch other than a projection GEMM, an elementwise pass or a
// collective (NSA's selected branch, not its compressed one that comes first; TPLA's attention,
// not its partial-output all-reduce, which the tile engine prices on the roofline and which takes
// longer on a short cache): what `--kernel auto` ran for the attention. None on the roofline,
// whose launches all say "roofline".
std::optional<std::string_view> main_schedule(const QueryResult& r) {
  std::optional<std::string_view> kernel;
  if (r.engine == sim::EngineKind::roofline) return kernel;
  double longest = -1;
  for (const sim::LaunchPrediction& l : r.prediction.launches) {
    if (l.schedule == "gemm" || l.schedule == "elementwise" || l.schedule == "roofline") continue;
    const double time = l.time_s * static_cast<double>(l.count);
    if (time > longest) {
      longest = time;
      kernel = l.schedule;
    }
  }
  return kernel;
}

std::vector<std::pair<std::string, double>> spec_params(const models::AttentionSpec& spec) {
  const models::HeadConfig& h = spec.heads;
  std::vector<std::pair<std::string, double>> out = {
      {"heads", static_cast<double>(h.heads)},
      {"kv_heads", static_cast<double>(h.kv_heads)},
      {"head_dim", static_cast<double>(h.head_dim)},
      {"v_head_dim", static_cast<double>(h.v_head_dim)}};
  const auto set = [&out](std::string_view name, double value) {
    const auto it =
        std::find_if(out.begin(), out.end(), [&](const auto& p) { return p.first == name; });
    if (it != out.end()) {
      it->second = value;
    } else {
      out.emplace_back(std::string(name), value);
    }
  };
  for (const auto& [name, value] : models::resolved_params(spec)) set(name, value);
  if (spec.projections.include) {
    set("hidden_size",
        static_cast<double>(spec.projections.hidden_size > 0 ? spec.projections.hidden_size
                                                             : h.heads * h.head_dim));
  }
  return out;
}

nlohmann::ordered_json to_json(const QueryResult& r) {
  const models::Workload& w = r.workload;
  const sim::Prediction& p = r.prediction;
  nlohmann::ordered_json launches = nlohmann::ordered_json::array();
  for (const sim::LaunchPrediction& l : p.launches) launches.push_back(launch_json(l));
  nlohmann::ordered_json params = nlohmann::ordered_json::object();
  for (const auto& [name, value] : spec_params(r.spec)) params[name] = value;
  nlohmann::ordered_json out = {
      {"hw", r.hw},
      {"variant", r.spec.variant->name()},
      {"params", params},
      {"workload",
       {{"phase", models::to_string(w.phase)},
        {"batch", w.batch},
        {"q_len", w.q_len},
        {"kv_len", w.kv_len},
        {"causal", models::effective_causal(*r.spec.variant, w)},
        {"dtype", models::to_string(w.dtype)},
        {"kv_dtype", models::to_string(w.kv_dtype)},
        {"layers", w.layers},
        {"include_projections", r.spec.projections.include}}},
      {"engine", sim::to_string(r.engine)},
      {"kernel", kernel_json(sim::named_kernel(r.engine, r.kernel))},
      {"main_schedule", kernel_json(main_schedule(r))},
      {"form", p.form.empty() ? nlohmann::ordered_json() : nlohmann::ordered_json(p.form)},
      {"caller", hw::to_string(p.caller)},
      {"caller_floor_s", p.caller_floor_s},
      {"time_s", p.time_s},
      {"bound", sim::to_string(p.bound)},
      {"flops", flops_json(p.flops)},
      {"bytes", bytes_json(p.bytes)},
      {"hbm_bytes_moved", p.hbm_bytes_moved},
      {"kv_cache_bytes", r.cost.kv_cache_bytes},
      {"kv_cache_bytes_per_token_per_layer", r.cost.kv_cache_bytes_per_token_per_layer},
      {"state_bytes", r.cost.state_bytes},
      {"projection_params", r.cost.parameters_per_layer * static_cast<double>(w.layers)},
      {"arithmetic_intensity", p.arithmetic_intensity},
      {"tensor_utilization", p.tensor_utilization}};
  if (r.measured) {
    // floor_fraction: the share of the floor the kernel reaches (floor / measured);
    // prediction_error: (predicted - measured) / measured, as validate reports it.
    const MeasuredComparison& m = *r.measured;
    out["measured"] = {{"time_s", m.measured_s},
                       {"floor_s", m.floor_s},
                       {"floor_bound", m.floor_bound},
                       {"floor_fraction", m.floor_s / m.measured_s},
                       {"prediction_error", (p.time_s - m.measured_s) / m.measured_s}};
  }
  out["launches"] = launches;
  return out;
}

nlohmann::ordered_json results_document(const std::vector<QueryResult>& results) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const QueryResult& r : results) list.push_back(to_json(r));
  return {{"attnsim_version", ATTNSIM_VERSION}, {"results", list}};
}

void flatten_json(const nlohmann::ordered_json& value, const std::string& prefix,
                  nlohmann::ordered_json& flat) {
  for (const auto& [key, v] : value.items()) {
    const std::string name = prefix.empty() ? key : prefix + "_" + key;
    if (v.is_object()) {
      flatten_json(v, name, flat);
    } else if (!v.is_array()) {
      flat[name] = v;
    }
  }
}

std::string csv_from_objects(const std::vector<nlohmann::ordered_json>& rows) {
  std::vector<std::string> columns;
  std::vector<nlohmann::ordered_json> flat_rows;
  for (const nlohmann::ordered_json& row : rows) {
    nlohmann::ordered_json flat = nlohmann::ordered_json::object();
    flatten_json(row, "", flat);
    for (const auto& [key, v] : flat.items()) {
      (void)v;
      if (std::find(columns.begin(), columns.end(), key) == columns.end()) columns.push_back(key);
    }
    flat_rows.push_back(std::move(flat));
  }
  std::string out;
  for (std::size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + columns[i];
  out += "\n";
  for (const nlohmann::ordered_json& flat : flat_rows) {
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (i) out += ",";
      if (flat.contains(columns[i])) out += csv_cell(flat[columns[i]]);
    }
    out += "\n";
  }
  return out;
}

std::string render_results(const std::vector<QueryResult>& results, Format format,
                           std::function<std::string()> svg) {
  return print(
      {[&] { return render_table(results); }, [&] { return json_text(results_document(results)); },
       [&] {
         std::vector<nlohmann::ordered_json> rows;
         for (const QueryResult& r : results) rows.push_back(to_json(r));
         return csv_from_objects(rows);
       },
       std::move(svg)},
      format);
}

}  // namespace cli
