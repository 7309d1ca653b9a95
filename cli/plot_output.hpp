// `--plot FILE.svg` on query, compare and sweep: the option, its checks, and the roofline built
// from predictions (one point per workload, one set of ceilings per device).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "cli/cli11_fwd.hpp"

#include "cli/plot.hpp"
#include "hwprofiles/profile.hpp"
#include "models/workload.hpp"

namespace cli {

// Adds --plot FILE to a subcommand; an empty path is rejected (exit 2).
CLI::Option* add_plot_option(CLI::App& command, std::string& path);

// Rejects, before any work is done, a --plot path that cannot take an SVG file: "-" (the SVG goes
// to a file; stdout is for the results), the -o file however it is spelt (./x, a symbolic link),
// a directory, a path too long for the system, or a file in a folder that is missing or is a
// file. Throws common::SpecError (exit 2).
void check_plot_path(const std::string& plot, const std::string& output);

// Writes the results to stdout or the -o file `output` and, with a --plot path, the chart `svg()`
// draws there, each with -o's rules (cli/output_file.hpp). A chart that cannot be written leaves
// no new -o file and nothing on stdout: both are opened before either is written, and the chart
// is put in place before the results are.
void write_with_plot(const std::string& results, const std::string& output,
                     const std::function<std::string()>& svg, const std::string& plot);

// Collects roofline points, one per predicted workload, and the devices they ran on.
class RooflineBuilder {
 public:
  // `tensor_flops` and `hbm_bytes` over all launches (the intensity is their ratio), `time_s` the
  // predicted time.
  void add(const hw::Profile& profile, models::DType dtype, const std::string& label,
           double tensor_flops, double hbm_bytes, double time_s);
  plot::RooflineChart chart(std::string title, std::string subtitle) const;

 private:
  std::vector<hw::Profile> profiles_;
  std::vector<std::vector<models::DType>> dtypes_;  // per profile
  std::vector<plot::RooflinePoint> points_;
};

// "prefill, batch 1, q 4096 / kv 4096, bf16, causal": the workload in a subtitle.
std::string describe_workload(const models::Workload& w);

}  // namespace cli
