// Output formats and the one place that writes results: stdout, or the file named with -o (see
// cli/output_file.hpp: regular files are replaced atomically, links and devices are written
// through, /dev/stdout is our own stdout).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <fmt/format.h>

#include "cli/cli11_fwd.hpp"
#include "cli/output_file.hpp"

namespace cli {

enum class Format { table, json, csv, svg };

// Throws common::SpecError listing the formats; svg (a chart) only where `with_svg` (query,
// compare).
Format parse_format(std::string_view name, bool with_svg = false);

// Where results go: stdout for "" or "-", else the file named (cli/output_file.hpp).
OutputFile open_output(const std::string& path);
void write_output(const std::string& text, const std::string& path);  // "" or "-" = stdout

// Adds -o/--output to a subcommand; an empty path is rejected (exit 2) rather than read as stdout.
CLI::Option* add_output_option(CLI::App& command, std::string& path, const std::string& help);

// A CSV cell holding `text` (RFC 4180): quoted, with each quote doubled, when it holds a comma, a
// quote or a line break (CR or LF: a file name may hold either); as it is otherwise. Every CSV
// printer quotes its text cells with this one function.
std::string csv_quote(std::string_view text);

// How every printer writes a number (JSON documents, CSV cells, sweep rows): a whole value that
// fits in 64 bits (a count of heads, CTAs, FLOPs or bytes, or any quantity that happens to be
// whole) as an integer, "64" and not "64.0" or "6.4e+01"; any other at its shortest round trip.
// `whole_number` is that test; `Number{x}` formats by it (fmt::format("{}", Number{x})), and
// json_text (cli/printer.hpp) applies it to a document's numbers.
std::optional<std::int64_t> whole_number(double value);
struct Number {
  double value;
};

// Human-readable quantities for tables.
std::string human_time(double seconds);  // ns, us, ms, s, min, h: 3 digits, no exponent
std::string human_bytes(double bytes);   // decimal: kB, MB, GB, TB ... YB
std::string human_count(double count);   // k, M, G, T, P, E, Z, Y suffixes

}  // namespace cli

template <>
struct fmt::formatter<cli::Number> : fmt::formatter<double> {
  template <typename Context>
  auto format(const cli::Number& n, Context& ctx) const {
    if (const std::optional<std::int64_t> whole = cli::whole_number(n.value)) {
      return fmt::format_to(ctx.out(), "{}", *whole);
    }
    return fmt::format_to(ctx.out(), "{}", n.value);
  }
};
