// Host side of `attnsim validate --backend cuda`, in the CUDA module as cuda_impl::run_suite and
// cuda_impl::kernel_summary (the kernels are in the .cu files). Kept in a .cpp so that it can
// include cpu_suite.hpp, which needs C++20 (the .cu files are C++17).

#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>

#include "validate/cpu/cpu_attention.hpp"
#include "validate/cuda/cuda_devices.hpp"
#include "validate/cuda/cuda_host.hpp"
#include "validate/cuda/cuda_kernels.cuh"
#include "validate/cuda/cuda_module.hpp"

namespace validate {

namespace {

using cuda_detail::Event;
using cuda_detail::Stream;

// fp16 inputs with fp32 accumulation (P is rounded to fp16 for the P V product, as in
// FlashAttention-2): a looser band than the CPU backend's float32 1e-3.
constexpr double kHalfBand = 2e-2;

template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(std::size_t n) : n_(n) {
    if (n_ > 0) ATTNSIM_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&ptr_), n_ * sizeof(T)));
  }
  DeviceBuffer(DeviceBuffer&& other) noexcept
      : ptr_(std::exchange(other.ptr_, nullptr)), n_(std::exchange(other.n_, 0)) {}
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(DeviceBuffer&&) = delete;
  ~DeviceBuffer() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  T* get() const { return ptr_; }
  std::size_t size() const { return n_; }
  std::size_t bytes() const { return n_ * sizeof(T); }

 private:
  T* ptr_ = nullptr;
  std::size_t n_ = 0;
};

// Rounds to the nearest fp16 value, so that the float64 reference sees exactly the inputs the
// kernels read: the error measured is the kernels' arithmetic, not the input quantisation.
void round_to_half(std::vector<float>& x) {
  for (float& v : x) v = __half2float(__float2half(v));
}

// Uploads float values and converts them to fp16 on the device.
DeviceBuffer<__half> upload_half(const std::vector<float>& host, cudaStream_t stream) {
  DeviceBuffer<float> staging(host.size());
  DeviceBuffer<__half> out(host.size());
  ATTNSIM_CUDA_CHECK(
      cudaMemcpyAsync(staging.get(), host.data(), staging.bytes(), cudaMemcpyHostToDevice, stream));
  cuda_detail::convert_to_half(staging.get(), out.get(), host.size(), stream);
  ATTNSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  return out;
}

// An output buffer filled with NaN (all bits set), so an element the kernel never writes fails
// the comparison.
DeviceBuffer<float> nan_output(std::size_t n, cudaStream_t stream) {
  DeviceBuffer<float> out(n);
  ATTNSIM_CUDA_CHECK(cudaMemsetAsync(out.get(), 0xff, out.bytes(), stream));
  return out;
}

void download(std::vector<float>& host, const DeviceBuffer<float>& device, cudaStream_t stream) {
  ATTNSIM_CUDA_CHECK(
      cudaMemcpyAsync(host.data(), device.get(), device.bytes(), cudaMemcpyDeviceToHost, stream));
  ATTNSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
}

// One warm-up launch, then `repeats` launches each after reading the L2 flush buffer (a read
// leaves no dirty line to be written back inside the timed window) and waiting for the flush, each
// timed by its own cudaEvent pair.
template <typename Launch>
std::vector<double> time_runs(int repeats, cudaStream_t stream, DeviceBuffer<unsigned char>& flush,
                              Launch launch) {
  launch();
  ATTNSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  Event start, stop;
  DeviceBuffer<unsigned> sink(1);
  std::vector<double> samples;
  for (int i = 0; i < std::max(1, repeats); ++i) {
    cuda_detail::flush_l2(flush.get(), flush.bytes(), sink.get(), stream);
    ATTNSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
    ATTNSIM_CUDA_CHECK(cudaEventRecord(start.get(), stream));
    launch();
    ATTNSIM_CUDA_CHECK(cudaEventRecord(stop.get(), stream));
    ATTNSIM_CUDA_CHECK(cudaEventSynchronize(stop.get()));
    float ms = 0;
    ATTNSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
    samples.push_back(ms * 1e-3);
  }
  return samples;
}

