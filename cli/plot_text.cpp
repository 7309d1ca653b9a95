// Text measurement for the SVG charts (cli/plot_svg.hpp): estimated widths and subtitle wrapping.
#include <algorithm>
#include <cctype>
#include <string>

#include "cli/plot_svg.hpp"

namespace cli::plot {

double text_width(std::string_view text, double font_px) {
  double units = 0;
  for (unsigned char c : text) {
    if ((c & 0xC0) == 0x80) continue;  // UTF-8 continuation byte
    units += std::string_view("iljt.,:;'|!() ").find(static_cast<char>(c)) != std::string::npos
                 ? 0.32
             : std::isupper(c) || c == 'm' || c == 'w' ? 0.72
                                                       : 0.56;
  }
  return units * font_px;
}

std::vector<std::string> wrap_at_separators(std::string_view text, double max_px, double font_px) {
  std::vector<std::string> lines;
  std::string line;
  while (!text.empty()) {
    // The next piece: up to and including the next ", " or "; " (or the rest).
    std::size_t end = text.size();
    for (std::string_view sep : {", ", "; "}) {
      const std::size_t at = text.find(sep);
      if (at != std::string_view::npos) end = std::min(end, at + sep.size());
    }
    const std::string_view piece = text.substr(0, end);
    text.remove_prefix(end);
    if (!line.empty() && text_width(line + std::string(piece), font_px) > max_px) {
      lines.push_back(std::move(line));
      line.clear();
    }
    line += piece;
  }
  if (!line.empty()) lines.push_back(std::move(line));
  return lines;
}

}  // namespace cli::plot
