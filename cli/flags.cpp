#include "cli/flags.hpp"

#include <algorithm>
#include <cstdio>
#include <string>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include "common/errors.hpp"
#include "common/numbers.hpp"
#include "sim/schedule.hpp"
#include "sim/schedule_flashmla.hpp"
#include "validate/measurements.hpp"

namespace cli {

namespace {

// A validator that rewrites the flag's text to the plain digits `parse(text, min, max)` reads, or
// returns its error for CLI11 to report with the flag's name.
template <typename Parse>
CLI::Validator integer_rewriter(Parse parse, std::int64_t min, std::int64_t max,
                                std::string description) {
  return CLI::Validator(
      [parse, min, max](std::string& text) {
        try {
          text = std::to_string(parse(text, min, max));
          return std::string();
        } catch (const common::NumberTextError& e) {
          return std::string(e.what());
        }
      },
      std::move(description));
}

}  // namespace

CLI::Validator decimal_integer(std::int64_t min, std::int64_t max) {
  return integer_rewriter(common::parse_decimal_integer, min, max,
                          max == std::numeric_limits<std::int64_t>::max()
                              ? ">= " + std::to_string(min)
                              : "[" + std::to_string(min) + ", " + std::to_string(max) + "]");
}

CLI::Validator size_integer(std::int64_t min, std::int64_t max) {
  return integer_rewriter(
      common::parse_size_integer, min, max,
      "[" + std::to_string(min) + ", " + std::to_string(max) + "], k/M/G = 2^10/2^20/2^30");
}

std::pair<std::string, double> parse_param_assignment(std::string_view flag, std::string_view text,
                                                      std::string_view variant) {
  const std::string hint = variant.empty() ? std::string("`attnsim variants show NAME`")
                                           : fmt::format("`attnsim variants show {}`", variant);
  const auto eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    throw common::SpecError(
        fmt::format("{} '{}': expected name=number, e.g. window=4096 (see {})", flag, text, hint));
  }
  try {
    const std::string_view value = text.substr(eq + 1);
    // A size with a k/M/G suffix (window=4k), as the size flags take it.
    if (!value.empty() && common::size_suffix_shift(value.back()) != 0) {
      return {std::string(text.substr(0, eq)),
              static_cast<double>(common::parse_size_integer(value, 0, std::int64_t{1} << 40))};
    }
    return {std::string(text.substr(0, eq)), common::parse_decimal_number(value)};
  } catch (const common::NumberTextError& e) {
    throw common::SpecError(fmt::format("{} '{}': {} (see {})", flag, text, e.what(), hint));
  }
}

CLI::Validator decimal_number(double min, double max) {
  return CLI::Validator(
      [min, max](const std::string& text) {
        try {
          common::parse_decimal_number(text, min, max);
          return std::string();
        } catch (const common::NumberTextError& e) {
          return std::string(e.what());
        }
      },
      fmt::format("[{}, {}]", min, max));
}

CLI::Validator non_empty(std::string error, std::string type) {
  return CLI::Validator(
      [error = std::move(error)](const std::string& value) {
        return value.empty() ? error : std::string();
      },
      std::move(type));
}

CLI::Validator non_empty_model() {
  return non_empty("an empty name; give a model preset (attnsim models list)", "NAME");
}

CLI::Validator non_empty_hf_config() {
  return non_empty("an empty path; give a Hugging Face config.json file", "FILE");
}

void strict_flag_values(CLI::App& app) {
  // What CLI11 hands the check: "true"/"false" for a bare flag or --no-X, otherwise the text after
  // '=' (for --no-X=V, V already inverted by CLI11).
  for (CLI::Option* opt : app.get_options()) {
    if (opt->get_expected_max() != 0 || opt == app.get_help_ptr() ||
        opt == app.get_help_all_ptr() || opt == app.get_version_ptr()) {
      continue;
    }
    // CLI11 inverts a value given to a negated name by prefixing '-': --no-causal=7 arrives as
    // "-7". The message then names the negated flag and gives the value as typed.
    std::string negated = opt->get_fnames().empty() ? "" : opt->get_fnames().front();
    negated.erase(0, negated.find_first_not_of('-'));
    const CLI::Validator on_off(
        [negated](const std::string& value) {
          if (value == "true" || value == "false") return std::string();
          const bool inverted = !negated.empty() && value.size() > 1 && value[0] == '-';
          return "flag value '" + (inverted ? value.substr(1) : value) + "'" +
                 (inverted ? " (given to --" + negated + ")" : "") +
                 " is not allowed; give the flag alone, or =true or =false";
        },
        "");
    opt->check(on_off);
    // Given twice (--causal --no-causal, or --strict --strict) is bad input, as an option given
    // twice is: CLI11 would keep the last and say nothing.
    opt->multi_option_policy(CLI::MultiOptionPolicy::Throw);
  }
  for (CLI::App* sub : app.get_subcommands({})) strict_flag_values(*sub);
}

void add_caller_option(CLI::App& app, std::string& caller) {
  app.add_option("--caller", caller,
                 fmt::format("{}: adds that caller's host floor (calibration.caller_floor_us; "
                             "triton's per kernel launch, and triton_jit more per Triton kernel)",
                             hw::known_callers()))
      ->capture_default_str();
}

void add_kernel_option(CLI::App& app, std::string& kernel) {
  std::string names = "auto";
  for (const sim::ScheduleInfo& s : sim::schedules()) names.append(", ").append(s.name);
  app.add_option(
         "--kernel", kernel,
         fmt::format("tile-engine schedule: {} (each where the profile calibrates it)", names))
      ->capture_default_str();
}