// Each launch of a multi-launch case timed apart: `repeats` more runs after those of time_runs,
// each after the same flush, with an event after every launch (LaunchMarks). Kept apart from the
// case's own runs, so that the events between launches do not enter its time. Not under --check,
// whose blocking launches would put a host round trip into some launches' times.
template <typename Launch>
std::vector<LaunchRun> time_launches(int repeats, cudaStream_t stream,
                                     DeviceBuffer<unsigned char>& flush,
                                     cuda_detail::LaunchMarks& marks, Launch launch) {
  Event start;
  DeviceBuffer<unsigned> sink(1);
  std::vector<LaunchRun> launches;
  for (int i = 0; i < std::max(1, repeats); ++i) {
    cuda_detail::flush_l2(flush.get(), flush.bytes(), sink.get(), stream);
    ATTNSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
    marks.clear();
    ATTNSIM_CUDA_CHECK(cudaEventRecord(start.get(), stream));
    launch();
    if (marks.count() == 0) throw std::logic_error("time_launches: the case marked no launch");
    ATTNSIM_CUDA_CHECK(cudaEventSynchronize(marks.event(marks.count() - 1)));
    if (launches.empty()) {
      for (int m = 0; m < marks.count(); ++m) launches.push_back({marks.name(m), {}});
    }
    if (static_cast<int>(launches.size()) != marks.count())
      throw std::logic_error("time_launches: runs of one case marked different launches");
    cudaEvent_t previous = start.get();
    for (int m = 0; m < marks.count(); ++m) {
      if (launches[m].name != marks.name(m))
        throw std::logic_error("time_launches: runs of one case marked different launches");
      float ms = 0;
      ATTNSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, previous, marks.event(m)));
      launches[m].samples_s.push_back(ms * 1e-3);
      previous = marks.event(m);
    }
  }
  return launches;
}

// Linear attention: relative error against 1 % of the largest reference output rather than each
// element alone, as cpu_suite.cpp does (unnormalised sums can cancel to near zero).
double linear_error(const std::vector<float>& out, const std::vector<double>& reference) {
  double largest = 0;
  for (double x : reference) largest = std::max(largest, std::abs(x));
  return cpu::max_relative_error(out, reference, 0.01 * largest);
}

// Softmax attention: max_relative_error row by row, each row's floor the RMS of its reference
// output. With fp16 P the absolute error of a row scales with the row's magnitude (about 2^-12 of
// it), so elements that cancel to near zero would otherwise read as large relative errors: a
// fixed 1e-3 floor gives 0.02-0.09 on the quick suite in a host emulation of this kernel's
// arithmetic, a per-row RMS floor about 1e-3, while a wrong mask or key gives O(1).
double attention_error(const std::vector<float>& out, const std::vector<double>& reference,
                       int row_len) {
  double worst = 0;
  for (std::size_t r0 = 0; r0 < reference.size(); r0 += row_len) {
    const std::vector<float> a(out.begin() + r0, out.begin() + r0 + row_len);
    const std::vector<double> b(reference.begin() + r0, reference.begin() + r0 + row_len);
    double squares = 0;
    for (double x : b) squares += x * x;
    const double rms = std::sqrt(squares / row_len);
    worst = std::max(worst, cpu::max_relative_error(a, b, std::max(rms, 1e-30)));
  }
  return worst;
}

