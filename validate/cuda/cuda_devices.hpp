// What CUDA support this build has and which devices the machine has. Implemented by
// cuda_loader.cpp, which asks the CUDA module (cuda_module.hpp; its device query is
// cuda_devices.cu) when the toolkit was found at build time.
#pragma once

#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace validate {

struct CudaDevice {
  int index = 0;
  std::string name;
  int sm_count = 0;
  int cc_major = 0;
  int cc_minor = 0;
  std::uint64_t memory_bytes = 0;
  bool kernel_ran = false;  // a probe kernel launched and returned the expected value
};

struct CudaStatus {
  bool compiled_in = false;
  std::string toolkit_version;  // e.g. "13.0"; empty when not compiled in
  std::string driver_version;   // CUDA version the driver supports, e.g. "13.0"; empty if none
  std::vector<CudaDevice> devices;
  std::string message;  // why there is no usable device, when there is none
};

// Never throws and never aborts: a machine without a GPU or driver, a build without the toolkit and
// a missing CUDA module each give an empty device list and a message saying which.
CudaStatus query_cuda();

// The device every CUDA validation step runs on and reports (suite, ceilings, device report): the
// first that ran the probe kernel with compute capability 7.0 or newer (WMMA needs sm_70+).
// Throws std::runtime_error with the status message ("no CUDA device: ...") when there is none.
inline const CudaDevice& select_cuda_device(const CudaStatus& status) {
  if (status.devices.empty()) {
    throw std::runtime_error(status.message.empty() ? "no CUDA device" : status.message);
  }
  for (const CudaDevice& d : status.devices) {
    if (d.kernel_ran && d.cc_major >= 7) return d;
  }
  throw std::runtime_error(
      "no CUDA device: no device ran the probe kernel with compute capability 7.0 or newer");
}

// "compiled in (CUDA 13.0; ...)" or "not compiled in", from what the build found (it does not
// load the module).
std::string cuda_build_summary();

}  // namespace validate
