// The kernels behind `attnsim validate --backend cuda`; see cuda_kernels.cuh.
#include <mma.h>

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "validate/cuda/cuda_kernel_util.cuh"
#include "validate/cuda/cuda_kernels.cuh"

namespace validate::cuda_detail {

namespace {

using namespace nvcuda;

constexpr int kBlockM = 64;  // query rows per flash CTA (16 per warp)
constexpr int kBlockN = 64;  // keys per K/V tile
constexpr int kFlashThreads = 128;

__global__ void to_half_kernel(const float* in, __half* out, std::size_t n) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += stride)
    out[i] = __float2half_rn(in[i]);
}

// Reads the whole buffer (16 bytes per load) so that it displaces every L2 line; writes only
// when an impossible sum turns up, so that the loads are kept and nothing is left dirty in L2.
__global__ void read_flush_kernel(const uint4* buffer, std::size_t n, unsigned* sink) {
  const std::size_t stride = static_cast<std::size_t>(gridDim.x) * blockDim.x;
  unsigned acc = 0;
  for (std::size_t i = blockIdx.x * static_cast<std::size_t>(blockDim.x) + threadIdx.x; i < n;
       i += stride) {
    const uint4 v = buffer[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x9e3779b9u) *sink = acc;
}

// ---- FlashAttention-2 forward
// --------------------------------------------------------------------

struct FlashParams {
  const __half *q, *k, *v;
  float* o;
  int heads, kv_heads, q_len, kv_len, causal, window;
  int block_stride;  // strided block-sparse mask over 64-wide blocks (kBlockM = kBlockN = 64)
  float scale_log2;  // log2(e) / sqrt(d): scores live in the log2 domain, exp2f does the exp
};

// Shared memory of one CTA. Leading dims are padded (WMMA needs multiples of 8 halves / 4 floats
// and 32-byte aligned tiles; the padding also staggers banks).
template <int D>
struct FlashSmem {
  static constexpr int kLdH = D + 8;        // Q, K, V tiles (half)
  static constexpr int kLdS = kBlockN + 4;  // scores (float)
  static constexpr int kLdP = kBlockN + 8;  // probabilities (half)
  static constexpr int kLdO = D + 4;        // output accumulator (float)
  static constexpr std::size_t q = 0;
  static constexpr std::size_t k = q + kBlockM * kLdH * 2;
  static constexpr std::size_t v = k + kBlockN * kLdH * 2;
  static constexpr std::size_t s = v + kBlockN * kLdH * 2;
  static constexpr std::size_t p = s + kBlockM * kLdS * 4;
  static constexpr std::size_t o = p + kBlockM * kLdP * 2;
  static constexpr std::size_t ml = o + kBlockM * kLdO * 4;
  static constexpr std::size_t bytes = ml + 2 * kBlockM * 4;
};

// One CTA per (64-row query block, batch * head); warp w owns rows [16w, 16w + 16). The output
// accumulator stays in shared memory (WMMA fragments have no defined row mapping, and the online
// softmax must rescale rows), loaded into fragments for each P V product.
template <int D>
__global__ void __launch_bounds__(kFlashThreads) flash_kernel(FlashParams p) {
  using L = FlashSmem<D>;
  extern __shared__ __align__(128) unsigned char smem[];
  __half* qs = reinterpret_cast<__half*>(smem + L::q);
  __half* ks = reinterpret_cast<__half*>(smem + L::k);
  __half* vs = reinterpret_cast<__half*>(smem + L::v);
  float* ss = reinterpret_cast<float*>(smem + L::s);
  __half* ps = reinterpret_cast<__half*>(smem + L::p);
  float* os = reinterpret_cast<float*>(smem + L::o);
  float* m_s = reinterpret_cast<float*>(smem + L::ml);
  float* l_s = m_s + kBlockM;

  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, wrow = warp * 16;
  const int bh = blockIdx.y, b = bh / p.heads, h = bh % p.heads;
  const int kvh = h / (p.heads / p.kv_heads);  // GQA: consecutive query heads share a kv head
  const int q0 = blockIdx.x * kBlockM, rows = min(kBlockM, p.q_len - q0);
  const int offset = p.kv_len - p.q_len;  // causal queries are aligned to the end of the keys
  const __half* q = p.q + std::size_t(bh) * p.q_len * D;
  const __half* k = p.k + (std::size_t(b) * p.kv_heads + kvh) * p.kv_len * D;
  const __half* v = p.v + (std::size_t(b) * p.kv_heads + kvh) * p.kv_len * D;
  float* o = p.o + std::size_t(bh) * p.q_len * D;

  // Keys [lo, hi) that some row of the block sees; tiles outside are skipped.
  int lo = 0, hi = p.kv_len;
  if (p.causal) {
    hi = min(max(q0 + rows + offset, 0), p.kv_len);
    if (p.window > 0) lo = min(max(q0 + offset - p.window + 1, 0), hi);
  }

  load_rows<D>(qs, L::kLdH, q, q0, p.q_len, kBlockM);
  for (int i = threadIdx.x; i < kBlockM * L::kLdO; i += blockDim.x) os[i] = 0.0f;
  if (threadIdx.x < kBlockM) {
    m_s[threadIdx.x] = -INFINITY;
    l_s[threadIdx.x] = 0.0f;
  }
  __syncthreads();

  for (int k0 = lo / kBlockN * kBlockN; k0 < hi; k0 += kBlockN) {
    // Block-sparse: the whole 64x64 tile is visible or not (uniform across the CTA).
    const int kb = k0 / kBlockN;
    if (p.block_stride > 0 && kb != 0 && (static_cast<int>(blockIdx.x) - kb) % p.block_stride != 0)
      continue;
    load_rows<D>(ks, L::kLdH, k, k0, p.kv_len, kBlockN);
    load_rows<D>(vs, L::kLdH, v, k0, p.kv_len, kBlockN);
    __syncthreads();

    // S = Q K^T for this warp's 16 rows: K row-major [key][d] is K^T in column-major.
#pragma unroll
    for (int j = 0; j < kBlockN / 16; ++j) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::fill_fragment(acc, 0.0f);
#pragma unroll
      for (int kk = 0; kk < D / 16; ++kk) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> bt;
        wmma::load_matrix_sync(a, qs + wrow * L::kLdH + kk * 16, L::kLdH);
        wmma::load_matrix_sync(bt, ks + j * 16 * L::kLdH + kk * 16, L::kLdH);
        wmma::mma_sync(acc, a, bt, acc);
      }
      wmma::store_matrix_sync(ss + wrow * L::kLdS + j * 16, acc, L::kLdS, wmma::mem_row_major);
    }
    __syncwarp();

    // Online softmax in float, one row at a time, two columns per lane.
    for (int r = 0; r < 16; ++r) {
      const int row = wrow + r, i = q0 + row, last = i + offset;
      float x[2];
#pragma unroll
      for (int t = 0; t < 2; ++t) {
        const int c = lane + 32 * t, j = k0 + c;
        bool visible = i < p.q_len && j < p.kv_len;
        if (p.causal) visible = visible && j <= last && (p.window <= 0 || j > last - p.window);
        x[t] = visible ? ss[row * L::kLdS + c] * p.scale_log2 : -INFINITY;
      }
      float mx = fmaxf(x[0], x[1]);
      for (int s = 16; s > 0; s >>= 1) mx = fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, s));
      const float m_old = m_s[row], m_new = fmaxf(m_old, mx);
      const float ref = m_new == -INFINITY ? 0.0f : m_new;  // all masked so far: exp2(-inf) = 0
      const float alpha = exp2f(m_old - ref);
      float sum = 0.0f;
