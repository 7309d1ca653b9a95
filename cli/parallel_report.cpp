#include "cli/parallel_report.hpp"

#include "cli/printer.hpp"

#include <sstream>

#include <fmt/format.h>

namespace cli {

nlohmann::ordered_json device_json(const sim::DeviceCost& d) {
  return {{"flops",
           {{"tensor", d.flops.tensor},
            {"vector", d.flops.vector},
            {"exp", d.flops.exp},
            {"total", d.flops.total()}}},
          {"hbm_bytes", d.hbm_bytes},
          {"kv_cache_bytes", d.kv_cache_bytes},
          {"state_bytes", d.state_bytes},
          {"comm_bytes", {{"scale_up", d.scale_up_bytes}, {"scale_out", d.scale_out_bytes}}},
          {"compute_s", d.compute_s},
          {"comm_s", d.comm_s},
          {"exposed_comm_s", d.exposed_comm_s},
          {"total_s", d.total_s}};
}

nlohmann::ordered_json layout_json(const sim::ParallelLayout& l, int devices_per_node) {
  nlohmann::ordered_json out = {
      {"tp", l.tp}, {"cp", l.cp}, {"cp_strategy", sim::to_string(l.strategy)}};
  if (l.state_strategy) out["cp_state_strategy"] = sim::to_string(*l.state_strategy);
  out["nodes"] = l.nodes;
  out["devices"] = l.devices();
  out["devices_per_node"] = devices_per_node;
  return out;
}

std::string describe_layout(const sim::ParallelLayout& l, int devices_per_node) {
  const std::string state =
      l.state_strategy ? fmt::format(" cp_state_strategy={}", sim::to_string(*l.state_strategy))
                       : std::string();
  return fmt::format("tp={} cp={} cp_strategy={}{} nodes={} ({} device{}, {} on each node)", l.tp,
                     l.cp, sim::to_string(l.strategy), state, l.nodes, l.devices(),
                     l.devices() == 1 ? "" : "s", devices_per_node);
}

void add_device_cost(sim::DeviceCost& sum, const sim::DeviceCost& d) {
  sum.flops += d.flops;
  sum.hbm_bytes += d.hbm_bytes;
  sum.kv_cache_bytes += d.kv_cache_bytes;
  sum.state_bytes += d.state_bytes;
  sum.scale_up_bytes += d.scale_up_bytes;
  sum.scale_out_bytes += d.scale_out_bytes;
  sum.compute_s += d.compute_s;
  sum.comm_s += d.comm_s;
  sum.exposed_comm_s += d.exposed_comm_s;
  sum.caller_floor_s += d.caller_floor_s;
  sum.total_s += d.total_s;
}

std::string device_table_header(const std::string& prefix) {
  return prefix + fmt::format(" {:>10} {:>10} {:>10} {:>10} {:>12} {:>11} {:>11} {:>11} {:>11}\n",
                              "compute", "comm", "exposed", "total", "tensor FLOP", "HBM bytes",
                              "KV+state", "scale-up", "scale-out");
}

std::string device_table_row(const std::string& prefix, const sim::DeviceCost& d) {
  return prefix + fmt::format(" {:>10} {:>10} {:>10} {:>10} {:>12} {:>11} {:>11} {:>11} {:>11}\n",
                              human_time(d.compute_s), human_time(d.comm_s),
                              human_time(d.exposed_comm_s), human_time(d.total_s),
                              human_count(d.flops.tensor), human_bytes(d.hbm_bytes),
                              human_bytes(d.kv_cache_bytes + d.state_bytes),
                              human_bytes(d.scale_up_bytes), human_bytes(d.scale_out_bytes));
}

namespace {

std::string pool_line(const sim::ParallelPrediction& p) {
  if (!p.pool) return "";
  return fmt::format(
      "attention pool: {} tasks of {} tokens per layer, balance {:.3f} (max/mean FLOPs); busiest "
      "server receives {} and returns {}\n",
      p.pool->tasks, p.pool->shard_tokens, p.balance, human_bytes(p.pool->dispatch_bytes),
      human_bytes(p.pool->return_bytes));
}

std::string render_table(const std::vector<QueryResult>& results,
                         const std::vector<sim::ParallelPrediction>& parallel) {
  std::ostringstream out;
  out << render_results(results, Format::table);
  for (std::size_t i = 0; i < parallel.size(); ++i) {
    const sim::ParallelPrediction& p = parallel[i];
    out << fmt::format("\n{}: {} | per device: heads={} kv_heads={}{} | balance {:.3f}\n",
                       results[i].hw, describe_layout(p.layout, p.devices_per_node),
                       p.device_heads.heads, p.device_heads.kv_heads,
                       p.kv_heads_replicated ? " (replicated)" : "", p.balance);
    out << pool_line(p);
    out << device_table_header(fmt::format("{:<18}", ""));
    out << device_table_row(fmt::format("{:<18}", "per device"), p.per_device);
    out << device_table_row(fmt::format("{:<18}", "cluster"), p.cluster);
  }
  return out.str();
}

}  // namespace

nlohmann::ordered_json parallel_json(const sim::ParallelPrediction& p) {
  const sim::ParallelLayout& l = p.layout;
  nlohmann::ordered_json layout = layout_json(l, p.devices_per_node);
  layout["heads_per_device"] = p.device_heads.heads;
  layout["kv_heads_per_device"] = p.device_heads.kv_heads;
  layout["kv_heads_replicated"] = p.kv_heads_replicated;
  layout["balance"] = p.balance;
  nlohmann::ordered_json doc = {{"layout", layout},
                                {"per_device", device_json(p.per_device)},
                                {"cluster", device_json(p.cluster)}};
  if (p.pool) {
    doc["attention_pool"] = {{"servers", l.cp},
                             {"shard_tokens", p.pool->shard_tokens},
                             {"tasks", p.pool->tasks},
                             {"dispatch_bytes", p.pool->dispatch_bytes},
                             {"return_bytes", p.pool->return_bytes}};
  }
  return doc;
}

std::string render_parallel_results(const std::vector<QueryResult>& results,
                                    const std::vector<sim::ParallelPrediction>& parallel,
                                    Format format) {
  std::vector<nlohmann::ordered_json> rows;
  for (std::size_t i = 0; i < results.size(); ++i) {
    nlohmann::ordered_json row = to_json(results[i]);
    const nlohmann::ordered_json extra = parallel_json(parallel[i]);
    for (const auto& [key, value] : extra.items()) row[key] = value;
    rows.push_back(std::move(row));
  }
  // A layout's chart would need per-device ceilings: no svg here (print() says so).
  return print({[&] { return render_table(results, parallel); },
                [&] {
                  nlohmann::ordered_json doc = results_document(results);
                  doc["results"] = rows;
                  return json_text(doc);
                },
                [&] { return csv_from_objects(rows); }},
               format);
}

}  // namespace cli
