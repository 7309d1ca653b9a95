// The executable's side of the CUDA backend: query_cuda, run_cuda_suite, measure_cuda_ceilings and
// the summaries, implemented by opening the CUDA module (attnsim_cuda.so, cuda_module.hpp) with
// dlopen on first use. The module is looked for next to the executable (the folder of
// /proc/self/exe), or at the path in $ATTNSIM_CUDA_MODULE. A build without the toolkit, a missing
// or foreign module, and a machine without a GPU each give a one-line error saying which.
#include <dlfcn.h>

#include <cstdlib>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "validate/cuda/cuda_ceilings.hpp"
#include "validate/cuda/cuda_devices.hpp"
#include "validate/cuda/cuda_module.hpp"
#include "validate/cuda/cuda_suite.hpp"

namespace validate {

namespace {

#ifndef ATTNSIM_WITH_CUDA
constexpr const char* kNotBuilt =
    "no CUDA device: this attnsim was built without the CUDA backend (no nvcc at configure time, "
    "or -DATTNSIM_CUDA=OFF)";
#endif

// The module's table, or why there is none.
struct Loaded {
  const CudaModuleApi* api = nullptr;
  std::string error;
};

#ifdef ATTNSIM_WITH_CUDA
std::filesystem::path module_path() {
  if (const char* env = std::getenv(kCudaModuleEnv); env != nullptr && *env != '\0') return env;
  std::error_code ec;
  const std::filesystem::path exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return ec ? std::filesystem::path(kCudaModuleFile) : exe.parent_path() / kCudaModuleFile;
}
#endif

// Opens the module each time it is needed (dlopen of an open library only counts a reference) and
// never closes it: the CUDA runtime inside keeps its state until exit, and strings or exceptions
// it made may outlive the call.
Loaded load_module() {
#ifndef ATTNSIM_WITH_CUDA
  return {nullptr, kNotBuilt};
#else
  const std::string path = module_path().string();
  const std::string where = " ($" + std::string(kCudaModuleEnv) +
                            " names the module; by default it is " + kCudaModuleFile +
                            " next to attnsim)";
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    const char* why = ::dlerror();
    return {nullptr, "CUDA backend unavailable: cannot load the CUDA module: " +
                         std::string(why != nullptr ? why : path) + where};
  }
  auto entry = reinterpret_cast<CudaModuleEntry>(::dlsym(handle, kCudaModuleEntry));
  if (entry == nullptr) {
    return {nullptr, "CUDA backend unavailable: " + path + " is not an attnsim CUDA module (no " +
                         kCudaModuleEntry + ")" + where};
  }
  const CudaModuleApi* api = entry(kCudaModuleAbi);
  if (api == nullptr || api->abi != kCudaModuleAbi || api->layout != cuda_module_layout() ||
      api->api_size != sizeof(CudaModuleApi)) {
    return {nullptr, "CUDA backend unavailable: " + path +
                         " comes from another build of attnsim (module ABI " +
                         std::to_string(kCudaModuleAbi) + " expected); rebuild it with this one"};
  }
  return {api, ""};
#endif
}

const CudaModuleApi& require_module() {
  const Loaded loaded = load_module();
  if (loaded.api == nullptr) throw std::runtime_error(loaded.error);
  return *loaded.api;
}

}  // namespace

std::string cuda_build_summary() {
#ifdef ATTNSIM_WITH_CUDA
  return fmt::format("compiled in (CUDA {}; {}, loaded when a CUDA command runs)",
                     ATTNSIM_CUDA_TOOLKIT, kCudaModuleFile);
#else
  return "not compiled in";
#endif
}

CudaStatus query_cuda() {
  const Loaded loaded = load_module();
  if (loaded.api != nullptr) return loaded.api->query_cuda();
  CudaStatus status;
#ifdef ATTNSIM_WITH_CUDA
  status.compiled_in = true;
  status.toolkit_version = ATTNSIM_CUDA_TOOLKIT;
#endif
  status.message = loaded.error;
  return status;
}

std::vector<CaseRun> run_cuda_suite(const Suite& suite, const RunOptions& options,
                                    const Progress& progress) {
  std::vector<CaseRun> runs = require_module().run_suite(suite, options, progress);
  for (CaseRun& run : runs) run.median_s = median(run.samples_s);
  return runs;
}

std::string cuda_kernel_summary() {
  const Loaded loaded = load_module();
  return loaded.api != nullptr ? loaded.api->kernel_summary() : loaded.error;
}

CudaCeilings measure_cuda_ceilings(double budget_s, int device) {
  return require_module().measure_ceilings(budget_s, device);
}

}  // namespace validate
