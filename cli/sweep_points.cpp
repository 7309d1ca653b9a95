#include "cli/sweep_points.hpp"

#include <algorithm>
#include <iterator>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/flags.hpp"
#include "cli/model_query.hpp"
#include "cli/output.hpp"
#include "common/errors.hpp"
#include "sim/schedule.hpp"

namespace cli {

namespace {

// The per-device columns are named as `query --format csv` names them (flattened JSON).
constexpr const char* kParallelColumns =
    "tp,cp,cp_strategy,cp_state_strategy,nodes,per_device_flops_tensor,per_device_hbm_bytes,"
    "per_device_kv_cache_bytes,per_device_state_bytes,per_device_comm_bytes_scale_up,"
    "per_device_comm_bytes_scale_out,per_device_compute_s,per_device_comm_s,per_device_exposed_"
    "comm_s,per_device_total_s";
// A variant sweep's layout rows also carry what `query --format csv` adds: the load balance and,
// for --cp-strategy cad, the attention pool (empty cells for the other strategies).
constexpr const char* kLayoutDetailColumns =
    "layout_balance,attention_pool_servers,attention_pool_shard_tokens,attention_pool_tasks,"
    "attention_pool_dispatch_bytes,attention_pool_return_bytes";

// The layout and per-device values, as CSV cells or JSON members (without braces).
void append_parallel(const sim::ParallelLayout& l, const sim::DeviceCost& d, SweepFormat format,
                     std::string& row) {
  const auto out = std::back_inserter(row);
  const bool csv = format == SweepFormat::csv;
  fmt::format_to(out,
                 fmt::runtime(csv ? ",{},{},{}" : ",\"tp\":{},\"cp\":{},\"cp_strategy\":\"{}\""),
                 l.tp, l.cp, sim::to_string(l.strategy));
  // The strategy of the layers that keep a recurrent state (--cp-state-strategy): an empty cell,
  // or no member (as query's JSON), when it is not set.
  const std::string_view state = l.state_strategy ? sim::to_string(*l.state_strategy) : "";
  if (csv) {
    fmt::format_to(out, ",{}", state);
  } else if (l.state_strategy) {
    fmt::format_to(out, ",\"cp_state_strategy\":\"{}\"", state);
  }
  fmt::format_to(out, fmt::runtime(csv ? ",{}" : ",\"nodes\":{}"), l.nodes);
  fmt::format_to(
      out,
      fmt::runtime(csv ? ",{},{},{},{},{},{},{},{},{},{}"
                       : ",\"per_device_flops_tensor\":{},\"per_device_hbm_bytes\":{},"
                         "\"per_device_kv_cache_bytes\":{},\"per_device_state_bytes\":{},"
                         "\"per_device_comm_bytes_scale_up\":{},"
                         "\"per_device_comm_bytes_scale_out\":{},\"per_device_compute_s\":{},"
                         "\"per_device_comm_s\":{},\"per_device_exposed_comm_s\":{},"
                         "\"per_device_total_s\":{}"),
      Number{d.flops.tensor}, Number{d.hbm_bytes}, Number{d.kv_cache_bytes}, Number{d.state_bytes},
      Number{d.scale_up_bytes}, Number{d.scale_out_bytes}, Number{d.compute_s}, Number{d.comm_s},
      Number{d.exposed_comm_s}, Number{d.total_s});
}

// The balance and the attention pool (kLayoutDetailColumns), as CSV cells or JSON members; JSON
// leaves the pool out when there is none, as query does.
void append_layout_detail(const sim::ParallelPrediction& p, SweepFormat format, std::string& row) {
  const auto out = std::back_inserter(row);
  const bool csv = format == SweepFormat::csv;
  fmt::format_to(out, fmt::runtime(csv ? ",{}" : ",\"layout_balance\":{}"), Number{p.balance});
  if (!p.pool) {
    if (csv) row += ",,,,,";
    return;
  }
  const sim::PoolDispatch& pool = *p.pool;
  fmt::format_to(out,
                 fmt::runtime(csv ? ",{},{},{},{},{}"
                                  : ",\"attention_pool_servers\":{},"
                                    "\"attention_pool_shard_tokens\":{},"
                                    "\"attention_pool_tasks\":{},"
                                    "\"attention_pool_dispatch_bytes\":{},"
                                    "\"attention_pool_return_bytes\":{}"),
                 p.layout.cp, pool.shard_tokens, pool.tasks, Number{pool.dispatch_bytes},
                 Number{pool.return_bytes});
}

struct Point {
  const hw::Profile* profile;
  std::size_t subject;  // index into specs, or into models for a model sweep
  sim::EngineKind engine;
  models::Workload workload;
  sim::ParallelLayout layout;
};

std::size_t subject_count(const SweepAxes& a) {
  return a.models.empty() ? a.specs.size() : a.models.size();
}

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
  const std::size_t strategy_i = take(std::max<std::size_t>(a.cp_strategies.size(), 1));
  const std::size_t kv_i = take(n_kv), q_i = take(n_q);
  const std::size_t seq_i = take(a.seq_lens.size()), batch_i = take(a.batches.size());
  const std::size_t dtype_i = take(a.dtypes.size()), phase_i = take(a.phases.size());
  const std::size_t engine_i = take(a.engines.size()), subject_i = take(subject_count(a));
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
  if (!a.cp_strategies.empty()) layout.strategy = a.cp_strategies[strategy_i];
  layout.strategy_given = !a.cp_strategies.empty();
  layout.state_strategy = a.cp_state_strategy;
  layout.nodes = static_cast<int>(a.nodes);
  return {&a.profiles[profile_i], subject_i, a.engines[engine_i], w, layout};
}

// A point's kernel: --kernel under the tile engine; under the roofline, which models no schedule,
// an empty CSV cell or JSON null.
std::string kernel_cell(const SweepAxes& axes, sim::EngineKind engine, SweepFormat format) {
  const std::optional<std::string_view> kernel = sim::named_kernel(engine, axes.kernel);
  if (format == SweepFormat::csv) return std::string(kernel.value_or(""));
  return kernel ? fmt::format("\"{}\"", *kernel) : std::string("null");
}

// The call's mask and projections (and, for a variant, its parameters): the inputs after
// `caller`, as CSV cells or JSON members, each with its leading comma.
void append_call(const SweepAxes& axes, bool causal, bool include_projections,
                 const std::vector<std::optional<double>>* params, SweepFormat format,
                 std::string& row) {
  const auto out = std::back_inserter(row);
  const bool csv = format == SweepFormat::csv;
  fmt::format_to(out, fmt::runtime(csv ? ",{},{}" : ",\"causal\":{},\"include_projections\":{}"),
                 causal, include_projections);
  if (!params) return;
  if (!csv) row += ",\"params\":{";
  bool first = true;
  for (std::size_t i = 0; i < axes.param_names.size(); ++i) {
    const std::optional<double>& value = (*params)[i];
    if (csv) {
      row += ',';
      if (value) fmt::format_to(out, "{}", Number{*value});
    } else if (value) {
      // Parameter names are identifiers ([a-z0-9_]): no JSON escaping is needed.
      fmt::format_to(out, "{}\"{}\":{}", first ? "" : ",", axes.param_names[i], Number{*value});
      first = false;
    }
  }
  if (!csv) row += '}';
}

// One model-sweep row: the totals over all of the model's attention layers on one profile. The
// bound is the one of the layer group that takes longest.
bool format_model_point(const SweepAxes& axes, const Point& p, SweepFormat format, std::string& row,
                        std::string& why, SweepWarnings* warnings) {
  const models::Workload& w = p.workload;
  ModelResult r;
  try {
    models::validate(w);
    ModelQuery query{axes.models[p.subject], w, axes.include_projections, p.engine, axes.kernel};
    query.caller = axes.caller;
    if (axes.parallel) query.layout = p.layout;
    r = run_model(*axes.registry, query, *p.profile);
  } catch (const common::SpecError& e) {
    why = e.what();
    return false;
  }
  if (warnings) {
    for (std::string& line : flashmla_dtype_warnings(r, *p.profile, axes.kernel)) {
      warnings->add(std::move(line));
    }
  }
  const models::FlopCounts& flops = r.flops;
  const double bytes = r.hbm_bytes;
  const sim::Resource bound = r.bound;
  const std::string& label = axes.model_labels[p.subject];
  const std::int64_t layers = axes.models[p.subject].layers;
  const auto out = std::back_inserter(row);
  if (format == SweepFormat::csv) {
    fmt::format_to(out, "{},{},{},{},{},{},{},{},{},{},{},{}", p.profile->id, csv_quote(label),
                   models::to_string(w.phase), w.batch, w.q_len, w.kv_len,
                   models::to_string(w.dtype), models::to_string(w.kv_dtype), layers,
                   sim::to_string(p.engine), kernel_cell(axes, p.engine, format),
                   hw::to_string(axes.caller));
    append_call(axes, w.causal, axes.include_projections, nullptr, format, row);
    fmt::format_to(out, ",{},{},", Number{r.time_s}, sim::to_string(bound));
    fmt::format_to(out, "{},{},{},{},{},{},{},{}", Number{flops.tensor}, Number{flops.vector},
                   Number{flops.exp}, Number{bytes}, Number{r.kv_cache_bytes},
                   Number{r.state_bytes}, r.fits ? "true" : "false", r.max_batch);
    if (r.parallel) append_parallel(r.parallel->layout, r.parallel->per_device, format, row);
    row += '\n';
    return true;
  }
  fmt::format_to(out,
                 "{{\"hw\":\"{}\",\"model\":{},\"phase\":\"{}\",\"batch\":{},\"q_len\":{},"
                 "\"kv_len\":{},\"dtype\":\"{}\",\"kv_dtype\":\"{}\",\"layers\":{},"
                 "\"engine\":\"{}\",\"kernel\":{},\"caller\":\"{}\"",
                 p.profile->id, nlohmann::json(label).dump(), models::to_string(w.phase), w.batch,
                 w.q_len, w.kv_len, models::to_string(w.dtype), models::to_string(w.kv_dtype),
                 layers, sim::to_string(p.engine), kernel_cell(axes, p.engine, format),
                 hw::to_string(axes.caller));
  append_call(axes, w.causal, axes.include_projections, nullptr, format, row);
  fmt::format_to(out, ",\"time_s\":{},\"bound\":\"{}\",", Number{r.time_s}, sim::to_string(bound));
  fmt::format_to(out,
                 "\"flops_tensor\":{},\"flops_vector\":{},\"flops_exp\":{},"
                 "\"bytes_hbm\":{},\"kv_cache_bytes\":{},\"state_bytes\":{},"
                 "\"fits\":{},\"max_batch\":{}",
                 Number{flops.tensor}, Number{flops.vector}, Number{flops.exp}, Number{bytes},
                 Number{r.kv_cache_bytes}, Number{r.state_bytes}, r.fits ? "true" : "false",
                 r.max_batch);
  if (r.parallel) append_parallel(r.parallel->layout, r.parallel->per_device, format, row);
  row += '}';
  if (format == SweepFormat::jsonl) row += '\n';
  return true;
}

}  // namespace

