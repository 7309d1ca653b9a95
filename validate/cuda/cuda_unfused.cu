// The unfused attention baseline for `attnsim validate --backend cuda`; see cuda_kernels.cuh.
#include <cublas_v2.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "validate/cuda/cuda_kernels.cuh"
#include "validate/cuda/cuda_launch_names.hpp"

namespace validate::cuda_detail {

namespace {

constexpr int kSoftmaxThreads = 256;
constexpr int kSparseBlock = 64;  // block width of the block_stride rule (cpu_attention.hpp)

void check_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuBLAS error: ") + cublasGetStatusString(status) +
                             " in `" + call + "` at " + file + ":" + std::to_string(line));
}
#define ATTNSIM_CUBLAS_CHECK(call) check_cublas((call), #call, __FILE__, __LINE__)

__device__ float block_reduce(float x, float* scratch, bool is_max) {
  for (int s = 16; s > 0; s >>= 1) {
    const float y = __shfl_xor_sync(0xffffffffu, x, s);
    x = is_max ? fmaxf(x, y) : x + y;
  }
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  __syncthreads();  // scratch may still be read by the previous reduction
  if (lane == 0) scratch[warp] = x;
  __syncthreads();
  x = is_max ? -INFINITY : 0.0f;
  for (int w = 0; w < static_cast<int>(blockDim.x / 32); ++w)
    x = is_max ? fmaxf(x, scratch[w]) : x + scratch[w];
  return x;
}

// One CTA per score row (batch, head, query i): masked softmax of S (already scaled by 1/sqrt(d)
// in the GEMM) into P as fp16. The mask is the rule of cpu_attention.hpp: causal queries aligned
// to the end of the keys, an optional window, an optional block stride. A row that sees no key is
// all zeros.
__global__ void __launch_bounds__(kSoftmaxThreads)
    softmax_kernel(const float* s, __half* p, int q_len, int kv_len, int causal, int window,
                   int block_stride) {
  __shared__ float scratch[kSoftmaxThreads / 32];
  const std::size_t row = blockIdx.x;
  const int i = static_cast<int>(row % q_len), last = i + (kv_len - q_len);
  const float* sr = s + row * kv_len;
  __half* pr = p + row * kv_len;
  auto visible = [&](int j) {
    if (block_stride > 0 && j / kSparseBlock != 0 &&
        (i / kSparseBlock - j / kSparseBlock) % block_stride != 0)
      return false;
    return !causal || (j <= last && (window <= 0 || j > last - window));
  };
  float mx = -INFINITY;
  for (int j = threadIdx.x; j < kv_len; j += blockDim.x)
    if (visible(j)) mx = fmaxf(mx, sr[j]);
  mx = block_reduce(mx, scratch, true);
  const float ref = mx == -INFINITY ? 0.0f : mx;
  float sum = 0.0f;
  for (int j = threadIdx.x; j < kv_len; j += blockDim.x)
    if (visible(j)) sum += expf(sr[j] - ref);
  sum = block_reduce(sum, scratch, false);
  const float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
  for (int j = threadIdx.x; j < kv_len; j += blockDim.x)
    pr[j] = __float2half_rn(visible(j) ? expf(sr[j] - ref) * inv : 0.0f);
}

}  // namespace

Unfused::Unfused(const AttnDims& d, cudaStream_t stream) : d_(d), stream_(stream) {
  if (d.head_dim % 8 != 0)
    throw std::invalid_argument("CUDA unfused: head_dim must be a multiple of 8");
  const std::size_t scores = std::size_t(d.batch) * d.heads * d.q_len * d.kv_len;
  cublasHandle_t handle = nullptr;
  ATTNSIM_CUBLAS_CHECK(cublasCreate(&handle));
  handle_ = handle;
  try {
    ATTNSIM_CUBLAS_CHECK(cublasSetStream(handle, stream));
    ATTNSIM_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&s_), scores * sizeof(float)));
    ATTNSIM_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&p_), scores * sizeof(__half)));
  } catch (...) {
    if (s_ != nullptr) cudaFree(s_);
    cublasDestroy(handle);
    throw;
  }
}

Unfused::~Unfused() {
  cudaFree(p_);
  cudaFree(s_);
  cublasDestroy(static_cast<cublasHandle_t>(handle_));
}

void Unfused::launch(const __half* q, const __half* k, const __half* v, float* o) {
  auto handle = static_cast<cublasHandle_t>(handle_);
  const int group = d_.heads / d_.kv_heads, d = d_.head_dim, lk = d_.kv_len;
  const int rows = group * d_.q_len;  // query rows that share one kv head
  const int batches = d_.batch * d_.kv_heads;
  const float scale = 1.0f / std::sqrt(static_cast<float>(d)), one = 1.0f, zero = 0.0f;
  // Row-major X (r x c) is column-major X^T. S^T (lk x rows) = K (lk x d, stored as K^T) x Q^T.
  ATTNSIM_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      handle, CUBLAS_OP_T, CUBLAS_OP_N, lk, rows, d, &scale, k, CUDA_R_16F, d,
      static_cast<long long>(lk) * d, q, CUDA_R_16F, d, static_cast<long long>(rows) * d, &zero, s_,
      CUDA_R_32F, lk, static_cast<long long>(rows) * lk, batches, CUBLAS_COMPUTE_32F,
      CUBLAS_GEMM_DEFAULT));
  mark(d_.marks, kScoresGemmLaunch, stream_);
  const unsigned grid = static_cast<unsigned>(std::size_t(d_.batch) * d_.heads * d_.q_len);
  softmax_kernel<<<grid, kSoftmaxThreads, 0, stream_>>>(s_, p_, d_.q_len, lk, d_.causal, d_.window,
                                                        d_.block_stride);
  launched(kSoftmaxLaunch, d_.blocking, stream_);
  mark(d_.marks, kSoftmaxLaunch, stream_);
  // O^T (d x rows) = V^T (d x lk) x P^T (lk x rows).
  ATTNSIM_CUBLAS_CHECK(cublasGemmStridedBatchedEx(
      handle, CUBLAS_OP_N, CUBLAS_OP_N, d, rows, lk, &one, v, CUDA_R_16F, d,
      static_cast<long long>(lk) * d, p_, CUDA_R_16F, lk, static_cast<long long>(rows) * lk, &zero,
      o, CUDA_R_32F, d, static_cast<long long>(rows) * d, batches, CUBLAS_COMPUTE_32F,
      CUBLAS_GEMM_DEFAULT));
  mark(d_.marks, kPvGemmLaunch, stream_);
}

}  // namespace validate::cuda_detail
