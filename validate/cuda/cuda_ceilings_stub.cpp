#include <stdexcept>

#include "validate/cuda/cuda_ceilings.hpp"

namespace validate {

CudaCeilings measure_cuda_ceilings(double, int) {
  throw std::runtime_error(
      "no CUDA device: this attnsim was built without the CUDA backend (no nvcc at configure "
      "time, or -DATTNSIM_CUDA=OFF)");
}

}  // namespace validate
