// Host side of measure_cuda_ceilings, in the CUDA module as cuda_impl::measure_ceilings (the
// kernels are in cuda_ceilings.cu). A .cpp so that it is
// compiled as C++20 with the project's headers; the .cu files keep to C++17.
#include "validate/cuda/cuda_ceilings.hpp"

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "validate/cuda/cuda_ceilings_kernels.cuh"
#include "validate/cuda/cuda_devices.hpp"
#include "validate/cuda/cuda_host.hpp"
#include "validate/cuda/cuda_kernels.cuh"
#include "validate/cuda/cuda_module.hpp"

namespace validate {

namespace {

using cuda_detail::Event;
using cuda_detail::Stream;

void check_cublas(cublasStatus_t status, const char* call, const char* file, int line) {
  if (status != CUBLAS_STATUS_SUCCESS)
    throw std::runtime_error(std::string("cuBLAS error: ") + cublasGetStatusString(status) +
                             " in `" + call + "` at " + file + ":" + std::to_string(line));
}

#define ATTNSIM_CUBLAS_CHECK(call) check_cublas((call), #call, __FILE__, __LINE__)

class DeviceMemory {
 public:
  explicit DeviceMemory(std::size_t bytes) : bytes_(bytes) {
    if (bytes_ > 0) ATTNSIM_CUDA_CHECK(cudaMalloc(&ptr_, bytes_));
  }
  DeviceMemory(const DeviceMemory&) = delete;
  DeviceMemory& operator=(const DeviceMemory&) = delete;
  ~DeviceMemory() {
    if (ptr_ != nullptr) cudaFree(ptr_);
  }
  void* get() const { return ptr_; }
  std::size_t bytes() const { return bytes_; }

 private:
  void* ptr_ = nullptr;
  std::size_t bytes_ = 0;
};

class CublasHandle {
 public:
  explicit CublasHandle(cudaStream_t stream) {
    ATTNSIM_CUBLAS_CHECK(cublasCreate(&handle_));
    try {
      ATTNSIM_CUBLAS_CHECK(cublasSetStream(handle_, stream));
    } catch (...) {
      cublasDestroy(handle_);
      throw;
    }
  }
  CublasHandle(const CublasHandle&) = delete;
  CublasHandle& operator=(const CublasHandle&) = delete;
  ~CublasHandle() { cublasDestroy(handle_); }
  cublasHandle_t get() const { return handle_; }

