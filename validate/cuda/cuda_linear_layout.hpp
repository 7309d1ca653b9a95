// Shared-memory layout of the CUDA chunked linear-attention kernel (cuda_decode.cu), in a plain
// header so that the CPU tests can check it. Q and V tiles are filled with 16-byte stores
// (load_rows in cuda_kernel_util.cuh), so every half tile starts on a 16-byte boundary whatever
// the chunk: the float scores tile before them (chunk x chunk) is padded up to 16 bytes, which an
// odd chunk needs (chunk^2 * 4 bytes is then 4 mod 16).
#pragma once

#include <cstddef>

namespace validate::cuda_detail {

struct LinearSmemLayout {
  std::size_t state = 0;   // float [d][d]
  std::size_t scores = 0;  // float [chunk][chunk]
  std::size_t q = 0;       // half [chunk][d]
  std::size_t kt = 0;      // half [d][chunk]
  std::size_t v = 0;       // half [chunk][d]
  std::size_t bytes = 0;   // total
};

constexpr std::size_t round_up_16(std::size_t bytes) {
  return (bytes + 15) / 16 * 16;
}

// `d` is a supported head dim (a multiple of 8), so the half tiles keep the alignment of q.
constexpr LinearSmemLayout linear_smem_layout(int d, int chunk) {
  const std::size_t dd = static_cast<std::size_t>(d), c = static_cast<std::size_t>(chunk);
  LinearSmemLayout l;
  l.state = 0;
  l.scores = l.state + dd * dd * 4;
  l.q = round_up_16(l.scores + c * c * 4);
  l.kt = round_up_16(l.q + c * dd * 2);
  l.v = round_up_16(l.kt + dd * c * 2);
  l.bytes = l.v + c * dd * 2;
  return l;
}

}  // namespace validate::cuda_detail
