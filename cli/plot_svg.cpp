#include "cli/plot_svg.hpp"

#include <algorithm>
#include <cmath>
#include <iterator>

#include <fmt/format.h>

namespace cli::plot {

namespace {

// Three significant digits ("1.50" -> "1.5", "2.00" -> "2"); a whole number under 10^15 in full
// (1000, not 1e+03: a batch of 1000 or 1000 tokens reads as written).
std::string trimmed(double value) {
  if (std::fabs(value) >= 1000 && std::fabs(value) < 1e15 && value == std::floor(value)) {
    return fmt::format("{:.0f}", value);
  }
  return fmt::format("{:.3g}", value);
}

std::string with_prefix(double value, const char* unit, bool space) {
  static const char* const big[] = {"", "k", "M", "G", "T", "P", "E"};
  static const char* const small[] = {"", "m", "µ", "n", "p"};
  const char* sep = space ? " " : "";
  if (value == 0) return fmt::format("0{}{}", sep, unit);
  double v = value;
  int i = 0;
  if (std::fabs(v) >= 1) {
    while (i + 1 < 7 && std::fabs(v) >= 999.5) {
      v /= 1000;
      ++i;
    }
    return fmt::format("{}{}{}{}", trimmed(v), sep, big[i], unit);
  }
  while (i + 1 < 5 && std::fabs(v) < 0.9995) {
    v *= 1000;
    ++i;
  }
  return fmt::format("{}{}{}{}", trimmed(v), sep, small[i], unit);
}

std::string tokens(double value) {
  const double k = 1024, m = k * k, g = m * k;
  for (const auto& [size, suffix] : {std::pair{g, "G"}, std::pair{m, "M"}, std::pair{k, "k"}}) {
    if (value >= size && std::fmod(value, size / 4) == 0) {
      return fmt::format("{}{}", trimmed(value / size), suffix);
    }
  }
  return trimmed(value);
}

bool is_power_of_two(double v) {
  if (v < 1 || v != std::floor(v) || v > 9.0e15) return false;
  const auto n = static_cast<std::uint64_t>(v);
  return (n & (n - 1)) == 0;
}

// 1, 2 or 5 times a power of ten, about (hi - lo) / 6.
double nice_step(double lo, double hi) {
  const double raw = (hi - lo) / 6;
  const double mag = std::pow(10, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * mag >= raw) return m * mag;
  }
  return 10 * mag;
}

std::vector<double> log_tick_values(const Scale& s) {
  std::vector<double> out;
  const double b = s.log_base;
  const double first = std::ceil(std::log(s.lo) / std::log(b) - 1e-9);
  const double last = std::floor(std::log(s.hi) / std::log(b) + 1e-9);
  double stride = 1;
  while ((last - first) / stride + 1 > 10) stride *= 2;
  for (double e = first; e <= last; e += stride) out.push_back(std::pow(b, e));
  if (s.log_base == 10 && last - first < 2) {  // under two decades: 2x and 5x as well
    std::vector<double> more;
    for (double e = first - 1; e <= last; ++e) {
      for (double m : {1.0, 2.0, 5.0}) {
        const double v = m * std::pow(10, e);
        if (v >= s.lo * (1 - 1e-9) && v <= s.hi * (1 + 1e-9)) more.push_back(v);
      }
    }
    out = more;
  }
  return out;
}

}  // namespace

std::string format_value(double value, Unit unit) {
  switch (unit) {
    case Unit::seconds:
      return value >= 1 ? fmt::format("{} s", trimmed(value)) : with_prefix(value, "s", true);
    case Unit::bytes:
      return with_prefix(value, "B", true);
    case Unit::flops_per_s:
      return with_prefix(value, "FLOP/s", true);
    case Unit::flop_per_byte:
      return value < 1 ? fmt::format("{:.3g}", value) : with_prefix(value, "", false);
    case Unit::tokens:
      return tokens(value);
    case Unit::count:
      return value >= 1e5 ? with_prefix(value, "", false) : trimmed(value);
  }
  return trimmed(value);
}

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        // Control characters are not allowed in XML 1.0 text.
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n' && c != '\t') {
          out += '?';
        } else {
          out += c;
        }
    }
  }
  return out;
}

double Scale::map(double value) const {
  const double t = log ? (std::log(value) - std::log(lo)) / (std::log(hi) - std::log(lo))
                       : (value - lo) / (hi - lo);
  return px_lo + t * (px_hi - px_lo);
}

