// The boundary between attnsim and its CUDA backend module (attnsim_cuda.so). Everything that
// links the CUDA runtime or cuBLAS lives in the module, which the executable opens with dlopen
// only when a CUDA path runs (validate --backend cuda, its ceilings, validate --devices), so that
// `query` and the other commands never load the CUDA libraries.
//
// The module exports one C symbol, kCudaModuleEntry, of type CudaModuleEntry: called with the ABI
// version the caller was built for, it returns its table of functions, or nullptr when it was
// built for another version. The table passes C++ types (std::string, std::vector, std::function),
// so the module and the executable must come from one build (same compiler and standard library):
// the version and the layout fingerprint below reject a module from another build of attnsim.
// Bump kCudaModuleAbi whenever CudaModuleApi or a type it passes changes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "validate/cpu/cpu_suite.hpp"
#include "validate/cuda/cuda_ceilings.hpp"
#include "validate/cuda/cuda_devices.hpp"

namespace validate {

inline constexpr int kCudaModuleAbi = 2;  // 2: CaseRun::launches
inline constexpr const char* kCudaModuleEntry = "attnsim_cuda_module_api";
// The module's file name; it is looked for next to the executable, or at $ATTNSIM_CUDA_MODULE.
inline constexpr const char* kCudaModuleFile = "attnsim_cuda.so";
inline constexpr const char* kCudaModuleEnv = "ATTNSIM_CUDA_MODULE";

// Sizes of the types that cross the boundary, folded into one number: a module compiled against
// other headers (or another standard library) is refused instead of corrupting memory.
constexpr std::uint64_t cuda_module_layout() {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a offset basis
  for (std::uint64_t size : {sizeof(CudaStatus), sizeof(CudaDevice), sizeof(CudaCeilings),
                             sizeof(Suite), sizeof(SuiteCase), sizeof(RunOptions), sizeof(CaseRun),
                             sizeof(LaunchRun), sizeof(Progress), sizeof(std::string)}) {
    h = (h ^ size) * 1099511628211ull;  // FNV-1a prime
  }
  return h;
}

struct CudaModuleApi {
  int abi = 0;               // kCudaModuleAbi of the module
  std::uint64_t layout = 0;  // cuda_module_layout() of the module
  std::size_t api_size = 0;  // sizeof(CudaModuleApi) of the module
  CudaStatus (*query_cuda)() = nullptr;
  // As run_cuda_suite (cuda_suite.hpp), except that CaseRun::median_s is left for the caller.
  std::vector<CaseRun> (*run_suite)(const Suite&, const RunOptions&, const Progress&) = nullptr;
  std::string (*kernel_summary)() = nullptr;
  CudaCeilings (*measure_ceilings)(double budget_s, int device) = nullptr;
};

using CudaModuleEntry = const CudaModuleApi* (*)(int abi);

// Inside the module only: what the table points at (cuda_impl::query_cuda is declared in
// cuda_host.hpp, which the C++17 .cu files can include).
namespace cuda_impl {
std::vector<CaseRun> run_suite(const Suite& suite, const RunOptions& options,
                               const Progress& progress);
std::string kernel_summary();
CudaCeilings measure_ceilings(double budget_s, int device);
}  // namespace cuda_impl

}  // namespace validate
