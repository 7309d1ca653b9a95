// Kernels behind measure_cuda_ceilings (internal to validate/; defined in cuda_ceilings.cu).
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace validate::cuda_detail {

// Independent exp chains per thread in exp_throughput; each loop iteration does this many exps.
constexpr int kExpChains = 8;

// blocks x threads threads each run `iters` iterations of kExpChains ex2.approx over registers and
// write a checksum to out[thread] (out holds blocks * threads floats), so nothing is optimised
// away. Exps done: blocks * threads * iters * kExpChains.
void launch_exp_throughput(float* out, int blocks, int threads, int iters, cudaStream_t stream);

// One block of one thread that does nothing: for launch latency.
void launch_empty(cudaStream_t stream);

// Fills n 16-bit words with (hash & mask) | base, with a pseudo-random sign bit: fp16 or bf16
// values of magnitude [0.5, 1) for GEMM inputs that are not all zero.
void launch_fill_u16(std::uint16_t* p, std::size_t n, std::uint16_t base, std::uint16_t mask,
                     cudaStream_t stream);

}  // namespace validate::cuda_detail
