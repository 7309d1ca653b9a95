// Latency probe for the tile engine's latency terms (sim/schedule_project_latency.hpp): dependent
// chains timed with clock64() on one thread, and the SM clock read as clock64() cycles over
// %globaltimer nanoseconds inside the same kernel. Standalone (no project code):
//
//   nvcc -O3 -arch=sm_90 -o latency validate/probes/latency.cu && ./latency
//
// Prints one "name value unit" line per figure. Chains: global memory past L2 (a 1 GiB buffer
// walked with a 512-byte stride, each line touched once), L2 hits (an 8 MiB buffer walked twice,
// the second walk timed), shared memory, a warp shuffle, exp2f, an FMA, a WMMA 16x16x16 product
// (alone, and with its accumulator stored to and loaded from shared memory in between); then an
// L1 hit (a 16 KiB walk through ld.global.ca) and the read bandwidth of one SM, of 8 and of all.
#include <cuda_fp16.h>
#include <cuda_runtime.h>
#include <mma.h>

#include <cstdio>
#include <cstdlib>
#include <vector>

#define CHECK(x)                                                    \
  do {                                                              \
    cudaError_t e_ = (x);                                           \
    if (e_ != cudaSuccess) {                                        \
      std::fprintf(stderr, "%s: %s\n", #x, cudaGetErrorString(e_)); \
      std::exit(1);                                                 \
    }                                                               \
  } while (0)

__device__ unsigned long long global_ns() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}

struct Timing {
  unsigned long long cycles, ns;
  unsigned sink;
};

// Walks `steps` links of next[] from 0; `warm` walks are untimed first.
__global__ void chase(const unsigned* next, int steps, int warm, Timing* out) {
  unsigned j = 0;
  for (int w = 0; w < warm; ++w)
    for (int i = 0; i < steps; ++i) j = next[j];
  const unsigned warmed = j;  // kept (in the sink) so that the compiler keeps the warming walk
  j = 0;
  const unsigned long long c0 = clock64(), t0 = global_ns();
  for (int i = 0; i < steps; ++i) j = __ldcg(next + j);
  const unsigned long long c1 = clock64(), t1 = global_ns();
  *out = {c1 - c0, t1 - t0, j ^ warmed};
}

// The same walk through L1 (ld.global.ca), for a buffer that fits it, after a warming walk.
__global__ void chase_l1(const unsigned* next, int steps, Timing* out) {
  unsigned j = 0;
  for (int i = 0; i < steps; ++i) j = __ldca(next + j);
  const unsigned warmed = j;  // kept, as in chase
  j = 0;
  const unsigned long long c0 = clock64(), t0 = global_ns();
  for (int i = 0; i < steps; ++i) j = __ldca(next + j);
  const unsigned long long c1 = clock64(), t1 = global_ns();
  *out = {c1 - c0, t1 - t0, j ^ warmed};
}

// Streams `n` 16-byte vectors with `gridDim.x` CTAs of 1024 threads, four loads in flight per
// thread: one SM's load bandwidth (one CTA) or the device's (every SM).
__global__ void stream_read(const uint4* p, std::size_t n, unsigned* sink) {
  const std::size_t stride = std::size_t(gridDim.x) * blockDim.x;
  unsigned acc = 0;
  std::size_t i = std::size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  for (; i + 3 * stride < n; i += 4 * stride) {
    const uint4 a = p[i], b = p[i + stride], c = p[i + 2 * stride], d = p[i + 3 * stride];
    // Every component used, so that the loads stay 16 bytes wide.
    acc ^= a.x ^ a.y ^ a.z ^ a.w ^ b.x ^ b.y ^ b.z ^ b.w ^ c.x ^ c.y ^ c.z ^ c.w ^ d.x ^ d.y ^ d.z ^
           d.w;
  }
  if (acc == 0x9e3779b9u) *sink = acc;
}

__global__ void chase_shared(int steps, Timing* out) {
  __shared__ unsigned next[1024];
  for (int i = threadIdx.x; i < 1024; i += blockDim.x) next[i] = (i + 33) % 1024;
  __syncthreads();
  if (threadIdx.x != 0) return;
  unsigned j = 0;
  const unsigned long long c0 = clock64(), t0 = global_ns();
  for (int i = 0; i < steps; ++i) j = next[j];
  const unsigned long long c1 = clock64(), t1 = global_ns();
  *out = {c1 - c0, t1 - t0, j};
}

