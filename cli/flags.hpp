// CLI11 validators for numeric flags. CLI11's own conversion reads "010" as octal 8, "0x100" as
// 256 and clamps 99999999999999999999 to INT64_MAX; these validators accept decimal text only,
// check the allowed range, and rewrite the text to plain digits before CLI11 converts it, so the
// error names the flag and what is allowed ("--seq-len: '1e12' is not a decimal integer; allowed:
// an integer in [1, 1073741824]"). Attach decimal_integer with ->transform() (it rewrites the text;
// ->check() would discard the rewrite) and decimal_number with ->check().
#pragma once

#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "hwprofiles/profile.hpp"
#include "models/variant.hpp"
#include "models/workload.hpp"
#include "sim/engine.hpp"

namespace cli {

// The largest heads (--heads, --kv-heads) and head dimension (--head-dim, --v-head-dim) any variant
// takes (models/variant.hpp kHeadsParam, kHeadDimParam): query's flags refuse more, giving the
// range.
inline constexpr auto kMaxHeadsFlag = static_cast<std::int64_t>(models::kHeadsParam.max);
inline constexpr auto kMaxHeadDimFlag = static_cast<std::int64_t>(models::kHeadDimParam.max);

CLI::Validator decimal_integer(std::int64_t min,
                               std::int64_t max = std::numeric_limits<std::int64_t>::max());
CLI::Validator decimal_number(double min, double max);
// A size flag's value (--seq-len, --batch, ...): decimal_integer's text, or with a k, M or G suffix
// (x 2^10, 2^20, 2^30) as sweep's axes take it: "32k" is 32768. Attach with ->transform().
CLI::Validator size_integer(std::int64_t min, std::int64_t max);
// Refuses an empty value (`--model ''` would otherwise read as the flag not given) with `error`,
// which says what to give instead; `type` is the placeholder help shows (FILE, NAME).
CLI::Validator non_empty(std::string error, std::string type);
// The checks of --model/--models (preset names) and --hf-config (a config.json path).
CLI::Validator non_empty_model();
CLI::Validator non_empty_hf_config();

// One variant parameter as `flag` takes it (query's and sweep's --param, compare's name:p=v):
// "name=number" (decimal, or a size with a k/M/G suffix: window=4k; an integer parameter's variant
// refuses a fraction, naming it). Throws
// common::SpecError quoting `text`, e.g. "--param 'window': expected name=number, e.g.
// window=4096 (see `attnsim variants show swa`)"; `variant` names the variant for that hint.
std::pair<std::string, double> parse_param_assignment(std::string_view flag, std::string_view text,
                                                      std::string_view variant);

// On/off flags (--causal, --no-causal, --strict, ...) take no value, or an explicit true or false.
// CLI11 alone reads any integer as a flag value (`--causal=7` would mean true); this adds a check
// to every flag of `app` and of its subcommands (help and version excepted) that refuses any other
// value, naming the allowed ones. Call it once every option has been added.
void strict_flag_values(CLI::App& app);

// --caller (query, compare, sweep): whose per-call host floor a call pays. Adds the option to
// `app`; parse_caller_flag turns its text into the caller, or throws common::SpecError naming the
// known ones.
void add_caller_option(CLI::App& app, std::string& caller);
hw::Caller parse_caller_flag(const std::string& name);

// --measured TIME (query): a kernel's measured time with its unit, `812us`, `1.2ms`, `950ns`,
// `0.5s` (`µs` too; spaces around the number and before the unit are allowed), in seconds. Throws
// common::SpecError naming the flag and the units for text without a unit, a number that is not
// finite, or a time outside [1 ns, 1 h] (as a measurement CSV row's time).
double parse_measured_time(std::string_view flag, std::string_view text);
// One warning on stderr naming the profiles that give `caller` no host floor (a profile lists the
// callers it has measured: torch_npu only on Ascend, pytorch and triton only on NVIDIA): there the
// call is priced as a direct one. Nothing for a direct call.
void warn_unpriced_caller(hw::Caller caller, const std::vector<hw::Profile>& profiles);

// --kernel NAME (not auto) that a tile prediction did not run where it was asked to: no launch
// priced with it (the schedule passes the op to another: NSA's Triton kernel at a head dim it
// does not take, a scan on a kernel of softmax attention), or a backward pass priced with the
// device's default because NAME has no backward model. One warning line on stderr per profile
// (`label`: the profile id, or id and subject), after the output; nothing for auto or roofline.
// kernel_not_run_warning is that line (without "attnsim: warning: "), or "" when none is due.
std::string kernel_not_run_warning(std::string_view kernel, sim::EngineKind engine,
                                   const models::Workload& w, const sim::Prediction& p,
                                   std::string_view label);
void warn_kernel_not_run(std::string_view kernel, sim::EngineKind engine, const models::Workload& w,
                         const sim::Prediction& p, std::string_view label);

// --dtype fp32 priced with a GPU library kernel that has no fp32 path (FlashAttention 2/3/4,
// cuDNN, FlashMLA, FlashInfer-class split-KV, lean): the line (without "attnsim: warning: ")
// saying the schedule's tiling is priced on the FP32 pipes, or "" for another dtype or kernel.
// Absorbed MLA decode that FlashMLA would run on `profile` but for its number formats (an fp8
// cache: FlashMLA's dense decode reads 16-bit caches only), priced by `auto` with `schedule`
// split_kv: the line (without "attnsim: warning: ") saying so, or "" (also for a kernel named on
// purpose, `auto_kernel` false).
std::string flashmla_dtype_warning(const models::CostModel& cost, const models::Workload& w,
                                   std::string_view schedule, const hw::Profile& profile,
                                   bool auto_kernel);

std::string fp32_kernel_warning(models::DType dtype, std::string_view schedule,
                                std::string_view label);

// --kernel (query, compare, sweep): the tile engine's schedule; its help lists auto and every
// schedule of sim::schedules().
void add_kernel_option(CLI::App& app, std::string& kernel);

}  // namespace cli
