#include "common/suggest.hpp"

#include <algorithm>
#include <limits>

#include "common/text.hpp"

namespace common {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  // Optimal string alignment: three rows of the dynamic programme (this, previous, the one before).
  const std::size_t n = b.size();
  std::vector<std::size_t> before(n + 1), previous(n + 1), row(n + 1);
  for (std::size_t j = 0; j <= n; ++j) previous[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    row[0] = i;
    for (std::size_t j = 1; j <= n; ++j) {
      const bool same = ascii_lower(a[i - 1]) == ascii_lower(b[j - 1]);
      row[j] = std::min({previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (same ? 0 : 1)});
      if (i > 1 && j > 1 && ascii_lower(a[i - 1]) == ascii_lower(b[j - 2]) &&
          ascii_lower(a[i - 2]) == ascii_lower(b[j - 1])) {
        row[j] = std::min(row[j], before[j - 2] + 1);
      }
    }
    std::swap(before, previous);
    std::swap(previous, row);
  }
  return previous[n];
}

std::string did_you_mean(std::string_view name, const std::vector<std::string>& known) {
  std::size_t best = std::numeric_limits<std::size_t>::max();
  std::vector<const std::string*> nearest;  // the names at the least distance, each once
  for (const std::string& k : known) {
    const std::size_t d = edit_distance(name, k);
    if (d < best) best = d, nearest.clear();
    const auto same = [&](const std::string* n) { return ascii_lower(*n) == ascii_lower(k); };
    if (d == best && std::none_of(nearest.begin(), nearest.end(), same)) nearest.push_back(&k);
  }
  const std::size_t limit = std::max<std::size_t>(1, std::max(name.size(), std::size_t{3}) / 3);
  if (nearest.empty() || nearest.size() > 3 || best > limit || *nearest.front() == name) return "";
  std::string text = " (did you mean '" + *nearest.front() + "'";
  for (std::size_t i = 1; i < nearest.size(); ++i) {
    text += (i + 1 == nearest.size() ? " or '" : ", '") + *nearest[i] + "'";
  }
  return text + "?)";
}

}  // namespace common