Scale fit_scale(const std::vector<double>& values, double log_ratio, bool powers_of_two) {
  Scale s;
  if (values.empty()) return s;
  const auto [min_it, max_it] = std::minmax_element(values.begin(), values.end());
  double lo = *min_it, hi = *max_it;
  s.log = lo > 0 && hi / lo >= log_ratio;
  if (s.log) {
    s.log_base =
        powers_of_two && std::all_of(values.begin(), values.end(), is_power_of_two) ? 2 : 10;
    const double pad = std::pow(hi / lo, 0.04);
    s.lo = lo / pad;
    s.hi = hi * pad;
    return s;
  }
  if (hi == lo && lo == 0) {
    hi = 1;  // all zero (no exposed communication): the axis starts at 0, with no negative ticks
  } else if (hi == lo) {
    const double half = std::fabs(lo) * 0.5;
    lo -= half;
    hi += half;
  }
  const double pad = (hi - lo) * 0.05;
  s.lo = lo >= 0 && lo - pad < 0 ? 0 : lo - pad;
  s.hi = hi + pad;
  return s;
}

std::vector<Tick> ticks(const Scale& s, Unit unit) {
  std::vector<double> values;
  if (s.log) {
    values = log_tick_values(s);
  } else {
    // Token counts step by powers of two (1k, 2k, 3k ...), as the sizes are given.
    const double step = unit == Unit::tokens ? std::exp2(std::ceil(std::log2((s.hi - s.lo) / 6)))
                                             : nice_step(s.lo, s.hi);
    for (double v = std::ceil(s.lo / step) * step; v <= s.hi + step * 1e-9; v += step) {
      values.push_back(std::fabs(v) < step * 1e-9 ? 0 : v);
    }
  }
  std::vector<Tick> out;
  for (double v : values) out.push_back({v, format_value(v, unit)});
  return out;
}

std::string_view color(std::size_t index) {
  // Tableau 10 (https://www.tableau.com/about/blog/2016/7/colors-upgrade-tableau-10-56782).
  static const char* const palette[] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                        "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
  return palette[index % std::size(palette)];
}

std::string_view color(std::size_t index, std::size_t count) {
  if (count <= 10) return color(index);
  // Tableau 20, the 10 hues each in a dark and a light shade (as listed in JuliaGraphics'
  // ColorSchemes.jl, data/tableau.jl, :tableau_20).
  static const char* const palette[] = {"#4e79a7", "#a0cbe8", "#f28e2b", "#ffbe7d", "#59a14f",
                                        "#8cd17d", "#b6992d", "#f1ce63", "#499894", "#86bcb6",
                                        "#e15759", "#ff9d9a", "#79706e", "#bab0ac", "#d37295",
                                        "#fabfd2", "#b07aa1", "#d4a6c8", "#9d7660", "#d7b5a6"};
  return palette[index % std::size(palette)];
}

namespace {

constexpr double kSubtitlePx = 12, kSubtitleLinePx = 13;
constexpr double kFirstSubtitleY = 45;  // its baseline: under the title's (26, 17 px bold)

std::vector<std::string> subtitle_lines(const Frame& f, std::string_view subtitle) {
  return wrap_at_separators(subtitle, f.width - 40, kSubtitlePx);
}

}  // namespace

Frame frame_for(std::string_view subtitle) {
  Frame f;
  const auto lines = static_cast<double>(subtitle_lines(f, subtitle).size());
  f.top = std::max(f.top, kFirstSubtitleY + kSubtitleLinePx * (lines - 1) + 6);
  return f;
}

std::string begin_document(const Frame& f, std::string_view title, std::string_view subtitle) {
  std::string out = fmt::format(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0}\" height=\"{1}\" "
      "viewBox=\"0 0 {0} {1}\" font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\">\n"
      "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      "<defs><clipPath id=\"plot-area\"><rect x=\"{2}\" y=\"{3}\" width=\"{4}\" "
      "height=\"{5}\"/></clipPath></defs>\n",
      f.width, f.height, f.left, f.top, f.right - f.left, f.bottom - f.top);
  out += fmt::format(
      "<text class=\"title\" x=\"{}\" y=\"26\" text-anchor=\"middle\" font-size=\"17\" "
      "font-weight=\"bold\">{}</text>\n",
      f.width / 2, xml_escape(title));
  // The subtitle fits the chart's width: broken after a ", " or "; " into as many lines as it
  // needs, each its own text element (the lines joined are the subtitle), stacked up to the plot.
  const std::vector<std::string> lines = subtitle_lines(f, subtitle);
  const double extra_lines = lines.empty() ? 0 : static_cast<double>(lines.size() - 1);
  const double first_y = std::min(46.0, f.top - 6 - kSubtitleLinePx * extra_lines);
  for (std::size_t i = 0; i < lines.size(); ++i) {
    out += fmt::format(
        "<text class=\"subtitle\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"{}\" "
        "fill=\"#444\">{}</text>\n",
        f.width / 2, first_y + kSubtitleLinePx * static_cast<double>(i), kSubtitlePx,
        xml_escape(lines[i]));
  }
  return out;
}

