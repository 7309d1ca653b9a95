#include "cli/sweep_axes.hpp"

#include <algorithm>
#include <cstdio>
#include <functional>
#include <limits>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "common/numbers.hpp"
#include "models/model_presets.hpp"

namespace cli {

namespace {

[[noreturn]] void bad(std::string_view flag, std::string_view text, std::string_view why) {
  throw common::SpecError(fmt::format(
      "{} '{}': {}; expected a value, a list (1,8,64) or a range (1024..131072:x2, 4096..1M:+4096, "
      "1..100)",
      flag, text, why));
}

// A well-formed value outside what the flag allows: the range says it all, not the forms.
[[noreturn]] void outside(std::string_view flag, std::string_view text, std::string_view value,
                          std::int64_t max) {
  throw common::SpecError(fmt::format("{} '{}': {} is outside [1, {}]", flag, text, value, max));
}

// A decimal integer with an optional k/M/G suffix (powers of two), at most 2^62. `bound` > 0 is
// the largest value a size axis allows: a value outside [1, bound] (a negative one, one too large
// to parse) is out of range, and the message gives the range.
std::int64_t parse_size(std::string_view flag, std::string_view whole, std::string_view text,
                        std::int64_t bound = 0) {
  if (text.empty()) bad(flag, whole, "a number is missing");
  const std::string_view written = text;
  const auto out_of_range = [&](std::string_view value) { outside(flag, whole, value, bound); };
  const std::int64_t scale = std::int64_t{1} << common::size_suffix_shift(text.back());
  if (scale != 1) text.remove_suffix(1);
  const bool negative = bound > 0 && text.size() > 1 && text.front() == '-';
  if (negative) text.remove_prefix(1);
  if (text.empty()) bad(flag, whole, "a number is missing");
  std::int64_t value = 0;
  constexpr std::int64_t kLimit = std::int64_t{1} << 62;
  for (char c : text) {
    if (c < '0' || c > '9') {
      bad(flag, whole, fmt::format("'{}' is not a decimal integer", negative ? written : text));
    }
    const int digit = c - '0';
    // Checked before the multiplication, which would overflow (undefined) past 2^63.
    if (value > (kLimit - digit) / 10) {
      if (bound > 0) out_of_range(written);
      bad(flag, whole, "a value is too large");
    }
    value = value * 10 + digit;
  }
  if (negative) out_of_range(written);
  if (value > kLimit / scale) {
    if (bound > 0) out_of_range(written);
    bad(flag, whole, "a value is too large");
  }
  if (bound > 0 && (value * scale < 1 || value * scale > bound)) {
    out_of_range(std::to_string(value * scale));
  }
  return value * scale;
}

void push(std::vector<std::int64_t>& out, std::int64_t v, std::string_view flag,
          std::string_view text) {
  if (out.size() >= kMaxAxisValues) {
    bad(flag, text, fmt::format("more than {} values", kMaxAxisValues));
  }
  out.push_back(v);
}

// The values of `first..last[:step]`; `bound` as parse_size takes it (for the ends, not the step).
void expand_range(std::string_view flag, std::string_view item, std::vector<std::int64_t>& out,
                  std::int64_t bound) {
  const std::size_t dots = item.find("..");
  const std::size_t colon = item.find(':', dots);
  const std::int64_t first = parse_size(flag, item, item.substr(0, dots), bound);
  const std::string_view last_text = item.substr(
      dots + 2, colon == std::string_view::npos ? std::string_view::npos : colon - dots - 2);
  const std::int64_t last = parse_size(flag, item, last_text, bound);
  if (last < first) bad(flag, item, "the range ends before it starts");
  if (colon == std::string_view::npos) {
    for (std::int64_t v = first; v <= last; ++v) push(out, v, flag, item);
    return;
  }
  const std::string_view step = item.substr(colon + 1);
  if (step.size() < 2 || (step[0] != 'x' && step[0] != '+')) {
    bad(flag, item, "the step must be xN (multiply) or +N (add)");
  }
  const std::int64_t n = parse_size(flag, item, step.substr(1));
  if (step[0] == '+') {
    if (n <= 0) bad(flag, item, "an additive step must be positive");
    for (std::int64_t v = first; v <= last; v += n) push(out, v, flag, item);
    return;
  }
  if (n <= 1) bad(flag, item, "a factor must be at least 2");
  if (first <= 0) bad(flag, item, "a multiplied range must start above 0");
  for (std::int64_t v = first; v <= last; v *= n) {
    push(out, v, flag, item);
    if (v > std::numeric_limits<std::int64_t>::max() / n) break;
  }
}

// What a list flag's names are, and where to find them, for the error of an empty item.
std::string_view names_of(std::string_view flag) {
  if (flag == "--hw") return "profile ids or aliases (attnsim hw list), or all";
  if (flag == "--variant" || flag == "--variants") return "variants (attnsim variants list)";
  if (flag == "--model" || flag == "--models") return "model presets (attnsim models list), or all";
  if (flag == "--phase") return "phases: prefill, decode, fwd, bwd, train";
  if (flag == "--engine") return "engines: tile, roofline";
  if (flag == "--dtype") return "types: fp32, tf32, fp16, bf16, fp8";
  if (flag == "--cp-strategy")
    return "strategies: ring, zigzag, ulysses, allgather, lasp2, zeco, cad";
  return "names";
}

// parse_int_axis with parse_size's `bound`.
std::vector<std::int64_t> parse_bounded_axis(std::string_view flag, std::string_view text,
                                             std::int64_t bound) {
  if (text.empty() || text.front() == ',' || text.back() == ',' ||
      text.find(",,") != std::string_view::npos)
    bad(flag, text, "an empty item");
  std::vector<std::int64_t> out;
  for (const std::string& item : parse_word_axis(flag, text)) {
    if (item.find("..") != std::string::npos) {
      expand_range(flag, item, out, bound);
    } else {
      push(out, parse_size(flag, item, item, bound), flag, text);
    }
  }
  return out;
}

}  // namespace

std::vector<std::int64_t> parse_int_axis(std::string_view flag, std::string_view text) {
  return parse_bounded_axis(flag, text, 0);
}

std::vector<std::int64_t> parse_size_axis(std::string_view flag, std::string_view text,
                                          std::int64_t max, std::vector<std::string>& warnings) {
  std::vector<std::int64_t> values = parse_bounded_axis(flag, text, max);
  for (std::int64_t v : values) {
    if (v < 1 || v > max) outside(flag, text, std::to_string(v), max);
  }
  // A range, or a list in increasing order, repeats nothing: no names to build and compare.
  if (std::adjacent_find(values.begin(), values.end(), std::greater_equal<>()) == values.end()) {
    return values;
  }
  return drop_repeats(
      flag, values, [](std::int64_t v) { return std::to_string(v); }, warnings);
}

std::vector<std::string> parse_word_axis(std::string_view flag, std::string_view text) {
  std::vector<std::string> items;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(',', start);
    const std::string_view item =
        text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
    if (item.empty())
      throw common::SpecError(fmt::format("{} '{}': an empty item; expected comma-separated {}",
                                          flag, text, names_of(flag)));
    items.emplace_back(item);
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  return items;
}

std::vector<std::string> parse_model_axis(std::string_view flag, std::string_view text) {
  std::vector<std::string> names = parse_word_axis(flag, text);
  if (names.size() == 1 && names[0] == "all") {
    names.clear();
    for (const models::Preset& p : models::builtin_presets()) names.push_back(p.name);
  }
  return names;
}

std::string repeat_warning(std::string_view flag, std::string_view value) {
  return fmt::format("{} lists {} more than once; it is swept once", flag, value);
}

}  // namespace cli
