#include "validate/measurements.hpp"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "common/numbers.hpp"
#include "common/text.hpp"
#include "validate/flop_convention.hpp"
#include "validate/measured_columns.hpp"
#include "validate/measured_csv.hpp"
#include "validate/measured_names.hpp"
#include "validate/measured_ops.hpp"

namespace validate {

namespace {

class Row {
 public:
  Row(const std::map<std::string, std::size_t>& columns, std::vector<std::string> cells,
      std::string where)
      : columns_(columns), cells_(std::move(cells)), where_(std::move(where)) {}

  std::string text(const std::string& column) const {
    auto it = columns_.find(column);
    return it == columns_.end() || it->second >= cells_.size() ? "" : cells_[it->second];
  }
  // The cell of a column every row must fill; `allowed` says what it may hold, for the message.
  std::string required(const std::string& column, std::string_view allowed = "") const {
    std::string v = text(column);
    if (v.empty())
      throw std::invalid_argument(
          fmt::format("{}: empty '{}'{}", where_, column,
                      allowed.empty() ? "" : "; allowed: " + std::string(allowed)));
    return v;
  }
  double number(const std::string& column) const {
    try {
      return common::parse_decimal_number(required(column));
    } catch (const common::NumberTextError& e) {
      throw std::invalid_argument(fmt::format("{}: column '{}': {}", where_, column, e.what()));
    }
  }
  std::int64_t integer(const std::string& column, std::int64_t min, std::int64_t max) const {
    try {
      return common::parse_decimal_integer(required(column), min, max);
    } catch (const common::NumberTextError& e) {
      throw std::invalid_argument(fmt::format("{}: column '{}': {}", where_, column, e.what()));
    }
  }
  const std::string& where() const { return where_; }

 private:
  const std::map<std::string, std::size_t>& columns_;
  std::vector<std::string> cells_;
  std::string where_;
};

// DeepSeek's absorbed MLA shape: one K head 576 wide (512 latent + 64 rope) whose first 512
// columns are the values (v_head_dim 512, or not given). No dense model has it, so a row of any
// MLA decode kernel (FlashInfer's MLA, a Triton MLA decode) with it and no variant is absorbed MLA.
bool absorbed_mla_shape(const Row& row) {
  const std::string dv = row.text("v_head_dim");
  return row.text("variant").empty() && row.text("heads_kv") == "1" &&
         row.text("head_dim") == "576" && (dv.empty() || dv == "512");
}

// `variant` is "name" or "name:key=value:key=value"; without it a row is dense softmax attention
// (gqa, or swa when it has a window), or the family its kernel prices (family_of) with its
// defaults, or absorbed MLA for any kernel's row of absorbed MLA's shape.
std::pair<std::string, models::ParamValues> variant_of(const Row& row, const RowFamily& family) {
  // The family first: a `window` column is then its window (NSA's sliding branch), or contradicts
  // a family without one (the row is skipped).
  std::string variant = absorbed_mla_shape(row)       ? "mla"
                        : !family.variant.empty()     ? std::string(family.variant)
                        : !row.text("window").empty() ? "swa"
                                                      : "gqa";
  models::ParamValues given;
  const std::string text = row.text("variant");
  if (text.empty()) {
    if (variant == "mla") given.emplace_back("mode", 1);  // absorbed
    return {variant, given};
  }
  std::size_t start = text.find(':');
  variant = text.substr(0, start);
  while (start != std::string::npos) {
    const std::size_t end = text.find(':', start + 1);
    const std::string kv = text.substr(start + 1, end - start - 1);
    const std::size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      throw std::invalid_argument(
          fmt::format("{}: variant parameter '{}' is not key=value", row.where(), kv));
    }
    try {
      given.emplace_back(kv.substr(0, eq), common::parse_decimal_number(kv.substr(eq + 1)));
    } catch (const common::NumberTextError& e) {
      throw std::invalid_argument(
          fmt::format("{}: variant parameter '{}': {}", row.where(), kv, e.what()));
    }
    start = end;
  }
  return {variant, given};
}

// The row's head columns, read once: whole numbers >= 1 (0: an optional column not given); the
// variant checks its own upper bounds (a row beyond them is skipped).
struct HeadColumns {
  std::int64_t heads_q = 0, heads_kv = 0, head_dim = 0, v_head_dim = 0, window = 0;

