// Split-KV decode and chunked linear attention kernels for `attnsim validate --backend cuda`.
#include <mma.h>

#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>

#include "validate/cuda/cuda_kernel_util.cuh"
#include "validate/cuda/cuda_kernels.cuh"
#include "validate/cuda/cuda_launch_names.hpp"
#include "validate/cuda/cuda_linear_layout.hpp"

namespace validate::cuda_detail {

namespace {

using namespace nvcuda;

constexpr int kSplitThreads = 128;
constexpr int kLinearThreads = 256;

// ---- Split-KV decode
// ------------------------------------------------------------------------------

struct SplitParams {
  const __half *q, *k, *v;
  float* part;  // [B*Hq][splits][Lq][D + 2]: unnormalised O, then m (log2 domain), l
  int heads, kv_heads, q_len, kv_len, causal, window, splits;
  float scale_log2;
  int v_stride;  // halves between V rows: DV, or D when V is the first DV dims of K (MLA latent)
};

// E consecutive halves from src as floats.
template <int E>
__device__ void load_halves(const __half* src, float (&out)[E]) {
  if constexpr (E % 2 == 0) {
#pragma unroll
    for (int e = 0; e < E; e += 2) {
      const float2 f = __half22float2(reinterpret_cast<const __half2*>(src)[e / 2]);
      out[e] = f.x;
      out[e + 1] = f.y;
    }
  } else {
#pragma unroll
    for (int e = 0; e < E; ++e) out[e] = __half2float(src[e]);
  }
}

// Grid (splits, B*Hq). Each warp walks its share of the split's keys 4 at a time with an online
// softmax (lane l holds K dims [l*E, l*E + E) and V dims [l*EV, l*EV + EV)); the 4 warp states are
// merged into one partial. DV < D is MLA-absorbed decode (K 576 = latent 512 + rope 64, V 512).
template <int D, int DV>
__global__ void __launch_bounds__(kSplitThreads) split_kernel(SplitParams p) {
  constexpr int E = D / 32, EV = DV / 32, kWarps = kSplitThreads / 32, kUnroll = 4;
  __shared__ float sh_m[kWarps], sh_l[kWarps], sh_o[kWarps][DV];
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int split = blockIdx.x, bh = blockIdx.y, b = bh / p.heads, h = bh % p.heads;
  const int kvh = h / (p.heads / p.kv_heads);
  const __half* q = p.q + std::size_t(bh) * p.q_len * D;
  const __half* k = p.k + (std::size_t(b) * p.kv_heads + kvh) * p.kv_len * D;
  const __half* v = p.v + (std::size_t(b) * p.kv_heads + kvh) * p.kv_len * p.v_stride;
  const int offset = p.kv_len - p.q_len;

  // The split boundaries of cpu split_head: keys seen by some row, cut into equal ranges.
  int lo = 0, hi = p.kv_len;
  if (p.causal) {
    const int hi0 = min(max(offset + 1, 0), p.kv_len);
    lo = p.window > 0 ? min(max(offset - p.window + 1, 0), hi0) : 0;
    hi = max(lo, min(max(p.q_len + offset, 0), p.kv_len));
  }
  const long long len = hi - lo;
  const int k0 = lo + static_cast<int>(len * split / p.splits);
  const int k1 = lo + static_cast<int>(len * (split + 1) / p.splits);

  for (int i = 0; i < p.q_len; ++i) {
    float qv[E];
    load_halves<E>(q + std::size_t(i) * D + lane * E, qv);
    for (int e = 0; e < E; ++e) qv[e] *= p.scale_log2;
    int jlo = k0, jhi = k1;
    if (p.causal) {
      jhi = min(jhi, i + offset + 1);
      if (p.window > 0) jlo = max(jlo, i + offset - p.window + 1);
    }
    float m = -INFINITY, l = 0.0f, acc[EV] = {};
    for (int j0 = jlo + warp * kUnroll; j0 < jhi; j0 += kWarps * kUnroll) {
      float x[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {  // j0 + u < jhi is the same for the whole warp
        x[u] = 0.0f;
        if (j0 + u < jhi) {
          float kf[E];
          load_halves<E>(k + std::size_t(j0 + u) * D + lane * E, kf);
          for (int e = 0; e < E; ++e) x[u] += qv[e] * kf[e];
        }
      }
#pragma unroll
      for (int u = 0; u < kUnroll; ++u)
        for (int s = 16; s > 0; s >>= 1) x[u] += __shfl_xor_sync(0xffffffffu, x[u], s);
      float mx = m;
#pragma unroll
      for (int u = 0; u < kUnroll; ++u)
        if (j0 + u < jhi) mx = fmaxf(mx, x[u]);
      const float alpha = exp2f(m - mx);  // mx is finite: key j0 is visible
      l *= alpha;
      for (int e = 0; e < EV; ++e) acc[e] *= alpha;
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) {
        if (j0 + u < jhi) {
          const float pr = exp2f(x[u] - mx);
          float vf[EV];
          load_halves<EV>(v + std::size_t(j0 + u) * p.v_stride + lane * EV, vf);
          l += pr;
          for (int e = 0; e < EV; ++e) acc[e] += pr * vf[e];
        }
      }
      m = mx;
    }
    if (lane == 0) {
      sh_m[warp] = m;
      sh_l[warp] = l;
    }
    for (int e = 0; e < EV; ++e) sh_o[warp][lane * EV + e] = acc[e];
    __syncthreads();
    float M = -INFINITY;
    for (int w = 0; w < kWarps; ++w) M = fmaxf(M, sh_m[w]);
    float* out = p.part + ((std::size_t(bh) * p.splits + split) * p.q_len + i) * (DV + 2);
    for (int c = threadIdx.x; c < DV; c += blockDim.x) {
      float sum = 0.0f;
      if (M != -INFINITY)
        for (int w = 0; w < kWarps; ++w) sum += exp2f(sh_m[w] - M) * sh_o[w][c];
      out[c] = sum;
    }
    if (threadIdx.x == 0) {
      float lsum = 0.0f;
      if (M != -INFINITY)
        for (int w = 0; w < kWarps; ++w) lsum += exp2f(sh_m[w] - M) * sh_l[w];
      out[DV] = M;
      out[DV + 1] = lsum;
    }
    __syncthreads();  // sh_* are reused by the next row
  }
}

// Grid B*Hq: merges the splits' partials with log-sum-exp weights and normalises.
__global__ void combine_kernel(const float* part, float* o, int splits, int q_len, int d) {
  const int bh = blockIdx.x;
  for (int i = 0; i < q_len; ++i) {
    auto slot = [&](int s) {
      return part + ((std::size_t(bh) * splits + s) * q_len + i) * (d + 2);
    };
    float M = -INFINITY;
    for (int s = 0; s < splits; ++s) M = fmaxf(M, slot(s)[d]);
    for (int c = threadIdx.x; c < d; c += blockDim.x) {
      float num = 0.0f, den = 0.0f;
      if (M != -INFINITY) {
        for (int s = 0; s < splits; ++s) {
          const float w = exp2f(slot(s)[d] - M);
          num += w * slot(s)[c];
          den += w * slot(s)[d + 1];
        }
      }
      o[(std::size_t(bh) * q_len + i) * d + c] = den > 0.0f ? num / den : 0.0f;
    }
  }
}

// ---- Chunked linear attention
// ---------------------------------------------------------------------

struct LinearParams {
  const __half *q, *k, *v;
  float* o;
  int tokens, chunk;
  float scale;              // 1/sqrt(dk), applied to q as cpu chunked_linear_attention does
  LinearSmemLayout layout;  // linear_smem_layout(D, chunk), computed on the host
};

std::size_t linear_smem_bytes(int d, int chunk) {
  return linear_smem_layout(d, chunk).bytes;
}

// One CTA per (batch, head), chunks in order. Shared memory (linear_smem_layout): the D x D state
// S, the chunk's masked scores A [C][C], and Q [C][D], K^T [D][C], V [C][D] in half, each half
// tile 16-byte aligned for any chunk.
// o_t = A[t] V + scale * q_t S (earlier chunks), then S += K^T V.
template <int D>
__global__ void __launch_bounds__(kLinearThreads) linear_kernel(LinearParams p) {
  extern __shared__ __align__(16) unsigned char smem[];
  const int C = p.chunk;
  const LinearSmemLayout& layout = p.layout;
  float* st = reinterpret_cast<float*>(smem + layout.state);
  float* a = reinterpret_cast<float*>(smem + layout.scores);
  __half* qs = reinterpret_cast<__half*>(smem + layout.q);
  __half* kt = reinterpret_cast<__half*>(smem + layout.kt);
  __half* vs = reinterpret_cast<__half*>(smem + layout.v);
  const std::size_t base = std::size_t(blockIdx.x) * p.tokens * D;
  const __half *q = p.q + base, *k = p.k + base, *v = p.v + base;
  float* o = p.o + base;

  for (int i = threadIdx.x; i < D * D; i += blockDim.x) st[i] = 0.0f;
  for (int c0 = 0; c0 < p.tokens; c0 += C) {
    const int n = min(C, p.tokens - c0);
    load_rows<D>(qs, D, q, c0, p.tokens, n);
    load_rows<D>(vs, D, v, c0, p.tokens, n);
    for (int idx = threadIdx.x; idx < n * D; idx += blockDim.x)
      kt[(idx % D) * C + idx / D] = k[std::size_t(c0) * D + idx];
    __syncthreads();
    for (int idx = threadIdx.x; idx < n * n; idx += blockDim.x) {
      const int t = idx / n, j = idx % n;
      float dot = 0.0f;
      if (j <= t) {  // token t sees chunk tokens j <= t
        for (int r = 0; r < D; ++r)
          dot += __half2float(qs[t * D + r]) * __half2float(kt[r * C + j]);
      }
      a[t * C + j] = dot * p.scale;
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < n * D; idx += blockDim.x) {
      const int t = idx / D, c = idx % D;
      float intra = 0.0f, inter = 0.0f;
      for (int j = 0; j <= t; ++j) intra += a[t * C + j] * __half2float(vs[j * D + c]);
      for (int r = 0; r < D; ++r) inter += __half2float(qs[t * D + r]) * st[r * D + c];
      o[std::size_t(c0 + t) * D + c] = intra + p.scale * inter;
    }
    __syncthreads();
    for (int idx = threadIdx.x; idx < D * D; idx += blockDim.x) {
      const int r = idx / D, c = idx % D;
      float sum = 0.0f;
      for (int t = 0; t < n; ++t) sum += __half2float(kt[r * C + t]) * __half2float(vs[t * D + c]);
      st[idx] += sum;
    }
    __syncthreads();
  }
}

}  // namespace

std::size_t split_kv_scratch_floats(const AttnDims& d, int splits) {
  const int dv = d.v_head_dim > 0 ? d.v_head_dim : d.head_dim;
  return std::size_t(d.batch) * d.heads * splits * d.q_len * (dv + 2);
}

namespace {

template <int D, int DV>
void launch_split_kv_dims(const AttnDims& d, int splits, const __half* q, const __half* k,
                          const __half* v, float* scratch, float* o, cudaStream_t stream) {
  const SplitParams p{q,
                      k,
                      v,
                      scratch,
                      d.heads,
                      d.kv_heads,
                      d.q_len,
                      d.kv_len,
                      d.causal,
                      d.window,
                      splits,
                      1.4426950408889634f / std::sqrt(float(D)),
                      d.v_stride > 0 ? d.v_stride : DV};
  split_kernel<D, DV><<<dim3(splits, d.batch * d.heads), kSplitThreads, 0, stream>>>(p);
  launched(kSplitLaunch, d.blocking, stream);
  mark(d.marks, kSplitLaunch, stream);
  combine_kernel<<<d.batch * d.heads, 128, 0, stream>>>(scratch, o, splits, d.q_len, DV);
  launched(kCombineLaunch, d.blocking, stream);
  mark(d.marks, kCombineLaunch, stream);
}

}  // namespace

void launch_split_kv(const AttnDims& d, int splits, const __half* q, const __half* k,
                     const __half* v, float* scratch, float* o, cudaStream_t stream) {
  if (d.block_stride > 0)
    throw std::invalid_argument("CUDA split_kv: block_stride " + std::to_string(d.block_stride) +
                                " is not supported (only flash and unfused take a block-sparse "
                                "mask)");
  const int dv = d.v_head_dim > 0 ? d.v_head_dim : d.head_dim;
  if (d.head_dim == kMlaHeadDim && dv == kMlaVHeadDim) {
    launch_split_kv_dims<kMlaHeadDim, kMlaVHeadDim>(d, splits, q, k, v, scratch, o, stream);
    return;
  }
  if (dv != d.head_dim)
    throw std::invalid_argument("CUDA split_kv: v_head_dim " + std::to_string(dv) +
                                " != head_dim " + std::to_string(d.head_dim) +
                                " is supported only for MLA (576 / 512)");
  with_head_dim(d.head_dim, [&](auto dim) {
    constexpr int D = decltype(dim)::value;
    launch_split_kv_dims<D, D>(d, splits, q, k, v, scratch, o, stream);
  });
}

void prepare_linear(const LinearDims& d) {
  with_head_dim(d.dim, [&](auto dim) {
    constexpr int D = decltype(dim)::value;
    const std::size_t bytes = linear_smem_bytes(D, d.chunk);
    require_smem(bytes, "linear_kernel");
    ATTNSIM_CUDA_CHECK(cudaFuncSetAttribute(
        linear_kernel<D>, cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(bytes)));
  });
}

void launch_linear(const LinearDims& d, const __half* q, const __half* k, const __half* v, float* o,
                   cudaStream_t stream) {
  with_head_dim(d.dim, [&](auto dim) {
    constexpr int D = decltype(dim)::value;
    const LinearParams p{
        q, k, v, o, d.tokens, d.chunk, 1.0f / std::sqrt(float(D)), linear_smem_layout(D, d.chunk)};
    linear_kernel<D>
        <<<d.batch * d.heads, kLinearThreads, linear_smem_bytes(D, d.chunk), stream>>>(p);
    launched("linear_kernel", d.blocking, stream);
  });
}

}  // namespace validate::cuda_detail