std::size_t point_count(const SweepAxes& a) {
  double n = 1;
  for (std::size_t size :
       {a.profiles.size(), subject_count(a), a.engines.size(), a.phases.size(), a.dtypes.size(),
        a.batches.size(), a.seq_lens.size(), a.q_lens.empty() ? std::size_t{1} : a.q_lens.size(),
        a.kv_lens.empty() ? std::size_t{1} : a.kv_lens.size(), axis_size(a.tps), axis_size(a.cps),
        std::max<std::size_t>(a.cp_strategies.size(), 1)}) {
    n *= static_cast<double>(size);
  }
  if (n > static_cast<double>(std::size_t{1} << 40)) {
    throw common::SpecError(fmt::format("the sweep has {:.3g} points; at most 2^40", n));
  }
  return static_cast<std::size_t>(n);
}

std::string csv_header(const SweepAxes& axes) {
  // The inputs (every column before time_s), then the outputs.
  std::string header = !axes.models.empty() ? "hw,model" : "hw,variant";
  header.append(
      ",phase,batch,q_len,kv_len,dtype,kv_dtype,layers,engine,kernel,caller,causal,"
      "include_projections");
  // append(), not string + string: GCC 12 warns falsely (-Warray-bounds) on the temporary.
  for (const std::string& name : axes.param_names) header.append(",params_").append(name);
  header.append(!axes.models.empty()
                    ? ",time_s,bound,flops_tensor,flops_vector,flops_exp,bytes_hbm,kv_cache_bytes,"
                      "state_bytes,fits,max_batch"
                    : ",time_s,bound,flops_tensor,flops_vector,flops_exp,bytes_hbm,"
                      "hbm_bytes_moved,kv_cache_bytes,state_bytes,arithmetic_intensity,"
                      "tensor_utilization");
  if (axes.parallel) header.append(",").append(kParallelColumns);
  if (axes.parallel && axes.models.empty()) header.append(",").append(kLayoutDetailColumns);
  return header + "\n";
}