CaseRun run_case(const SuiteCase& c, const RunOptions& o, cudaStream_t stream,
                 DeviceBuffer<unsigned char>& flush, std::uint64_t seed) {
  CaseRun run;
  run.spec = c;
  if (c.kernel == CpuKernel::linear) {
    const cpu::LinearProblem p{c.batch, c.heads, c.q_len, c.head_dim, c.head_dim, c.chunk};
    cpu::LinearTensors t = cpu::random_linear_inputs(p, seed);
    for (std::vector<float>* x : {&t.q, &t.k, &t.v}) round_to_half(*x);
    const DeviceBuffer<__half> q = upload_half(t.q, stream), k = upload_half(t.k, stream),
                               v = upload_half(t.v, stream);
    DeviceBuffer<float> out = nan_output(t.o.size(), stream);
    cuda_detail::LinearDims d{c.batch, c.heads, c.q_len, c.head_dim, c.chunk};
    d.blocking = o.check;
    cuda_detail::prepare_linear(d);
    run.samples_s = time_runs(o.repeats, stream, flush, [&] {
      cuda_detail::launch_linear(d, q.get(), k.get(), v.get(), out.get(), stream);
    });
    download(t.o, out, stream);
    run.max_relative_error = linear_error(t.o, cpu::reference_linear_attention(p, t));
  } else {
    // MLA-absorbed decode: V is the first v_head_dim dims of each K row (the latent), read in
    // place from K as an MLA kernel does.
    const bool mla = c.v_head_dim != c.head_dim;
    if (mla && !(c.kernel == CpuKernel::split_kv && c.head_dim == cuda_detail::kMlaHeadDim &&
                 c.v_head_dim == cuda_detail::kMlaVHeadDim))
      throw std::invalid_argument("CUDA backend: case '" + c.name +
                                  "': v_head_dim != head_dim is supported only by split_kv with "
                                  "head_dim 576, v_head_dim 512 (MLA)");
    const cpu::AttentionProblem p = problem_of(c);
    cpu::AttentionTensors t = cpu::random_attention_inputs(p, seed);
    for (std::vector<float>* x : {&t.q, &t.k, &t.v}) round_to_half(*x);
    if (mla) {
      const std::size_t rows = t.k.size() / c.head_dim;
      for (std::size_t r = 0; r < rows; ++r)
        std::copy_n(t.k.begin() + r * c.head_dim, c.v_head_dim, t.v.begin() + r * c.v_head_dim);
    }
    const DeviceBuffer<__half> q = upload_half(t.q, stream), k = upload_half(t.k, stream),
                               v = mla ? DeviceBuffer<__half>(0) : upload_half(t.v, stream);
    const __half* v_ptr = mla ? k.get() : v.get();
    DeviceBuffer<float> out = nan_output(t.o.size(), stream);
    cuda_detail::AttnDims d{c.batch,    c.heads,  c.kv_heads, c.q_len,       c.kv_len,
                            c.head_dim, c.causal, c.window,   c.block_stride};
    d.v_head_dim = c.v_head_dim;
    d.v_stride = mla ? c.head_dim : 0;
    d.blocking = o.check;
    if (c.kernel == CpuKernel::unfused) {
      cuda_detail::Unfused unfused(d, stream);
      auto launch = [&] { unfused.launch(q.get(), k.get(), v_ptr, out.get()); };
      run.samples_s = time_runs(o.repeats, stream, flush, launch);
      if (!o.check) {
        cuda_detail::LaunchMarks marks;
        unfused.set_marks(&marks);
        run.launches = time_launches(o.repeats, stream, flush, marks, launch);
        unfused.set_marks(nullptr);
      }
    } else if (c.kernel == CpuKernel::flash) {
      cuda_detail::prepare_flash(d);
      run.samples_s = time_runs(o.repeats, stream, flush, [&] {
        cuda_detail::launch_flash(d, q.get(), k.get(), v_ptr, out.get(), stream);
      });
    } else {
      DeviceBuffer<float> scratch(cuda_detail::split_kv_scratch_floats(d, c.splits));
      auto launch = [&] {
        cuda_detail::launch_split_kv(d, c.splits, q.get(), k.get(), v_ptr, scratch.get(), out.get(),
                                     stream);
      };
      run.samples_s = time_runs(o.repeats, stream, flush, launch);
      if (!o.check) {
        cuda_detail::LaunchMarks marks;
        d.marks = &marks;
        run.launches = time_launches(o.repeats, stream, flush, marks, launch);
        d.marks = nullptr;
      }
    }
    download(t.o, out, stream);
    run.max_relative_error = attention_error(t.o, cpu::reference_attention(p, t), c.v_head_dim);
  }
  // median_s is left to the caller (run_cuda_suite in cuda_loader.cpp), which has validate::median.
  run.correct = run.max_relative_error <= kHalfBand;
  return run;
}