std::string axes(const Frame& f, const Scale& x, Unit x_unit, std::string_view x_title,
                 const Scale& y, Unit y_unit, std::string_view y_title) {
  std::string out = "<g class=\"axes\" font-size=\"11\" fill=\"#222\">\n";
  for (const Tick& t : ticks(x, x_unit)) {
    const double px = x.map(t.value);
    out += fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1}\" x2=\"{0:.1f}\" y2=\"{2}\" stroke=\"#e3e3e3\"/>"
        "<line x1=\"{0:.1f}\" y1=\"{2}\" x2=\"{0:.1f}\" y2=\"{3}\" stroke=\"#222\"/>"
        "<text class=\"x-tick\" x=\"{0:.1f}\" y=\"{4}\" text-anchor=\"middle\">{5}</text>\n",
        px, f.top, f.bottom, f.bottom + 5, f.bottom + 19, xml_escape(t.label));
  }
  for (const Tick& t : ticks(y, y_unit)) {
    const double py = y.map(t.value);
    out += fmt::format(
        "<line x1=\"{0}\" y1=\"{1:.1f}\" x2=\"{2}\" y2=\"{1:.1f}\" stroke=\"#e3e3e3\"/>"
        "<line x1=\"{3}\" y1=\"{1:.1f}\" x2=\"{0}\" y2=\"{1:.1f}\" stroke=\"#222\"/>"
        "<text class=\"y-tick\" x=\"{4}\" y=\"{5:.1f}\" text-anchor=\"end\">{6}</text>\n",
        f.left, py, f.right, f.left - 5, f.left - 8, py + 4, xml_escape(t.label));
  }
  out += fmt::format(
      "<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" fill=\"none\" stroke=\"#222\"/>\n",
      f.left, f.top, f.right - f.left, f.bottom - f.top);
  out += fmt::format(
      "<text class=\"x-title\" x=\"{}\" y=\"{}\" text-anchor=\"middle\" font-size=\"13\">{}{}"
      "</text>\n",
      (f.left + f.right) / 2, f.bottom + 42, xml_escape(x_title), x.log ? " (log scale)" : "");
  out += fmt::format(
      "<text class=\"y-title\" transform=\"translate(18,{}) rotate(-90)\" text-anchor=\"middle\" "
      "font-size=\"13\">{}{}</text>\n",
      (f.top + f.bottom) / 2, xml_escape(y_title), y.log ? " (log scale)" : "");
  return out + "</g>\n";
}

std::string legend(const Frame& f, std::string_view heading,
                   const std::vector<LegendEntry>& entries) {
  const double max_label = f.width - f.legend_x - 40;
  std::string out = fmt::format(
      "<g class=\"legend\" font-size=\"11\">\n<text x=\"{}\" y=\"{}\" font-size=\"12\" "
      "font-weight=\"bold\">{}</text>\n",
      f.legend_x, f.top + 4, xml_escape(heading));
  // A label too wide is cut at its end; where that would show two series one label (they
  // differ in their tails), both are cut in the middle instead, keeping the head and the tail.
  std::vector<std::string> labels;
  for (const LegendEntry& e : entries) labels.push_back(fit_label(e.label, max_label, false));
  for (std::size_t i = 0; i < labels.size(); ++i) {
    if (labels[i] != entries[i].label && std::count(labels.begin(), labels.end(), labels[i]) > 1) {
      const std::string cut = labels[i];
      for (std::size_t j = i; j < labels.size(); ++j) {
        if (labels[j] == cut) labels[j] = fit_label(entries[j].label, max_label, true);
      }
    }
  }
  double y = f.top + 24;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const LegendEntry& e = entries[i];
    const std::string& label = labels[i];
    if (e.line) {
      out += fmt::format(
          "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" stroke=\"{}\" stroke-width=\"2\"{}/>",
          f.legend_x, y - 4, f.legend_x + 24, y - 4, e.color,
          e.dash.empty() ? "" : fmt::format(" stroke-dasharray=\"{}\"", e.dash));
    }
    if (e.marker) {
      out += fmt::format("<circle cx=\"{}\" cy=\"{}\" r=\"4\" fill=\"{}\"/>", f.legend_x + 12,
                         y - 4, e.color);
    }
    out += fmt::format("<text class=\"legend-label\" x=\"{}\" y=\"{}\">{}</text>\n",
                       f.legend_x + 32, y, xml_escape(label));
    y += 18;
    if (y > f.height - 10) break;  // the panel is full; the rest would fall off the page
  }
  return out + "</g>\n";
}

std::string end_document() {
  return "</svg>\n";
}

}  // namespace cli::plot
