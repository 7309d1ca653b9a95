// Names of the launches of this project's multi-launch CUDA cases (cuda_unfused.cu, cuda_decode.cu)
// as the runner marks them when it times each launch apart (LaunchMarks in cuda_kernels.cuh), in
// a plain header so that the CPU tests can check them against the names the model gives the same
// launches (sim/schedule_project_cuda*.cpp): a launch is compared with the model's of its name.
#pragma once

namespace validate::cuda_detail {

inline constexpr const char* kScoresGemmLaunch = "scores_gemm";  // cuBLAS S^T = K Q^T
inline constexpr const char* kSoftmaxLaunch = "softmax_kernel";  // masked row softmax into P
inline constexpr const char* kPvGemmLaunch = "pv_gemm";          // cuBLAS O^T = V^T P^T
inline constexpr const char* kSplitLaunch = "split_kernel";      // split-KV partials
inline constexpr const char* kCombineLaunch = "combine_kernel";  // log-sum-exp combine

}  // namespace validate::cuda_detail
