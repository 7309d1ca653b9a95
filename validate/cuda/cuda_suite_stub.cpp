#include <stdexcept>

#include "validate/cuda/cuda_suite.hpp"

namespace validate {

std::vector<CaseRun> run_cuda_suite(const Suite&, const RunOptions&, const Progress&) {
  throw std::runtime_error(
      "no CUDA device: this attnsim was built without the CUDA backend (no nvcc at configure "
      "time, or -DATTNSIM_CUDA=OFF)");
}

std::string cuda_kernel_summary() {
  return "CUDA backend not compiled in";
}

}  // namespace validate