void SweepWarnings::add(std::string line) {
  const std::lock_guard<std::mutex> lock(mutex_);
  if (std::find(lines_.begin(), lines_.end(), line) == lines_.end()) {
    lines_.push_back(std::move(line));
  }
}

std::vector<std::string> SweepWarnings::lines() const {
  const std::lock_guard<std::mutex> lock(mutex_);
  std::vector<std::string> out = lines_;
  std::sort(out.begin(), out.end());
  return out;
}

bool format_point(const SweepAxes& axes, std::size_t index, SweepFormat format, std::string& row,
                  std::string& why, SweepWarnings* warnings) {
  const Point p = point_at(axes, index);
  if (!axes.models.empty()) return format_model_point(axes, p, format, row, why, warnings);
  const models::AttentionSpec* spec = &axes.specs[p.subject];
  models::Workload w = p.workload;
  sim::Prediction pred;
  models::CostModel cost;
  sim::ParallelPrediction parallel;
  try {
    w.causal = models::effective_causal(*spec->variant, w);  // as the variant prices it
    models::validate(w);
    cost = spec->variant->cost(*spec, w);
    pred = sim::predict(p.engine, cost, w, *p.profile, axes.kernel, axes.caller);
    if (axes.parallel) {
      parallel =
          sim::predict_parallel(p.engine, *spec, w, *p.profile, axes.kernel, p.layout, axes.caller);
    }
  } catch (const common::SpecError& e) {
    why = e.what();
    return false;
  }
  if (warnings) {
    const QueryResult r{p.profile->id, *spec, w, p.engine, axes.kernel, cost, pred, std::nullopt};
    const std::string line =
        flashmla_dtype_warning(cost, w, main_schedule(r).value_or(""), *p.profile,
                               sim::KernelChoice::parse(axes.kernel).is_auto());
    if (!line.empty()) warnings->add(line);
  }
  const auto out = std::back_inserter(row);
  const std::string_view variant = spec->variant->name();
  const std::string_view phase = models::to_string(w.phase);
  const std::string_view dtype = models::to_string(w.dtype);
  const std::string_view kv_dtype = models::to_string(w.kv_dtype);
  const std::string_view engine = sim::to_string(p.engine);
  const std::string_view bound = sim::to_string(pred.bound);
  const std::vector<std::optional<double>>& params = axes.param_values[p.subject];
  if (format == SweepFormat::csv) {
    fmt::format_to(out, "{},{},{},{},{},{},{},{},{},{},{},{}", p.profile->id, variant, phase,
                   w.batch, w.q_len, w.kv_len, dtype, kv_dtype, w.layers, engine,
                   kernel_cell(axes, p.engine, format), hw::to_string(axes.caller));
    append_call(axes, w.causal, spec->projections.include, &params, format, row);
    fmt::format_to(out, ",{},{},", Number{pred.time_s}, bound);
    fmt::format_to(out, "{},{},{},{},{},{},{},{},{}", Number{pred.flops.tensor},
                   Number{pred.flops.vector}, Number{pred.flops.exp}, Number{pred.bytes.total()},
                   Number{pred.hbm_bytes_moved}, Number{cost.kv_cache_bytes},
                   Number{cost.state_bytes}, Number{pred.arithmetic_intensity},
                   Number{pred.tensor_utilization});
    if (axes.parallel) {
      append_parallel(parallel.layout, parallel.per_device, format, row);
      append_layout_detail(parallel, format, row);
    }
    row += '\n';
    return true;
  }
  // Identifiers (profile ids, names) are [a-z0-9._-]: no JSON escaping is needed.
  fmt::format_to(
      out,
      "{{\"hw\":\"{}\",\"variant\":\"{}\",\"phase\":\"{}\",\"batch\":{},\"q_len\":{},"
      "\"kv_len\":{},\"dtype\":\"{}\",\"kv_dtype\":\"{}\",\"layers\":{},\"engine\":\"{}\","
      "\"kernel\":{},\"caller\":\"{}\"",
      p.profile->id, variant, phase, w.batch, w.q_len, w.kv_len, dtype, kv_dtype, w.layers, engine,
      kernel_cell(axes, p.engine, format), hw::to_string(axes.caller));
  append_call(axes, w.causal, spec->projections.include, &params, format, row);
  fmt::format_to(out, ",\"time_s\":{},\"bound\":\"{}\",", Number{pred.time_s}, bound);
  fmt::format_to(out,
                 "\"flops_tensor\":{},\"flops_vector\":{},\"flops_exp\":{},"
                 "\"bytes_hbm\":{},\"hbm_bytes_moved\":{},\"kv_cache_bytes\":{},"
                 "\"state_bytes\":{},\"arithmetic_intensity\":{},"
                 "\"tensor_utilization\":{}",
                 Number{pred.flops.tensor}, Number{pred.flops.vector}, Number{pred.flops.exp},
                 Number{pred.bytes.total()}, Number{pred.hbm_bytes_moved},
                 Number{cost.kv_cache_bytes}, Number{cost.state_bytes},
                 Number{pred.arithmetic_intensity}, Number{pred.tensor_utilization});
  if (axes.parallel) {
    append_parallel(parallel.layout, parallel.per_device, format, row);
    append_layout_detail(parallel, format, row);
  }
  row += '}';
  if (format == SweepFormat::jsonl) row += '\n';
  return true;
}

}  // namespace cli
