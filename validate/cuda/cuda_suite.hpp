// The validation suites (validate/suites/*.json) on a CUDA GPU: each case is run with kernels
// written in this project (FlashAttention-2 forward on tensor cores through WMMA, split-KV decode,
// chunked linear attention), fp16 inputs and fp32 accumulation, timed with CUDA events after a
// warm-up and an L2 flush before every timed run, and checked against the float64 CPU reference.
// Implemented by cuda_loader.cpp through the CUDA module (cuda_suite.cpp and the .cu files, see
// cuda_module.hpp).
#pragma once

#include <string>
#include <vector>

#include "validate/cpu/cpu_suite.hpp"

namespace validate {

// Same cases, seeds and result type as run_suite. RunOptions::repeats is honoured;
// RunOptions::flush_bytes is not (the flush is twice the device's L2). Throws std::runtime_error
// ("no CUDA device: ...") when no GPU is usable, or when a CUDA call fails.
std::vector<CaseRun> run_cuda_suite(const Suite& suite, const RunOptions& options,
                                    const Progress& progress);

// One line describing the kernels (or that the backend is not compiled in).
std::string cuda_kernel_summary();

}  // namespace validate
