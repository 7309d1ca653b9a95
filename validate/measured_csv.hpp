// The text layer of a measurements CSV (validate/data/measured/README.md): records split on commas,
// blank lines, and the header's column names, which are read as cells are (trimmed, any case).
// Parsing at the edge (validate/measurements.cpp reads the rows).
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace validate {

// One CSV record on one line (RFC 4180 quoting; a quoted cell cannot span lines), each cell with
// its surrounding spaces and tabs removed. A quote opens a quoted cell only at the cell's start;
// elsewhere in an unquoted cell it is text. std::invalid_argument naming `where` for an
// unterminated quoted cell, or text after a quoted cell's closing quote.
std::vector<std::string> split_csv_line(const std::string& line, const std::string& where);

// `text` with each carriage return that ends a line alone (classic Mac OS line ends, which some
// spreadsheets still write) made a line feed; CR LF line ends are left as they are.
std::string with_line_feeds(std::string text);

// A line of nothing but spaces, tabs and a carriage return: skipped like an empty one.
bool blank_line(std::string_view line);

// The columns a measurements CSV may have: those every row needs, then the optional ones
// (`notes` is free text that nothing reads).
const std::vector<std::string>& required_columns();
const std::vector<std::string>& optional_columns();

struct CsvHeader {
  std::map<std::string, std::size_t> columns;  // by name, lower case, trimmed
  std::size_t width = 0;  // cells a row has, unnamed columns (a spreadsheet's trailing ones) too
  std::vector<std::string> unknown;  // names neither list has, in header order
};

// The header line (`where`: "file:line"): names trimmed and lower-cased, as `pass` and `dtype`
// cells are read; a column without a name (trailing commas a spreadsheet writes) is ignored. A
// duplicate (after that) or a missing required column is bad input (std::invalid_argument); an
// unknown one is returned for the caller's warning.
CsvHeader read_header(const std::string& line, const std::string& where);

// What a header's unknown columns get: a warning (they are ignored), or under `validate --strict`
// a refusal (bad input).
enum class UnknownColumns { warn, refuse };

// The message about a header's unknown columns, naming them and listing the known ones, so a
// misspelt optional column (`windw`) is seen rather than silently priced without: the warning that
// they are ignored, or the one-line refusal.
std::string unknown_columns_message(const CsvHeader& header, const std::string& where,
                                    UnknownColumns policy);

}  // namespace validate
