// The one printer interface every command writes through. A command describes its result once, as
// a Printable (how it reads as a table, as a JSON document and as CSV), and print() renders the
// format the user asked for; no command switches over the format itself. `sweep`, which streams,
// uses RowPrinter: the text before, between and after its rows, per format.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/output.hpp"
#include "cli/sweep_points.hpp"

namespace cli {

struct Printable {
  using Text = std::function<std::string()>;
  Printable(Text table_text, Text json_text, Text csv_text, Text svg_text = {})
      : table(std::move(table_text)),
        json(std::move(json_text)),
        csv(std::move(csv_text)),
        svg(std::move(svg_text)) {}

  std::function<std::string()> table;
  std::function<std::string()> json;  // the whole document, with its final newline
  std::function<std::string()> csv;   // header and rows
  std::function<std::string()> svg;   // a chart; empty where the command draws none
};

// Throws common::SpecError for svg when the Printable has no chart.
std::string print(const Printable& p, Format format);

// Helpers for the common shapes.
// dump(2) + "\n", whole numbers as integers (cli/output.hpp Number): every JSON document a command
// prints goes through here. `as_written` keeps the numbers' JSON types instead, for a document
// that declares them (variants show: a real parameter's default, min and max are reals, as its
// `type` says).
enum class WholeNumbers { as_integers, as_written };
std::string json_text(const nlohmann::ordered_json& doc,
                      WholeNumbers whole = WholeNumbers::as_integers);
std::string json_text(const nlohmann::json& doc);
// Rows that are JSON objects in CSV (cli/report.hpp csv_from_objects).
std::function<std::string()> csv_of(std::vector<nlohmann::ordered_json> rows);

// Streamed rows (sweep): csv = header then rows; json = one array, rows separated by ",\n";
// jsonl = one object per line. `first` / `last` say whether this run writes the opening (CSV
// header, "[") / the closing of the whole (a shard in the middle writes neither);
// `rows_before` whether rows of the whole come before this run's (its first row then needs a
// separator).
class RowPrinter {
 public:
  RowPrinter(SweepFormat format, std::string csv_header, bool first, bool last,
             bool rows_before = false)
      : format_(format),
        header_(std::move(csv_header)),
        first_(first),
        last_(last),
        rows_before_(rows_before) {}
  std::string begin() const;
  std::string before_row();  // the separator due before the next row
  std::string end() const;

 private:
  SweepFormat format_;
  std::string header_;
  bool first_, last_, rows_before_;
  std::size_t rows_ = 0;
};

}  // namespace cli
