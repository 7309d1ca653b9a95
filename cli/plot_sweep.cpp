#include "cli/plot_sweep.hpp"

#include <algorithm>
#include <cstdlib>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/errors.hpp"

namespace cli {

namespace {

std::vector<std::string> split_csv(std::string_view row) {
  while (!row.empty() && (row.back() == '\n' || row.back() == '\r')) row.remove_suffix(1);
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const std::size_t comma = row.find(',', start);
    out.emplace_back(row.substr(start, comma == std::string_view::npos ? comma : comma - start));
    if (comma == std::string_view::npos) return out;
    start = comma + 1;
  }
}

std::size_t column(const std::vector<std::string>& columns, std::string_view name) {
  const auto it = std::find(columns.begin(), columns.end(), name);
  if (it == columns.end()) {
    throw std::logic_error(fmt::format("sweep plot: the CSV rows have no '{}' column", name));
  }
  return static_cast<std::size_t>(it - columns.begin());
}

double number(const std::vector<std::string>& fields, std::size_t i) {
  return i < fields.size() ? std::strtod(fields[i].c_str(), nullptr) : 0;
}

bool numeric(const std::string& text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return std::isdigit(static_cast<unsigned char>(c));
  });
}

const char* y_title(PlotY y) {
  switch (y) {
    case PlotY::time:
      return "predicted time";
    case PlotY::tflops:
      return "FLOP/s (tensor + vector + exp, predicted)";
    case PlotY::kv_bytes:
      return "KV cache + recurrent state (bytes)";
  }
  return "";
}

}  // namespace

PlotY parse_plot_y(std::string_view name) {
  if (name == "time") return PlotY::time;
  if (name == "tflops") return PlotY::tflops;
  if (name == "kv-bytes") return PlotY::kv_bytes;
  throw common::SpecError(
      fmt::format("--plot-y '{}': unknown measure; allowed: time, tflops, kv-bytes", name));
}

SweepPlotPlan plan_sweep_plot(const SweepAxisSizes& s, std::string_view plot_x,
                              std::string_view plot_y) {
  SweepPlotPlan plan;
  plan.y = parse_plot_y(plot_y);
  if (s.points > kMaxPlotPoints) {
    throw common::SpecError(fmt::format(
        "--plot: the sweep has {} points; a plot keeps at most {} (narrow the axes or use --shard)",
        s.points, kMaxPlotPoints));
  }
  if (s.mixed_head_shapes) {
    throw common::SpecError(
        "--plot: the sweep varies --heads/--kv-heads/--head-dim, which its rows do not name; plot "
        "one head shape at a time");
  }
  struct Axis {
    const char* name;
    std::size_t values;
  };
  const Axis axes[] = {
      {"seq-len", s.seq_len}, {"batch", s.batch}, {"q-len", s.q_len}, {"kv-len", s.kv_len}};
  std::string name(plot_x);
  if (name.empty()) {
    std::vector<std::string> varying;
    for (const Axis& a : axes) {
      if (a.values > 1) varying.emplace_back(a.name);
    }
    if (varying.size() != 1) {
      throw common::SpecError(
          varying.empty()
              ? std::string("--plot: no axis has more than one value; sweep --seq-len, --batch, "
                            "--q-len or --kv-len over a list or range")
              : fmt::format("--plot: several axes vary ({}); choose the x axis with --plot-x",
                            fmt::join(varying, ", ")));
    }
    name = varying[0];
  }
  const auto it =
      std::find_if(std::begin(axes), std::end(axes), [&](const Axis& a) { return name == a.name; });
  if (it == std::end(axes)) {
    throw common::SpecError(
        fmt::format("--plot-x '{}': unknown axis; allowed: seq-len, batch, q-len, kv-len", name));
  }
  if (it->values < 2) {
    throw common::SpecError(fmt::format("--plot-x {}: --{} has only one value", name, name));
  }
  plan.x_flag = "--" + name;
  plan.x_unit = name == "batch" ? plot::Unit::count : plot::Unit::tokens;
  if (name == "batch") {
    plan.x_columns = {"batch"};
  } else if (name == "q-len") {
    plan.x_columns = {"q_len"};
  } else if (name == "kv-len") {
    plan.x_columns = {"kv_len"};
  } else if (s.kv_len == 0) {  // --seq-len sets kv_len, and q_len too unless --q-len is given
    plan.x_columns = s.q_len == 0 ? std::vector<std::string>{"kv_len", "q_len"}
                                  : std::vector<std::string>{"kv_len"};
  } else if (s.q_len == 0) {
    plan.x_columns = {"q_len"};
  } else {
    throw common::SpecError(
        "--plot-x seq-len: --q-len and --kv-len are both given, so --seq-len "
        "changes nothing");
  }
  plan.x_column = plan.x_columns[0];
  return plan;
}

