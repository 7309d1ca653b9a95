#include "validate/measured_row.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "common/numbers.hpp"
#include "common/text.hpp"
#include "validate/flop_convention.hpp"
#include "validate/measured_names.hpp"

namespace validate {

namespace {

bool dense_variant(const MeasuredCase& c) {
  const std::string_view variant = c.spec.variant->name();
  return variant == "gqa" || variant == "mha" || variant == "mqa";
}

// The FLOPs the FlashAttention papers' convention counts for a dense row
// (validate/flop_convention.hpp), or nullopt with `why` set.
std::optional<double> convention_flops(const MeasuredCase& c, std::string& why) {
  DenseRowShape shape;
  shape.batch = static_cast<double>(c.workload.batch);
  shape.heads = static_cast<double>(c.row_heads);
  shape.q_len = static_cast<double>(c.workload.q_len);
  shape.kv_len = static_cast<double>(c.workload.kv_len);
  shape.head_dim = static_cast<double>(c.row_head_dim);
  shape.v_head_dim = c.row_v_head_dim == 0 ? shape.head_dim : static_cast<double>(c.row_v_head_dim);
  shape.causal = c.workload.causal;
  shape.phase = c.workload.phase;
  return flash_convention_flops(shape, why);
}

// The row's TFLOP/s cell: a positive finite decimal, or bad input.
double row_tflops(const Row& row) {
  const double tflops = row.number("tflops");
  if (!(tflops > 0)) {
    throw std::invalid_argument(fmt::format(
        "{}: column 'tflops': '{}' is not positive; allowed: a finite decimal number > 0",
        row.where(), row.text("tflops")));
  }
  return tflops;
}

// A dense row's time from its TFLOP/s by the FlashAttention papers' FLOP convention, once the
// row's variant is known: dense attention without a window.
double seconds_from_tflops(const Row& row, const MeasuredCase& c) {
  if (!dense_variant(c)) {
    throw std::invalid_argument(fmt::format(
        "{}: a time from 'tflops' alone is derived for dense attention rows (gqa, mha, mqa) only, "
        "by FlashAttention's FLOP convention; give time_ms or time_us for this '{}' row",
        row.where(), c.spec.variant->name()));
  }
  std::string why;
  const std::optional<double> flops = convention_flops(c, why);
  if (!flops) {
    throw std::invalid_argument(
        fmt::format("{}: no time from 'tflops': {}; give time_ms or time_us", row.where(), why));
  }
  const double seconds = *flops / (row_tflops(row) * 1e12);
  if (!plausible_measured_time(seconds)) {
    throw std::invalid_argument(
        fmt::format("{}: column 'tflops': '{}' gives a time of {:.3g} s; allowed: a TFLOP/s "
                    "giving a time {}",
                    row.where(), row.text("tflops"), seconds, measured_time_range()));
  }
  return seconds;
}

// A TFLOP/s cell beside the time (which is the one used) must be a number, and on a dense row
// the convention counts must say the same as the time within the rounding of both cells (half a
// unit in the last digit each writes): more is a typo in one of them, or a TFLOP/s counted
// another way, and either would leave the row saying two things. Rows the convention does not
// count (other variants, causal rows with seq_q != seq_kv) are not compared.
void check_tflops_beside(const Row& row, const MeasuredCase& c, const char* column,
                         int power_of_ten, double seconds) {
  const double tflops = row_tflops(row);
  std::string why;
  const std::optional<double> flops = dense_variant(c) ? convention_flops(c, why) : std::nullopt;
  if (!flops) return;
  constexpr double kFloatSlack = 1e-9;  // relative: the doubles, not the decimals
  const double time_step =
      common::last_digit_half_step(row.text(column)) * std::pow(10.0, power_of_ten);
  const double tflops_step = common::last_digit_half_step(row.text("tflops"));
  const double lowest = *flops / ((seconds + time_step) * 1e12) * (1 - kFloatSlack) - tflops_step;
  const double highest =
      seconds > time_step
          ? *flops / ((seconds - time_step) * 1e12) * (1 + kFloatSlack) + tflops_step
          : std::numeric_limits<double>::infinity();
  if (tflops >= lowest && tflops <= highest) return;
  throw std::invalid_argument(fmt::format(
      "{}: column 'tflops': '{}' contradicts {} '{}', which is {:.4g} TFLOP/s by the "
      "FlashAttention papers' FLOP convention ({:.4g} FLOPs), beyond the rounding of either "
      "cell; allowed: a TFLOP/s from {:.6g} to {:.6g}, or an empty tflops cell (the time is "
      "used)",
      row.where(), row.text("tflops"), column, row.text(column), *flops / seconds / 1e12, *flops,
      lowest, highest));
}

}  // namespace

bool absorbed_mla_shape(const Row& row) {
  // The cells' values, not their text: `01` is one head. A cell that is not a whole number is
  // no shape at all here; HeadColumns::of refuses it naming the cell.
  const auto holds = [&row](const char* column, std::int64_t value) {
    try {
      return common::parse_decimal_integer(row.text(column)) == value;
    } catch (const common::NumberTextError&) {
      return false;
    }
  };
  return row.text("variant").empty() && holds("heads_kv", 1) && holds("head_dim", 576) &&
         (row.text("v_head_dim").empty() || holds("v_head_dim", 512));
}

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

HeadColumns HeadColumns::of(const Row& row) {
  constexpr std::int64_t kNoMax = std::numeric_limits<std::int64_t>::max();
  HeadColumns h;
  h.heads_q = row.integer("heads_q", 1, kNoMax);
  h.heads_kv = row.integer("heads_kv", 1, kNoMax);
  h.head_dim = row.integer("head_dim", 1, kNoMax);
  if (!row.text("v_head_dim").empty()) h.v_head_dim = row.integer("v_head_dim", 1, kNoMax);
  if (!row.text("window").empty()) h.window = row.integer("window", 1, kNoMax);
  return h;
}

GenericColumns HeadColumns::generic() const {
  GenericColumns columns;
  columns.heads_q = static_cast<double>(heads_q);
  columns.heads_kv = static_cast<double>(heads_kv);
  columns.head_dim = static_cast<double>(head_dim);
  if (v_head_dim > 0) columns.v_head_dim = static_cast<double>(v_head_dim);
  if (window > 0) columns.window = static_cast<double>(window);
  return columns;
}

models::AttentionSpec spec_of(const std::string& name, const models::ParamValues& given,
                              const HeadColumns& heads, const models::Registry& registry) {
  const models::Variant& variant = registry.find(name);
  return variant.make_spec(map_columns(variant, heads.generic(), given), {});
}

hw::Caller caller_of(const Row& row, std::string_view schedule) {
  const std::string name = row.text("caller");
  if (name.empty()) return default_caller(schedule);
  if (auto caller = hw::parse_caller(canonical_caller(name))) return *caller;
  throw std::invalid_argument(fmt::format("{}: column 'caller': unknown caller '{}'; allowed: {}",
                                          row.where(), name, hw::known_callers()));
}

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
  // Scaled in decimal, so that one time reads as one double in either unit (0.1 ms and 100 us
  // are 1e-4 s, where 100 * 1e-6 is 9.999999999999999e-05).
  const int power_of_ten = ms ? -3 : -6;
  const double seconds = row.seconds(column, power_of_ten);
  if (!plausible_measured_time(seconds)) {
    const bool short_time = !(seconds > kMaxMeasuredSeconds);
    throw std::invalid_argument(fmt::format(
        "{}: column '{}': '{}' is {}; allowed: {} from {} to {} (1 ns to one hour)", row.where(),
        column, row.text(column),
        short_time ? "below 1 ns, shorter than any kernel launch"
                   : "above one hour, longer than any single kernel launch (a unit slip or a typo)",
        column, ms ? "1e-6" : "0.001", kMaxMeasuredSeconds * (ms ? 1e3 : 1e6)));
  }
  if (!row.text("tflops").empty()) check_tflops_beside(row, c, column, power_of_ten, seconds);
  return seconds;
}

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

std::string measurement_key(const MeasuredCase& c) {
  std::string key = fmt::format(
      "kernel={};pass={};dtype={};batch={};seq_q={};seq_kv={};causal={};"
      "variant={}",
      kernel_key(c.kernel), c.pass, models::to_string(c.workload.dtype), c.workload.batch,
      c.workload.q_len, c.workload.kv_len, c.workload.causal, c.spec.variant->name());
  for (const auto& [name, value] : models::resolved_params(c.spec))
    key += fmt::format(":{}={}", name, value);
  // The time as parsed, at its shortest round trip: the same value however it was written.
  return key +
         fmt::format(";op={};caller={};time_s={}", c.op, hw::to_string(c.caller), c.measured_s);
}

}  // namespace validate
