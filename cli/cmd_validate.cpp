// attnsim validate devices: what CUDA support this build has and which devices are present.
// (Running kernels against the model is issue #5's work; this reports the CUDA path only.)
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "cli/context.hpp"
#include "cli/report.hpp"
#include "validate/cuda_devices.hpp"

namespace cli {

namespace {

void run_devices(const std::string& format_name) {
  const Format format = parse_format(format_name);
  const validate::CudaStatus status = validate::query_cuda();
  nlohmann::ordered_json devices = nlohmann::ordered_json::array();
  for (const validate::CudaDevice& d : status.devices) {
    devices.push_back({{"index", d.index},
                       {"name", d.name},
                       {"sm_count", d.sm_count},
                       {"compute_capability", fmt::format("{}.{}", d.cc_major, d.cc_minor)},
                       {"memory_bytes", d.memory_bytes},
                       {"kernel_ran", d.kernel_ran}});
  }
  if (format == Format::json) {
    nlohmann::ordered_json doc = {{"cuda_compiled_in", status.compiled_in},
                                  {"cuda_toolkit", status.toolkit_version},
                                  {"devices", devices},
                                  {"message", status.message}};
    write_output(doc.dump(2) + "\n", "");
    return;
  }
  if (format == Format::csv) {
    write_output(
        csv_from_objects(std::vector<nlohmann::ordered_json>(devices.begin(), devices.end())), "");
    return;
  }
  std::ostringstream out;
  out << "CUDA backend: " << validate::cuda_build_summary() << "\n";
  if (status.devices.empty()) out << status.message << "\n";
  for (const validate::CudaDevice& d : status.devices) {
    out << fmt::format("device {}: {} (sm_{}{}, {} SMs, {:.1f} GB){}\n", d.index, d.name,
                       d.cc_major, d.cc_minor, d.sm_count, d.memory_bytes / 1e9,
                       d.kernel_ran ? "" : " - probe kernel failed");
  }
  write_output(out.str(), "");
}

}  // namespace

void add_validate_command(CLI::App& app, Context&) {
  auto format = std::make_shared<std::string>("table");
  CLI::App* cmd = app.add_subcommand("validate", "check the model against real kernels");
  cmd->require_subcommand(1);
  CLI::App* devices = cmd->add_subcommand("devices", "report CUDA support and devices");
  devices->add_option("--format", *format, "table | json | csv")->capture_default_str();
  devices->callback([format] { run_devices(*format); });
}

}  // namespace cli
