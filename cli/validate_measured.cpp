#include "cli/validate_measured.hpp"

#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "validate/compare.hpp"
#include "validate/measured_names.hpp"

namespace cli {

namespace {

// Whether a launch of the row's prediction runs the kernel it names, as `query --kernel` checks
// (kernel_not_run_warning): fa3 named on a linear-attention row runs none (a scan kernel prices
// it). A kernel without a backward model still runs the forward launches of a backward row (the
// calibration notes those rows), so that is not this, nor is a backward-only row of such a kernel,
// which runs only the device's default backward.
bool named_kernel_runs(const validate::MeasuredCase& c, const validate::CaseResult& r) {
  if (c.kernel_choice.is_auto()) return true;
  if (models::has_backward(c.workload.phase) && c.kernel_choice.schedule()->backward == nullptr)
    return true;
  return std::any_of(
      r.tile_launches.begin(), r.tile_launches.end(),
      [&](const validate::LaunchTime& l) { return l.schedule == c.kernel_choice.name(); });
}

std::string where(const validate::MeasuredCase& c) {
  return fmt::format("{}:{}", c.file, c.line);
}

// Prices each row on its device. A row is still a measurement when the kernel it names cannot
// price it: one that does not run on its device or refuses its shape (FA4's Hopper build,
// Lightning Attention-2 at a head dim it does not take), or that runs none of the row's workload
// (fa3 named on a linear-attention row, which a scan kernel prices) is priced with `auto`, the
// device's own choice, compared but never fitted, and counted as repriced (one warning per device
// and kernel); so is a row of a kernel attnsim does not know (read_measurements warned about it).
// A row that `auto` cannot price either, or that the device cannot price at all (fp8 on an A100,
// which has no fp8 tensor peak), is skipped with its file:line, not the end of the run.
class RowPricer {
 public:
  explicit RowPricer(Acquired& in) : in_(in) {}

  // False when the row is skipped (its reason added to `skipped`).
  bool price(validate::MeasuredCase& c, const hw::Profile& profile,
             std::vector<std::string>& skipped) {
    try {
      const validate::CaseResult r = validate::evaluate_case(c, profile);
      if (c.schedule == "auto" && validate::kernel_key(c.kernel) != "auto") {
        in_.repriced.push_back(
            fmt::format("{}: unknown kernel '{}' priced with --kernel auto", where(c), c.kernel));
        return true;
      }
      if (named_kernel_runs(c, r)) return true;
      return reprice(c, profile,
                     fmt::format("{}: kernel '{}' on {}: no launch of this workload runs it",
                                 where(c), c.kernel, profile.id),
                     skipped);
    } catch (const common::KernelRefusal& e) {
      return reprice(c, profile, fmt::format("{}: {}", where(c), e.what()), skipped);
    } catch (const common::SpecError& e) {
      skipped.push_back(fmt::format("{}: {}", where(c), e.what()));
      return false;
    }
  }

 private:
  bool reprice(validate::MeasuredCase& c, const hw::Profile& profile, const std::string& reason,
               std::vector<std::string>& skipped) {
    c.schedule = "auto";
    c.kernel_choice = sim::KernelChoice();
    c.fit_eligible = false;
    try {
      validate::evaluate_case(c, profile);
    } catch (const common::SpecError& again) {
      skipped.push_back(fmt::format("{}; with --kernel auto: {}", reason, again.what()));
      return false;
    }
    in_.repriced.push_back(reason);
    if (warned_.insert(c.hw + "/" + validate::kernel_key(c.kernel)).second) {
      in_.warnings.push_back(reason +
                             "; priced with --kernel auto instead, not fitted (so are its later "
                             "such rows on this device; summary: repriced_rows)");
    }
    return true;
  }

