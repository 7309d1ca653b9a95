#include "validate/measured_csv.hpp"

#include <algorithm>
#include <stdexcept>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/text.hpp"

namespace validate {

namespace {

bool known_column(const std::string& name) {
  const auto has = [&](const std::vector<std::string>& names) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  return has(required_columns()) || has(optional_columns());
}

}  // namespace

std::vector<std::string> split_csv_line(const std::string& line, const std::string& where) {
  std::vector<std::string> cells(1);
  // RFC 4180: a quote opens a quoted cell only as the cell's first character (blanks before it
  // aside, as cells are trimmed); anywhere else it is part of the text. Inside, `""` is a quote
  // and a lone quote closes the cell, after which only blanks may come before the comma.
  enum class State { start, plain, quoted, closed } state = State::start;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '\r') continue;
    if (state == State::quoted) {
      if (c != '"') {
        cells.back() += c;
      } else if (i + 1 < line.size() && line[i + 1] == '"') {
        cells.back() += '"';
        ++i;
      } else {
        state = State::closed;
      }
    } else if (c == ',') {
      cells.emplace_back();
      state = State::start;
    } else if (state == State::closed) {
      if (c != ' ' && c != '\t')
        throw std::invalid_argument(fmt::format(
            "{}: cell {}: text after the closing quote of a quoted cell; a quote inside a quoted "
            "cell is written twice (\"\")",
            where, cells.size()));
    } else if (c == '"' && state == State::start) {  // only blanks before it
      cells.back().clear();
      state = State::quoted;
    } else {
      cells.back() += c;
      if (c != ' ' && c != '\t') state = State::plain;
    }
  }
  if (state == State::quoted)
    throw std::invalid_argument(
        where +
        ": unterminated quoted cell (a quoted cell ends on its own line: a newline inside quotes "
        "is not supported, one record per line)");
  for (std::string& cell : cells) cell = common::trim_blanks(cell);
  return cells;
}

std::string with_line_feeds(std::string text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')) text[i] = '\n';
  }
  return text;
}

bool blank_line(std::string_view line) {
  return line.find_first_not_of(" \t\r") == std::string_view::npos;
}

const std::vector<std::string>& required_columns() {
  static const std::vector<std::string> names = {"hw",    "kernel",  "pass",     "dtype",
                                                 "batch", "heads_q", "heads_kv", "head_dim",
                                                 "seq_q", "seq_kv",  "causal"};
  return names;
}

const std::vector<std::string>& optional_columns() {
  static const std::vector<std::string> names = {"v_head_dim", "window",  "variant", "op",
                                                 "caller",     "time_ms", "time_us", "tflops",
                                                 "source",     "notes"};
  return names;
}

CsvHeader read_header(const std::string& line, const std::string& where) {
  CsvHeader header;
  const std::vector<std::string> names = split_csv_line(line, where);
  header.width = names.size();
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string name = common::ascii_lower(names[i]);
    if (name.empty()) continue;  // an unnamed column is read by no one
    if (!header.columns.emplace(name, i).second) {
      throw std::invalid_argument(fmt::format("{}: duplicate column '{}' (columns {} and {})",
                                              where, name, header.columns[name] + 1, i + 1));
    }
    if (!known_column(name)) header.unknown.push_back(name);
  }
  // A header of one cell holding ';' or a tab is another separator's file (a spreadsheet's export
  // in a locale whose decimal mark is a comma).
  const bool other_separator = names.size() == 1 && line.find_first_of(";\t") != std::string::npos;
  for (const std::string& needed : required_columns()) {
    if (!header.columns.count(needed)) {
      throw std::invalid_argument(fmt::format(
          "{}: missing column '{}' (schema: validate/data/measured/README.md){}", where, needed,
          other_separator ? fmt::format("; the header holds {} but the separator is ','",
                                        line.find(';') != std::string::npos ? "';'" : "a tab")
                          : ""));
    }
  }
  const auto& columns = header.columns;
  if (!columns.count("time_ms") && !columns.count("time_us") && !columns.count("tflops")) {
    throw std::invalid_argument(
        fmt::format("{}: missing column 'time_ms', 'time_us' or 'tflops' (schema: "
                    "validate/data/measured/README.md)",
                    where));
  }
  return header;
}

std::string unknown_columns_message(const CsvHeader& header, const std::string& where,
                                    UnknownColumns policy) {
  std::vector<std::string> quoted;
  for (const std::string& name : header.unknown) quoted.push_back("'" + name + "'");
  const bool refused = policy == UnknownColumns::refuse;
  return fmt::format("{}: unknown column{} {} {}; {}: {}, {}", where, quoted.size() == 1 ? "" : "s",
                     fmt::join(quoted, ", "),
                     refused
                         ? "refused under --strict (a misspelt optional column would not be read)"
                         : "ignored (a misspelt optional column is not read)",
                     refused ? "allowed" : "known", fmt::join(required_columns(), ", "),
                     fmt::join(optional_columns(), ", "));
}

}  // namespace validate
