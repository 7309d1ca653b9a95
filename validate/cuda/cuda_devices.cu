#include <cuda_runtime.h>

#include <string>

#include "validate/cuda/cuda_host.hpp"

namespace validate {

namespace {

__global__ void probe_kernel(int* out) {
  if (threadIdx.x == 0 && blockIdx.x == 0) *out = 42;
}

bool run_probe(int device) {
  if (cudaSetDevice(device) != cudaSuccess) return false;
  int* d_out = nullptr;
  if (cudaMalloc(&d_out, sizeof(int)) != cudaSuccess) return false;
  int h_out = 0;
  probe_kernel<<<1, 32>>>(d_out);
  bool ok = cudaGetLastError() == cudaSuccess &&
            cudaMemcpy(&h_out, d_out, sizeof(int), cudaMemcpyDeviceToHost) == cudaSuccess &&
            h_out == 42;
  cudaFree(d_out);
  return ok;
}

std::string version_text(int version) {
  return std::to_string(version / 1000) + "." + std::to_string((version % 1000) / 10);
}

std::string toolkit_version() {
  return version_text(CUDART_VERSION);
}

}  // namespace

CudaStatus cuda_impl::query_cuda() {
  CudaStatus status;
  status.compiled_in = true;
  status.toolkit_version = toolkit_version();
  int driver = 0;
  if (cudaDriverGetVersion(&driver) == cudaSuccess && driver > 0)
    status.driver_version = version_text(driver);
  int count = 0;
  cudaError_t err = cudaGetDeviceCount(&count);
  if (err != cudaSuccess || count == 0) {
    status.message = std::string("no CUDA device: ") +
                     (err != cudaSuccess ? cudaGetErrorString(err) : "the driver reports none");
    return status;
  }
  for (int i = 0; i < count; ++i) {
    cudaDeviceProp prop{};
    if (cudaGetDeviceProperties(&prop, i) != cudaSuccess) continue;
    CudaDevice d;
    d.index = i;
    d.name = prop.name;
    d.sm_count = prop.multiProcessorCount;
    d.cc_major = prop.major;
    d.cc_minor = prop.minor;
    d.memory_bytes = prop.totalGlobalMem;
    d.kernel_ran = run_probe(i);
    status.devices.push_back(d);
  }
  return status;
}

}  // namespace validate
