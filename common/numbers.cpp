#include "common/numbers.hpp"

#include <charconv>
#include <cmath>
#include <cstdlib>
#include <optional>
#include <string>
#include <system_error>

#include <fmt/format.h>

namespace common {

namespace {

constexpr std::int64_t kIntMin = std::numeric_limits<std::int64_t>::min();
constexpr std::int64_t kIntMax = std::numeric_limits<std::int64_t>::max();

bool all_decimal_digits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// Digits with at most one '.', an optional exponent "e[-]digits", and at least one mantissa digit:
// the only shape std::from_chars may see, so that "inf", "nan" and hexadecimal never get through.
bool decimal_number_shape(std::string_view s) {
  if (!s.empty() && s.front() == '-') s.remove_prefix(1);
  const std::size_t e = s.find_first_of("eE");
  std::string_view mantissa = s.substr(0, e);
  const std::size_t dot = mantissa.find('.');
  std::string_view whole = mantissa.substr(0, dot);
  std::string_view fraction = dot == std::string_view::npos ? "" : mantissa.substr(dot + 1);
  if (whole.empty() && fraction.empty()) return false;
  if ((!whole.empty() && !all_decimal_digits(whole)) ||
      (!fraction.empty() && !all_decimal_digits(fraction))) {
    return false;
  }
  if (e == std::string_view::npos) return true;
  std::string_view exponent = s.substr(e + 1);
  if (!exponent.empty() && (exponent.front() == '-' || exponent.front() == '+')) {
    exponent.remove_prefix(1);
  }
  return all_decimal_digits(exponent);
}

// The exponent a decimal text writes after its e or E, 0 without one; nullopt past 64 bits.
std::optional<long long> written_exponent(std::string_view text) {
  const std::size_t e = text.find_first_of("eE");
  if (e == std::string_view::npos) return 0;
  std::string_view digits = text.substr(e + 1);
  if (!digits.empty() && digits.front() == '+') digits.remove_prefix(1);
  long long exponent = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), exponent);
  if (ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  return exponent;
}

std::string shown(std::string_view text) {
  return text.empty() ? "an empty value" : fmt::format("'{}'", text);
}

}  // namespace

std::string integer_range_text(std::int64_t min, std::int64_t max) {
  if (min == kIntMin && max == kIntMax) return "a decimal integer of at most 64 bits";
  if (max == kIntMax) return fmt::format("an integer >= {}", min);
  return fmt::format("an integer in [{}, {}]", min, max);
}

std::string number_range_text(double min, double max) {
  const double lowest = std::numeric_limits<double>::lowest();
  const double highest = std::numeric_limits<double>::max();
  if (min == lowest && max == highest) return "a finite decimal number";
  if (max == highest) return fmt::format("a number >= {}", min);
  return fmt::format("a number in [{}, {}]", min, max);
}

std::int64_t parse_decimal_integer(std::string_view text, std::int64_t min, std::int64_t max) {
  const std::string allowed = integer_range_text(min, max);
  std::string_view digits = text;
  if (!digits.empty() && digits.front() == '-') digits.remove_prefix(1);
  if (!all_decimal_digits(digits)) {
    const bool hex = text.size() > 1 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
    throw NumberTextError(fmt::format("{} is not a decimal integer{}; allowed: {}", shown(text),
                                      hex ? " (hexadecimal is not accepted)" : "", allowed));
  }
  std::int64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 10);
  if (ec == std::errc::result_out_of_range || (ec == std::errc() && (value < min || value > max))) {
    throw NumberTextError(fmt::format("{} is out of range; allowed: {}", shown(text), allowed));
  }
  if (ec != std::errc() || end != text.data() + text.size()) {
    throw NumberTextError(
        fmt::format("{} is not a decimal integer; allowed: {}", shown(text), allowed));
  }
  return value;
}

