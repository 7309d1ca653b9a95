// One row of a measurements CSV read column by column (validate/measurements.cpp puts the columns
// together into a MeasuredCase): the cells by column name, and the parsers of the columns that
// need more than a cell (the variant, the head shape, the time, the workload).
#pragma once

#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <fmt/format.h>

#include "common/numbers.hpp"
#include "models/registry.hpp"
#include "validate/measured_columns.hpp"
#include "validate/measured_names.hpp"
#include "validate/measurements.hpp"

namespace validate {

// The cells of one row by column name; each error names the row (`where`: "file:line").
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
    return parsed(column, [](const std::string& t) { return common::parse_decimal_number(t); });
  }
  // A time cell in seconds: its number times 10^power_of_ten (-3 for ms), rounded once.
  double seconds(const std::string& column, int power_of_ten) const {
    return parsed(column, [power_of_ten](const std::string& t) {
      return common::parse_decimal_number_scaled(t, power_of_ten);
    });
  }
  std::int64_t integer(const std::string& column, std::int64_t min, std::int64_t max) const {
    return parsed(column, [min, max](const std::string& t) {
      return common::parse_decimal_integer(t, min, max);
    });
  }
  const std::string& where() const { return where_; }

 private:
  // The required cell parsed, its error naming the row and column.
  template <typename Parse>
  auto parsed(const std::string& column, Parse parse) const -> decltype(parse(std::string())) {
    try {
      return parse(required(column));
    } catch (const common::NumberTextError& e) {
      throw std::invalid_argument(fmt::format("{}: column '{}': {}", where_, column, e.what()));
    }
  }

  const std::map<std::string, std::size_t>& columns_;
  std::vector<std::string> cells_;
  std::string where_;
};

// DeepSeek's absorbed MLA shape: one K head 576 wide (512 latent + 64 rope) whose first 512
// columns are the values (v_head_dim 512, or not given). No dense model has it, so a row of any
// MLA decode kernel (FlashInfer's MLA, a Triton MLA decode) with it and no variant is absorbed MLA.
bool absorbed_mla_shape(const Row& row);

// `variant` is "name" or "name:key=value:key=value"; without it a row is dense softmax attention
// (gqa, or swa when it has a window), or the family its kernel prices (family_of) with its
// defaults, or absorbed MLA for any kernel's row of absorbed MLA's shape.
std::pair<std::string, models::ParamValues> variant_of(const Row& row, const RowFamily& family);

// The row's head columns, read once: whole numbers >= 1 (0: an optional column not given); the
// variant checks its own upper bounds (a row beyond them is skipped).
struct HeadColumns {
  std::int64_t heads_q = 0, heads_kv = 0, head_dim = 0, v_head_dim = 0, window = 0;

  static HeadColumns of(const Row& row);
  GenericColumns generic() const;
};

// The row's spec: its variant (variant_of), with the head columns mapped onto the variant's own
// parameters. Throws SpecError (the model cannot build it) or ColumnConflict (a column
// contradicts the variant); both skip the row.
models::AttentionSpec spec_of(const std::string& name, const models::ParamValues& given,
                              const HeadColumns& heads, const models::Registry& registry);

// The row's optional `caller` column, or without one the schedule's own way in (default_caller).
hw::Caller caller_of(const Row& row, std::string_view schedule);

// The measured time in seconds: exactly one of time_ms and time_us, from 1 ns to one hour
// (plausible_measured_time), or where neither is given, derived from tflops (dense rows only, by
// the FlashAttention papers' FLOP convention: validate/flop_convention.hpp). `c` has its variant,
// workload and head columns.
double measured_seconds(const Row& row, const MeasuredCase& c);

// The workload columns: a cell that is not a value aborts the run naming the row; a workload the
// model does not build (causal with seq_kv < seq_q) throws common::SpecError, in the columns'
// words, and the row is skipped.
models::Workload workload_of(const Row& row, const std::string& pass);

// The measurement a row gives, in parsed and canonical values: every column but hw (the caller
// adds the device as resolved), source and notes. Two rows that spell one measurement apart (FA2
// and fa2, forward and fwd, float16 and fp16, false and 0, 0.2437 and 0.24370, 0.1 ms and 100 us,
// a window in its column or in the variant's parameters, a parameter left at its default or
// given) have one key: the variant is keyed by its resolved parameters (`c.spec`).
std::string measurement_key(const MeasuredCase& c);

}  // namespace validate
