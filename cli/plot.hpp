// The charts `--plot FILE.svg` draws, as typed data and pure rendering functions (typed data in,
// self-contained SVG text out):
//  - a roofline (query, compare): each device's ceilings and each workload as a labelled point;
//  - series (sweep): one measure against the swept axis, one line per variant, model or profile.
#pragma once

#include <string>
#include <vector>

#include "cli/plot_svg.hpp"
#include "hwprofiles/profile.hpp"
#include "models/workload.hpp"

namespace cli::plot {

struct Ceiling {
  std::string label;  // "bf16 tensor", "FP32 vector", "exp (MUFU)"
  double per_s = 0;   // FLOP/s (exp: operations per second)
  std::string dash;   // stroke-dasharray, empty for solid
};

struct RooflineDevice {
  std::string id;
  double hbm_Bps = 0;  // the memory slope: FLOP/s = intensity x bandwidth
  std::vector<Ceiling> ceilings;
};

struct RooflinePoint {
  std::string label;
  std::size_t device = 0;  // index into RooflineChart::devices (its colour)
  double intensity = 0;    // tensor FLOPs per HBM byte
  double flops_per_s = 0;  // tensor FLOPs over the predicted time
};

struct RooflineChart {
  std::string title, subtitle;
  std::vector<RooflineDevice> devices;
  std::vector<RooflinePoint> points;
};

// A device's datasheet ceilings: the dense tensor peak of each dtype in `dtypes` the device runs on
// its tensor cores, the FP32 vector peak and the exp rate where the profile lists them, and its
// HBM bandwidth.
RooflineDevice roofline_device(const hw::Profile& profile,
                               const std::vector<models::DType>& dtypes);

std::string render_roofline(const RooflineChart& chart);

struct Series {
  std::string name;
  std::vector<double> x, y;  // same length
};

struct SeriesChart {
  std::string title, subtitle;
  std::string x_title, y_title;
  Unit x_unit = Unit::count, y_unit = Unit::seconds;
  std::string legend_heading;
  std::vector<Series> series;
};

// Points whose value cannot be drawn on the chosen scale (y <= 0 on a log axis) are left out and
// counted in the subtitle.
std::string render_series(const SeriesChart& chart);

}  // namespace cli::plot
