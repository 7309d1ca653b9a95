#include "validate/measurements.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>
#include <utility>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "validate/measured_csv.hpp"
#include "validate/measured_names.hpp"
#include "validate/measured_ops.hpp"
#include "validate/measured_row.hpp"

namespace validate {

namespace {

// The text of the file at `path`, its line ends made line feeds (with_line_feeds); bad input for a
// directory or a file that cannot be opened.
std::string measurements_text(const std::filesystem::path& path) {
  const std::string file = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw std::invalid_argument(file + ": is a directory, not a measurements CSV file");
  }
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw std::invalid_argument(file + ": cannot open measurements file");
  return with_line_feeds(std::string(std::istreambuf_iterator<char>(stream), {}));
}

// The header is the first line that is not blank (after a byte order mark: spreadsheet programs
// start UTF-8 CSV files with one; it is not part of 'hw'). `number` counts the lines read.
CsvHeader header_of(std::istream& in, const std::string& file, int& number) {
  constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
  std::string line;
  bool has_header = false;
  while (!has_header && std::getline(in, line)) {
    if (++number == 1 && line.rfind(kUtf8Bom, 0) == 0) line.erase(0, kUtf8Bom.size());
    has_header = !blank_line(line);
  }
  if (!has_header) {
    throw std::invalid_argument(
        file + ": empty file: no header line (columns: validate/data/measured/README.md)");
  }
  return read_header(line, fmt::format("{}:{}", file, number));
}

// One file's rows made cases, in steps; each thing a row leaves to inference (its kernel unknown,
// its family, caller or op not given) is warned about once per kernel and file.
class CaseReader {
 public:
  CaseReader(const models::Registry& registry, MeasurementSet& set)
      : registry_(registry), set_(set) {}

  // Adds the row's case to the set's cases, or its reason to the skipped rows; throws
  // std::invalid_argument for a malformed row.
  void read(const Row& row, const std::string& file, int line) {
    MeasuredCase c;
    c.file = file;
    c.line = line;
    read_kernel(c, row);
    const RowFamily family = family_of(c.schedule, c.kernel);
    const bool family_inferred = infer_family(c, row, family);
    read_caller(c, row);
    c.pass = canonical_pass(row.required("pass"), row.where());
    c.op = row.text("op");
    HeadColumns heads;
    try {
      read_shape(c, row, family, heads);
    } catch (const common::SpecError& e) {
      set_.skipped.push_back(row.where() + ": " + e.what());
      return;
    } catch (const ColumnConflict& e) {
      set_.skipped.push_back(row.where() + ": " + e.what());
      return;
    }
    finish(c, row, heads, family_inferred);
    set_.cases.push_back(std::move(c));
  }

 private:
  void warn(std::set<std::string>& warned, const std::string& key, std::string message) {
    if (warned.insert(key).second) set_.warnings.push_back(std::move(message));
  }

  // The device, the kernel and the schedule it maps to (auto for a kernel attnsim does not know).
  void read_kernel(MeasuredCase& c, const Row& row) {
    c.hw = row.required("hw", "a hardware profile id or alias (`attnsim hw list` lists them)");
    c.kernel = row.required("kernel");
    c.schedule = schedule_for(c.kernel);
    c.kernel_choice = sim::KernelChoice::parse(c.schedule);
    if (c.schedule == "auto") {
      warn(unknown_kernels_, kernel_key(c.kernel),
           fmt::format("{}: unknown kernel '{}' predicted with --kernel auto, not fitted (so are "
                       "its later rows in this file; summary: repriced_rows)",
                       row.where(), c.kernel));
    }
  }

  // A row without a variant on a kernel of one family is that family's with its defaults
  // (variant_of): said once per kernel and file, and such rows are compared but never fitted
  // (FLA's GLA or DeltaNet rows would otherwise fit fla_chunk as simple_gla), except flashmla's,
  // whose absorbed MLA is all FlashMLA runs. So is a row of another kernel with absorbed MLA's
  // shape (absorbed_mla_shape). True when the row's family is so inferred.
  bool infer_family(const MeasuredCase& c, const Row& row, const RowFamily& family) {
    const bool mla_shape = c.schedule != "flashmla" && absorbed_mla_shape(row);
    const bool inferred = row.text("variant").empty() &&
                          (mla_shape || (!family.variant.empty() && c.schedule != "flashmla"));
    if (inferred) {
      warn(inferred_families_, kernel_key(c.kernel),
           fmt::format("{}: no variant: kernel '{}' priced as {} with its defaults, not fitted; "
                       "give the variant column for another (so are its later rows in this file)",
                       row.where(), c.kernel,
                       mla_shape ? "'mla' absorbed (heads_kv 1, head_dim 576: DeepSeek's shape)"
                                 : family.described));
    }
    return inferred;
  }

