#include "hwprofiles/calibration_keys.hpp"

#include <algorithm>

namespace hw {

const std::vector<CalibratedKernel>& calibrated_kernels() {
  static const std::vector<CalibratedKernel> kernels = {
      {"fa2", true},
      {"fa2_unpacked", false},
      {"split_kv", false},
      {"lean", false},
      {"fa3", true},
      {"fa4", true},
      {"cudnn", true},
      {"flashmla", false},
      {"unfused", false},
      {"ascend", true},
      {"pto_dsl_fa", false},
      {"pto_isa_fa", false},
      {"fla_chunk", false},
      {"tileops_gla", false},
      {"nsa_triton", true},
      {"nsa_triton_compressed", true},
      {"flash_nsa", true},
      {"fsa_triton", true},
      {"lightning2", false},
      {"flashinfer_decode", false},
      {"flashinfer_prefill", false},
      {"natten", false},
      {"cpu_flash", false},
      {"cpu_linear", false},
      {"project_flash", false},
      {"project_split_kv", false},
      {"project_unfused", false},
      {"project_linear", false},
  };
  return kernels;
}

const std::vector<std::string_view>& calibration_entries_besides_kernels() {
  static const std::vector<std::string_view> entries = {"gemm", "chunked_scan",
                                                        "nsa_triton_scores"};
  return entries;
}

std::vector<std::string> calibration_keys() {
  std::vector<std::string> keys;
  for (const CalibratedKernel& k : calibrated_kernels()) {
    keys.emplace_back(k.name);
    if (k.backward_entry) keys.push_back(std::string(k.name) + "_bwd");
  }
  for (std::string_view entry : calibration_entries_besides_kernels()) keys.emplace_back(entry);
  return keys;
}

bool is_calibration_key(std::string_view key) {
  const std::vector<std::string> keys = calibration_keys();
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

}  // namespace hw
