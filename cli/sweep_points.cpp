#include "cli/sweep_points.hpp"

#include <iterator>

#include <fmt/format.h>

#include "common/errors.hpp"

namespace cli {

namespace {

constexpr const char* kParallelColumns =
    "tp,cp,cp_strategy,nodes,per_device_flops_tensor,per_device_hbm_bytes,"
    "per_device_kv_cache_bytes,per_device_scale_up_bytes,per_device_scale_out_bytes,"
    "per_device_compute_s,per_device_comm_s,per_device_exposed_comm_s,per_device_total_s";

// The layout and per-device values, as CSV cells or JSON members (without braces).
void append_parallel(const sim::ParallelPrediction& pp, SweepFormat format, std::string& row) {
  const sim::ParallelLayout& l = pp.layout;
  const sim::DeviceCost& d = pp.per_device;
  const auto out = std::back_inserter(row);
  const bool csv = format == SweepFormat::csv;
  fmt::format_to(out,
                 fmt::runtime(csv ? ",{},{},{},{}"
                                  : ",\"tp\":{},\"cp\":{},\"cp_strategy\":\"{}\",\"nodes\":{}"),
                 l.tp, l.cp, sim::to_string(l.strategy), l.nodes);
  fmt::format_to(
      out,
      fmt::runtime(
          csv ? ",{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g}"
              : ",\"per_device_flops_tensor\":{:.9g},\"per_device_hbm_bytes\":{:.9g},"
                "\"per_device_kv_cache_bytes\":{:.9g},\"per_device_scale_up_bytes\":{:.9g},"
                "\"per_device_scale_out_bytes\":{:.9g},\"per_device_compute_s\":{:.9g},"
                "\"per_device_comm_s\":{:.9g},\"per_device_exposed_comm_s\":{:.9g},"
                "\"per_device_total_s\":{:.9g}"),
      d.flops.tensor, d.hbm_bytes, d.kv_cache_bytes, d.scale_up_bytes, d.scale_out_bytes,
      d.compute_s, d.comm_s, d.exposed_comm_s, d.total_s);
}

struct Point {
  const hw::Profile* profile;
  const models::AttentionSpec* spec;
  sim::EngineKind engine;
  models::Workload workload;
  sim::ParallelLayout layout;
};

std::size_t axis_size(const std::vector<std::int64_t>& axis) {
  return axis.empty() ? 1 : axis.size();
}

// Mixed-radix decomposition of `index`, the last axis fastest.
Point point_at(const SweepAxes& a, std::size_t index) {
  auto take = [&index](std::size_t n) {
    const std::size_t i = index % n;
    index /= n;
    return i;
  };
  const std::size_t n_kv = a.kv_lens.empty() ? 1 : a.kv_lens.size();
  const std::size_t n_q = a.q_lens.empty() ? 1 : a.q_lens.size();
  const std::size_t cp_i = take(axis_size(a.cps)), tp_i = take(axis_size(a.tps));
  const std::size_t kv_i = take(n_kv), q_i = take(n_q);
  const std::size_t seq_i = take(a.seq_lens.size()), batch_i = take(a.batches.size());
  const std::size_t dtype_i = take(a.dtypes.size()), phase_i = take(a.phases.size());
  const std::size_t engine_i = take(a.engines.size()), spec_i = take(a.specs.size());
  const std::size_t profile_i = take(a.profiles.size());
  models::Workload w;
  w.phase = a.phases[phase_i];
  w.batch = a.batches[batch_i];
  const std::int64_t seq = a.seq_lens[seq_i];
  w.q_len = !a.q_lens.empty() ? a.q_lens[q_i] : w.phase == models::Phase::decode ? 1 : seq;
  w.kv_len = !a.kv_lens.empty() ? a.kv_lens[kv_i] : seq;
  w.causal = a.causal;
  w.dtype = a.dtypes[dtype_i];
  w.kv_dtype = a.kv_dtype.value_or(w.dtype);
  w.layers = a.layers;
  sim::ParallelLayout layout;
  layout.tp = a.tps.empty() ? 1 : static_cast<int>(a.tps[tp_i]);
  layout.cp = a.cps.empty() ? 1 : static_cast<int>(a.cps[cp_i]);
  layout.strategy = a.cp_strategy;
  layout.nodes = static_cast<int>(a.nodes);
  return {&a.profiles[profile_i], &a.specs[spec_i], a.engines[engine_i], w, layout};
}

}  // namespace

std::size_t point_count(const SweepAxes& a) {
  double n = 1;
  for (std::size_t size :
       {a.profiles.size(), a.specs.size(), a.engines.size(), a.phases.size(), a.dtypes.size(),
        a.batches.size(), a.seq_lens.size(), a.q_lens.empty() ? std::size_t{1} : a.q_lens.size(),
        a.kv_lens.empty() ? std::size_t{1} : a.kv_lens.size(), axis_size(a.tps),
        axis_size(a.cps)}) {
    n *= static_cast<double>(size);
  }
  if (n > static_cast<double>(std::size_t{1} << 40)) {
    throw common::SpecError(fmt::format("the sweep has {:.3g} points; at most 2^40", n));
  }
  return static_cast<std::size_t>(n);
}

std::string csv_header(bool parallel) {
  std::string header =
      "hw,variant,phase,batch,q_len,kv_len,dtype,kv_dtype,layers,engine,kernel,time_s,bound,"
      "flops_tensor,flops_vector,flops_exp,bytes_hbm,hbm_bytes_moved,kv_cache_bytes,"
      "state_bytes,arithmetic_intensity,tensor_utilization";
  if (parallel) header += std::string(",") + kParallelColumns;
  return header + "\n";
}

bool format_point(const SweepAxes& axes, std::size_t index, SweepFormat format, std::string& row,
                  std::string& why) {
  const Point p = point_at(axes, index);
  const models::Workload& w = p.workload;
  sim::Prediction pred;
  models::CostModel cost;
  sim::ParallelPrediction parallel;
  try {
    models::validate(w);
    cost = p.spec->variant->cost(*p.spec, w);
    pred = sim::predict(p.engine, cost, w, *p.profile, axes.kernel);
    if (axes.parallel) {
      parallel = sim::predict_parallel(p.engine, *p.spec, w, *p.profile, axes.kernel, p.layout);
    }
  } catch (const common::SpecError& e) {
    why = e.what();
    return false;
  }
  const auto out = std::back_inserter(row);
  const std::string_view variant = p.spec->variant->name();
  const std::string_view phase = models::to_string(w.phase);
  const std::string_view dtype = models::to_string(w.dtype);
  const std::string_view kv_dtype = models::to_string(w.kv_dtype);
  const std::string_view engine = sim::to_string(p.engine);
  const std::string_view bound = sim::to_string(pred.bound);
  if (format == SweepFormat::csv) {
    fmt::format_to(out, "{},{},{},{},{},{},{},{},{},{},{},{:.9g},{},", p.profile->id, variant,
                   phase, w.batch, w.q_len, w.kv_len, dtype, kv_dtype, w.layers, engine,
                   axes.kernel, pred.time_s, bound);
    fmt::format_to(out, "{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g},{:.9g}",
                   pred.flops.tensor, pred.flops.vector, pred.flops.exp, pred.bytes.total(),
                   pred.hbm_bytes_moved, cost.kv_cache_bytes, cost.state_bytes,
                   pred.arithmetic_intensity, pred.tensor_utilization);
    if (axes.parallel) append_parallel(parallel, format, row);
    row += '\n';
    return true;
  }
  // Identifiers (profile ids, names) are [a-z0-9._-]: no JSON escaping is needed.
  fmt::format_to(
      out,
      "{{\"hw\":\"{}\",\"variant\":\"{}\",\"phase\":\"{}\",\"batch\":{},\"q_len\":{},"
      "\"kv_len\":{},\"dtype\":\"{}\",\"kv_dtype\":\"{}\",\"layers\":{},\"engine\":\"{}\","
      "\"kernel\":\"{}\",\"time_s\":{:.9g},\"bound\":\"{}\",",
      p.profile->id, variant, phase, w.batch, w.q_len, w.kv_len, dtype, kv_dtype, w.layers, engine,
      axes.kernel, pred.time_s, bound);
  fmt::format_to(out,
                 "\"flops_tensor\":{:.9g},\"flops_vector\":{:.9g},\"flops_exp\":{:.9g},"
                 "\"bytes_hbm\":{:.9g},\"hbm_bytes_moved\":{:.9g},\"kv_cache_bytes\":{:.9g},"
                 "\"state_bytes\":{:.9g},\"arithmetic_intensity\":{:.9g},"
                 "\"tensor_utilization\":{:.9g}",
                 pred.flops.tensor, pred.flops.vector, pred.flops.exp, pred.bytes.total(),
                 pred.hbm_bytes_moved, cost.kv_cache_bytes, cost.state_bytes,
                 pred.arithmetic_intensity, pred.tensor_utilization);
  if (axes.parallel) append_parallel(parallel, format, row);
  row += '}';
  if (format == SweepFormat::jsonl) row += '\n';
  return true;
}

}  // namespace cli
