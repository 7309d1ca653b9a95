// Sweep axes from the command line: a flag's value is one value, a comma list, or a range
// (`1024..131072:x2` multiplies, `4096..1M:+4096` adds, `1..200000` steps by one). Sizes take the
// suffixes k = 2^10, M = 2^20, G = 2^30 (`128k` = 131072 tokens).
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace cli {

// Most values one axis may expand to: a range that would exceed it is an error, not a hang.
inline constexpr std::size_t kMaxAxisValues = std::size_t{1} << 24;

// The integers an axis names, in order. Throws common::SpecError naming `flag` for malformed text,
// a non-positive step, a factor <= 1, an empty range or more than kMaxAxisValues values.
std::vector<std::int64_t> parse_int_axis(std::string_view flag, std::string_view text);

// parse_int_axis for a size (batch, lengths, device counts): every value in [1, max], else
// common::SpecError naming `flag` and the value (a zero length is bad input, not a skipped point).
// Repeats are dropped, each named in a line appended to `warnings` (drop_repeats).
std::vector<std::int64_t> parse_size_axis(std::string_view flag, std::string_view text,
                                          std::int64_t max, std::vector<std::string>& warnings);

// The comma-separated words of a list axis (variants, phases, profiles, dtypes); empty items are
// an error naming `flag`.
std::vector<std::string> parse_word_axis(std::string_view flag, std::string_view text);

// The preset names a --model/--models list gives: its words, or every built-in preset for a lone
// `all` (sweep and compare read it alike).
std::vector<std::string> parse_model_axis(std::string_view flag, std::string_view text);

// The warning that `flag` names `value` more than once and that it is swept once.
std::string repeat_warning(std::string_view flag, std::string_view value);

// An axis's values with later repeats dropped (`1k,1024`, `gqa,GQA`, `32,32`): values are the
// same when `name(v)` spells them the same. The first keeps its place and each dropped one is
// named in a line appended to `warnings` (repeat_warning), since a repeat would only repeat rows.
// The sweep says its warnings once it has run: bad input found later is its one line.
template <typename T, typename Name>
std::vector<T> drop_repeats(std::string_view flag, std::vector<T> values, Name name,
                            std::vector<std::string>& warnings) {
  std::vector<T> kept;
  kept.reserve(values.size());
  std::unordered_set<std::string> seen;  // a set: a range axis may hold 2^24 values
  for (T& v : values) {
    std::string n(name(v));
    if (!seen.insert(n).second) {
      warnings.push_back(repeat_warning(flag, n));
      continue;
    }
    kept.push_back(std::move(v));
  }
  return kept;
}

}  // namespace cli
