// Labels cut to fit a chart's legend (cli/plot_text.cpp): the longest head of whole characters
// that fits, "..." after it, and never half of a UTF-8 character.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "cli/plot_svg.hpp"

namespace {

// The byte length of the UTF-8 character whose lead byte is `c` (1 for ASCII).
std::size_t char_bytes(unsigned char c) {
  return c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
}

bool valid_utf8(const std::string& s) {
  for (std::size_t i = 0; i < s.size();) {
    const auto c = static_cast<unsigned char>(s[i]);
    if ((c & 0xC0) == 0x80) return false;
    const std::size_t n = char_bytes(c);
    if (i + n > s.size()) return false;
    for (std::size_t k = 1; k < n; ++k) {
      if ((static_cast<unsigned char>(s[i + k]) & 0xC0) != 0x80) return false;
    }
    i += n;
  }
  return true;
}

// The longest head of `label`, in whole characters, whose width with "..." is within `max_px`:
// worked out character by character, independently of the byte-wise cut under test.
std::string longest_head(const std::string& label, double max_px) {
  std::string head;
  for (std::size_t i = 0; i < label.size();) {
    const std::size_t n = char_bytes(static_cast<unsigned char>(label[i]));
    const std::string next = head + label.substr(i, n);
    if (cli::plot::text_width(next + "...", 11) > max_px) break;
    head = next;
    i += n;
  }
  return head;
}

}  // namespace

TEST_CASE("a label that fits is kept whole", "[cli][plot]") {
  CHECK(cli::plot::fit_label("h100 d=128", 500, false) == "h100 d=128");
  CHECK(cli::plot::fit_label("h100 d=128", 500, true) == "h100 d=128");
}

TEST_CASE("a label cut at its end keeps every character that fits before the dots", "[cli][plot]") {
  // 'a' is 0.56 x 11 px wide and '.' 0.32 x 11 px: five a's and "..." take 41.36 px.
  const double five = 5 * 0.56 * 11 + 3 * 0.32 * 11;
  CHECK(cli::plot::fit_label("aaaaaaaaaa", five + 0.01, false) == "aaaaa...");
  CHECK(cli::plot::fit_label("aaaaaaaaaa", five - 0.01, false) == "aaaa...");
  // Two-byte characters count as one glyph each and are never split.
  CHECK(cli::plot::fit_label("\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9",
                             five + 0.01, false) == "\u00e9\u00e9\u00e9\u00e9\u00e9...");
}

TEST_CASE("a cut label is valid UTF-8 and the longest whole-character head at every width",
          "[cli][plot]") {
  const std::vector<std::string> labels = {
      "h100-sxm5-80gb heads=32 kv_heads=8 window=4096",
      "\u00b5s \u00e9t\u00e9 \u2014 \u03bb=0.5 \u2014 \U0001F680 rocket \u00e9\u00e9",
      "\u2014\u2014\u2014\u2014\u2014\u2014\u2014\u2014\u2014\u2014\u2014\u2014",
      "a\U0001F680b\U0001F680c\U0001F680d\U0001F680e\U0001F680f\U0001F680"};
  for (const std::string& label : labels) {
    for (double px = 12; px < cli::plot::text_width(label, 11); px += 1.5) {
      INFO(label << " in " << px << " px");
      const std::string end_cut = cli::plot::fit_label(label, px, false);
      CHECK(valid_utf8(end_cut));
      CHECK(end_cut == longest_head(label, px) + "...");
      const std::string middle_cut = cli::plot::fit_label(label, px, true);
      CHECK(valid_utf8(middle_cut));
      // A head of the label, the dots, and a tail of it that fits with them.
      const std::size_t dots = middle_cut.find("...");
      REQUIRE(dots != std::string::npos);
      CHECK(label.compare(0, dots, middle_cut, 0, dots) == 0);
      const std::string tail = middle_cut.substr(dots + 3);
      CHECK(label.size() >= tail.size());
      CHECK(label.compare(label.size() - tail.size(), tail.size(), tail) == 0);
      if (!tail.empty()) CHECK(cli::plot::text_width(middle_cut, 11) <= px);
    }
  }
}
