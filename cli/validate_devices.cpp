#include "cli/validate_devices.hpp"

#include <unistd.h>

#include <iostream>
#include <sstream>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "cli/printer.hpp"
#include "cli/report.hpp"
#include "validate/cuda/cuda_devices.hpp"

namespace cli {

std::string render_devices(Format format) {
  using Json = nlohmann::ordered_json;
  const validate::CudaStatus status = validate::query_cuda();
  Json devices = Json::array();
  const auto device_json = [](const validate::CudaDevice& d) {
    return Json{{"index", d.index},
                {"name", d.name},
                {"sm_count", d.sm_count},
                {"compute_capability", fmt::format("{}.{}", d.cc_major, d.cc_minor)},
                {"memory_bytes", d.memory_bytes},
                {"kernel_ran", d.kernel_ran}};
  };
  for (const validate::CudaDevice& d : status.devices) devices.push_back(device_json(d));
  const auto json = [&] {
    return json_text(Json{{"cuda_compiled_in", status.compiled_in},
                          {"cuda_toolkit", status.toolkit_version},
                          {"cuda_driver", status.driver_version},
                          {"devices", devices},
                          {"message", status.message}});
  };
  const auto table = [&] {
    std::ostringstream out;
    out << "CUDA backend: " << validate::cuda_build_summary() << "\n";
    if (status.devices.empty()) out << status.message << "\n";
    for (const validate::CudaDevice& d : status.devices) {
      out << fmt::format("device {}: {} (sm_{}{}, {} SMs, {:.1f} GB){}\n", d.index, d.name,
                         d.cc_major, d.cc_minor, d.sm_count, d.memory_bytes / 1e9,
                         d.kernel_ran ? "" : " - probe kernel failed");
    }
    return out.str();
  };
  // CSV: the device columns (a header even with no device), then what JSON gives beside the list
  // as `# key,value` lines (readers such as pandas skip them with comment='#'), the message saying
  // why there is no device included.
  const auto csv = [&] {
    std::vector<Json> rows(devices.begin(), devices.end());
    std::string text = csv_from_objects(rows.empty() ? std::vector<Json>{device_json({})} : rows);
    if (rows.empty()) text.erase(text.find('\n') + 1);  // the header of a device, no row
    text += fmt::format("# cuda_compiled_in,{}\n# cuda_toolkit,{}\n# cuda_driver,{}\n",
                        status.compiled_in, csv_quote(status.toolkit_version),
                        csv_quote(status.driver_version));
    if (!status.message.empty()) text += fmt::format("# message,{}\n", csv_quote(status.message));
    return text;
  };
  return print({table, json, csv}, format);
}

void show_progress(std::size_t done, std::size_t total, const std::string& name) {
  if (!::isatty(STDERR_FILENO)) return;
  const int width = 30;
  const int filled = total ? static_cast<int>(width * done / total) : width;
  std::cerr << "\r[" << std::string(filled, '#') << std::string(width - filled, ' ') << "] " << done
            << "/" << total << " " << name << "\033[K" << (done == total ? "\n" : "") << std::flush;
}

}  // namespace cli