  static HeadColumns of(const Row& row) {
    constexpr std::int64_t kNoMax = std::numeric_limits<std::int64_t>::max();
    HeadColumns h;
    h.heads_q = row.integer("heads_q", 1, kNoMax);
    h.heads_kv = row.integer("heads_kv", 1, kNoMax);
    h.head_dim = row.integer("head_dim", 1, kNoMax);
    if (!row.text("v_head_dim").empty()) h.v_head_dim = row.integer("v_head_dim", 1, kNoMax);
    if (!row.text("window").empty()) h.window = row.integer("window", 1, kNoMax);
    return h;
  }
  GenericColumns generic() const {
    GenericColumns columns;
    columns.heads_q = static_cast<double>(heads_q);
    columns.heads_kv = static_cast<double>(heads_kv);
    columns.head_dim = static_cast<double>(head_dim);
    if (v_head_dim > 0) columns.v_head_dim = static_cast<double>(v_head_dim);
    if (window > 0) columns.window = static_cast<double>(window);
    return columns;
  }
};

// The row's spec: its variant (variant_of), with the head columns mapped onto the variant's own
// parameters. Throws SpecError (the model cannot build it) or ColumnConflict (a column
// contradicts the variant); both skip the row.
models::AttentionSpec spec_of(const std::string& name, const models::ParamValues& given,
                              const HeadColumns& heads, const models::Registry& registry) {
  const models::Variant& variant = registry.find(name);
  return variant.make_spec(map_columns(variant, heads.generic(), given), {});
}

using Columns = std::map<std::string, std::size_t>;

// The row's optional `caller` column, or without one the schedule's own way in (default_caller).
hw::Caller caller_of(const Row& row, std::string_view schedule) {
  const std::string name = row.text("caller");
  if (name.empty()) return default_caller(schedule);
  if (auto caller = hw::parse_caller(canonical_caller(name))) return *caller;
  throw std::invalid_argument(fmt::format("{}: column 'caller': unknown caller '{}'; allowed: {}",
                                          row.where(), name, hw::known_callers()));
}

// A dense row's time from its TFLOP/s by the FlashAttention papers' FLOP convention
// (validate/flop_convention.hpp), once the row's variant is known: dense attention without a
// window.
double seconds_from_tflops(const Row& row, const MeasuredCase& c) {
  const std::string variant(c.spec.variant->name());
  if (variant != "gqa" && variant != "mha" && variant != "mqa") {
    throw std::invalid_argument(fmt::format(
        "{}: a time from 'tflops' alone is derived for dense attention rows (gqa, mha, mqa) only, "
        "by FlashAttention's FLOP convention; give time_ms or time_us for this '{}' row",
        row.where(), variant));
  }
  DenseRowShape shape;
  shape.batch = static_cast<double>(c.workload.batch);
  shape.heads = static_cast<double>(c.row_heads);
  shape.q_len = static_cast<double>(c.workload.q_len);
  shape.kv_len = static_cast<double>(c.workload.kv_len);
  shape.head_dim = static_cast<double>(c.row_head_dim);
  shape.v_head_dim = c.row_v_head_dim == 0 ? shape.head_dim : static_cast<double>(c.row_v_head_dim);
  shape.causal = c.workload.causal;
  shape.phase = c.workload.phase;
  std::string why;
  const std::optional<double> flops = flash_convention_flops(shape, why);
  if (!flops) {
    throw std::invalid_argument(
        fmt::format("{}: no time from 'tflops': {}; give time_ms or time_us", row.where(), why));
  }
  const double tflops = row.number("tflops");
  if (!(tflops > 0)) {
    throw std::invalid_argument(fmt::format(
        "{}: tflops must be positive; allowed: a finite decimal number > 0", row.where()));
  }
  const double seconds = *flops / (tflops * 1e12);
  if (!plausible_measured_time(seconds)) {
    throw std::invalid_argument(
        fmt::format("{}: column 'tflops': '{}' gives a time of {:.3g} s; allowed: a TFLOP/s "
                    "giving a time {}",
                    row.where(), row.text("tflops"), seconds, measured_time_range()));
  }
  return seconds;
}

// The measured time in seconds: exactly one of time_ms and time_us, from 1 ns to one hour
// (plausible_measured_time), or where neither is given, derived from tflops.
double measured_seconds(const Row& row, const MeasuredCase& c) {
  const bool ms = !row.text("time_ms").empty();
  const bool us = !row.text("time_us").empty();
  if (!ms && !us) {
    if (!row.text("tflops").empty()) return seconds_from_tflops(row, c);
    throw std::invalid_argument(row.where() + ": no time; give time_ms, time_us or tflops");
  }
  if (ms && us) {
    throw std::invalid_argument(
        fmt::format("{}: both time_ms and time_us are given; give one", row.where()));
  }
  const char* column = ms ? "time_ms" : "time_us";
  const double seconds = ms ? row.number(column) * 1e-3 : row.number(column) * 1e-6;
  if (!plausible_measured_time(seconds)) {
    const bool short_time = !(seconds > kMaxMeasuredSeconds);
    throw std::invalid_argument(fmt::format(
        "{}: column '{}': '{}' is {}; allowed: {} from {} to {} (1 ns to one hour)", row.where(),
        column, row.text(column),
        short_time ? "below 1 ns, shorter than any kernel launch"
                   : "above one hour, longer than any single kernel launch (a unit slip or a typo)",
        column, ms ? "1e-6" : "0.001", kMaxMeasuredSeconds * (ms ? 1e3 : 1e6)));
  }
  return seconds;
}

// The workload columns: a cell that is not a value aborts the run naming the row; a workload the
// model does not build (causal with seq_kv < seq_q) throws common::SpecError, in the columns'
// words, and the row is skipped.
models::Workload workload_of(const Row& row, const std::string& pass) {
  models::Workload w;
  try {
    w.phase = phase_of_pass(pass);
    w.dtype = models::parse_dtype(canonical_dtype(row.required("dtype")));
    w.kv_dtype = w.dtype;
    w.batch = row.integer("batch", 1, models::kMaxBatch);
    w.q_len = row.integer("seq_q", 1, models::kMaxTokens);
    w.kv_len = row.integer("seq_kv", 1, models::kMaxTokens);
    const int causal = causal_value(row.required("causal"));
    if (causal < 0) {
      throw std::invalid_argument(fmt::format(
          "{}: column 'causal': '{}' is not a flag; allowed: 0, 1, true, false, yes, no, causal, "
          "non-causal",
          row.where(), row.text("causal")));
    }
    w.causal = causal != 0;
  } catch (const common::SpecError& e) {
    throw std::invalid_argument(row.where() + ": " + e.what());
  }
  if (w.causal && w.kv_len < w.q_len) {
    throw common::SpecError(fmt::format(
        "causal attention needs seq_kv >= seq_q (got seq_q {} and seq_kv {}); give causal 0 for "
        "cross-attention",
        w.q_len, w.kv_len));
  }
  models::validate(w);  // the columns' ranges are checked above: what is left is the model's
  return w;
}

// The measurement a row gives, in parsed and canonical values: every column but hw (the caller
// adds the device as resolved), source and notes. Two rows that spell one measurement apart (FA2
// and fa2, forward and fwd, float16 and fp16, false and 0, 0.2437 and 0.24370) have one key.
std::string measurement_key(const std::string& variant, models::ParamValues params,
                            const HeadColumns& heads, const MeasuredCase& c) {
  std::sort(params.begin(), params.end());
  std::string key = fmt::format(
      "kernel={};pass={};dtype={};batch={};heads_q={};heads_kv={};head_dim={};v_head_dim={};"
      "window={};seq_q={};seq_kv={};causal={};variant={}",
      kernel_key(c.kernel), c.pass, models::to_string(c.workload.dtype), c.workload.batch,
      heads.heads_q, heads.heads_kv, heads.head_dim, heads.v_head_dim, heads.window,
      c.workload.q_len, c.workload.kv_len, c.workload.causal, common::ascii_lower(variant));
  for (const auto& [name, value] : params) key += fmt::format(":{}={}", name, value);
  // The time as parsed, at its shortest round trip: the same value however it was written.
  return key +
         fmt::format(";op={};caller={};time_s={}", c.op, hw::to_string(c.caller), c.measured_s);
}

}  // namespace