__global__ void chase_shuffle(int steps, Timing* out) {
  float x = threadIdx.x;
  const unsigned long long c0 = clock64(), t0 = global_ns();
  for (int i = 0; i < steps; ++i) x = __shfl_xor_sync(0xffffffffu, x, 1 + (i & 15)) + 1.0f;
  const unsigned long long c1 = clock64(), t1 = global_ns();
  if (threadIdx.x == 0) *out = {c1 - c0, t1 - t0, static_cast<unsigned>(x)};
}

__global__ void chase_exp(int steps, float seed, Timing* out) {
  float x = seed;
  const unsigned long long c0 = clock64(), t0 = global_ns();
  for (int i = 0; i < steps; ++i) x = exp2f(x) * -0.5f;
  const unsigned long long c1 = clock64(), t1 = global_ns();
  *out = {c1 - c0, t1 - t0, static_cast<unsigned>(x * 1000)};
}

__global__ void chase_fma(int steps, float seed, Timing* out) {
  float x = seed;
  const unsigned long long c0 = clock64(), t0 = global_ns();
  for (int i = 0; i < steps; ++i) x = fmaf(x, 0.999f, 0.001f);
  const unsigned long long c1 = clock64(), t1 = global_ns();
  *out = {c1 - c0, t1 - t0, static_cast<unsigned>(x * 1000)};
}

// One warp: dependent WMMA 16x16x16 (fp16 in, fp32 accumulate) products, the accumulator the
// chain; and the accumulator stored to and loaded back from shared memory between products.
__global__ void chase_wmma(int steps, int through_smem, Timing* out) {
  using namespace nvcuda;
  __shared__ __align__(32) __half a_s[16 * 16], b_s[16 * 16];
  __shared__ __align__(32) float c_s[16 * 16];
  for (int i = threadIdx.x; i < 256; i += 32) {
    a_s[i] = __float2half(0.01f * (i % 7));
    b_s[i] = __float2half(0.01f * (i % 5));
  }
  __syncwarp();
  wmma::fragment<wmma::matrix_a, 16, 16, 16, __half, wmma::row_major> a;
  wmma::fragment<wmma::matrix_b, 16, 16, 16, __half, wmma::col_major> b;
  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc;
  wmma::load_matrix_sync(a, a_s, 16);
  wmma::load_matrix_sync(b, b_s, 16);
  wmma::fill_fragment(acc, 0.0f);
  const unsigned long long c0 = clock64(), t0 = global_ns();
  for (int i = 0; i < steps; ++i) {
    wmma::mma_sync(acc, a, b, acc);
    if (through_smem) {
      wmma::store_matrix_sync(c_s, acc, 16, wmma::mem_row_major);
      __syncwarp();
      wmma::load_matrix_sync(acc, c_s, 16, wmma::mem_row_major);
    }
  }
  const unsigned long long c1 = clock64(), t1 = global_ns();
  if (threadIdx.x == 0) *out = {c1 - c0, t1 - t0, static_cast<unsigned>(acc.x[0])};
}

// Every SM busy for about `spin_ns`: the clock under full load.
__global__ void spin_all(unsigned long long spin_ns, Timing* out) {
  const unsigned long long c0 = clock64(), t0 = global_ns();
  unsigned long long t1 = t0;
  while (t1 - t0 < spin_ns) t1 = global_ns();
  const unsigned long long c1 = clock64();
  if (blockIdx.x == 0 && threadIdx.x == 0) *out = {c1 - c0, t1 - t0, 0};
}

static void report(const char* name, const Timing& t, int steps) {
  const double per = double(t.cycles) / steps;
  const double ghz = double(t.cycles) / double(t.ns);
  std::printf("%-22s %8.1f cycles  %8.1f ns   (SM clock %.3f GHz)\n", name, per, per / ghz, ghz);
}

static std::vector<unsigned> strided_ring(std::size_t words, std::size_t stride_words) {
  std::vector<unsigned> next(words, 0);
  const std::size_t links = words / stride_words;
  for (std::size_t i = 0; i < links; ++i)
    next[i * stride_words] = static_cast<unsigned>(((i + 1) % links) * stride_words);
  return next;
}

