// The CUDA suite cases are priced by the project_* schedules (this project's own kernels) with
// the launch settings each case fixes, and validate --calibrate can fit those schedules. No GPU:
// the mapping and the predictions are plain C++.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "hwprofiles/catalog.hpp"
#include "sim/schedule_project_cuda.hpp"
#include "tests/support/model_helpers.hpp"
#include "validate/calibrate.hpp"
#include "validate/compare.hpp"
#include "validate/cpu/cpu_suite.hpp"
#include "validate/cuda/cuda_launch_names.hpp"
#include "validate/cuda/cuda_linear_layout.hpp"
#include "validate/cuda/cuda_suite_schedule.hpp"

using test_support::catalog;
using test_support::registry;
using validate::CpuKernel;

namespace {

validate::MeasuredCase measured_case(const validate::SuiteCase& c, const std::string& hw,
                                     validate::Backend backend = validate::Backend::cuda) {
  validate::CaseRun run;
  run.spec = c;
  run.median_s = 1e-3;
  return validate::to_measured(run, hw, registry(), backend);
}

}  // namespace

TEST_CASE("every CUDA suite case maps to the project schedule of the kernel it runs",
          "[validate][cuda]") {
  for (const char* name : {"check", "quick", "full"}) {
    for (const validate::SuiteCase& c : validate::find_suite(name).cases) {
      INFO(name << " / " << c.name);
      const validate::CudaCaseModel m = validate::cuda_case_model(c);
      switch (c.kernel) {
        case CpuKernel::flash:
          CHECK(m.schedule == "project_flash");
          break;
        case CpuKernel::split_kv:
          CHECK(m.schedule == "project_split_kv");
          CHECK(m.splits == c.splits);
          break;
        case CpuKernel::unfused:
          CHECK(m.schedule == "project_unfused");
          break;
        case CpuKernel::linear:
          CHECK(m.schedule == "project_linear");
          break;
      }
      const validate::MeasuredCase cuda = measured_case(c, "h100");
      CHECK(cuda.schedule == m.schedule);
      CHECK(cuda.kernel_choice.name() == m.schedule);
      CHECK(cuda.splits == m.splits);
      // The CPU backend keeps its own kernels' schedules.
      const validate::MeasuredCase cpu = measured_case(c, "host-cpu", validate::Backend::cpu);
      CHECK(cpu.schedule == (c.kernel == CpuKernel::linear ? "cpu_linear" : "cpu_flash"));
    }
  }
}

TEST_CASE("every compared quick-suite case is predicted by its project schedule on NVIDIA GPUs",
          "[validate][cuda]") {
  for (const char* hw : {"h100", "h200", "a100", "b200"}) {
    for (const validate::SuiteCase& c : validate::find_suite("quick").cases) {
      const validate::MeasuredCase m = measured_case(c, hw);
      if (!m.compared) continue;
      INFO(hw << " / " << c.name);
      double tile_s = 0;
      REQUIRE_NOTHROW(tile_s = validate::evaluate_case(m, catalog().resolve(hw)).tile_s);
      CHECK(tile_s > 0);
    }
  }
}

TEST_CASE("a split-KV case is predicted at the split count it ran, not the fastest one",
          "[validate][cuda]") {
  // decode-mha-4096-split1: 16 CTAs on 132 SMs; more splits would be priced much faster.
  for (const validate::SuiteCase& c : validate::find_suite("quick").cases) {
    if (c.name != "decode-mha-4096-split1") continue;
    validate::MeasuredCase m = measured_case(c, "h100");
    REQUIRE(m.splits == 1);
    const hw::Profile& p = catalog().resolve("h100");
    const double one = validate::evaluate_case(m, p).tile_s;
    m.splits = 0;  // the schedule's own (fastest) choice
    CHECK(validate::evaluate_case(m, p).tile_s < 0.5 * one);
    return;
  }
  FAIL("decode-mha-4096-split1 is not in the quick suite");
}

TEST_CASE("validate --calibrate fits each project schedule from a CUDA run's cases",
          "[validate][cuda]") {
  // A made-up GPU run: every case measured at twice its current prediction.
  std::vector<validate::MeasuredCase> cases;
  const hw::Profile& p = catalog().resolve("h100");
  for (const validate::SuiteCase& c : validate::find_suite("quick").cases) {
    validate::MeasuredCase m = measured_case(c, "h100");
    m.measured_s = 2 * validate::evaluate_case(m, p).tile_s;
    cases.push_back(m);
  }
  const validate::CalibrationResult r = validate::calibrate(cases, catalog(), {});
  std::set<std::string> fitted;
  for (const validate::FitGroup& g : r.groups) {
    INFO(g.schedule << ": " << g.fitted_before.mape << " -> " << g.fitted_after.mape);
    CHECK(g.fitted_after.mape < g.fitted_before.mape);
    fitted.insert(g.schedule);
  }
  CHECK(fitted == std::set<std::string>{"project_flash", "project_linear", "project_split_kv",
                                        "project_unfused"});
}

TEST_CASE("the sim's linear kernel smem is the kernel's own layout (cuda_linear_layout.hpp)",
          "[validate][cuda]") {
  for (int d : {32, 64, 128}) {
    for (int chunk : {1, 15, 16, 37, 64, 128}) {
      INFO("d " << d << " chunk " << chunk);
      CHECK(sim::project_cuda::linear_smem_bytes(d, chunk) ==
            static_cast<double>(validate::cuda_detail::linear_smem_layout(d, chunk).bytes));
    }
  }
}

TEST_CASE("the model names the launches of the multi-launch CUDA cases as the runner marks them",
          "[validate][cuda][launches]") {
  using namespace validate::cuda_detail;
  const validate::Suite quick = validate::find_suite("quick");
  const hw::Profile h200 = catalog().resolve("h200");
  auto launch_names = [&](CpuKernel kernel) {
    const auto c = std::find_if(quick.cases.begin(), quick.cases.end(),
                                [&](const validate::SuiteCase& s) { return s.kernel == kernel; });
    REQUIRE(c != quick.cases.end());
    const validate::MeasuredCase m = measured_case(*c, "h200");
    std::vector<std::string> names;
    for (const validate::LaunchTime& l : validate::evaluate_case(m, h200).tile_launches)
      names.push_back(l.name);
    return names;
  };
  CHECK(launch_names(CpuKernel::unfused) ==
        std::vector<std::string>{kScoresGemmLaunch, kSoftmaxLaunch, kPvGemmLaunch});
  CHECK(launch_names(CpuKernel::split_kv) ==
        std::vector<std::string>{kSplitLaunch, kCombineLaunch});
}