std::string measured_time_range() {
  return fmt::format(
      "from {:g} ns (no kernel launch is shorter) to {:g} s (one hour: longer is a unit slip or a "
      "typo)",
      kMinMeasuredSeconds * 1e9, kMaxMeasuredSeconds);
}

MeasurementSet read_measurements(const std::filesystem::path& path,
                                 const models::Registry& registry, UnknownColumns unknown) {
  const std::string file = path.string();
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw std::invalid_argument(file + ": is a directory, not a measurements CSV file");
  }
  std::ifstream stream(path, std::ios::binary);
  if (!stream) throw std::invalid_argument(file + ": cannot open measurements file");
  std::istringstream in(with_line_feeds(std::string(std::istreambuf_iterator<char>(stream), {})));
  std::string line;
  int number = 0;
  // The header is the first line that is not blank (after a byte order mark: spreadsheet programs
  // start UTF-8 CSV files with one; it is not part of 'hw').
  constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
  bool has_header = false;
  while (!has_header && std::getline(in, line)) {
    if (++number == 1 && line.rfind(kUtf8Bom, 0) == 0) line.erase(0, kUtf8Bom.size());
    has_header = !blank_line(line);
  }
  if (!has_header) {
    throw std::invalid_argument(
        file + ": empty file: no header line (columns: validate/data/measured/README.md)");
  }
  const CsvHeader header = read_header(line, fmt::format("{}:{}", file, number));
  const Columns& columns = header.columns;
  MeasurementSet set;
  if (!header.unknown.empty()) {
    const std::string message =
        unknown_columns_message(header, fmt::format("{}:{}", file, number), unknown);
    if (unknown == UnknownColumns::refuse) throw std::invalid_argument(message);
    set.warnings.push_back(message);
  }
  std::set<std::string> unknown_kernels;    // warned about once per file
  std::set<std::string> inferred_families;  // likewise
  std::set<std::string> inferred_callers;   // likewise
  std::set<std::string> implied_ops;        // likewise
  int rows = 0;
  while (std::getline(in, line)) {
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
    const Row row(columns, std::move(cells), where);
    MeasuredCase c;
    c.file = file;
    c.line = number;
    c.hw = row.required("hw", "a hardware profile id or alias (`attnsim hw list` lists them)");
    c.kernel = row.required("kernel");
    c.schedule = schedule_for(c.kernel);
    c.kernel_choice = sim::KernelChoice::parse(c.schedule);
    if (c.schedule == "auto" && unknown_kernels.insert(kernel_key(c.kernel)).second) {
      set.warnings.push_back(
          fmt::format("{}: unknown kernel '{}' predicted with --kernel auto, not fitted (so are "
                      "its later rows in this file; summary: repriced_rows)",
                      row.where(), c.kernel));
    }
    // A row without a variant on a kernel of one family is that family's with its defaults
    // (variant_of): said once per kernel and file, and such rows are compared but never fitted
    // (FLA's GLA or DeltaNet rows would otherwise fit fla_chunk as simple_gla), except flashmla's,
    // whose absorbed MLA is all FlashMLA runs. So is a row of another kernel with absorbed MLA's
    // shape (absorbed_mla_shape).
    const RowFamily family = family_of(c.schedule, c.kernel);
    const bool mla_shape = c.schedule != "flashmla" && absorbed_mla_shape(row);
    const bool family_inferred =
        row.text("variant").empty() &&
        (mla_shape || (!family.variant.empty() && c.schedule != "flashmla"));
    if (family_inferred && inferred_families.insert(kernel_key(c.kernel)).second) {
      set.warnings.push_back(fmt::format(
          "{}: no variant: kernel '{}' priced as {} with its defaults, not fitted; give the "
          "variant column for another (so are its later rows in this file)",
          row.where(), c.kernel,
          mla_shape ? "'mla' absorbed (heads_kv 1, head_dim 576: DeepSeek's shape)"
                    : family.described));
    }
    c.caller = caller_of(row, c.schedule);
    if (row.text("caller").empty() && c.caller != hw::Caller::direct &&
        inferred_callers.insert(kernel_key(c.kernel)).second) {
      set.warnings.push_back(
          fmt::format("{}: no caller: kernel '{}' priced as called through {}, the way its kernels "
                      "are reached (give the caller column, e.g. direct, for another; so are its "
                      "later rows in this file)",
                      row.where(), c.kernel, hw::to_string(c.caller)));
    }
    c.pass = canonical_pass(row.required("pass"), row.where());
    c.op = row.text("op");
    std::pair<std::string, models::ParamValues> variant;
    HeadColumns heads;
    try {
      c.workload = workload_of(row, c.pass);
      if (forward_is_decode(c.schedule, c.workload)) c.workload.phase = models::Phase::decode;
      variant = variant_of(row, family);
      heads = HeadColumns::of(row);
      c.spec = spec_of(variant.first, variant.second, heads, registry);
      if (c.op.empty()) {
        // A branch kernel's own op, those of it the row's passes and variant have (a dense
        // variant on that kernel: the whole variant); said once per kernel, op and file.
        c.op = ops_the_variant_has(c, implied_op(c.kernel));
        if (!c.op.empty() && implied_ops.insert(kernel_key(c.kernel) + "/" + c.op).second) {
          set.warnings.push_back(
              fmt::format("{}: no op: kernel '{}' timed as its op {} alone (give the op column "
                          "for another; so are its later such rows in this file)",
                          row.where(), c.kernel, c.op));
        }
      } else {
        check_op(c, row.where());  // implied ops are the variant's by construction
      }
    } catch (const common::SpecError& e) {
      set.skipped.push_back(row.where() + ": " + e.what());
      continue;
    } catch (const ColumnConflict& e) {
      set.skipped.push_back(row.where() + ": " + e.what());
      continue;
    }
    c.row_heads = heads.heads_q;
    c.row_head_dim = heads.head_dim;
    c.row_window = heads.window;
    c.row_v_head_dim = heads.v_head_dim;
    c.measured_s = measured_seconds(row, c);
    c.source = row.text("source");
    c.row_key = measurement_key(variant.first, variant.second, heads, c);
    c.weight = c.source.find("pixel-est") != std::string::npos ? 0.5 : 1.0;
    // Rows of a kernel attnsim has no schedule for are compared but never fitted: `auto` prices
    // them with the device's default schedule, whose calibration they must not move (a
    // hand-written Ascend kernel would refit the `ascend` entry that torch_npu's rows use).
    // The rows of NSA's compressed branch followed by its block scores and top-k fit the score
    // kernel's own entry, not the compressed kernels' (fit_entry_for).
    c.fit_eligible = c.schedule != "auto" && !family_inferred && !priced_as_a_neighbour(c.kernel);
    if (c.workload.phase == models::Phase::fwd) c.fit_entry = std::string(fit_entry_for(c.kernel));
    set.cases.push_back(std::move(c));
  }
  if (rows == 0) {
    throw std::invalid_argument(file + ": no measurement rows, only a header");
  }
  return set;
}

}  // namespace validate
