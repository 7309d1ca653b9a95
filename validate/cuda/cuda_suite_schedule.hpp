// Which tile-engine schedule prices the CUDA kernel a suite case runs (validate --backend cuda):
// the project_* schedules describe this project's own kernels (validate/cuda/cuda_*.cu), with the
// launch settings the case fixes. Plain C++ (no CUDA), so it is tested without a GPU.
#pragma once

#include <string>

#include "validate/cpu/cpu_suite.hpp"

namespace validate {

struct CudaCaseModel {
  std::string schedule;  // project_flash, project_split_kv, project_unfused or project_linear
  int splits = 0;        // project_split_kv: the case's split count (0: not a split launch)
};

CudaCaseModel cuda_case_model(const SuiteCase& c);

}  // namespace validate
