#include "cli/model_query.hpp"

#include "cli/flags.hpp"
#include "cli/parallel_report.hpp"
#include "cli/printer.hpp"
#include "common/errors.hpp"
#include "sim/schedule.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include <fmt/format.h>

namespace cli {

namespace {

constexpr const char* kScopeNote =
    "attention (and its projections with --include-projections) only: MLP/MoE layers, "
    "embeddings and weights are not priced or counted";

nlohmann::ordered_json memory_json(const ModelResult& r) {
  nlohmann::ordered_json memory = {{"hbm_capacity_bytes", r.memory_bytes},
                                   {"kv_cache_and_state_bytes", r.kv_cache_bytes + r.state_bytes}};
  if (r.parallel) {
    const sim::DeviceCost& d = r.parallel->per_device;
    memory["per_device_kv_cache_and_state_bytes"] = d.kv_cache_bytes + d.state_bytes;
  }
  memory["fits"] = r.fits;
  // A whole number of sequences, as sweep prints it (596, not 596.0).
  memory["max_batch"] = r.max_batch < 9e18
                            ? nlohmann::ordered_json(static_cast<std::int64_t>(r.max_batch))
                            : nlohmann::ordered_json(r.max_batch);
  return memory;
}

// The totals over all layers, named as query names a result's fields (time_s, flops, bytes.hbm,
// hbm_bytes_moved, ...): the JSON `total` object and the CSV total row.
nlohmann::ordered_json totals_json(const ModelResult& r) {
  return {{"caller_floor_s", r.caller_floor_s},
          {"time_s", r.time_s},
          {"bound", sim::to_string(r.bound)},
          {"flops", flops_json(r.flops)},
          {"bytes", {{"hbm", r.hbm_bytes}}},
          {"hbm_bytes_moved", r.hbm_bytes_moved},
          {"kv_cache_bytes", r.kv_cache_bytes},
          {"state_bytes", r.state_bytes},
          {"arithmetic_intensity", r.arithmetic_intensity},
          {"tensor_utilization", r.tensor_utilization}};
}

std::string group_label(const models::LayerGroup& g) {
  return fmt::format("{} ({})", models::to_string(g.kind), g.variant);
}

}  // namespace

namespace {

// The group's per-device costs under the layout; an impossible split names the group.
sim::ParallelPrediction group_parallel(const ModelQuery& query, const models::LayerGroup& g,
                                       const QueryResult& r, const hw::Profile& profile) {
  try {
    return sim::predict_parallel(query.engine, r.spec, r.workload, profile, query.kernel,
                                 *query.layout, query.caller);
  } catch (const common::SpecError& e) {
    throw common::SpecError(fmt::format("{}: layer group {}, {} layers (first index {}): {}",
                                        query.model.name, group_label(g), g.layers(),
                                        g.indices.empty() ? 0 : g.indices.front(), e.what()));
  }
}

void add_group(ModelResult& out, GroupResult&& gr, double& slowest) {
  const sim::Prediction& p = gr.result.prediction;
  out.time_s += p.time_s;
  out.flops += p.flops;
  out.hbm_bytes += p.bytes.total();
  out.hbm_bytes_moved += p.hbm_bytes_moved;
  out.caller_floor_s += p.caller_floor_s;
  // Every group runs at one dtype on one profile, so their peaks are one: the time-weighted mean
  // of their utilisations is the total's tensor FLOP/s over that peak.
  out.tensor_utilization += p.tensor_utilization * p.time_s;
  if (p.time_s > slowest) slowest = p.time_s, out.bound = p.bound;
  out.kv_cache_bytes += gr.result.cost.kv_cache_bytes;
  out.state_bytes += gr.result.cost.state_bytes;
  if (gr.parallel) {
    if (!out.parallel)
      out.parallel = ModelLayoutTotals{gr.parallel->layout, gr.parallel->devices_per_node, {}, {}};
    add_device_cost(out.parallel->per_device, gr.parallel->per_device);
    add_device_cost(out.parallel->cluster, gr.parallel->cluster);
  }
  out.groups.push_back(std::move(gr));
}

}  // namespace

ModelResult run_model(const models::Registry& registry, const ModelQuery& query,
                      const hw::Profile& profile) {
  ModelResult out;
  out.hw = profile.id;
  out.memory_bytes = profile.memory.hbm_capacity_bytes;
  double slowest = -1;
  for (const models::LayerGroup& g : query.model.groups) {
    const models::Variant& variant = registry.find(g.variant);
    const models::AttentionSpec spec =
        variant.make_spec(g.params, {query.include_projections, query.model.hidden_size});
    models::Workload w = query.workload;
    w.layers = g.layers();
    const models::CostModel cost = variant.cost(spec, w);
    GroupResult gr{
        &g,
        {profile.id, spec, w, query.engine, query.kernel, cost,
         sim::predict(query.engine, cost, w, profile, query.kernel, query.caller), std::nullopt},
        std::nullopt};
    if (query.layout) gr.parallel = group_parallel(query, g, gr.result, profile);
    add_group(out, std::move(gr), slowest);
  }
  out.arithmetic_intensity = out.hbm_bytes > 0 ? out.flops.tensor / out.hbm_bytes : 0;
  out.tensor_utilization = out.time_s > 0 ? out.tensor_utilization / out.time_s : 0;
  // With a layout, what one device holds against one device's memory.
  const double total =
      out.parallel ? out.parallel->per_device.kv_cache_bytes + out.parallel->per_device.state_bytes
                   : out.kv_cache_bytes + out.state_bytes;
  out.fits = total <= out.memory_bytes;
  const double per_sequence = total / static_cast<double>(query.workload.batch);
  out.max_batch = per_sequence > 0 ? std::floor(out.memory_bytes / per_sequence) : 0;
  return out;
}

nlohmann::ordered_json to_json(const ModelQuery& query, const ModelResult& r) {
  nlohmann::ordered_json groups = nlohmann::ordered_json::array();
  for (const GroupResult& g : r.groups) {
    nlohmann::ordered_json group = {{"kind", models::to_string(g.group->kind)},
                                    {"variant", g.group->variant},
                                    {"layers", g.group->layers()},
                                    {"time_s", g.result.prediction.time_s},
                                    {"bound", sim::to_string(g.result.prediction.bound)},
                                    {"kv_cache_bytes", g.result.cost.kv_cache_bytes},
                                    {"state_bytes", g.result.cost.state_bytes}};
    if (g.parallel) group.update(parallel_json(*g.parallel));
    groups.push_back(std::move(group));
  }
  nlohmann::ordered_json total = totals_json(r);
  nlohmann::ordered_json doc = {{"hw", r.hw},
                                {"model", query.model.name},
                                {"source", query.model.source},
                                {"layers", query.model.layers},
                                {"attention_kind", query.model.attention_kind}};
  if (r.parallel) {
    doc["layout"] = layout_json(r.parallel->layout, r.parallel->devices_per_node);
    total["per_device"] = device_json(r.parallel->per_device);
    total["cluster"] = device_json(r.parallel->cluster);
  }
  doc["groups"] = groups;
  doc["total"] = total;
  doc["memory"] = memory_json(r);
  doc["note"] = kScopeNote;
  return doc;
}

namespace {

// Each group per device under the layout, then the model's per-device and cluster totals.
std::string render_layout_rows(const ModelResult& r) {
  const ModelLayoutTotals& t = *r.parallel;
  std::string out = fmt::format("  layout: {}\n", describe_layout(t.layout, t.devices_per_node));
  out += device_table_header(fmt::format("  {:<22}", "per device"));
  for (const GroupResult& g : r.groups) {
    out += device_table_row(fmt::format("  {:<22}", group_label(*g.group)), g.parallel->per_device);
  }
  out += device_table_row(fmt::format("  {:<22}", "total per device"), t.per_device);
  out += device_table_row(fmt::format("  {:<22}", "total cluster"), t.cluster);
  out +=
      fmt::format("  KV cache + state per device {} of {} HBM: {}; largest batch that fits: {}\n",
                  human_bytes(t.per_device.kv_cache_bytes + t.per_device.state_bytes),
                  human_bytes(r.memory_bytes), r.fits ? "fits" : "does not fit", r.max_batch);
  return out;
}

std::string render_model_table(const ModelQuery& query, const std::vector<ModelResult>& results) {
  const models::ModelConfig& m = query.model;
  const models::Workload& w = query.workload;
  std::ostringstream out;
  out << fmt::format("{}: {} layers, {}, hidden {} ({})\n", m.name, m.layers, m.attention_kind,
                     m.hidden_size, m.source);
  out << fmt::format("{} batch={} q_len={} kv_len={} dtype={} kv_dtype={}{} | engine={}{}\n",
                     models::to_string(w.phase), w.batch, w.q_len, w.kv_len,
                     models::to_string(w.dtype), models::to_string(w.kv_dtype),
                     query.include_projections ? " +projections" : "", sim::to_string(query.engine),
                     query.caller == hw::Caller::direct
                         ? std::string()
                         : fmt::format(" caller={}", hw::to_string(query.caller)));
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
    if (r.parallel) {
      out << render_layout_rows(r);
    } else {
      out << fmt::format("  KV cache + state {} of {} HBM: {}; largest batch that fits: {}\n",
                         human_bytes(r.kv_cache_bytes + r.state_bytes), human_bytes(r.memory_bytes),
                         r.fits ? "fits" : "does not fit", r.max_batch);
    }
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
      if (g.parallel) row.update(parallel_json(*g.parallel));
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
      nlohmann::ordered_json row = {
          {"model", query.model.name}, {"layer_group", "total"}, {"hw", r.hw}};
      // What the groups share describes the total too: the call (the workload, over all the
      // model's layers; engine, kernel, caller) and the kernel column where every group ran the
      // same one.
      const nlohmann::ordered_json first = cli::to_json(r.groups.front().result);
      for (const char* key : {"workload", "engine", "kernel", "main_schedule", "caller"}) {
        nlohmann::ordered_json value = first.at(key);
        if (value.is_object()) value.erase("layers");
        const bool shared =
            std::all_of(r.groups.begin(), r.groups.end(), [&](const GroupResult& g) {
              nlohmann::ordered_json other = cli::to_json(g.result).at(key);
              if (other.is_object()) other.erase("layers");
              return other == value;
            });
        if (shared) row[key] = value;
      }
      if (row.contains("workload")) row["workload"]["layers"] = query.model.layers;  // all of them
      row.update(totals_json(r));
      row["memory"] = memory_json(r);
      if (r.parallel) {
        row["layout"] = layout_json(r.parallel->layout, r.parallel->devices_per_node);
        row["per_device"] = device_json(r.parallel->per_device);
        row["cluster"] = device_json(r.parallel->cluster);
      }
      rows.push_back(std::move(row));
    }
    return csv_from_objects(rows);
  };
  return print({[&] { return render_model_table(query, results); }, json, csv, std::move(svg)},
               format);
}

std::vector<std::string> fp32_kernel_warnings(const ModelResult& r, models::DType dtype,
                                              std::string_view label) {
  std::vector<std::string> lines;
  std::vector<std::string_view> seen;
  for (const GroupResult& g : r.groups) {
    const std::string_view schedule = main_schedule(g.result).value_or("");
    if (std::find(seen.begin(), seen.end(), schedule) != seen.end()) continue;
    seen.push_back(schedule);
    const std::string line = fp32_kernel_warning(
        dtype, schedule,
        fmt::format("{} ({}, {} layers)", r.hw, label, models::to_string(g.group->kind)));
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

std::vector<std::string> flashmla_dtype_warnings(const ModelResult& r, const hw::Profile& profile,
                                                 std::string_view kernel) {
  std::vector<std::string> lines;
  const bool auto_kernel = sim::KernelChoice::parse(kernel).is_auto();
  for (const GroupResult& g : r.groups) {
    const std::string line =
        flashmla_dtype_warning(g.result.cost, g.result.workload,
                               main_schedule(g.result).value_or(""), profile, auto_kernel);
    if (!line.empty() && std::find(lines.begin(), lines.end(), line) == lines.end()) {
      lines.push_back(line);
    }
  }
  return lines;
}

}  // namespace cli
