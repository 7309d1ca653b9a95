// ASCII case folding for names read from files, flags and device queries (kernel and profile
// names, dtype cells), so that every reader folds them the same way, whatever the locale.
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

}  // namespace common