  Acquired& in_;
  std::set<std::string> warned_;  // device/kernel pairs warned about
};

// A row called through a framework its device has no host floor for (torch_npu on an H100,
// pytorch on an Ascend 910B2) is priced as a direct call, as `query --caller` warns: said once per
// device and caller.
void warn_unpriced_caller(const validate::MeasuredCase& c, const hw::Profile& profile,
                          std::set<std::string>& warned, Acquired& in) {
  if (c.caller == hw::Caller::direct) return;
  if (profile.caller_floor_s(c.caller) > 0 || profile.caller_jit_s(c.caller) > 0) return;
  const std::string caller(hw::to_string(c.caller));
  if (!warned.insert(profile.id + "/" + caller).second) return;
  in.warnings.push_back(fmt::format(
      "{}: no {} host floor on {} (calibration.caller_floor_us.{}): calls there pay no host cost "
      "(so do the later rows of that device and caller)",
      where(c), caller, profile.id, caller));
}

// Reads the files' rows into `in`, priced on their devices. A file's warnings and skipped rows are
// in `in` even when one of its rows ends the run.
void read_files(const Context& ctx, const ValidateOptions& o, const hw::ProfileCatalog& catalog,
                Acquired& in) {
  RowPricer pricer(in);
  std::set<std::string> unpriced_callers;         // device/caller pairs warned about
  std::map<std::string, std::string> first_rows;  // device + row_key: the file:line it was first
  for (const std::string& file : o.measurements) {
    validate::MeasurementSet set;
    const auto keep_set = [&] {
      for (const auto& s : set.skipped) in.skipped.push_back(s);
      for (const auto& w : set.warnings) in.warnings.push_back(w);
    };
    try {
      // A malformed row ends the run, and the file's warnings before it are said first.
      validate::read_measurements(
          file, ctx.registry,
          o.strict ? validate::UnknownColumns::refuse : validate::UnknownColumns::warn, set);
      for (auto& c : set.cases) {
        const hw::Profile* profile = nullptr;
        try {
          profile = &catalog.resolve(c.hw);
          c.hw = profile->id;
          // The first row of a device names the file that brought it into the run.
          profile = &with_hw_sets(in, *profile, ctx.hw.sets, kValidateMissingEntryAdvice);
        } catch (const std::invalid_argument& e) {  // hw::ProfileError is one
          throw std::invalid_argument(fmt::format("{}: {}", where(c), e.what()));
        }
        // The same measurement written twice (in one file or two) counts once: a copy would
        // weigh double in every error statistic and in the --calibrate fits. The later row is
        // dropped as a skipped row, so it is warned about with both places and --strict refuses
        // it.
        const auto [first, fresh] = first_rows.emplace(c.hw + "|" + c.row_key, where(c));
        if (!fresh) {
          set.skipped.push_back(fmt::format(
              "{}: the same measurement as {} (every column but source and notes): counted once",
              where(c), first->second));
          continue;
        }
        warn_unpriced_caller(c, *profile, unpriced_callers, in);
        if (pricer.price(c, *profile, set.skipped)) in.cases.push_back(std::move(c));
      }
    } catch (const std::exception&) {
      keep_set();
      throw;
    }
    keep_set();
  }
}

// The warnings, then the skipped rows from the `first_skipped`th on (an error naming the first
// skipped row need not say it twice).
void say_warnings(const Acquired& in, std::size_t first_skipped = 0) {
  for (const auto& w : in.warnings)
    std::cerr << "attnsim: warning: " << w.get<std::string>() << "\n";
  for (std::size_t i = first_skipped; i < in.skipped.size(); ++i)
    std::cerr << "attnsim: warning: row skipped: " << in.skipped[i].get<std::string>() << "\n";
}

}  // namespace

Acquired read_measurement_files(const Context& ctx, const ValidateOptions& o,
                                const hw::ProfileCatalog& catalog) {
  Acquired in;
  // The warnings and skipped rows so far are said before an error that ends the run (a later
  // file's bad row, no row left to compare): they may say why.
  try {
    read_files(ctx, o, catalog, in);
  } catch (const std::exception&) {
    say_warnings(in);
    throw;
  }
  if (in.cases.empty() && !in.skipped.empty()) {
    say_warnings(in, 1);
    throw std::invalid_argument(fmt::format("no measurement row left to compare: {} skipped ({})",
                                            in.skipped.size(),
                                            in.skipped.front().get<std::string>()));
  }
  say_warnings(in);
  return in;
}

}  // namespace cli