#pragma unroll
      for (int t = 0; t < 2; ++t) {
        const float pr = exp2f(x[t] - ref);
        ps[row * L::kLdP + lane + 32 * t] = __float2half_rn(pr);
        sum += pr;
      }
      for (int s = 16; s > 0; s >>= 1) sum += __shfl_xor_sync(0xffffffffu, sum, s);
      __syncwarp();  // every lane has read m_s[row] before lane 0 replaces it
      if (lane == 0) {
        m_s[row] = m_new;
        l_s[row] = l_s[row] * alpha + sum;
      }
      for (int c = lane; c < D; c += 32) os[row * L::kLdO + c] *= alpha;
    }
    __syncwarp();

    // O += P V (V row-major [key][d] is the row-major B operand).
#pragma unroll
    for (int n = 0; n < D / 16; ++n) {
      wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
      wmma::load_matrix_sync(acc, os + wrow * L::kLdO + n * 16, L::kLdO, wmma::mem_row_major);
#pragma unroll
      for (int kk = 0; kk < kBlockN / 16; ++kk) {
        wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
        wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::row_major> bv;
        wmma::load_matrix_sync(a, ps + wrow * L::kLdP + kk * 16, L::kLdP);
        wmma::load_matrix_sync(bv, vs + kk * 16 * L::kLdH + n * 16, L::kLdH);
        wmma::mma_sync(acc, a, bv, acc);
      }
      wmma::store_matrix_sync(os + wrow * L::kLdO + n * 16, acc, L::kLdO, wmma::mem_row_major);
    }
    __syncthreads();  // the next tile overwrites K and V
  }
  __syncwarp();

  for (int r = 0; r < 16; ++r) {
    const int row = wrow + r, i = q0 + row;
    if (i >= p.q_len) break;
    const float l = l_s[row], inv = l > 0.0f ? 1.0f / l : 0.0f;  // no visible key: zeros
    for (int c = lane; c < D; c += 32) o[std::size_t(i) * D + c] = os[row * L::kLdO + c] * inv;
  }
}

}  // namespace

