#include "validate/cuda/cuda_suite_schedule.hpp"

namespace validate {

CudaCaseModel cuda_case_model(const SuiteCase& c) {
  switch (c.kernel) {
    case CpuKernel::flash:
      return {"project_flash", 0};
    case CpuKernel::split_kv:
      return {"project_split_kv", c.splits};  // launch_split_kv runs exactly c.splits splits
    case CpuKernel::unfused:
      return {"project_unfused", 0};
    case CpuKernel::linear:
      return {"project_linear", 0};
  }
  return {"project_flash", 0};
}

}  // namespace validate
