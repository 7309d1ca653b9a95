// The CUDA module's one exported symbol (cuda_module.hpp): its table of functions, handed out only
// to a caller built for the same module ABI. Everything else in attnsim_cuda.so is hidden.
#include "validate/cuda/cuda_module.hpp"

#include "validate/cuda/cuda_host.hpp"

namespace {

const validate::CudaModuleApi kApi{
    validate::kCudaModuleAbi,
    validate::cuda_module_layout(),
    sizeof(validate::CudaModuleApi),
    &validate::cuda_impl::query_cuda,
    &validate::cuda_impl::run_suite,
    &validate::cuda_impl::kernel_summary,
    &validate::cuda_impl::measure_ceilings,
};

}  // namespace

extern "C" __attribute__((visibility("default"))) const validate::CudaModuleApi*
attnsim_cuda_module_api(int abi) {
  return abi == validate::kCudaModuleAbi ? &kApi : nullptr;
}
