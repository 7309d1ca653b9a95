// ASCII case folding and blank trimming for names read from files, flags and device queries (kernel
// and profile names, dtype cells), so that every reader folds them the same way, whatever the
// locale.
#pragma once

#include <string>
#include <string_view>

namespace common {

inline char ascii_lower(char c) {
  return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
}

inline std::string ascii_lower(std::string_view text) {
  std::string s(text);
  for (char& c : s) c = ascii_lower(c);
  return s;
}

// `text` without its leading and trailing spaces and tabs (a CSV cell or header name as written by
// hand: `hw, kernel`).
inline std::string trim_blanks(std::string_view text) {
  const auto first = text.find_first_not_of(" \t");
  if (first == std::string_view::npos) return "";
  const auto last = text.find_last_not_of(" \t");
  return std::string(text.substr(first, last - first + 1));
}

}  // namespace common
