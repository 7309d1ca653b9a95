// The x86_64-host run of pto-isa's 910B2 demo table (validate/data/candidates/
// ascend_910b_x86_host.csv), kept out of every fit: a second run of the same shapes on another
// host, so an out-of-sample check of what the aarch64 rows fitted. The JIT-built PTO-ISA kernel is
// launched directly and its rows are priced as they stand; torch_npu's rows sit on this host's
// lower floor and are checked with it overridden.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"
#include "tests/support/validate_helpers.hpp"
#include "validate/compare.hpp"
#include "validate/measurements.hpp"

namespace {

// The built-in 910B2 profile.
const hw::Profile& builtin_910b2() {
  static const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  return catalog.resolve("ascend-910b2");
}

// The rows' groups priced on the built-in 910B2, with torch_npu's floor replaced by
// `torch_npu_floor_us` when given.
std::vector<validate::GroupSummary> x86_host_groups(double torch_npu_floor_us = -1) {
  static const models::Registry registry;
  hw::Profile p = builtin_910b2();
  if (torch_npu_floor_us >= 0) {
    p.calibration.caller_floor_s[static_cast<std::size_t>(hw::Caller::torch_npu)] =
        torch_npu_floor_us * 1e-6;
  }
  const validate::MeasurementSet set = validate::read_measurements(
      fmt::format("{}/validate/data/candidates/ascend_910b_x86_host.csv", ATTNSIM_SOURCE_DIR),
      registry);
  REQUIRE(set.skipped.empty());
  std::vector<validate::CaseResult> rows;
  for (const validate::MeasuredCase& c : set.cases) {
    validate::CaseResult r = validate::evaluate_case(c, p);
    r.held_out = validate::is_held_out(c, test_support::kHoldout);
    rows.push_back(r);
  }
  return validate::group_summaries(rows);
}

const validate::GroupSummary& group_named(const std::vector<validate::GroupSummary>& groups,
                                          const std::string& kernel) {
  auto it = std::find_if(groups.begin(), groups.end(),
                         [&](const validate::GroupSummary& g) { return g.kernel == kernel; });
  REQUIRE(it != groups.end());
  return *it;
}

}  // namespace

TEST_CASE("the PTO-ISA kernel's x86_64-host run, never fitted, is within the targets as it stands",
          "[validate][measured][ascend]") {
  const auto groups = x86_host_groups();
  const validate::GroupSummary& jit = group_named(groups, "pto-isa");
  CHECK(jit.all.cases == 20);
  // 3.9 % and 6.7 % on 2026-11-30.
  CHECK(jit.fitted.mape <= 0.08);
  CHECK(jit.held.mape <= 0.12);
}

TEST_CASE(
    "torch_npu's x86_64-host rows need that host's floor: 40 us prices them within 12 % on "
    "the fitted-eligible rows and 14 % held back",
    "[validate][measured][ascend]") {
  // With the profile's aarch64-host floor (58.5 us on 2026-11-30) the small calls are 24-50 %
  // slow; with 40 us, 11.2 % and 12.9 % (the device time shows earlier and steeper on this host).
  CHECK(builtin_910b2().caller_floor_s(hw::Caller::torch_npu) > 50e-6);
  const auto as_profiled = group_named(x86_host_groups(), "torch_npu");
  const auto own_floor = group_named(x86_host_groups(40), "torch_npu");
  CHECK(as_profiled.all.mape > 0.2);
  CHECK(own_floor.fitted.mape <= 0.12);
  CHECK(own_floor.held.mape <= 0.14);
}
