#include "cli/printer.hpp"

#include "cli/report.hpp"
#include "common/errors.hpp"

namespace cli {

std::string print(const Printable& p, Format format) {
  switch (format) {
    case Format::table:
      return p.table();
    case Format::json:
      return p.json();
    case Format::csv:
      return p.csv();
    case Format::svg:
      if (!p.svg) throw common::SpecError("--format svg: this command draws no chart");
      return p.svg();
  }
  return "";
}

namespace {

// Each whole number a document holds as a double becomes an integer (cli/output.hpp Number).
template <typename Json>
void whole_numbers(Json& value) {
  if (value.is_structured()) {
    for (auto& item : value) whole_numbers(item);
  } else if (value.is_number_float()) {
    if (const std::optional<std::int64_t> whole = whole_number(value.template get<double>())) {
      value = *whole;
    }
  }
}

}  // namespace

std::string json_text(const nlohmann::ordered_json& doc, WholeNumbers whole) {
  if (whole == WholeNumbers::as_written) return doc.dump(2) + "\n";
  nlohmann::ordered_json copy = doc;
  whole_numbers(copy);
  return copy.dump(2) + "\n";
}

std::string json_text(const nlohmann::json& doc) {
  nlohmann::json copy = doc;
  whole_numbers(copy);
  return copy.dump(2) + "\n";
}

std::function<std::string()> csv_of(std::vector<nlohmann::ordered_json> rows) {
  return [rows = std::move(rows)] { return csv_from_objects(rows); };
}

std::string RowPrinter::begin() const {
  if (!first_) return "";
  return format_ == SweepFormat::csv ? header_ : format_ == SweepFormat::json ? "[\n" : "";
}

std::string RowPrinter::before_row() {
  const bool separate = format_ == SweepFormat::json && (rows_ > 0 || rows_before_);
  ++rows_;
  return separate ? ",\n" : "";
}

std::string RowPrinter::end() const {
  return format_ == SweepFormat::json && last_ ? "\n]\n" : "";
}

}  // namespace cli
