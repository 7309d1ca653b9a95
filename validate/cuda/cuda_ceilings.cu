// Kernels for measure_cuda_ceilings (the host side is cuda_ceilings.cpp).
#include <cstddef>
#include <cstdint>

#include "validate/cuda/cuda_ceilings_kernels.cuh"
#include "validate/cuda/cuda_kernels.cuh"

namespace validate::cuda_detail {

namespace {

// 2^-x: one MUFU.EX2 (the negation folds into the instruction's operand). For x in [0, 1] the
// result stays in [0.5, 1], so the chains never overflow or go denormal.
__device__ __forceinline__ float ex2_neg(float x) {
  float y;
  asm volatile("ex2.approx.ftz.f32 %0, %1;" : "=f"(y) : "f"(-x));
  return y;
}

__global__ void exp_throughput_kernel(float* out, int iters) {
  const unsigned tid = blockIdx.x * blockDim.x + threadIdx.x;
  float x[kExpChains];
#pragma unroll
  for (int c = 0; c < kExpChains; ++c) x[c] = 0.001f * static_cast<float>((tid + c) & 255);
  for (int i = 0; i < iters; ++i) {
#pragma unroll
    for (int c = 0; c < kExpChains; ++c) x[c] = ex2_neg(x[c]);
  }
  float sum = 0.f;
#pragma unroll
  for (int c = 0; c < kExpChains; ++c) sum += x[c];
  out[tid] = sum;
}

__global__ void empty_kernel() {}

__global__ void fill_u16_kernel(std::uint16_t* p, std::size_t n, std::uint16_t base,
                                std::uint16_t mask) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = static_cast<std::size_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += stride) {
    std::uint32_t h = static_cast<std::uint32_t>(i) * 2654435761u;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    const std::uint16_t sign = (h >> 31) ? 0x8000u : 0u;
    p[i] = static_cast<std::uint16_t>(sign | base | (h & mask));
  }
}

}  // namespace

void launch_exp_throughput(float* out, int blocks, int threads, int iters, cudaStream_t stream) {
  exp_throughput_kernel<<<blocks, threads, 0, stream>>>(out, iters);
  ATTNSIM_CUDA_LAUNCHED("exp_throughput_kernel");
}

void launch_empty(cudaStream_t stream) {
  empty_kernel<<<1, 1, 0, stream>>>();
  ATTNSIM_CUDA_LAUNCHED("empty_kernel");
}

void launch_fill_u16(std::uint16_t* p, std::size_t n, std::uint16_t base, std::uint16_t mask,
                     cudaStream_t stream) {
  fill_u16_kernel<<<1024, 256, 0, stream>>>(p, n, base, mask);
  ATTNSIM_CUDA_LAUNCHED("fill_u16_kernel");
}

}  // namespace validate::cuda_detail