// Runs one case; a failure (a CUDA error, an unsupported shape) becomes the run's error. Returns
// false when the device is unusable afterwards (a sticky error such as an illegal address), so
// that the remaining cases are not attempted.
bool run_or_record(const SuiteCase& c, const RunOptions& o, cudaStream_t stream,
                   DeviceBuffer<unsigned char>& flush, std::uint64_t seed, CaseRun& run) {
  try {
    run = run_case(c, o, stream, flush, seed);
    return true;
  } catch (const std::exception& e) {
    run = CaseRun{};
    run.spec = c;
    run.error = e.what();
  }
  return cudaDeviceSynchronize() == cudaSuccess && cudaGetLastError() == cudaSuccess;
}

}  // namespace

std::vector<CaseRun> cuda_impl::run_suite(const Suite& suite, const RunOptions& options,
                                          const Progress& progress) {
  const int device =
      options.cuda_device >= 0 ? options.cuda_device : cuda_detail::select_device().index;
  ATTNSIM_CUDA_CHECK(cudaSetDevice(device));
  int l2_bytes = 0;
  ATTNSIM_CUDA_CHECK(cudaDeviceGetAttribute(&l2_bytes, cudaDevAttrL2CacheSize, device));
  DeviceBuffer<unsigned char> flush(2 * static_cast<std::size_t>(std::max(l2_bytes, 1 << 20)));
  ATTNSIM_CUDA_CHECK(cudaMemset(flush.get(), 0x5a, flush.bytes()));  // written once, before timing
  ATTNSIM_CUDA_CHECK(cudaDeviceSynchronize());
  const Stream stream;
  std::vector<CaseRun> runs;
  bool usable = true;
  for (std::size_t i = 0; i < suite.cases.size(); ++i) {
    if (progress) progress(i, suite.cases.size(), suite.cases[i].name);
    CaseRun run;
    if (usable) {
      usable = run_or_record(suite.cases[i], options, stream.get(), flush, 1000 + i, run);
    } else {
      run.spec = suite.cases[i];
      run.error = "not run: the device failed in an earlier case";
    }
    runs.push_back(std::move(run));
  }
  if (progress) progress(suite.cases.size(), suite.cases.size(), "");
  return runs;
}

std::string cuda_impl::kernel_summary() {
  return "attnsim CUDA kernels, fp16 inputs / fp32 accumulate: FlashAttention-2 forward (64x64 "
         "tiles, 4 warps, WMMA tensor-core QK^T and PV, online softmax, causal/window/GQA, "
         "masked tiles skipped, optional strided block-sparse mask), unfused baseline (cuBLAS "
         "strided-batched Q K^T and P V, fp32 out, fp16 P from a masked row-softmax kernel), "
         "split-KV decode + log-sum-exp combine (CUDA cores; also MLA-absorbed K 576 / V 512 "
         "read in place from K), chunked "
         "causal linear attention (one CTA per head, state in shared memory, CUDA cores); "
         "1 warm-up, L2 flushed by reading 2x L2 and synchronised before each timed run, cudaEvent "
         "timing, median (mean of the middle two for an even count); unfused and split-KV also "
         "time each launch apart in as many extra runs (an event after each launch; not under "
         "--check); the model prices them with "
         "project_flash, project_split_kv, project_unfused and project_linear";
}

}  // namespace validate