int main() {
  cudaDeviceProp prop{};
  CHECK(cudaGetDeviceProperties(&prop, 0));
  std::printf("device %s, %d SMs, L2 %d B\n", prop.name, prop.multiProcessorCount,
              prop.l2CacheSize);
  Timing* d_t = nullptr;
  CHECK(cudaMalloc(&d_t, sizeof(Timing)));
  Timing t{};
  auto fetch = [&] {
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    CHECK(cudaMemcpy(&t, d_t, sizeof(Timing), cudaMemcpyDeviceToHost));
  };

  spin_all<<<prop.multiProcessorCount * 4, 256>>>(20000000ull, d_t);  // 20 ms: clocks up
  fetch();
  report("clock_under_load", Timing{t.cycles, t.ns, 0}, 1);

  const std::size_t stride = 512 / 4;
  const std::size_t big = (std::size_t(1) << 30) / 4, small = (std::size_t(8) << 20) / 4;
  struct Chain {
    const char* name;
    std::size_t words;
    int warm, steps;
  };
  for (const Chain& c :
       {Chain{"global_past_l2", big, 0, 20000}, Chain{"l2_hit", small, 1, 16384}}) {
    const auto [name, words, warm, steps] = c;
    std::vector<unsigned> h = strided_ring(words, stride);
    unsigned* d = nullptr;
    CHECK(cudaMalloc(&d, words * 4));
    CHECK(cudaMemcpy(d, h.data(), words * 4, cudaMemcpyHostToDevice));
    spin_all<<<prop.multiProcessorCount, 32>>>(5000000ull, d_t);
    chase<<<1, 1>>>(d, steps, warm, d_t);
    fetch();
    report(name, t, steps);
    CHECK(cudaFree(d));
  }
  {
    const std::size_t words = (16 << 10) / 4;  // 16 KiB: fits L1
    std::vector<unsigned> h = strided_ring(words, 128 / 4);
    unsigned* d = nullptr;
    CHECK(cudaMalloc(&d, words * 4));
    CHECK(cudaMemcpy(d, h.data(), words * 4, cudaMemcpyHostToDevice));
    chase_l1<<<1, 1>>>(d, 4096, d_t);
    fetch();
    report("l1_hit", t, 4096);
    CHECK(cudaFree(d));
  }
  {
    const std::size_t bytes = std::size_t(1) << 30;
    uint4* buf = nullptr;
    unsigned* sink = nullptr;
    CHECK(cudaMalloc(&buf, bytes));
    CHECK(cudaMalloc(&sink, 4));
    CHECK(cudaMemset(buf, 0x5a, bytes));
    cudaEvent_t e0, e1;
    CHECK(cudaEventCreate(&e0));
    CHECK(cudaEventCreate(&e1));
    for (int ctas : {1, 8, prop.multiProcessorCount * 4}) {
      const std::size_t n = (ctas == 1 ? bytes / 8 : bytes) / 16;  // 128 MiB for one SM
      stream_read<<<ctas, 1024>>>(buf, n, sink);                   // warm-up
      CHECK(cudaEventRecord(e0));
      stream_read<<<ctas, 1024>>>(buf, n, sink);
      CHECK(cudaEventRecord(e1));
      CHECK(cudaEventSynchronize(e1));
      CHECK(cudaGetLastError());
      float ms = 0;
      CHECK(cudaEventElapsedTime(&ms, e0, e1));
      std::printf("%-22s %8.1f GB/s  (%d CTAs of 1024 threads)\n", "stream_read",
                  n * 16 / (ms * 1e6), ctas);
    }
    CHECK(cudaFree(buf));
    CHECK(cudaFree(sink));
  }
  const int n = 100000;
  chase_shared<<<1, 128>>>(n, d_t);
  fetch();
  report("shared", t, n);
  chase_shuffle<<<1, 32>>>(n, d_t);
  fetch();
  report("shuffle_plus_add", t, n);
  chase_exp<<<1, 1>>>(n, 0.3f, d_t);
  fetch();
  report("exp2f_plus_mul", t, n);
  chase_fma<<<1, 1>>>(n, 0.3f, d_t);
  fetch();
  report("fma", t, n);
  chase_wmma<<<1, 32>>>(n / 10, 0, d_t);
  fetch();
  report("wmma_16x16x16", t, n / 10);
  chase_wmma<<<1, 32>>>(n / 10, 1, d_t);
  fetch();
  report("wmma_via_smem", t, n / 10);
  return 0;
}