SweepPlot::SweepPlot(SweepPlotPlan plan, std::string_view csv_header)
    : plan_(std::move(plan)), columns_(split_csv(csv_header)) {
  x_index_ = column(columns_, plan_.x_column);
  const std::size_t first_output = column(columns_, "time_s");
  for (std::size_t i = 0; i < first_output; ++i) {
    if (std::find(plan_.x_columns.begin(), plan_.x_columns.end(), columns_[i]) ==
        plan_.x_columns.end()) {
      key_columns_.push_back(i);
    }
  }
  y_columns_[0] = first_output;
  if (plan_.y == PlotY::tflops) {
    y_columns_[1] = column(columns_, "flops_tensor");
    y_columns_[2] = column(columns_, "flops_vector");
    y_columns_[3] = column(columns_, "flops_exp");
  } else if (plan_.y == PlotY::kv_bytes) {
    y_columns_[1] = column(columns_, "kv_cache_bytes");
    y_columns_[2] = column(columns_, "state_bytes");
  }
}

void SweepPlot::add(std::string_view csv_row) {
  const std::vector<std::string> fields = split_csv(csv_row);
  std::string key;
  for (std::size_t i : key_columns_) key += fields.at(i) + '\x1f';
  auto it = series_index_.find(key);
  if (it == series_index_.end()) {
    if (series_.size() == kMaxPlotSeries) {
      throw common::SpecError(fmt::format(
          "--plot: more than {} series (one per combination of the axes other than {}); sweep "
          "fewer values or choose another --plot-x",
          kMaxPlotSeries, plan_.x_flag));
    }
    it = series_index_.emplace(key, series_.size()).first;
    std::vector<std::string> values;
    for (std::size_t i : key_columns_) values.push_back(fields.at(i));
    series_keys_.push_back(std::move(values));
    series_.emplace_back();
  }
  plot::Series& s = series_[it->second];
  const double time = number(fields, y_columns_[0]);
  double y = time;
  if (plan_.y == PlotY::tflops) {
    const double flops = number(fields, y_columns_[1]) + number(fields, y_columns_[2]) +
                         number(fields, y_columns_[3]);
    y = time > 0 ? flops / time : 0;
  } else if (plan_.y == PlotY::kv_bytes) {
    y = number(fields, y_columns_[1]) + number(fields, y_columns_[2]);
  }
  s.x.push_back(number(fields, x_index_));
  s.y.push_back(y);
}

plot::SeriesChart SweepPlot::chart() const {
  plot::SeriesChart c;
  std::vector<bool> varies(key_columns_.size(), false);
  for (const auto& values : series_keys_) {
    for (std::size_t k = 0; k < values.size(); ++k) {
      if (values[k] != series_keys_[0][k]) varies[k] = true;
    }
  }
  const auto describe = [&](std::size_t k, const std::string& value) {
    const std::string& name = columns_[key_columns_[k]];
    return numeric(value) ? fmt::format("{}={}", name, value) : value;
  };
  std::vector<std::string> fixed, named;
  for (std::size_t k = 0; k < key_columns_.size() && !series_keys_.empty(); ++k) {
    if (varies[k]) {
      named.push_back(columns_[key_columns_[k]]);
    } else {
      fixed.push_back(fmt::format("{} {}", columns_[key_columns_[k]], series_keys_[0][k]));
    }
  }
  for (std::size_t i = 0; i < series_.size(); ++i) {
    plot::Series s = series_[i];
    std::vector<std::string> parts;
    for (std::size_t k = 0; k < key_columns_.size(); ++k) {
      if (varies[k]) parts.push_back(describe(k, series_keys_[i][k]));
    }
    s.name = parts.empty() ? series_keys_[i][0] : fmt::format("{}", fmt::join(parts, " "));
    c.series.push_back(std::move(s));
  }
  c.title = fmt::format("attnsim sweep: {} vs {}", y_title(plan_.y), plan_.x_flag.substr(2));
  c.subtitle = fmt::format("{}", fmt::join(fixed, ", "));
  c.x_title = plan_.x_unit == plot::Unit::count
                  ? std::string("batch size")
                  : fmt::format("{} (tokens, k = 1024)", plan_.x_flag.substr(2));
  c.x_unit = plan_.x_unit;
  c.y_title = y_title(plan_.y);
  c.y_unit = plan_.y == PlotY::time     ? plot::Unit::seconds
             : plan_.y == PlotY::tflops ? plot::Unit::flops_per_s
                                        : plot::Unit::bytes;
  c.legend_heading =
      named.empty() ? std::string("series") : fmt::format("{}", fmt::join(named, ", "));
  return c;
}

}  // namespace cli
