#include "cli/plot_output.hpp"
#include "cli/flags.hpp"

#include <sys/stat.h>

#include <algorithm>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/output.hpp"
#include "cli/output_file.hpp"
#include "common/errors.hpp"
#include "common/text.hpp"

namespace cli {

CLI::Option* add_plot_option(CLI::App& command, std::string& path) {
  return command
      .add_option("--plot", path, "also draw the results as an SVG chart in FILE (e.g. out.svg)")
      ->check(non_empty("an empty path; give a file name such as out.svg", "FILE.svg"));
}

void check_plot_path(const std::string& plot, const std::string& output) {
  if (plot.empty()) return;
  if (plot == "-") {
    throw common::SpecError("--plot needs a file name: stdout carries the results");
  }
  if (!output.empty() && output != "-" && same_output_file(plot, output)) {
    throw common::SpecError(fmt::format("--plot '{}' is also the -o file; give two files", plot));
  }
  struct stat st {};
  const bool exists = ::stat(plot.c_str(), &st) == 0;
  if (exists && S_ISDIR(st.st_mode)) {
    throw common::SpecError(fmt::format("--plot '{}' is a directory", plot));
  }
  // Without -o the results go to stdout: a chart into the same file (/dev/stdout, or the file
  // stdout is redirected to) would interleave with them or clobber them.
  struct stat out {};
  if ((output.empty() || output == "-") && exists && ::fstat(1, &out) == 0 &&
      out.st_dev == st.st_dev && out.st_ino == st.st_ino) {
    throw common::SpecError(fmt::format(
        "--plot '{}' is where the results go (stdout); give the chart its own file, or the "
        "results one with -o",
        plot));
  }
  // A FIFO or device (--plot >(cmd), /dev/stdout) is written in place, as -o writes it.
  if (exists && !S_ISREG(st.st_mode)) return;
  // The chart is SVG: a file named .png or .pdf would hold what its name says it does not.
  const std::string name = common::ascii_lower(plot);
  if (name.size() < 4 || name.compare(name.size() - 4, 4, ".svg") != 0) {
    throw common::SpecError(
        fmt::format("--plot '{}': the chart is SVG; give a file name ending in .svg", plot));
  }
  // A chart that cannot be written fails the run after the work: what can be known now is bad
  // input before either output is written.
  if (const std::string problem = unusable_path_problem(plot); !problem.empty()) {
    throw common::SpecError(fmt::format("--plot '{}': {}", plot, problem));
  }
  if (const FolderProblem folder = output_folder_problem(plot); folder) {
    throw common::SpecError(fmt::format("--plot '{}': {}{}", plot, folder.describe(),
                                        folder.not_a_folder ? "" : " to write it in"));
  }
}

void write_with_plot(const std::string& results, const std::string& output,
                     const std::function<std::string()>& svg, const std::string& plot) {
  OutputFile out = open_output(output);
  if (!plot.empty()) {
    OutputFile chart(plot);
    chart.write(svg());
    chart.commit();
  }
  out.write(results);
  out.commit();
}

void RooflineBuilder::add(const hw::Profile& profile, models::DType dtype, const std::string& label,
                          double tensor_flops, double hbm_bytes, double time_s) {
  auto it = std::find_if(profiles_.begin(), profiles_.end(),
                         [&](const hw::Profile& p) { return p.id == profile.id; });
  const auto device = static_cast<std::size_t>(it - profiles_.begin());
  if (it == profiles_.end()) {
    profiles_.push_back(profile);
    dtypes_.emplace_back();
  }
  std::vector<models::DType>& dtypes = dtypes_[device];
  if (std::find(dtypes.begin(), dtypes.end(), dtype) == dtypes.end()) dtypes.push_back(dtype);
  points_.push_back({label, device, hbm_bytes > 0 ? tensor_flops / hbm_bytes : 0,
                     time_s > 0 ? tensor_flops / time_s : 0});
}

plot::RooflineChart RooflineBuilder::chart(std::string title, std::string subtitle) const {
  plot::RooflineChart c;
  c.title = std::move(title);
  c.subtitle = std::move(subtitle);
  for (std::size_t i = 0; i < profiles_.size(); ++i) {
    c.devices.push_back(plot::roofline_device(profiles_[i], dtypes_[i]));
  }
  c.points = points_;
  return c;
}

std::string describe_workload(const models::Workload& w) {
  return fmt::format(
      "{}, batch {}, q {} / kv {}, {}{}{}", models::to_string(w.phase), w.batch, w.q_len, w.kv_len,
      models::to_string(w.dtype),
      w.kv_dtype == w.dtype ? "" : fmt::format(" (KV {})", models::to_string(w.kv_dtype)),
      w.causal ? ", causal" : "");
}

}  // namespace cli
