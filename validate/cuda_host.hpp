// Host-side CUDA helpers shared by the CUDA validation code (suite runner and ceilings): owning
// wrappers for events and streams, and the choice of device. Only built with the CUDA backend.
#pragma once

#include <cuda_runtime.h>

#include <stdexcept>

#include "validate/cuda_devices.hpp"
#include "validate/cuda_kernels.cuh"

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

// The first device that ran query_cuda's probe kernel with compute capability 7.0 or newer (WMMA
// needs sm_70+); throws query_cuda's "no CUDA device: ..." message when there is none.
inline CudaDevice select_device() {
  const CudaStatus status = query_cuda();
  if (status.devices.empty()) {
    throw std::runtime_error(status.message.empty() ? "no CUDA device" : status.message);
  }
  for (const CudaDevice& d : status.devices) {
    if (d.kernel_ran && d.cc_major >= 7) return d;
  }
  throw std::runtime_error(
      "no CUDA device: no device ran the probe kernel with compute capability 7.0 or newer");
}

}  // namespace validate::cuda_detail
