#include "cli/flags.hpp"

#include <string>

#include <fmt/format.h>

#include "common/numbers.hpp"

namespace cli {

CLI::Validator decimal_integer(std::int64_t min, std::int64_t max) {
  return CLI::Validator(
      [min, max](std::string& text) {
        try {
          text = std::to_string(common::parse_decimal_integer(text, min, max));
          return std::string();
        } catch (const common::NumberTextError& e) {
          return std::string(e.what());
        }
      },
      max == std::numeric_limits<std::int64_t>::max()
          ? ">= " + std::to_string(min)
          : "[" + std::to_string(min) + ", " + std::to_string(max) + "]");
}

CLI::Validator decimal_number(double min, double max) {
  return CLI::Validator(
      [min, max](const std::string& text) {
        try {
          common::parse_decimal_number(text, min, max);
          return std::string();
        } catch (const common::NumberTextError& e) {
          return std::string(e.what());
        }
      },
      fmt::format("[{}, {}]", min, max));
}

}  // namespace cli
