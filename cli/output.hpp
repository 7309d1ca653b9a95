// Output formats and the one place that writes results: stdout, or the file named with -o (see
// cli/output_file.hpp: regular files are replaced atomically, links and devices are written
// through).
#pragma once

#include <string>
#include <string_view>

#include "cli/cli11_fwd.hpp"

namespace cli {

enum class Format { table, json, csv, svg };

// Throws common::SpecError listing the formats; svg (a chart) only where `with_svg` (query,
// compare).
Format parse_format(std::string_view name, bool with_svg = false);

void write_output(const std::string& text, const std::string& path);  // "" or "-" = stdout

// Adds -o/--output to a subcommand; an empty path is rejected (exit 2) rather than read as stdout.
CLI::Option* add_output_option(CLI::App& command, std::string& path, const std::string& help);

// A CSV cell holding `text` (RFC 4180): quoted, with each quote doubled, when it holds a comma, a
// quote or a line break (CR or LF: a file name may hold either); as it is otherwise. Every CSV
// printer quotes its text cells with this one function.
std::string csv_quote(std::string_view text);

// Human-readable quantities for tables.
std::string human_time(double seconds);  // ns, us, ms, s, min, h: 3 digits, no exponent
std::string human_bytes(double bytes);   // decimal: kB, MB, GB, TB ... YB
std::string human_count(double count);   // k, M, G, T, P, E, Z, Y suffixes

}  // namespace cli
