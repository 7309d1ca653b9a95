#include "cli/plot_sweep.hpp"

#include <algorithm>
#include <cstdlib>
#include <set>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/errors.hpp"

namespace cli {

namespace {

// One CSV line's cells, as RFC 4180 quotes them (sweep_points.cpp quotes a cell that holds a
// comma, a quote or a line break: a --hf-config path may).
std::vector<std::string> split_csv(std::string_view row) {
  while (!row.empty() && (row.back() == '\n' || row.back() == '\r')) row.remove_suffix(1);
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < row.size(); ++i) {
    const char c = row[i];
    if (quoted) {
      if (c != '"') {
        out.back() += c;
      } else if (i + 1 < row.size() && row[i + 1] == '"') {
        out.back() += '"';  // a doubled quote inside a quoted cell
        ++i;
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else {
      out.back() += c;
    }
  }
  return out;
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

// The columns after the outputs that name a series (sweep_points.cpp writes them there): the
// layout.
constexpr const char* kLayoutKeys[] = {"tp", "cp", "cp_strategy", "nodes"};

// How a series' input reads in its legend label or in the subtitle: the mask and projections by
// their meaning (causal / non-causal, +projections / no projections), a variant parameter
// (params_heads) and a number as name=value, a name (profile, variant, phase) as it is. Empty for
// an empty cell (a parameter the series' variant lacks, the roofline's kernel).
std::string describe(const std::string& column, const std::string& value) {
  if (value.empty()) return "";
  if (column == "causal") return value == "true" ? "causal" : "non-causal";
  if (column == "include_projections") {
    return value == "true" ? "+projections" : "no projections";
  }
  constexpr std::string_view kParam = "params_";
  if (column.rfind(kParam, 0) == 0) {
    return fmt::format("{}={}", column.substr(kParam.size()), value);
  }
  return numeric(value) ? fmt::format("{}={}", column, value) : value;
}

}  // namespace

SweepPlot::SweepPlot(SweepPlotPlan plan, std::string_view csv_header)
    : plan_(std::move(plan)), columns_(split_csv(csv_header)) {
  x_index_ = column(columns_, plan_.x_column);
  const std::size_t first_output = column(columns_, "time_s");
  const auto is_x = [&](const std::string& c) {
    return std::find(plan_.x_columns.begin(), plan_.x_columns.end(), c) != plan_.x_columns.end();
  };
  const auto swept = [&](const std::string& c) {
    constexpr std::string_view kParam = "params_";
    return c.rfind(kParam, 0) != 0 ||
           std::find(plan_.swept_params.begin(), plan_.swept_params.end(),
                     c.substr(kParam.size())) != plan_.swept_params.end();
  };
  for (std::size_t i = 0; i < first_output; ++i) {
    if (!is_x(columns_[i])) key_columns_.push_back(i);
  }
  for (const char* key : kLayoutKeys) {  // present where they vary, after the outputs
    const auto it = std::find(columns_.begin(), columns_.end(), key);
    if (it != columns_.end() && !is_x(*it)) key_columns_.push_back(it - columns_.begin());
  }
  for (std::size_t i : key_columns_) identity_.push_back(swept(columns_[i]));
  within_.assign(key_columns_.size(), false);
  y_columns_[0] = first_output;
  if (per_device_measure(plan_.y)) {
    y_columns_[0] = column(columns_, plot_measure(plan_.y).column);
  } else if (plan_.y == PlotY::tflops) {
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
  if (x_index_ < fields.size() && fields[x_index_].empty())
    return;  // a variant without x's
             // parameter
  std::string key;
  for (std::size_t k = 0; k < key_columns_.size(); ++k) {
    if (identity_[k]) key += fields.at(key_columns_[k]) + '\x1f';
  }
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
  for (std::size_t k = 0; k < key_columns_.size(); ++k) {
    if (fields.at(key_columns_[k]) != series_keys_[it->second][k]) within_[k] = true;
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
  // A label names what varies between the series; what all share goes in the subtitle.
  std::vector<bool> varies(key_columns_.size(), false);
  for (const auto& values : series_keys_) {
    for (std::size_t k = 0; k < values.size(); ++k) {
      if (values[k] != series_keys_[0][k]) varies[k] = true;
    }
  }
  // A column that changes along a series (it follows x) names neither a series nor the chart.
  std::vector<bool> along = within_;
  // A variant parameter that varies with the other fields (v_head_dim with head_dim, every
  // parameter with the variant) names no series they do not: left out of the labels, the last
  // first, while the labels stay distinct.
  std::vector<bool> shown = varies;
  for (std::size_t k = 0; k < shown.size(); ++k) shown[k] = shown[k] && !along[k];
  const auto distinct = [&] {
    std::set<std::vector<std::string>> seen;
    for (const auto& key : series_keys_) {
      std::vector<std::string> label;
      for (std::size_t k = 0; k < key.size(); ++k) {
        if (shown[k]) label.push_back(key[k]);
      }
      if (!seen.insert(std::move(label)).second) return false;
    }
    return true;
  };
  for (std::size_t k = key_columns_.size(); k-- > 0;) {
    if (!shown[k] || columns_[key_columns_[k]].rfind("params_", 0) != 0) continue;
    shown[k] = false;
    if (!distinct()) shown[k] = true;
  }
  std::vector<std::string> fixed, named;
  // The value every series shares in `column` ("" where it varies or is no key).
  const auto shared_value = [&](std::string_view column) -> std::string {
    for (std::size_t k = 0; k < key_columns_.size(); ++k) {
      if (columns_[key_columns_[k]] == column && !varies[k]) return series_keys_[0][k];
    }
    return "";
  };
  for (std::size_t k = 0; k < key_columns_.size() && !series_keys_.empty(); ++k) {
    const std::string& column = columns_[key_columns_[k]];
    if (along[k] || (!shown[k] && varies[k])) continue;
    if (varies[k]) {
      named.push_back(column.rfind("params_", 0) == 0 ? column.substr(7) : column);
      continue;
    }
    // The call's own inputs read by their meaning (causal, heads=32); the axes as "batch 1". An
    // empty cell (the roofline's kernel) says nothing, nor does a KV dtype that is the dtype.
    const std::string& value = series_keys_[0][k];
    if (value.empty() || (column == "kv_dtype" && shared_value("dtype") == value)) continue;
    if (column == "causal" || column == "include_projections" || column.rfind("params_", 0) == 0) {
      std::string text = describe(column, value);
      if (!text.empty()) fixed.push_back(std::move(text));
    } else {
      fixed.push_back(fmt::format("{} {}", column, value));
    }
  }
  // Each series' label: its varying fields. Series with different keys never share one: a label
  // two would share (a value that reads the same in two columns) is numbered.
  std::vector<std::string> labels;
  for (const auto& key : series_keys_) {
    std::vector<std::string> parts;
    for (std::size_t k = 0; k < key_columns_.size(); ++k) {
      if (!shown[k]) continue;
      std::string text = describe(columns_[key_columns_[k]], key[k]);
      if (!text.empty()) parts.push_back(std::move(text));
    }
    labels.push_back(parts.empty() ? key.empty() ? std::string("series") : key[0]
                                   : fmt::format("{}", fmt::join(parts, " ")));
  }
  std::vector<bool> shared(labels.size());
  for (std::size_t i = 0; i < labels.size(); ++i) {
    shared[i] = std::count(labels.begin(), labels.end(), labels[i]) > 1;
  }
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (shared[i]) labels[i] += fmt::format(" #{}", i + 1);
  }
  for (std::size_t i = 0; i < series_.size(); ++i) {
    plot::Series s = series_[i];
    s.name = labels[i];
    c.series.push_back(std::move(s));
  }
  const PlotMeasure& m = plot_measure(plan_.y);
  constexpr std::string_view kParamFlag = "--param ";
  const bool param = plan_.x_flag.rfind(kParamFlag, 0) == 0;
  const std::string x_name = plan_.x_flag.substr(param ? kParamFlag.size() : 2);
  c.title = fmt::format("attnsim sweep: {} vs {}", m.title, x_name);
  c.subtitle = fmt::format("{}", fmt::join(fixed, ", "));
  c.x_title = x_name == "batch"                   ? std::string("batch size")
              : plan_.x_unit == plot::Unit::count ? (param ? x_name : x_name + " (devices)")
                                                  : fmt::format("{} (tokens, k = 1024)", x_name);
  c.x_unit = plan_.x_unit;
  c.y_title = m.title;
  c.y_unit = m.unit;
  c.legend_heading =
      named.empty() ? std::string("series") : fmt::format("{}", fmt::join(named, ", "));
  return c;
}

}  // namespace cli
