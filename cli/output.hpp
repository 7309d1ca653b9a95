// Output formats and the one place that writes results: stdout, or a file written atomically
// (temporary file + rename) so a failed run leaves no partial file.
#pragma once

#include <string>
#include <string_view>

namespace cli {

enum class Format { table, json, csv };

Format parse_format(std::string_view name);  // throws models::SpecError listing the formats

void write_output(const std::string& text, const std::string& path);  // "" or "-" = stdout

// Human-readable quantities for tables.
std::string human_time(double seconds);
std::string human_bytes(double bytes);  // decimal: kB, MB, GB, TB
std::string human_count(double count);  // k, M, G, T, P suffixes

}  // namespace cli
