// Text measurement for the SVG charts (cli/plot_svg.hpp): estimated widths, labels cut to fit
// and subtitle wrapping.
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

namespace {

// Drops a UTF-8 sequence cut short at the end of `text` (a lead byte followed by fewer
// continuation bytes than it announces); a whole character, ASCII or not, stays.
void drop_partial_utf8(std::string& text) {
  std::size_t lead = text.size();
  while (lead > 0 && (static_cast<unsigned char>(text[lead - 1]) & 0xC0) == 0x80) --lead;
  if (lead == 0) {  // continuation bytes only: nothing whole to keep
    text.clear();
    return;
  }
  const auto c = static_cast<unsigned char>(text[lead - 1]);
  const std::size_t needs = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : 0;
  if (text.size() - lead < needs) text.resize(lead - 1);
}

}  // namespace

std::string fit_label(const std::string& label, double max_width, bool middle) {
  if (text_width(label, 11) <= max_width) return label;
  if (!middle) {
    std::string head = label;
    while (!head.empty() && text_width(head + "...", 11) > max_width) head.pop_back();
    drop_partial_utf8(head);
    return head + "...";
  }
  std::string head = label;
  while (!head.empty() && text_width(head + "...", 11) > max_width / 3) head.pop_back();
  drop_partial_utf8(head);
  std::size_t start = head.size();
  while (start < label.size() && (text_width(head + "..." + label.substr(start), 11) > max_width ||
                                  (static_cast<unsigned char>(label[start]) & 0xC0) == 0x80)) {
    ++start;
  }
  return head + "..." + label.substr(start);
}

}  // namespace cli::plot