 private:
  cublasHandle_t handle_{};
};

using Clock = std::chrono::steady_clock;

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const std::size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

// One untimed warm-up of `work`, then up to kRepeats runs each between its own cudaEvent pair,
// stopping early (after at least one) once `deadline` has passed. Returns the median seconds.
constexpr int kRepeats = 5;

template <typename Work>
double median_seconds(cudaStream_t stream, Clock::time_point deadline, Work work) {
  work();
  ATTNSIM_CUDA_CHECK(cudaStreamSynchronize(stream));
  Event start, stop;
  std::vector<double> samples;
  for (int i = 0; i < kRepeats; ++i) {
    if (i > 0 && Clock::now() > deadline) break;
    ATTNSIM_CUDA_CHECK(cudaEventRecord(start.get(), stream));
    work();
    ATTNSIM_CUDA_CHECK(cudaEventRecord(stop.get(), stream));
    ATTNSIM_CUDA_CHECK(cudaEventSynchronize(stop.get()));
    float ms = 0;
    ATTNSIM_CUDA_CHECK(cudaEventElapsedTime(&ms, start.get(), stop.get()));
    samples.push_back(1e-3 * ms);
  }
  return median(samples);
}

double measure_copy(cudaStream_t stream, Clock::time_point deadline) {
  std::size_t free_bytes = 0, total_bytes = 0;
  ATTNSIM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  const std::size_t size = std::min<std::size_t>(std::size_t{1} << 30, free_bytes / 8) & ~255ull;
  if (size == 0) throw std::runtime_error("CUDA ceilings: no free device memory for the copy");
  DeviceMemory src(size), dst(size);
  ATTNSIM_CUDA_CHECK(cudaMemsetAsync(src.get(), 1, size, stream));
  ATTNSIM_CUDA_CHECK(cudaMemsetAsync(dst.get(), 0, size, stream));
  const double s = median_seconds(stream, deadline, [&] {
    ATTNSIM_CUDA_CHECK(
        cudaMemcpyAsync(dst.get(), src.get(), size, cudaMemcpyDeviceToDevice, stream));
  });
  return 2.0 * static_cast<double>(size) / s;  // each byte is read once and written once
}

// C = A B with n x n matrices of `type` (fp16 or bf16), fp32 compute; returns flop/s.
double measure_gemm(cublasHandle_t handle, cudaStream_t stream, Clock::time_point deadline,
                    cudaDataType_t type, int n) {
  const std::size_t elems = static_cast<std::size_t>(n) * static_cast<std::size_t>(n);
  DeviceMemory a(elems * 2), b(elems * 2), c(elems * 2);
  // fp16 [0.5, 1): exponent 0x3800, 10 mantissa bits; bf16 [0.5, 1): 0x3f00, 7 mantissa bits.
  const bool half = type == CUDA_R_16F;
  const std::uint16_t base = half ? 0x3800 : 0x3f00, mask = half ? 0x03ff : 0x007f;
  cuda_detail::launch_fill_u16(static_cast<std::uint16_t*>(a.get()), elems, base, mask, stream);
  cuda_detail::launch_fill_u16(static_cast<std::uint16_t*>(b.get()), elems, base, mask, stream);
  ATTNSIM_CUDA_CHECK(cudaMemsetAsync(c.get(), 0, c.bytes(), stream));
  const float alpha = 1.0f, beta = 0.0f;
  const double s = median_seconds(stream, deadline, [&] {
    ATTNSIM_CUBLAS_CHECK(cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, n, n, n, &alpha, a.get(),
                                      type, n, b.get(), type, n, &beta, c.get(), type, n,
                                      CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT));
  });
  return 2.0 * n * static_cast<double>(n) * n / s;
}

// The GEMM size: 8192, halved while its three matrices would take over a quarter of free memory.
int gemm_size() {
  std::size_t free_bytes = 0, total_bytes = 0;
  ATTNSIM_CUDA_CHECK(cudaMemGetInfo(&free_bytes, &total_bytes));
  int n = 8192;
  while (n > 512 && 3ull * 2 * static_cast<std::size_t>(n) * n > free_bytes / 4) n /= 2;
  return n;
}

double measure_exp(cudaStream_t stream, Clock::time_point deadline, int device) {
  int sms = 0;
  ATTNSIM_CUDA_CHECK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, device));
  const int threads = 256, blocks = std::max(1, sms) * 8, iters = 4096;
  DeviceMemory out(static_cast<std::size_t>(blocks) * threads * sizeof(float));
  const double s = median_seconds(stream, deadline, [&] {
    cuda_detail::launch_exp_throughput(static_cast<float*>(out.get()), blocks, threads, iters,
                                       stream);
  });
  return static_cast<double>(blocks) * threads * iters * cuda_detail::kExpChains / s;
}

double measure_launch_latency(cudaStream_t stream, Clock::time_point deadline) {
  constexpr int kLaunches = 1000;
  const double s = median_seconds(stream, deadline, [&] {
    for (int i = 0; i < kLaunches; ++i) cuda_detail::launch_empty(stream);
  });
  return s / kLaunches;
}

}  // namespace

CudaCeilings cuda_impl::measure_ceilings(double budget_s, int device_index) {
  CudaCeilings result;
  const CudaStatus status = cuda_impl::query_cuda();
  const CudaDevice& chosen = select_cuda_device(status);
  const int device = device_index < 0 ? chosen.index : device_index;
  result.device = chosen.name;
  for (const CudaDevice& d : status.devices) {
    if (d.index == device) result.device = d.name;
  }
  ATTNSIM_CUDA_CHECK(cudaSetDevice(device));
  Stream stream;
  // Each measurement may use its share of the budget for repeats (it always gets one).
  const auto start = Clock::now();
  auto deadline = [&](double fraction) {
    return start + std::chrono::duration_cast<Clock::duration>(
                       std::chrono::duration<double>(budget_s * fraction));
  };
  result.launch_latency_s = measure_launch_latency(stream.get(), deadline(0.1));
  result.exp_per_s = measure_exp(stream.get(), deadline(0.2), device);
  result.copy_Bps = measure_copy(stream.get(), deadline(0.45));
  {
    CublasHandle cublas(stream.get());
    const int n = gemm_size();
    result.gemm_fp16_flops = measure_gemm(cublas.get(), stream.get(), deadline(0.7), CUDA_R_16F, n);
    result.gemm_bf16_flops =
        measure_gemm(cublas.get(), stream.get(), deadline(0.95), CUDA_R_16BF, n);
  }
  // FP8 (CUDA_R_8F_E4M3) is not accepted by cublasGemmEx; it needs cublasLtMatmul with scale
  // descriptors and a TN layout. Not measured yet: 0 means unsupported or not measured.
  result.gemm_fp8_flops = 0;
  ATTNSIM_CUDA_CHECK(cudaStreamSynchronize(stream.get()));
  return result;
}

}  // namespace validate
