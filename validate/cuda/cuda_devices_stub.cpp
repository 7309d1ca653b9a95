#include "validate/cuda/cuda_devices.hpp"

namespace validate {

std::string cuda_build_summary() {
  return "not compiled in";
}

CudaStatus query_cuda() {
  CudaStatus status;
  status.message =
      "no CUDA device: this attnsim was built without the CUDA backend (no nvcc at configure "
      "time, or -DATTNSIM_CUDA=OFF)";
  return status;
}

}  // namespace validate