int size_suffix_shift(char suffix) {
  switch (suffix) {
    case 'k':
    case 'K':
      return 10;
    case 'M':
      return 20;
    case 'G':
      return 30;
    default:
      return 0;
  }
}

std::int64_t parse_size_integer(std::string_view text, std::int64_t min, std::int64_t max) {
  const int shift = text.empty() ? 0 : size_suffix_shift(text.back());
  if (shift == 0) return parse_decimal_integer(text, min, max);
  const std::string allowed =
      integer_range_text(min, max) + " (a k, M or G suffix multiplies by 2^10, 2^20 or 2^30)";
  std::int64_t count = 0;
  try {
    count = parse_decimal_integer(text.substr(0, text.size() - 1), 0, max);
  } catch (const NumberTextError&) {
    throw NumberTextError(fmt::format("{} is not a decimal integer with a size suffix; allowed: {}",
                                      shown(text), allowed));
  }
  if (count > (max >> shift) || (count << shift) < min) {
    throw NumberTextError(fmt::format("{} is out of range; allowed: {}", shown(text), allowed));
  }
  return count << shift;
}

double parse_decimal_number(std::string_view text, double min, double max) {
  const std::string allowed = number_range_text(min, max);
  if (!decimal_number_shape(text)) {
    throw NumberTextError(
        fmt::format("{} is not a finite decimal number; allowed: {}", shown(text), allowed));
  }
  double value = 0;
  const auto [end, ec] =
      std::from_chars(text.data(), text.data() + text.size(), value, std::chars_format::general);
  // from_chars leaves `value` alone when out of range; strtod (the "C" locale: attnsim never sets
  // one) tells overflow (HUGE_VAL) from underflow (1e-999 is zero, which the range below judges).
  if (ec == std::errc::result_out_of_range &&
      std::fabs(std::strtod(std::string(text).c_str(), nullptr)) < 1) {
    value = 0;
  } else if (ec == std::errc::result_out_of_range || !std::isfinite(value)) {
    throw NumberTextError(
        fmt::format("{}: number out of range; allowed: {}", shown(text), allowed));
  } else if (ec != std::errc() || end != text.data() + text.size()) {
    throw NumberTextError(
        fmt::format("{} is not a finite decimal number; allowed: {}", shown(text), allowed));
  }
  if (!(value >= min && value <= max)) {
    throw NumberTextError(fmt::format("{} is out of range; allowed: {}", shown(text), allowed));
  }
  return value;
}

double parse_decimal_number_scaled(std::string_view text, int power_of_ten) {
  const double value = parse_decimal_number(text);
  if (value == 0) return value;
  const std::optional<long long> exponent = written_exponent(text);
  // An exponent past 64 bits writes 0 (overflow was refused above): scaled, still 0.
  if (!exponent) return value;
  const std::string scaled = fmt::format("{}e{}", text.substr(0, text.find_first_of("eE")),
                                         *exponent + static_cast<long long>(power_of_ten));
  double result = 0;
  const auto [end, ec] = std::from_chars(scaled.data(), scaled.data() + scaled.size(), result,
                                         std::chars_format::general);
  if (ec == std::errc::result_out_of_range) return value * std::pow(10.0, power_of_ten);
  return result;
}

double last_digit_half_step(std::string_view text) {
  const std::size_t e = text.find_first_of("eE");
  std::string_view mantissa = text.substr(0, e);
  const std::size_t dot = mantissa.find('.');
  // Zeros after the point may be a fixed format's padding (1433.0), not a digit measured.
  while (dot != std::string_view::npos && mantissa.size() > dot + 1 && mantissa.back() == '0')
    mantissa.remove_suffix(1);
  const long long decimals =
      dot == std::string_view::npos ? 0 : static_cast<long long>(mantissa.size() - dot - 1);
  const long long exponent = written_exponent(text).value_or(0);
  return 0.5 * std::pow(10.0, static_cast<double>(exponent - decimals));
}

}  // namespace common
