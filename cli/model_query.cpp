#include "cli/model_query.hpp"

#include "cli/printer.hpp"

#include <cmath>
#include <sstream>

#include <fmt/format.h>

namespace cli {

namespace {

constexpr const char* kScopeNote =
    "attention (and its projections with --include-projections) only: MLP/MoE layers, "
    "embeddings and weights are not priced or counted";

nlohmann::ordered_json memory_json(const ModelResult& r) {
  return {{"hbm_capacity_bytes", r.memory_bytes},
          {"kv_cache_and_state_bytes", r.kv_cache_bytes + r.state_bytes},
          {"fits", r.fits},
          {"max_batch", r.max_batch}};
}

std::string group_label(const models::LayerGroup& g) {
  return fmt::format("{} ({})", models::to_string(g.kind), g.variant);
}

}  // namespace

ModelResult run_model(const models::Registry& registry, const ModelQuery& query,
                      const hw::Profile& profile) {
  ModelResult out;
  out.hw = profile.id;
  out.memory_bytes = profile.memory.hbm_capacity_bytes;
  for (const models::LayerGroup& g : query.model.groups) {
    const models::Variant& variant = registry.find(g.variant);
    const models::AttentionSpec spec =
        variant.make_spec(g.params, {query.include_projections, query.model.hidden_size});
    models::Workload w = query.workload;
    w.layers = g.layers();
    const models::CostModel cost = variant.cost(spec, w);
    GroupResult gr{&g,
                   {profile.id, spec, w, query.engine, query.kernel, cost,
                    sim::predict(query.engine, cost, w, profile, query.kernel, query.caller)}};
    out.time_s += gr.result.prediction.time_s;
    out.kv_cache_bytes += cost.kv_cache_bytes;
    out.state_bytes += cost.state_bytes;
    out.groups.push_back(std::move(gr));
  }
  const double total = out.kv_cache_bytes + out.state_bytes;
  out.fits = total <= out.memory_bytes;
  const double per_sequence = total / static_cast<double>(query.workload.batch);
  out.max_batch = per_sequence > 0 ? std::floor(out.memory_bytes / per_sequence) : 0;
  return out;
}

nlohmann::ordered_json to_json(const ModelQuery& query, const ModelResult& r) {
  nlohmann::ordered_json groups = nlohmann::ordered_json::array();
  for (const GroupResult& g : r.groups) {
    groups.push_back({{"kind", models::to_string(g.group->kind)},
                      {"variant", g.group->variant},
                      {"layers", g.group->layers()},
                      {"time_s", g.result.prediction.time_s},
                      {"bound", sim::to_string(g.result.prediction.bound)},
                      {"kv_cache_bytes", g.result.cost.kv_cache_bytes},
                      {"state_bytes", g.result.cost.state_bytes}});
  }
  return {{"hw", r.hw},
          {"model", query.model.name},
          {"source", query.model.source},
          {"layers", query.model.layers},
          {"attention_kind", query.model.attention_kind},
          {"groups", groups},
          {"total",
           {{"attention_time_s", r.time_s},
            {"kv_cache_bytes", r.kv_cache_bytes},
            {"state_bytes", r.state_bytes}}},
          {"memory", memory_json(r)},
          {"note", kScopeNote}};
}

namespace {

std::string render_model_table(const ModelQuery& query, const std::vector<ModelResult>& results) {
  const models::ModelConfig& m = query.model;
  const models::Workload& w = query.workload;
  std::ostringstream out;
  out << fmt::format("{}: {} layers, {}, hidden {} ({})\n", m.name, m.layers, m.attention_kind,
                     m.hidden_size, m.source);
  out << fmt::format("{} batch={} q_len={} kv_len={} dtype={} kv_dtype={} | engine={}\n",
                     models::to_string(w.phase), w.batch, w.q_len, w.kv_len,
                     models::to_string(w.dtype), models::to_string(w.kv_dtype),
                     sim::to_string(query.engine));
  for (const ModelResult& r : results) {
    out << fmt::format("\n{}\n", r.hw);
    out << fmt::format("  {:<22} {:>7} {:>10} {:>8} {:>10} {:>10}\n", "layer group", "layers",
                       "time", "bound", "KV cache", "state");
    for (const GroupResult& g : r.groups) {
      out << fmt::format(
          "  {:<22} {:>7} {:>10} {:>8} {:>10} {:>10}\n", group_label(*g.group), g.group->layers(),
          human_time(g.result.prediction.time_s), sim::to_string(g.result.prediction.bound),
          human_bytes(g.result.cost.kv_cache_bytes), human_bytes(g.result.cost.state_bytes));
    }
    out << fmt::format("  {:<22} {:>7} {:>10} {:>8} {:>10} {:>10}\n", "total", m.layers,
                       human_time(r.time_s), "", human_bytes(r.kv_cache_bytes),
                       human_bytes(r.state_bytes));
    out << fmt::format("  KV cache + state {} of {} HBM: {}; largest batch that fits: {}\n",
                       human_bytes(r.kv_cache_bytes + r.state_bytes), human_bytes(r.memory_bytes),
                       r.fits ? "fits" : "does not fit", r.max_batch);
  }
  out << "\nNote: " << kScopeNote << ".\n";
  return out.str();
}

}  // namespace

std::string render_models(const ModelQuery& query, const std::vector<ModelResult>& results,
                          Format format, std::function<std::string()> svg) {
  nlohmann::ordered_json models_list = nlohmann::ordered_json::array();
  std::vector<nlohmann::ordered_json> rows;
  for (const ModelResult& r : results) {
    models_list.push_back(to_json(query, r));
    for (const GroupResult& g : r.groups) {
      nlohmann::ordered_json row = {{"model", query.model.name},
                                    {"layer_group", models::to_string(g.group->kind)}};
      row.update(cli::to_json(g.result));
      rows.push_back(std::move(row));
    }
  }
  const auto json = [&] {
    return json_text(nlohmann::ordered_json{
        {"attnsim_version", ATTNSIM_VERSION}, {"models", models_list}, {"results", rows}});
  };
  // CSV: one row per layer group and profile, then one total row per profile.
  const auto csv = [&] {
    for (const ModelResult& r : results) {
      rows.push_back({{"model", query.model.name},
                      {"layer_group", "total"},
                      {"hw", r.hw},
                      {"time_s", r.time_s},
                      {"kv_cache_bytes", r.kv_cache_bytes},
                      {"state_bytes", r.state_bytes},
                      {"memory", memory_json(r)}});
    }
    return csv_from_objects(rows);
  };
  return print({[&] { return render_model_table(query, results); }, json, csv, std::move(svg)},
               format);
}

}  // namespace cli
