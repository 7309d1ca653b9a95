// `sweep --plot`: what the chart needs from a streamed sweep. The sweep's rows go by once, so the
// plot keeps only (x, y, series) per point, read back from each point's CSV row by column name,
// and refuses a sweep too large to draw before it starts.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cli/plot.hpp"

namespace cli {

// Most points a sweep plot keeps (16 bytes each) and most series (lines) it draws.
inline constexpr std::size_t kMaxPlotPoints = 200000;
inline constexpr std::size_t kMaxPlotSeries = 20;

// time, tflops, kv-bytes: the single-device measures. With a layout (--tp/--cp/--cp-strategy/
// --nodes), one device's: device-time (its total), compute, comm (every transfer),
// exposed-comm (the part not hidden behind compute) and device-kv-bytes.
enum class PlotY {
  time,
  tflops,
  kv_bytes,
  device_time,
  device_compute,
  comm,
  exposed_comm,
  device_kv_bytes
};
// Throws common::SpecError listing the allowed names.
PlotY parse_plot_y(std::string_view name);

// What a --plot-y measure reads and how the chart names it (cli/plot_sweep_plan.cpp).
struct PlotMeasure {
  PlotY y;
  const char* name;    // the --plot-y value
  const char* column;  // the CSV column read as y (tflops and kv-bytes combine several)
  const char* title;
  plot::Unit unit;
};
const PlotMeasure& plot_measure(PlotY y);
// Whether `y` is one device's measure, which needs a layout.
bool per_device_measure(PlotY y);

// How many values each numeric axis of the sweep has, and whether --q-len/--kv-len were given.
struct SweepAxisSizes {
  std::size_t batch = 1, seq_len = 1, q_len = 0, kv_len = 0;  // 0: the flag was not given
  std::size_t points = 0;                                     // in this run (this shard)
  std::size_t tp = 0, cp = 0;  // values of the --tp/--cp axes; 0: the flag was not given
  bool parallel = false;       // a layout was given: the rows carry per-device columns
  // A parameter the command line sweeps (a --param list, --heads, --kv-heads or --head-dim lists:
  // its params_NAME column), how many values it takes, and whether it counts tokens
  // (models::ParamUnit: an x axis in tokens).
  struct Param {
    std::string name;
    std::size_t values = 0;
    bool tokens = false;
  };
  std::vector<Param> params;
};

struct SweepPlotPlan {
  std::string x_flag;                  // "--seq-len"
  std::string x_column;                // the CSV column holding x: "kv_len"
  std::vector<std::string> x_columns;  // columns that follow x, left out of the series key
  std::size_t x_values = 0;            // how many values the x axis has
  plot::Unit x_unit = plot::Unit::tokens;
  PlotY y = PlotY::time;
  // The swept parameters (SweepAxisSizes::params): of the params_ columns only these name a
  // series; the others are a variant's own (told by the variant column) or follow a swept one.
  std::vector<std::string> swept_params;
};

// The x axis: `plot_x` (batch, seq-len, q-len, kv-len, tp, cp, or a variant parameter the sweep
// gives several values: window, heads) or, when empty, the one numeric axis with more than one
// value (a parameter only when no other axis varies). Throws common::SpecError (exit 2) when no
// axis or several axes vary, when the sweep has more than kMaxPlotPoints points, when its rows
// cannot name their series, or for a per-device measure without a layout. Rows of a variant
// without the parameter on x (gqa beside swa's windows) draw no point.
SweepPlotPlan plan_sweep_plot(const SweepAxisSizes& sizes, std::string_view plot_x,
                              std::string_view plot_y);

class SweepPlot {
 public:
  SweepPlot(SweepPlotPlan plan, std::string_view csv_header);
  // One point's CSV row (with or without its newline). Throws common::SpecError once the rows
  // make more than kMaxPlotSeries series.
  void add(std::string_view csv_row);
  plot::SeriesChart chart() const;
  const SweepPlotPlan& plan() const { return plan_; }

 private:
  SweepPlotPlan plan_;
  std::vector<std::string> columns_;
  std::vector<std::size_t> key_columns_;  // the inputs other than x: they name the series
  // Per key column: whether it tells the series apart (not a params_ column, or a swept one), and
  // whether it changed within a series (a parameter that follows x: v_head_dim with head_dim).
  std::vector<bool> identity_, within_;
  std::size_t x_index_ = 0;
  std::map<std::string, std::size_t> series_index_;
  std::vector<std::vector<std::string>> series_keys_;
  std::vector<plot::Series> series_;
  std::size_t y_columns_[4] = {};  // time_s, flops_tensor+vector+exp / kv_cache, state
};

}  // namespace cli
