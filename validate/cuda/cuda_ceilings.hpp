// Measured throughput ceilings of the CUDA device that `attnsim validate --backend cuda` runs on:
// device-to-device copy bandwidth, cuBLAS GEMM rates, exp throughput and kernel-launch latency.
// Implemented by cuda_loader.cpp through the CUDA module (cuda_ceilings.cpp + cuda_ceilings.cu,
// see cuda_module.hpp).
#pragma once

#include <string>

namespace validate {

struct CudaCeilings {
  double copy_Bps = 0;          // cudaMemcpyAsync device to device, read + write bytes per second
  double gemm_fp16_flops = 0;   // cublasGemmEx, fp16 inputs and output, fp32 compute
  double gemm_bf16_flops = 0;   // cublasGemmEx, bf16 inputs and output, fp32 compute
  double gemm_fp8_flops = 0;    // 0 if unsupported (or not measured)
  double exp_per_s = 0;         // ex2.approx (MUFU) results per second over the whole device
  double launch_latency_s = 0;  // per back-to-back empty-kernel launch
  std::string device;           // the device's name
};

// Measures each ceiling as the median of a few timed repeats after a warm-up, trying to stay
// within about budget_s seconds in all (every ceiling gets at least one timed run), on device
// `device` (-1: select_cuda_device()). Throws std::runtime_error when no GPU is usable (the
// message of query_cuda()) or a CUDA call fails.
CudaCeilings measure_cuda_ceilings(double budget_s, int device = -1);

}  // namespace validate