hw::Caller parse_caller_flag(const std::string& name) {
  if (auto caller = hw::parse_caller(name)) return *caller;
  throw common::SpecError(
      fmt::format("--caller: unknown caller '{}'; known: {}", name, hw::known_callers()));
}

double parse_measured_time(std::string_view flag, std::string_view text) {
  struct Unit {
    std::string_view suffix;
    int power_of_ten;
  };
  // Micro as u, the micro sign (U+00B5) or the Greek mu (U+03BC).
  constexpr Unit kUnits[] = {{"ns", -9},      {"us", -6}, {"\u00b5s", -6},
                             {"\u03bcs", -6}, {"ms", -3}, {"s", 0}};
  while (!text.empty() && (text.front() == ' ' || text.back() == ' ')) {
    text = text.front() == ' ' ? text.substr(1) : text.substr(0, text.size() - 1);
  }
  const std::string allowed = "a positive time with its unit: ns, us, ms or s (e.g. 812us, 1.2ms)";
  for (const Unit& u : kUnits) {
    if (text.size() <= u.suffix.size() || !text.ends_with(u.suffix)) continue;
    std::string_view number = text.substr(0, text.size() - u.suffix.size());
    while (!number.empty() && number.back() == ' ') number.remove_suffix(1);
    double seconds = 0;
    try {
      seconds = common::parse_decimal_number_scaled(number, u.power_of_ten);
    } catch (const common::NumberTextError&) {
      throw common::SpecError(fmt::format(
          "{}: '{}' is not a decimal number with a unit; allowed: {}", flag, text, allowed));
    }
    // Shortest and longest a launch's time can be, as a measurement row's
    // (validate/measurements.hpp).
    if (!validate::plausible_measured_time(seconds)) {
      throw common::SpecError(fmt::format("{}: '{}' is out of range; allowed: {} from 1 ns to 1 h",
                                          flag, text, allowed));
    }
    return seconds;
  }
  throw common::SpecError(fmt::format("{}: '{}' has no unit; allowed: {}", flag, text, allowed));
}

std::string kernel_not_run_warning(std::string_view kernel, sim::EngineKind engine,
                                   const models::Workload& w, const sim::Prediction& p,
                                   std::string_view label) {
  if (kernel == "auto" || engine != sim::EngineKind::tile) return "";
  std::vector<std::string> others;
  bool ran = false;
  for (const sim::LaunchPrediction& l : p.launches) {
    if (l.schedule == kernel) {
      ran = true;
    } else if (l.schedule != "roofline" &&  // a collective's transfer, not a kernel
               std::find(others.begin(), others.end(), l.schedule) == others.end()) {
      others.emplace_back(l.schedule);
    }
  }
  const bool no_backward =
      models::has_backward(w.phase) && sim::find_schedule(kernel).backward == nullptr;
  if (ran && !no_backward) return "";
  return fmt::format("--kernel {} on {}: {} (priced with {})", kernel, label,
                     !ran ? "no launch of this workload runs it"
                          : "it has no backward model; the backward pass is the device's default",
                     fmt::join(others, ", "));
}

std::string flashmla_dtype_warning(const models::CostModel& cost, const models::Workload& w,
                                   std::string_view schedule, const hw::Profile& profile,
                                   bool auto_kernel) {
  if (!auto_kernel || schedule != "split_kv" ||
      sim::find_calibration(profile, sim::find_schedule("flashmla")) == nullptr) {
    return "";
  }
  const bool fallback = std::any_of(cost.ops.begin(), cost.ops.end(), [&](const models::Op& op) {
    return sim::flashmla_shape_but_not_dtype(op, w);
  });
  if (!fallback) return "";
  return fmt::format(
      "--dtype {} --kv-dtype {} on {}: FlashMLA's dense decode takes 16-bit queries and cache "
      "only, "
      "so this absorbed MLA decode is priced with split_kv (a FlashInfer-class kernel, which the "
      "model prices slower than FlashMLA where the matmuls bind); --dtype bf16 --kv-dtype bf16 "
      "prices FlashMLA",
      models::to_string(w.dtype), models::to_string(w.kv_dtype), profile.id);
}

std::string fp32_kernel_warning(models::DType dtype, std::string_view schedule,
                                std::string_view label) {
  if (dtype != models::DType::fp32 || schedule.empty() ||
      !sim::find_schedule(schedule).sixteen_bit_inputs) {
    return "";
  }
  return fmt::format(
      "--dtype fp32 on {}: '{}' has no fp32 path; its tiling is priced on the FP32 pipes, as a "
      "fp32 flash-style kernel (PyTorch's memory-efficient attention) would run",
      label, schedule);
}

void warn_kernel_not_run(std::string_view kernel, sim::EngineKind engine, const models::Workload& w,
                         const sim::Prediction& p, std::string_view label) {
  const std::string line = kernel_not_run_warning(kernel, engine, w, p, label);
  if (!line.empty()) std::fprintf(stderr, "attnsim: warning: %s\n", line.c_str());
}

void warn_unpriced_caller(hw::Caller caller, const std::vector<hw::Profile>& profiles) {
  if (caller == hw::Caller::direct) return;
  std::vector<std::string> ids;
  for (const hw::Profile& p : profiles) {
    if (p.caller_floor_s(caller) <= 0 && p.caller_jit_s(caller) <= 0) ids.push_back(p.id);
  }
  if (ids.empty()) return;
  const std::string name(hw::to_string(caller));
  std::fprintf(stderr,
               "attnsim: warning: no %s host floor on %s (calibration.caller_floor_us.%s): "
               "calls there pay no host cost\n",
               name.c_str(), fmt::format("{}", fmt::join(ids, ", ")).c_str(), name.c_str());
}

}  // namespace cli