void convert_to_half(const float* in, __half* out, std::size_t n, cudaStream_t stream) {
  to_half_kernel<<<1024, 256, 0, stream>>>(in, out, n);
  ATTNSIM_CUDA_LAUNCHED("to_half_kernel");
}

void flush_l2(const void* buffer, std::size_t bytes, unsigned* sink, cudaStream_t stream) {
  read_flush_kernel<<<1024, 256, 0, stream>>>(static_cast<const uint4*>(buffer), bytes / 16, sink);
  ATTNSIM_CUDA_LAUNCHED("read_flush_kernel");
}

void prepare_flash(const AttnDims& d) {
  with_head_dim(d.head_dim, [&](auto dim) {
    constexpr int D = decltype(dim)::value;
    require_smem(FlashSmem<D>::bytes, "flash_kernel");
    ATTNSIM_CUDA_CHECK(cudaFuncSetAttribute(flash_kernel<D>,
                                            cudaFuncAttributeMaxDynamicSharedMemorySize,
                                            static_cast<int>(FlashSmem<D>::bytes)));
  });
}

void launch_flash(const AttnDims& d, const __half* q, const __half* k, const __half* v, float* o,
                  cudaStream_t stream) {
  with_head_dim(d.head_dim, [&](auto dim) {
    constexpr int D = decltype(dim)::value;
    const FlashParams p{q,
                        k,
                        v,
                        o,
                        d.heads,
                        d.kv_heads,
                        d.q_len,
                        d.kv_len,
                        d.causal,
                        d.window,
                        d.block_stride,
                        1.4426950408889634f / std::sqrt(float(D))};
    const dim3 grid((d.q_len + kBlockM - 1) / kBlockM, d.batch * d.heads);
    flash_kernel<D><<<grid, kFlashThreads, FlashSmem<D>::bytes, stream>>>(p);
    launched("flash_kernel", d.blocking, stream);
  });
}

}  // namespace validate::cuda_detail
