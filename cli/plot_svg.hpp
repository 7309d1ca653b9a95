// SVG drawing primitives shared by the charts (cli/plot_roofline.cpp, cli/plot_series.cpp): axis
// scales (linear or logarithmic), ticks with unit-bearing labels, a legend and the document frame.
// Pure functions: typed values in, SVG text out; nothing here reads or writes files.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace cli::plot {

// What an axis measures; decides how its tick labels are written.
enum class Unit {
  seconds,        // 1.5 ms
  bytes,          // 4 GB (decimal prefixes)
  flops_per_s,    // 989 TFLOP/s
  flop_per_byte,  // 0.5, 10, 1k
  tokens,         // 4k, 128k, 1M (k = 1024, M = 2^20: the CLI's size suffixes)
  count,          // 1, 8, 64
};

// `value` with an SI or binary prefix and its unit, 3 significant digits at most.
std::string format_value(double value, Unit unit);

// Escapes &, <, >, " and ' for XML text and attribute values.
std::string xml_escape(std::string_view text);

// Maps data values in [lo, hi] to pixels in [px_lo, px_hi] (px_hi < px_lo for a y axis).
struct Scale {
  double lo = 0, hi = 1;
  bool log = false;
  int log_base = 10;  // 2: ticks at powers of two (token counts, batch sizes)
  double px_lo = 0, px_hi = 1;
  double map(double value) const;
};

// A scale covering `values` (all of them finite) with some padding: logarithmic when they are all
// positive and span at least `log_ratio` (max / min), with powers-of-two ticks when `powers_of_two`
// and every value is one.
Scale fit_scale(const std::vector<double>& values, double log_ratio, bool powers_of_two);

struct Tick {
  double value = 0;
  std::string label;
};
// At most about 10 ticks inside [scale.lo, scale.hi].
std::vector<Tick> ticks(const Scale& scale, Unit unit);

// Fixed geometry of a chart: the plot area and the legend panel to its right.
struct Frame {
  double width = 960, height = 580;
  double left = 104, right = 704, top = 64, bottom = 500;  // the plot area
  double legend_x = 720;                                   // the legend panel's left edge
};

// The frame for a chart with `subtitle`: a subtitle of more than two lines moves the plot area's
// top (and the legend) down by a line each, so that its first line stays under the title.
Frame frame_for(std::string_view subtitle);

struct LegendEntry {
  std::string label;
  std::string color;
  std::string dash;  // stroke-dasharray, empty for a solid line
  bool marker = false;
  bool line = true;
};

// Qualitative palette (10 colours, readable on white); index wraps around.
std::string_view color(std::size_t index);
// The colour of item `index` of `count` drawn apart by colour alone (a roofline's devices): the
// 10-colour palette up to 10 items, a 20-colour one (distinct up to 20) above.
std::string_view color(std::size_t index, std::size_t count);

// The document's opening (with a white background and a clip path named "plot-area"), title and
// subtitle.
std::string begin_document(const Frame& frame, std::string_view title, std::string_view subtitle);
// Grid lines, ticks, tick labels and axis titles for both axes.
std::string axes(const Frame& frame, const Scale& x, Unit x_unit, std::string_view x_title,
                 const Scale& y, Unit y_unit, std::string_view y_title);
// The legend panel, entries top to bottom; labels longer than the panel are shortened with "...".
std::string legend(const Frame& frame, std::string_view heading,
                   const std::vector<LegendEntry>& entries);
std::string end_document();

// Approximate width in pixels of `text` at `font_px` (sans-serif average glyph width).
double text_width(std::string_view text, double font_px);
// `label` within `max_width` pixels (11 px text): as it is when it fits, else cut with "..." at
// its end, or in the middle (a third of the room for the head, the rest for the tail); never
// inside a UTF-8 character.
std::string fit_label(const std::string& label, double max_width, bool middle);
// `text` broken after its ", " and "; " separators into lines no wider than `max_px` (a piece
// wider than that alone is a line of its own); the lines joined are `text`.
std::vector<std::string> wrap_at_separators(std::string_view text, double max_px, double font_px);

}  // namespace cli::plot
