// Helpers shared by the CUDA kernel files (internal to validate/).
#pragma once

#include <cstddef>
#include <string>
#include <type_traits>

#include "validate/cuda/cuda_kernels.cuh"

namespace validate::cuda_detail {

// Runs f(std::integral_constant<int, D>) for the supported head dims.
template <typename F>
void with_head_dim(int d, F&& f) {
  switch (d) {
    case 32:
      return f(std::integral_constant<int, 32>{});
    case 64:
      return f(std::integral_constant<int, 64>{});
    case 128:
      return f(std::integral_constant<int, 128>{});
    default:
      throw std::invalid_argument("CUDA backend: head_dim " + std::to_string(d) +
                                  " is not supported (32, 64 or 128)");
  }
}

// The most dynamic shared memory a block may opt in to on the current device.
inline int max_optin_smem() {
  int device = 0, bytes = 0;
  ATTNSIM_CUDA_CHECK(cudaGetDevice(&device));
  ATTNSIM_CUDA_CHECK(
      cudaDeviceGetAttribute(&bytes, cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
  return bytes;
}

inline void require_smem(std::size_t bytes, const char* kernel) {
  const int limit = max_optin_smem();
  if (bytes > static_cast<std::size_t>(limit))
    throw std::runtime_error(std::string(kernel) + " needs " + std::to_string(bytes) +
                             " bytes of shared memory per block; this device allows " +
                             std::to_string(limit));
}

// Copies rows [row0, row0 + rows) of a [len][D] half matrix into shared memory (leading dim ld),
// 8 halves per load; rows past len are zeros.
template <int D>
__device__ void load_rows(__half* dst, int ld, const __half* src, int row0, int len, int rows) {
  constexpr int kVecs = D / 8;
  for (int idx = threadIdx.x; idx < rows * kVecs; idx += blockDim.x) {
    const int r = idx / kVecs, c = (idx % kVecs) * 8;
    uint4 val = make_uint4(0, 0, 0, 0);
    if (row0 + r < len) val = *reinterpret_cast<const uint4*>(src + std::size_t(row0 + r) * D + c);
    *reinterpret_cast<uint4*>(dst + r * ld + c) = val;
  }
}

}  // namespace validate::cuda_detail
