// Attention kernels for `attnsim validate --backend cuda` (internal to cuda_suite.cu). Layouts as
// in cpu_attention.hpp: Q [B][Hq][Lq][d], K [B][Hkv][Lk][d], V [B][Hkv][Lk][d], O [B][Hq][Lq][d],
// row-major; inputs are __half, outputs float.
#pragma once

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <stdexcept>
#include <string>

namespace validate::cuda_detail {

// Throws std::runtime_error naming the call and where it was made.
inline void check(cudaError_t err, const char* call, const char* file, int line) {
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error: ") + cudaGetErrorString(err) + " in `" +
                             call + "` at " + file + ":" + std::to_string(line));
}

#define ATTNSIM_CUDA_CHECK(call) ::validate::cuda_detail::check((call), #call, __FILE__, __LINE__)
// After a kernel launch: configuration errors (too much shared memory, bad grid) surface here.
#define ATTNSIM_CUDA_LAUNCHED(what) \
  ::validate::cuda_detail::check(cudaGetLastError(), what, __FILE__, __LINE__)

// The same, and with `blocking` (validate --check) the launch is waited for, so that a fault
// inside the kernel (an illegal address, a trap) is reported under the kernel's name.
inline void launched(const char* kernel, bool blocking, cudaStream_t stream) {
  cudaError_t err = cudaGetLastError();
  const char* when = "at launch";
  if (err == cudaSuccess && blocking) {
    err = cudaStreamSynchronize(stream);
    when = "while running";
  }
  if (err != cudaSuccess)
    throw std::runtime_error(std::string("CUDA error in kernel ") + kernel + " (" + when +
                             "): " + cudaGetErrorString(err));
}

// Events recorded on the stream after each launch of a multi-launch case, each named as the
// model names that launch (cuda_launch_names.hpp), so that validate can time the launches apart:
// a launch's time runs from the previous event (the first's from the start event of the timing
// run), so it includes the gap since the previous launch. Owns its events; at most kMax marks a
// run.
class LaunchMarks {
 public:
  static constexpr int kMax = 4;
  LaunchMarks() {
    for (int i = 0; i < kMax; ++i) {
      const cudaError_t err = cudaEventCreate(&events_[i]);
      if (err == cudaSuccess) continue;
      for (int j = 0; j < i; ++j) cudaEventDestroy(events_[j]);
      check(err, "cudaEventCreate", __FILE__, __LINE__);
    }
  }
  LaunchMarks(const LaunchMarks&) = delete;
  LaunchMarks& operator=(const LaunchMarks&) = delete;
  ~LaunchMarks() {
    for (cudaEvent_t e : events_) cudaEventDestroy(e);
  }
  void clear() { count_ = 0; }
  void record(const char* launch, cudaStream_t stream) {
    if (count_ == kMax) throw std::logic_error("LaunchMarks: more than kMax launches in a run");
    names_[count_] = launch;
    check(cudaEventRecord(events_[count_], stream), "cudaEventRecord", __FILE__, __LINE__);
    ++count_;
  }
  int count() const { return count_; }
  const char* name(int i) const { return names_[i]; }
  cudaEvent_t event(int i) const { return events_[i]; }

 private:
  cudaEvent_t events_[kMax] = {};
  const char* names_[kMax] = {};
  int count_ = 0;
};

// After a launch named `launch`: its mark, when the run is timing launches apart.
inline void mark(LaunchMarks* marks, const char* launch, cudaStream_t stream) {
  if (marks != nullptr) marks->record(launch, stream);
}

struct AttnDims {
  int batch = 1, heads = 1, kv_heads = 1, q_len = 1, kv_len = 1, head_dim = 64;
  bool causal = true;
  int window = 0;
  int block_stride = 0;   // flash: strided block-sparse mask over 64-wide blocks (0 = off)
  int v_head_dim = 0;     // 0: head_dim; split_kv also takes MLA-absorbed 576 / 512
  int v_stride = 0;       // split_kv: halves between V rows (0: v_head_dim; 576 when V lies in K)
  bool blocking = false;  // wait for every kernel and name the one that failed (--check)
  LaunchMarks* marks = nullptr;  // unfused and split_kv: an event after each launch (or none)
};

// MLA-absorbed decode (DeepSeek-V2/V3): K = 512-dim latent + 64-dim rope key, V = the latent.
inline constexpr int kMlaHeadDim = 576;
inline constexpr int kMlaVHeadDim = 512;

// The unfused baseline: S = Q K^T (cuBLAS, fp16 in, fp32 out), a row softmax applying the
// causal/window/block-stride mask and writing P as fp16, O = P V (cuBLAS, fp32 out). GQA: the
// query heads of one kv head are consecutive, so each (batch, kv head) is one GEMM of
// (heads / kv_heads) * q_len rows, all of them in one strided-batched call. Owns the cuBLAS handle
// and the S and P buffers (batch * heads * q_len * kv_len each).
class Unfused {
 public:
  Unfused(const AttnDims& d, cudaStream_t stream);
  ~Unfused();
  Unfused(const Unfused&) = delete;
  Unfused& operator=(const Unfused&) = delete;
  void launch(const __half* q, const __half* k, const __half* v, float* o);
  void set_marks(LaunchMarks* marks) { d_.marks = marks; }

 private:
  AttnDims d_;
  cudaStream_t stream_;
  void* handle_ = nullptr;  // cublasHandle_t
  float* s_ = nullptr;
  __half* p_ = nullptr;
};

void convert_to_half(const float* in, __half* out, std::size_t n, cudaStream_t stream);

// Evicts L2 by reading `bytes` (a multiple of 16, twice the L2) of `buffer`; no line is left dirty,
// so nothing is written back inside a timed window that follows. `sink` is one device unsigned.
void flush_l2(const void* buffer, std::size_t bytes, unsigned* sink, cudaStream_t stream);

// FlashAttention-2 forward: 64-row query blocks, 64-key tiles, WMMA for Q K^T and P V.
// prepare_flash raises the kernel's shared-memory limit; call it once before timing.
void prepare_flash(const AttnDims& d);
void launch_flash(const AttnDims& d, const __half* q, const __half* k, const __half* v, float* o,
                  cudaStream_t stream);

// Flash-Decoding: `splits` key ranges per head into partials (scratch of split_kv_scratch_floats
// floats), then a log-sum-exp combine into o.
std::size_t split_kv_scratch_floats(const AttnDims& d, int splits);
void launch_split_kv(const AttnDims& d, int splits, const __half* q, const __half* k,
                     const __half* v, float* scratch, float* o, cudaStream_t stream);

// Chunked causal linear attention, one CTA per (batch, head) carrying the dk x dv state.
struct LinearDims {
  int batch = 1, heads = 1, tokens = 1, dim = 64, chunk = 64;
  bool blocking = false;  // as AttnDims::blocking
};
void prepare_linear(const LinearDims& d);
void launch_linear(const LinearDims& d, const __half* q, const __half* k, const __half* v, float* o,
                   cudaStream_t stream);

}  // namespace validate::cuda_detail
