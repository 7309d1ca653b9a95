#include "validate/compare.hpp"

#include <algorithm>
#include <cmath>

#include "sim/engine.hpp"
#include "validate/measured_names.hpp"

namespace validate {

ErrorSummary summarize(const std::vector<double>& errors) {
  ErrorSummary s;
  s.cases = errors.size();
  if (errors.empty()) return s;
  std::vector<double> abs_errors;
  for (double e : errors) abs_errors.push_back(std::fabs(e));
  std::sort(abs_errors.begin(), abs_errors.end());
  double sum = 0;
  for (double e : abs_errors) sum += e;
  s.mape = sum / static_cast<double>(abs_errors.size());
  const std::size_t mid = abs_errors.size() / 2;
  s.median_abs =
      abs_errors.size() % 2 ? abs_errors[mid] : (abs_errors[mid - 1] + abs_errors[mid]) / 2;
  s.max_abs = abs_errors.back();
  return s;
}

void SplitErrors::add(const CaseResult& r, double relative_error) {
  if (r.held_out)
    held.push_back(relative_error);
  else if (r.fit_row)
    fitted.push_back(relative_error);
  all.push_back(relative_error);
}

CaseResult evaluate_case(const MeasuredCase& c, const hw::Profile& profile) {
  const models::CostModel cost = case_cost(c);
  CaseResult r;
  r.measured = &c;
  const sim::Prediction tile =
      sim::predict_tile(cost, c.workload, profile, c.kernel_choice,
                        sim::ScheduleOptions{static_cast<double>(c.splits), c.caller});
  r.tile_s = tile.time_s;
  for (const sim::LaunchPrediction& l : tile.launches)
    r.tile_launches.push_back(
        {l.name, l.time_s * static_cast<double>(l.count), std::string(l.schedule)});
  r.roofline_s = sim::predict_roofline(cost, c.workload, profile, c.caller).time_s;
  return r;
}

std::vector<GroupSummary> group_summaries(const std::vector<CaseResult>& rows) {
  std::vector<GroupSummary> groups;
  std::vector<SplitErrors> errors;
  for (const CaseResult& r : rows) {
    const MeasuredCase& c = *r.measured;
    if (!c.compared) continue;
    // Suite cases are named one by one; their group is the kernel they ran (its schedule).
    const std::string& kernel = c.suite_case ? c.schedule : c.kernel;
    auto it = std::find_if(groups.begin(), groups.end(), [&](const GroupSummary& g) {
      // Rows of one kernel priced with `auto` after it refused them are a group of their own.
      return g.hw == c.hw && kernel_key(g.kernel) == kernel_key(kernel) && g.schedule == c.schedule;
    });
    if (it == groups.end()) {
      groups.push_back({c.hw, kernel, c.schedule, {}, {}, {}, nullptr});
      errors.emplace_back();
      it = groups.end() - 1;
    }
    GroupSummary& g = *it;
    errors[static_cast<std::size_t>(it - groups.begin())].add(r, r.tile_error());
    if (!g.worst || std::fabs(r.tile_error()) > std::fabs(g.worst->tile_error())) g.worst = &r;
  }
  for (std::size_t i = 0; i < groups.size(); ++i) {
    groups[i].fitted = summarize(errors[i].fitted);
    groups[i].held = summarize(errors[i].held);
    groups[i].all = summarize(errors[i].all);
  }
  return groups;
}

bool is_held_out(const MeasuredCase& c, const std::vector<std::int64_t>& holdout_seq) {
  return std::find(holdout_seq.begin(), holdout_seq.end(), c.workload.kv_len) != holdout_seq.end();
}

}  // namespace validate
