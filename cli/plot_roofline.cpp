// The roofline chart: attainable tensor FLOP/s against arithmetic intensity (Williams, Waterman
// and Patterson, "Roofline: an insightful visual performance model", CACM 52(4), 2009,
// https://doi.org/10.1145/1498765.1498785), with each predicted workload as a labelled point.
#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

#include "cli/plot.hpp"
#include "sim/rates.hpp"

namespace cli::plot {

namespace {

struct Box {
  double x0, y0, x1, y1;
  bool overlaps(const Box& o) const { return x0 < o.x1 && o.x0 < x1 && y0 < o.y1 && o.y0 < y1; }
};

// The label box (and anchor) at one of eight places around a point, 11 px text.
struct Placement {
  Box box;
  double x, y;
  const char* anchor;
};

Placement place(double px, double py, double width, int where) {
  static const double dx[] = {8, -8, 0, 0, 8, 8, -8, -8};
  static const double dy[] = {4, 4, -9, 17, -8, 15, -8, 15};
  static const char* const anchors[] = {"start", "end",   "middle", "middle",
                                        "start", "start", "end",    "end"};
  const double x = px + dx[where], y = py + dy[where];
  const std::string_view a = anchors[where];
  const double x0 = a == "start" ? x : a == "end" ? x - width : x - width / 2;
  return {{x0, y - 10, x0 + width, y + 2}, x, y, anchors[where]};
}

// Picks the first of the eight places inside the plot area that overlaps nothing placed yet (or
// the one that overlaps least) and records its box.
Placement place_label(const Frame& f, double px, double py, double width, std::vector<Box>& taken) {
  Placement best = place(px, py, width, 0);
  std::size_t best_hits = SIZE_MAX;
  for (int where = 0; where < 8; ++where) {
    const Placement p = place(px, py, width, where);
    if (p.box.x0 < f.left + 2 || p.box.x1 > f.right - 2 || p.box.y0 < f.top + 2 ||
        p.box.y1 > f.bottom - 2) {
      continue;
    }
    const auto hits = static_cast<std::size_t>(
        std::count_if(taken.begin(), taken.end(), [&](const Box& b) { return b.overlaps(p.box); }));
    if (hits < best_hits) {
      best = p;
      best_hits = hits;
      if (hits == 0) break;
    }
  }
  taken.push_back(best.box);
  return best;
}

std::string dash_attr(const std::string& dash) {
  return dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", dash);
}

// Lines for every device's memory slope and ceilings, clipped to the plot area, and the ceiling
// labels at the right edge (moved apart vertically where they would collide).
std::string draw_ceilings(const Frame& f, const RooflineChart& c, const Scale& x, const Scale& y,
                          std::vector<Box>& taken) {
  std::string out = "<g class=\"ceilings\" clip-path=\"url(#plot-area)\" fill=\"none\">\n";
  struct Label {
    double py;
    std::string text, color;
  };
  std::vector<Label> labels;
  for (std::size_t d = 0; d < c.devices.size(); ++d) {
    const RooflineDevice& dev = c.devices[d];
    const std::string col(color(d, c.devices.size()));
    double top = 0;
    for (const Ceiling& ceil : dev.ceilings) top = std::max(top, ceil.per_s);
    if (dev.hbm_Bps > 0 && top > 0) {
      out += fmt::format(
          "<line class=\"ceiling\" data-device=\"{}\" data-ceiling=\"HBM\" x1=\"{:.1f}\" "
          "y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"/>\n",
          xml_escape(dev.id), x.map(x.lo), y.map(x.lo * dev.hbm_Bps), x.map(top / dev.hbm_Bps),
          y.map(top), col);
    }
    for (const Ceiling& ceil : dev.ceilings) {
      const double ridge = dev.hbm_Bps > 0 ? std::max(x.lo, ceil.per_s / dev.hbm_Bps) : x.lo;
      out += fmt::format(
          "<line class=\"ceiling\" data-device=\"{}\" data-ceiling=\"{}\" x1=\"{:.1f}\" "
          "y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"{}\" stroke-width=\"2\"{}/>\n",
          xml_escape(dev.id), xml_escape(ceil.label), x.map(ridge), y.map(ceil.per_s), x.map(x.hi),
          y.map(ceil.per_s), col, dash_attr(ceil.dash));
      const Unit unit = ceil.label.rfind("exp", 0) == 0 ? Unit::count : Unit::flops_per_s;
      labels.push_back(
          {y.map(ceil.per_s) - 4,
           fmt::format("{} {} {}{}", dev.id, ceil.label, format_value(ceil.per_s, unit),
                       unit == Unit::count ? " op/s" : ""),
           col});
    }
  }
  out += "</g>\n<g class=\"ceiling-labels\" font-size=\"10\">\n";
  // Top line first; each label above its line, or below it when the label above is in the way,
  // or pushed down further when both places are taken.
  std::sort(labels.begin(), labels.end(),
            [](const Label& a, const Label& b) { return a.py < b.py; });
  double last = -1e9;
  for (Label& l : labels) {
    const double above = std::max(l.py, f.top + 12), below = l.py + 16;
    l.py = above >= last + 12 ? above : std::max(below, last + 12);
    last = l.py;
    if (l.py > f.bottom - 4) break;
    const double w = text_width(l.text, 10);
    taken.push_back({f.right - 6 - w, l.py - 10, f.right - 6, l.py + 2});
    out += fmt::format(
        "<text class=\"ceiling-label\" x=\"{}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"{}\">{}"
        "</text>\n",
        f.right - 6, l.py, l.color, xml_escape(l.text));
  }
  return out + "</g>\n";
}

}  // namespace

RooflineDevice roofline_device(const hw::Profile& profile,
                               const std::vector<models::DType>& dtypes) {
  RooflineDevice d{profile.id, profile.memory.hbm_bandwidth_Bps, {}};
  std::vector<hw::Precision> seen;
  for (models::DType t : dtypes) {
    const std::optional<hw::Precision> p = sim::tensor_precision(profile, t);
    if (!p || std::find(seen.begin(), seen.end(), *p) != seen.end()) continue;
    seen.push_back(*p);
    d.ceilings.push_back(
        {fmt::format("{} tensor", hw::to_string(*p)), profile.tensor_peak_flops(*p), ""});
  }
  if (profile.compute.vector_fp32_flops > 0) {
    d.ceilings.push_back({"FP32 vector", profile.compute.vector_fp32_flops, "7 4"});
  }
  if (profile.exp_peak_ops_per_s() > 0) {
    d.ceilings.push_back({"exp", profile.exp_peak_ops_per_s(), "2 3"});
  }
  return d;
}

namespace {

bool drawable(const RooflinePoint& p) {
  return p.intensity > 0 && p.flops_per_s > 0 && std::isfinite(p.intensity) &&
         std::isfinite(p.flops_per_s);
}

// Log scales covering every point, every ridge point (peak / bandwidth) and every ceiling, with
// room above the highest ceiling for its label.
std::pair<Scale, Scale> roofline_scales(const Frame& f, const RooflineChart& c) {
  std::vector<double> xs, ys;
  for (const RooflinePoint& p : c.points) {
    if (!drawable(p)) continue;
    xs.push_back(p.intensity);
    ys.push_back(p.flops_per_s);
  }
  for (const RooflineDevice& d : c.devices) {
    for (const Ceiling& ceil : d.ceilings) {
      ys.push_back(ceil.per_s * 2.5);
      if (d.hbm_Bps > 0) xs.push_back(ceil.per_s / d.hbm_Bps);
    }
  }
  if (xs.empty()) xs = {1, 100};
  if (ys.empty()) ys = {1e12, 1e15};
  const auto [x_min, x_max] = std::minmax_element(xs.begin(), xs.end());
  const auto [y_min, y_max] = std::minmax_element(ys.begin(), ys.end());
  Scale x = fit_scale({*x_min / 4, *x_max * 4}, 1, false);
  Scale y = fit_scale({*y_min / 3, *y_max}, 1, false);
  x.px_lo = f.left;
  x.px_hi = f.right;
  y.px_lo = f.bottom;
  y.px_hi = f.top;
  return {x, y};
}

// Each workload as a dot in its device's colour, labelled where the label covers nothing else.
std::string draw_points(const Frame& f, const RooflineChart& c, const Scale& x, const Scale& y,
                        std::vector<Box>& taken) {
  for (const RooflinePoint& p : c.points) {
    if (!drawable(p)) continue;
    const double px = x.map(p.intensity), py = y.map(p.flops_per_s);
    taken.push_back({px - 5, py - 5, px + 5, py + 5});
  }
  std::string dots, labels;
  for (const RooflinePoint& p : c.points) {
    if (!drawable(p)) continue;
    const double px = x.map(p.intensity), py = y.map(p.flops_per_s);
    dots += fmt::format(
        "<circle class=\"point\" data-label=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" r=\"5\" "
        "fill=\"{}\" stroke=\"white\" stroke-width=\"1\"/>\n",
        xml_escape(p.label), px, py, color(p.device, c.devices.size()));
    const Placement at = place_label(f, px, py, text_width(p.label, 11), taken);
    labels += fmt::format(
        "<text class=\"point-label\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"{}\" fill=\"#222\">"
        "{}</text>\n",
        at.x, at.y, at.anchor, xml_escape(p.label));
  }
  return "<g class=\"points\" font-size=\"11\">\n" + dots + labels + "</g>\n";
}

}  // namespace

std::string render_roofline(const RooflineChart& c) {
  const auto hidden = static_cast<std::size_t>(std::count_if(
      c.points.begin(), c.points.end(), [](const RooflinePoint& p) { return !drawable(p); }));
  std::string subtitle = c.subtitle;
  if (hidden > 0) {
    subtitle += fmt::format("{}{} workload(s) without tensor FLOPs not drawn",
                            subtitle.empty() ? "" : "; ", hidden);
  }
  const Frame f = frame_for(subtitle);
  const auto [x, y] = roofline_scales(f, c);
  std::string out = begin_document(f, c.title, subtitle);
  out += axes(f, x, Unit::flop_per_byte, "arithmetic intensity (tensor FLOP per HBM byte)", y,
              Unit::flops_per_s, "tensor FLOP/s (predicted)");
  std::vector<Box> taken;
  out += draw_ceilings(f, c, x, y, taken);
  out += draw_points(f, c, x, y, taken);
  std::vector<LegendEntry> entries;
  for (std::size_t d = 0; d < c.devices.size(); ++d) {
    entries.push_back({c.devices[d].id, std::string(color(d, c.devices.size())), "", true, true});
  }
  entries.push_back({"tensor peak, HBM slope", "#666", "", false, true});
  entries.push_back({"FP32 vector peak", "#666", "7 4", false, true});
  entries.push_back({"exp rate (op/s)", "#666", "2 3", false, true});
  entries.push_back({"predicted workload", "#666", "", true, false});
  out += legend(f, "Devices", entries);
  return out + end_document();
}

}  // namespace cli::plot
