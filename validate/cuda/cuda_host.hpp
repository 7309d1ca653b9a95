// Host-side CUDA helpers shared by the CUDA validation code (suite runner and ceilings): owning
// wrappers for events and streams, and the choice of device. Only built into the CUDA module
// (attnsim_cuda.so, see cuda_module.hpp).
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>

#include "validate/cuda/cuda_devices.hpp"
#include "validate/cuda/cuda_kernels.cuh"

namespace validate::cuda_impl {

// The module's device query (cuda_devices.cu), which the executable reaches as query_cuda()
// through the module's table. Never throws.
CudaStatus query_cuda();

}  // namespace validate::cuda_impl

namespace validate::cuda_detail {

class Event {
 public:
  Event() { ATTNSIM_CUDA_CHECK(cudaEventCreate(&event_)); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  ~Event() { cudaEventDestroy(event_); }
  cudaEvent_t get() const { return event_; }

 private:
  cudaEvent_t event_{};
};

class Stream {
 public:
  Stream() { ATTNSIM_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking)); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  ~Stream() { cudaStreamDestroy(stream_); }
  cudaStream_t get() const { return stream_; }

 private:
  cudaStream_t stream_{};
};

// The device of select_cuda_device (cuda_devices.hpp): the one the report names.
inline CudaDevice select_device() {
  return select_cuda_device(cuda_impl::query_cuda());
}

}  // namespace validate::cuda_detail