  void read_caller(MeasuredCase& c, const Row& row) {
    c.caller = caller_of(row, c.schedule);
    if (row.text("caller").empty() && c.caller != hw::Caller::direct) {
      warn(inferred_callers_, kernel_key(c.kernel),
           fmt::format("{}: no caller: kernel '{}' priced as called through {}, the way its "
                       "kernels are reached (give the caller column, e.g. direct, for another; so "
                       "are its later rows in this file)",
                       row.where(), c.kernel, hw::to_string(c.caller)));
    }
  }

  // The workload, variant, head columns, spec and op: common::SpecError or ColumnConflict when
  // the model cannot build the row (it is skipped).
  void read_shape(MeasuredCase& c, const Row& row, const RowFamily& family, HeadColumns& heads) {
    c.workload = workload_of(row, c.pass);
    if (forward_is_decode(c.schedule, c.workload)) c.workload.phase = models::Phase::decode;
    const auto [variant, given] = variant_of(row, family);
    heads = HeadColumns::of(row);
    c.spec = spec_of(variant, given, heads, registry_);
    if (!c.op.empty()) {
      check_op(c, row.where());  // implied ops are the variant's by construction
      return;
    }
    // A branch kernel's own op, those of it the row's passes and variant have (a dense variant on
    // that kernel: the whole variant); said once per kernel, op and file.
    c.op = ops_the_variant_has(c, implied_op(c.kernel));
    if (!c.op.empty()) {
      warn(implied_ops_, kernel_key(c.kernel) + "/" + c.op,
           fmt::format("{}: no op: kernel '{}' timed as its op {} alone (give the op column for "
                       "another; so are its later such rows in this file)",
                       row.where(), c.kernel, c.op));
    }
  }

  // The row's columns as the report shows them, its time, its key, and what it fits.
  void finish(MeasuredCase& c, const Row& row, const HeadColumns& heads, bool family_inferred) {
    c.row_heads = heads.heads_q;
    c.row_head_dim = heads.head_dim;
    c.row_window = heads.window;
    c.row_v_head_dim = heads.v_head_dim;
    c.measured_s = measured_seconds(row, c);
    c.source = row.text("source");
    c.row_key = measurement_key(c);
    c.weight = c.source.find("pixel-est") != std::string::npos ? 0.5 : 1.0;
    // Rows of a kernel attnsim has no schedule for are compared but never fitted: `auto` prices
    // them with the device's default schedule, whose calibration they must not move (a
    // hand-written Ascend kernel would refit the `ascend` entry that torch_npu's rows use).
    // The rows of NSA's compressed branch followed by its block scores and top-k fit the score
    // kernel's own entry, not the compressed kernels' (fit_entry_for).
    c.fit_eligible = c.schedule != "auto" && !family_inferred && !priced_as_a_neighbour(c.kernel);
    if (c.workload.phase == models::Phase::fwd) c.fit_entry = std::string(fit_entry_for(c.kernel));
  }

  const models::Registry& registry_;
  MeasurementSet& set_;
  std::set<std::string> unknown_kernels_;    // warned about once per file
  std::set<std::string> inferred_families_;  // likewise
  std::set<std::string> inferred_callers_;   // likewise
  std::set<std::string> implied_ops_;        // likewise
};

}  // namespace

std::string measured_time_range() {
  return fmt::format(
      "from {:g} ns (no kernel launch is shorter) to {:g} s (one hour: longer is a unit slip or a "
      "typo)",
      kMinMeasuredSeconds * 1e9, kMaxMeasuredSeconds);
}

void read_measurements(const std::filesystem::path& path, const models::Registry& registry,
                       UnknownColumns unknown, MeasurementSet& set) {
  const std::string file = path.string();
  std::istringstream in(measurements_text(path));
  int number = 0;
  const CsvHeader header = header_of(in, file, number);
  if (!header.unknown.empty()) {
    const std::string message =
        unknown_columns_message(header, fmt::format("{}:{}", file, number), unknown);
    if (unknown == UnknownColumns::refuse) throw std::invalid_argument(message);
    set.warnings.push_back(message);
  }
  CaseReader reader(registry, set);
  int rows = 0;
  for (std::string line; std::getline(in, line);) {
    ++number;
    if (blank_line(line)) continue;
    const std::string where = fmt::format("{}:{}", file, number);
    std::vector<std::string> cells = split_csv_line(line, where);
    // A row of empty cells (",,,," as spreadsheets write an empty row) is a blank line too.
    if (std::all_of(cells.begin(), cells.end(), [](const std::string& c) { return c.empty(); }))
      continue;
    ++rows;
    if (cells.size() != header.width) {
      throw std::invalid_argument(fmt::format("{}: {} cells, the header has {} columns", where,
                                              cells.size(), header.width));
    }
    reader.read(Row(header.columns, std::move(cells), where), file, number);
  }
  if (rows == 0) {
    throw std::invalid_argument(file + ": no measurement rows, only a header");
  }
}

MeasurementSet read_measurements(const std::filesystem::path& path,
                                 const models::Registry& registry, UnknownColumns unknown) {
  MeasurementSet set;
  read_measurements(path, registry, unknown, set);
  return set;
}

}  // namespace validate
