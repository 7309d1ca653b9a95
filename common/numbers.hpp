// Numbers written as text by a person (measurement CSV cells, command-line flags): decimal only,
// finite, and never clamped. "010" is ten (not octal eight), "0x100" and "1e12" are not integers,
// "nan", "inf" and "1e999" are not numbers, and 99999999999999999999 is out of range rather than
// INT64_MAX. Shared by the measurement reader and the command line.
#pragma once

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>

namespace common {

// The text is not a number of the kind asked for, or it is out of the allowed range. The message
// says which and what is allowed, without naming the flag or cell: callers add that context.
class NumberTextError : public std::invalid_argument {
 public:
  explicit NumberTextError(const std::string& message) : std::invalid_argument(message) {}
};

// An optional '-' followed by decimal digits (leading zeros allowed, still decimal), in [min, max].
std::int64_t parse_decimal_integer(std::string_view text,
                                   std::int64_t min = std::numeric_limits<std::int64_t>::min(),
                                   std::int64_t max = std::numeric_limits<std::int64_t>::max());

// The power of two a size's suffix stands for: k or K 10, M 20, G 30; 0 for any other character.
int size_suffix_shift(char suffix);

// A size: a decimal integer with an optional k/K, M or G suffix (x 2^10, 2^20, 2^30: "32k" is
// 32768), in [min, max] (min >= 0).
std::int64_t parse_size_integer(std::string_view text, std::int64_t min, std::int64_t max);

// A finite decimal number ("12", "-0.5", "1.5e3") in [min, max]; no hexadecimal, inf or nan.
double parse_decimal_number(std::string_view text,
                            double min = std::numeric_limits<double>::lowest(),
                            double max = std::numeric_limits<double>::max());

// The number the text writes times 10^power_of_ten, rounded once from the decimal ("0.1" with -3
// and "100" with -6 are the same double, 1e-4, where 0.1 * 1e-3 and 100 * 1e-6 are not): a value in
// one unit read in another. The text is checked as parse_decimal_number checks it, without a range.
double parse_decimal_number_scaled(std::string_view text, int power_of_ten);

// Half a unit in the last digit a decimal text writes: how far the value it was rounded from may
// lie ("282" 0.5, "0.2437" 0.00005, "1.5e3" 50). Zeros ending a fraction are not counted, as a
// fixed format may pad with them ("1433.0" 0.5). The text must be one parse_decimal_number reads.
double last_digit_half_step(std::string_view text);

// "an integer in [1, 1073741824]" / "a number in [0.1, 600]", for messages and help text.
std::string integer_range_text(std::int64_t min, std::int64_t max);
std::string number_range_text(double min, double max);

}  // namespace common
