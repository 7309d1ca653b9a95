// Line chart of one measure against a swept axis, one series per variant, model or profile.
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "cli/plot.hpp"

namespace cli::plot {

namespace {

// The palette has 10 colours; series 11 to 20 repeat them with a dashed line.
std::string dash(std::size_t index) {
  return index < 10 ? std::string() : std::string("7 4");
}

bool token_like(Unit u) {
  return u == Unit::tokens || u == Unit::count;
}

// Sorted by x, so that each series reads left to right whatever the sweep's axis order.
std::vector<std::size_t> order_by_x(const Series& s) {
  std::vector<std::size_t> order(s.x.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return s.x[a] < s.x[b]; });
  return order;
}

std::string draw_series(const Series& s, std::size_t index, const Scale& x, const Scale& y,
                        std::size_t total_points) {
  const std::string col(color(index));
  std::string points, markers;
  const bool with_markers = total_points <= 400;
  for (std::size_t i : order_by_x(s)) {
    if (!std::isfinite(s.y[i]) || (y.log && s.y[i] <= 0) || (x.log && s.x[i] <= 0)) continue;
    const double px = x.map(s.x[i]), py = y.map(s.y[i]);
    points += fmt::format("{}{:.1f},{:.1f}", points.empty() ? "" : " ", px, py);
    if (with_markers) {
      // data-x/data-y: the plotted values, as the sweep's rows print them (shortest round trip).
      markers += fmt::format(
          "<circle class=\"marker\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"3\" fill=\"{}\" "
          "data-x=\"{}\" data-y=\"{}\"/>",
          px, py, col, s.x[i], s.y[i]);
    }
  }
  return fmt::format(
      "<g class=\"series\" data-series=\"{}\">\n<polyline points=\"{}\" fill=\"none\" "
      "stroke=\"{}\" stroke-width=\"2\" stroke-linejoin=\"round\"{}/>\n{}</g>\n",
      xml_escape(s.name), points, col,
      index < 10 ? "" : fmt::format(" stroke-dasharray=\"{}\"", dash(index)),
      markers.empty() ? "" : markers + "\n");
}

}  // namespace

std::string render_series(const SeriesChart& c) {
  std::vector<double> xs, ys;
  std::size_t total = 0;
  for (const Series& s : c.series) {
    total += s.x.size();
    for (std::size_t i = 0; i < s.x.size(); ++i) {
      if (!std::isfinite(s.x[i]) || !std::isfinite(s.y[i])) continue;
      xs.push_back(s.x[i]);
      ys.push_back(s.y[i]);
    }
  }
  // A log y axis when the values span 20x or more; zeros (a variant without a KV cache) would
  // be left out there, so a zero keeps the axis linear.
  Scale x = fit_scale(xs, 8, token_like(c.x_unit));
  const std::vector<double> positive_ys = [&] {
    std::vector<double> out;
    for (double v : ys) {
      if (v > 0) out.push_back(v);
    }
    return out;
  }();
  Scale y =
      positive_ys.size() == ys.size() ? fit_scale(ys, 20, false) : fit_scale(ys, 1e300, false);
  std::size_t hidden = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if ((y.log && ys[i] <= 0) || (x.log && xs[i] <= 0)) ++hidden;
  }
  hidden += total - xs.size();
  std::string subtitle = c.subtitle;
  if (hidden > 0) {
    subtitle += fmt::format("{}{} point(s) not drawn", subtitle.empty() ? "" : "; ", hidden);
  }
  const Frame f = frame_for(subtitle);
  x.px_lo = f.left;
  x.px_hi = f.right;
  y.px_lo = f.bottom;
  y.px_hi = f.top;
  std::string out = begin_document(f, c.title, subtitle);
  out += axes(f, x, c.x_unit, c.x_title, y, c.y_unit, c.y_title);
  out += "<g class=\"plot\" clip-path=\"url(#plot-area)\">\n";
  for (std::size_t i = 0; i < c.series.size(); ++i) {
    out += draw_series(c.series[i], i, x, y, total);
  }
  out += "</g>\n";
  std::vector<LegendEntry> entries;
  for (std::size_t i = 0; i < c.series.size(); ++i) {
    entries.push_back({c.series[i].name, std::string(color(i)), dash(i), total <= 400, true});
  }
  out += legend(f, c.legend_heading, entries);
  return out + end_document();
}

}  // namespace cli::plot
