// hwprofiles/ lists the entries calibration.schedules may hold (hwprofiles/calibration_keys.hpp),
// since it sees no schedule; these tests keep that list equal to what sim/ reads.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "hwprofiles/calibration_keys.hpp"
#include "sim/schedule.hpp"

namespace {

// "name" or "name+bwd", so that a mismatch prints readably.
std::string described(std::string_view name, bool backward_entry) {
  return std::string(name) + (backward_entry ? "+bwd" : "");
}

}  // namespace

TEST_CASE("the profile loader's calibration kernels are sim's schedules, with their _bwd entries",
          "[hw][sim]") {
  // A schedule reads `<name>_bwd` where it has a backward lowering of its own; one that lowers
  // scans, or whose backward runs its forward's kernels (unfused), prices both passes with its one
  // entry (validate's calibrate fits no `_bwd` for it).
  std::vector<std::string> from_sim;
  for (const sim::ScheduleInfo& s : sim::schedules()) {
    from_sim.push_back(described(
        s.name, s.backward != nullptr && s.scan == nullptr && !s.backward_on_forward_entry));
  }
  std::vector<std::string> from_hw;
  for (const hw::CalibratedKernel& k : hw::calibrated_kernels()) {
    from_hw.push_back(described(k.name, k.backward_entry));
  }
  CHECK(from_hw == from_sim);
}

TEST_CASE("the profile loader's other calibration entries are sim's support and score entries",
          "[hw][sim]") {
  std::vector<std::string> from_sim;
  for (sim::SupportKernel k :
       {sim::SupportKernel::gemm, sim::SupportKernel::elementwise, sim::SupportKernel::scan}) {
    from_sim.emplace_back(sim::support_calibration_key(k));
  }
  from_sim.emplace_back(sim::kNsaScoresEntry);
  // Those that are also a kernel's own entry (unfused) are listed once, as the kernel.
  from_sim.erase(std::remove_if(from_sim.begin(), from_sim.end(),
                                [](const std::string& key) {
                                  const auto& table = sim::schedules();
                                  return std::any_of(
                                      table.begin(), table.end(),
                                      [&](const sim::ScheduleInfo& s) { return s.name == key; });
                                }),
                 from_sim.end());
  std::vector<std::string> from_hw(hw::calibration_entries_besides_kernels().begin(),
                                   hw::calibration_entries_besides_kernels().end());
  CHECK(from_hw == from_sim);
}

TEST_CASE(
    "find_calibration gives a schedule's entry for the pass, its forward one where the "
    "backward runs the forward's kernels, and none where the profile lacks it",
    "[hw][sim]") {
  hw::Profile p;
  p.calibration.schedules["fa2"].mma_fraction = 0.6;
  p.calibration.schedules["fa2_bwd"].mma_fraction = 0.4;
  p.calibration.schedules["unfused"].mma_fraction = 0.3;
  const sim::ScheduleInfo& fa2 = sim::find_schedule("fa2");
  const sim::ScheduleInfo& unfused = sim::find_schedule("unfused");
  REQUIRE(sim::find_calibration(p, fa2) != nullptr);
  CHECK(sim::find_calibration(p, fa2)->mma_fraction == 0.6);
  REQUIRE(sim::find_calibration(p, fa2, models::Pass::backward) != nullptr);
  CHECK(sim::find_calibration(p, fa2, models::Pass::backward)->mma_fraction == 0.4);
  REQUIRE(sim::find_calibration(p, unfused, models::Pass::backward) != nullptr);
  CHECK(sim::find_calibration(p, unfused, models::Pass::backward)->mma_fraction == 0.3);
  CHECK(sim::find_calibration(p, sim::find_schedule("fa3")) == nullptr);
  p.calibration.schedules.erase("fa2_bwd");
  CHECK(sim::find_calibration(p, fa2, models::Pass::backward) == nullptr);
}
