// sweep --plot's plan, fixed before the sweep runs: the measure on y (--plot-y) and the axis on x
// (--plot-x, or the one axis that varies), from the sizes of the sweep's axes.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "cli/plot_sweep.hpp"
#include "common/errors.hpp"

namespace cli {

namespace {

constexpr PlotMeasure kMeasures[] = {
    {PlotY::time, "time", "time_s", "predicted time", plot::Unit::seconds},
    {PlotY::tflops, "tflops", "", "FLOP/s (tensor + vector + exp, predicted)",
     plot::Unit::flops_per_s},
    {PlotY::kv_bytes, "kv-bytes", "", "KV cache + recurrent state (bytes)", plot::Unit::bytes},
    {PlotY::device_time, "device-time", "per_device_total_s",
     "time per device (compute + exposed communication)", plot::Unit::seconds},
    {PlotY::device_compute, "compute", "per_device_compute_s", "compute time per device",
     plot::Unit::seconds},
    {PlotY::comm, "comm", "per_device_comm_s", "communication time per device (all transfers)",
     plot::Unit::seconds},
    {PlotY::exposed_comm, "exposed-comm", "per_device_exposed_comm_s",
     "exposed communication per device (not hidden by compute)", plot::Unit::seconds},
    {PlotY::device_kv_bytes, "device-kv-bytes", "per_device_kv_cache_bytes",
     "KV cache (or state) per device (bytes)", plot::Unit::bytes},
};

// The CSV columns that follow the x axis `name` (--seq-len sets kv_len, and q_len too unless
// --q-len is given).
std::vector<std::string> x_columns(const std::string& name, const SweepAxisSizes& s) {
  if (name == "q-len") return {"q_len"};
  if (name == "kv-len") return {"kv_len"};
  if (name != "seq-len") return {name};  // batch, tp, cp
  if (s.kv_len == 0) {
    return s.q_len == 0 ? std::vector<std::string>{"kv_len", "q_len"}
                        : std::vector<std::string>{"kv_len"};
  }
  if (s.q_len == 0) return {"q_len"};
  throw common::SpecError(
      "--plot-x seq-len: --q-len and --kv-len are both given, so --seq-len changes nothing");
}

}  // namespace

const PlotMeasure& plot_measure(PlotY y) {
  for (const PlotMeasure& m : kMeasures) {
    if (m.y == y) return m;
  }
  throw std::logic_error("sweep plot: a PlotY without a measure");
}

bool per_device_measure(PlotY y) {
  return y != PlotY::time && y != PlotY::tflops && y != PlotY::kv_bytes;
}

PlotY parse_plot_y(std::string_view name) {
  std::string names;
  for (const PlotMeasure& m : kMeasures) {
    if (name == m.name) return m.y;
    names += (names.empty() ? "" : ", ") + std::string(m.name);
  }
  throw common::SpecError(fmt::format(
      "--plot-y '{}': unknown measure; allowed: {} (the last five need --tp, --cp, --cp-strategy "
      "or --nodes)",
      name, names));
}

SweepPlotPlan plan_sweep_plot(const SweepAxisSizes& s, std::string_view plot_x,
                              std::string_view plot_y) {
  SweepPlotPlan plan;
  plan.y = parse_plot_y(plot_y);
  for (const SweepAxisSizes::Param& p : s.params) {
    if (p.values > 1) plan.swept_params.push_back(p.name);
  }
  if (per_device_measure(plan.y) && !s.parallel) {
    throw common::SpecError(fmt::format(
        "--plot-y {}: a per-device measure needs a layout (--tp, --cp, --cp-strategy or --nodes)",
        plot_y));
  }
  if (s.points > kMaxPlotPoints) {
    throw common::SpecError(fmt::format(
        "--plot: the sweep has {} points; a plot keeps at most {} (narrow the axes or use --shard)",
        s.points, kMaxPlotPoints));
  }
  struct Axis {
    const char* name;
    std::size_t values;
  };
  const Axis axes[] = {{"seq-len", s.seq_len}, {"batch", s.batch}, {"q-len", s.q_len},
                       {"kv-len", s.kv_len},   {"tp", s.tp},       {"cp", s.cp}};
  std::string name(plot_x);
  const auto param = std::find_if(s.params.begin(), s.params.end(),
                                  [&](const SweepAxisSizes::Param& p) { return p.name == name; });
  if (!name.empty() && param != s.params.end()) {
    // A variant parameter on x: its params_NAME column.
    if (param->values < 2) {
      throw common::SpecError(fmt::format(
          "--plot-x {}: the sweep gives {} one value (--param {}=A,B)", name, name, name));
    }
    plan.x_flag = "--param " + name;
    plan.x_values = param->values;
    plan.x_unit = param->tokens ? plot::Unit::tokens : plot::Unit::count;
    plan.x_column = "params_" + name;
    plan.x_columns = {plan.x_column};
    return plan;
  }
  if (name.empty()) {
    std::vector<std::string> varying;
    for (const Axis& a : axes) {
      if (a.values > 1) varying.emplace_back(a.name);
    }
    if (varying.empty()) {
      // A parameter is the x axis only when nothing else varies (a window sweep at one length).
      if (plan.swept_params.size() == 1) return plan_sweep_plot(s, plan.swept_params[0], plot_y);
    }
    if (varying.size() != 1) {
      throw common::SpecError(
          varying.empty()
              ? std::string("--plot: no axis has more than one value; sweep --seq-len, --batch, "
                            "--q-len, --kv-len, --tp, --cp or one --param over a list or range")
              : fmt::format("--plot: several axes vary ({}); choose the x axis with --plot-x",
                            fmt::join(varying, ", ")));
    }
    name = varying[0];
  }
  const auto it =
      std::find_if(std::begin(axes), std::end(axes), [&](const Axis& a) { return name == a.name; });
  if (it == std::end(axes)) {
    std::string swept;
    for (const std::string& p : plan.swept_params) swept += ", " + p;
    throw common::SpecError(
        fmt::format("--plot-x '{}': unknown axis; allowed: seq-len, batch, q-len, kv-len, tp, cp{}",
                    name, swept.empty() ? " (or a variant parameter swept over a list)" : swept));
  }
  if (it->values < 2) {
    throw common::SpecError(fmt::format("--plot-x {}: --{} has only one value", name, name));
  }
  plan.x_flag = "--" + name;
  plan.x_values = it->values;
  plan.x_unit = name == "seq-len" || name == "q-len" || name == "kv-len" ? plot::Unit::tokens
                                                                         : plot::Unit::count;
  plan.x_columns = x_columns(name, s);
  plan.x_column = plan.x_columns[0];
  return plan;
}

}  // namespace cli
