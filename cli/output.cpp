#include "cli/output.hpp"
#include "cli/flags.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/output_file.hpp"
#include "common/errors.hpp"

namespace cli {

std::optional<std::int64_t> whole_number(double value) {
  // 2^63: the doubles below it that are whole convert to int64 exactly.
  constexpr double kLimit = 9223372036854775808.0;
  if (!std::isfinite(value) || std::trunc(value) != value || std::fabs(value) >= kLimit) {
    return std::nullopt;
  }
  return static_cast<std::int64_t>(value);
}

Format parse_format(std::string_view name, bool with_svg) {
  if (name == "table") return Format::table;
  if (name == "json") return Format::json;
  if (name == "csv") return Format::csv;
  if (name == "svg" && with_svg) return Format::svg;
  throw common::SpecError(fmt::format("unknown format '{}'; allowed: table, json, csv{}", name,
                                      with_svg ? ", svg" : ""));
}

OutputFile open_output(const std::string& path) {
  if (path.empty() || path == "-") return OutputFile(OutputFile::StandardOutput{});
  return OutputFile(path);
}

void write_output(const std::string& text, const std::string& path) {
  OutputFile out = open_output(path);
  out.write(text);
  out.commit();
}

CLI::Option* add_output_option(CLI::App& command, std::string& path, const std::string& help) {
  // A path the results cannot be written to is bad input (exit 2) before anything runs, as a
  // --plot path is: an empty one, a directory, one too long for the system, or a file in a folder
  // that is not there (or that is a file), after following symbolic links.
  return command.add_option("-o,--output", path, help)
      ->check(CLI::Validator(
          [](const std::string& value) -> std::string {
            if (value.empty()) return "an empty path; give a file name, or - for stdout";
            if (value == "-") return "";
            std::error_code ec;
            if (std::filesystem::is_directory(value, ec)) {
              return fmt::format("'{}' is a directory; give a file name", value);
            }
            if (const std::string problem = unusable_path_problem(value); !problem.empty()) {
              return fmt::format("cannot write '{}': {}", value, problem);
            }
            const FolderProblem folder = output_folder_problem(value);
            if (folder.not_a_folder) {
              return fmt::format("cannot write '{}': {}", value, folder.describe());
            }
            if (folder) return fmt::format("{} to write '{}' in", folder.describe(), value);
            return "";
          },
          "FILE"));
}

namespace {

// `v` at 3 significant digits (strtod, not stod: stod throws on a subnormal value's text,
// "1e-311").
double round3(double v) {
  return std::strtod(fmt::format("{:.3g}", v).c_str(), nullptr);
}

// Formats `value` with 3 significant digits in the largest unit that keeps it below `step`; a value
// that rounds up to `step` (999.96 -> "1e+03") moves to the next unit instead.
std::string scaled(double value, const char* const* units, int n_units, double step,
                   const char* suffix) {
  int i = 0;
  double v = value;
  while (i + 1 < n_units && std::fabs(round3(v)) >= step) {
    v /= step;
    ++i;
  }
  std::string unit = std::string(units[i]) + suffix;
  return unit.empty() ? fmt::format("{:.3g}", v) : fmt::format("{:.3g} {}", v, unit);
}

// `v` at 3 significant digits, without an exponent (12345 -> "12300").
std::string fixed3(double v) {
  const double r = round3(v);
  return std::fabs(r) < 1000 ? fmt::format("{:.3g}", v) : fmt::format("{:.0f}", r);
}

}  // namespace

std::string human_time(double s) {
  static const char* const units[] = {"ns", "us", "ms", "s"};
  if (!(s >= 1) || !std::isfinite(s)) return scaled(s * 1e9, units, 4, 1000.0, "");
  // From a second up: s below a minute, then min below an hour, then h, each at 3 significant
  // digits as below a second; a value that rounds up to the step (59.97 s) takes the next unit.
  // A value moved up by rounding is at least one of the new unit (59.97 s is "1 min").
  if (round3(s) < 60) return fmt::format("{:.3g} s", s);
  if (round3(s / 60) < 60) return fmt::format("{:.3g} min", std::max(s, 60.0) / 60);
  return fixed3(std::max(s, 3600.0) / 3600) + " h";
}

std::string human_bytes(double bytes) {
  static const char* const units[] = {"", "k", "M", "G", "T", "P", "E", "Z", "Y"};
  return scaled(bytes, units, 9, 1000.0, "B");
}

std::string csv_quote(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string human_count(double count) {
  static const char* const units[] = {"", "k", "M", "G", "T", "P", "E", "Z", "Y"};
  return scaled(count, units, 9, 1000.0, "");
}

}  // namespace cli
