// Validation suites (validate/suites/*.json) for the CPU backend: each case is run on the host,
// timed with warm-up, a cache flush before every timed run and the median of repeats, checked
// against a float64 reference, and turned into a MeasuredCase the model is compared with.
#pragma once

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "models/registry.hpp"
#include "validate/cpu/cpu_attention.hpp"
#include "validate/measurements.hpp"

namespace validate {

// `unfused` is the baseline papers compare against (S = Q K^T, softmax, O = P V as separate
// kernels, S and P in memory). The CPU has no separate unfused kernel: on the CPU backend an
// unfused case runs the flash kernel (model kernel cpu_flash); on CUDA it runs cuBLAS GEMMs around
// a softmax kernel (model kernel "unfused").
enum class CpuKernel { flash, split_kv, linear, unfused };

struct SuiteCase {
  std::string name;
  CpuKernel kernel = CpuKernel::flash;
  int batch = 1, heads = 1, kv_heads = 1, head_dim = 64, q_len = 1, kv_len = 1;
  bool causal = true;
  int window = 0;        // flash: sliding window
  int splits = 1;        // split_kv
  int chunk = 64;        // linear
  int v_head_dim = 64;   // value head dim ("v_head_dim", default head_dim)
  int block_stride = 0;  // flash: strided block-sparse mask over 64-wide blocks (0 = off)
};

// The case as the CPU and CUDA kernels take it (both backends run the same problem).
inline cpu::AttentionProblem problem_of(const SuiteCase& c) {
  cpu::AttentionProblem p;
  p.batch = c.batch;
  p.heads = c.heads;
  p.kv_heads = c.kv_heads;
  p.q_len = c.q_len;
  p.kv_len = c.kv_len;
  p.head_dim = c.head_dim;
  p.v_head_dim = c.v_head_dim;
  p.causal = c.causal;
  p.window = c.window;
  p.block_stride = c.block_stride;
  return p;
}

struct Suite {
  std::string name;
  std::vector<SuiteCase> cases;
};

// Strict: unknown keys, wrong types and impossible shapes name the file and JSON pointer.
Suite load_suite(const std::filesystem::path& path);
Suite parse_suite(const std::string& text, const std::string& origin);
// A built-in suite name (quick, full) or a path to a suite file; throws naming the built-ins.
Suite find_suite(const std::string& name_or_path);

// One launch of a multi-launch case timed apart (CUDA unfused and split_kv), named as the model
// names its launch: validate compares it with that launch's prediction.
struct LaunchRun {
  std::string name;
  std::vector<double> samples_s;  // one per extra timed run
};

struct CaseRun {
  SuiteCase spec;
  std::vector<double> samples_s;  // every timed (cold) run
  double median_s = 0;
  double max_relative_error = 0;    // against the float64 reference
  bool correct = false;             // within the float32 band (1e-3)
  std::string error;                // why the case did not run (CUDA: a failed call or launch)
  std::vector<LaunchRun> launches;  // CUDA multi-launch cases: each launch, from extra runs
};

struct RunOptions {
  int repeats = 5;         // timed runs per case (after one warm-up)
  double flush_bytes = 0;  // bytes written between runs to evict the caches (0: no flush)
  bool check = false;      // first-run mode (CUDA): synchronise after every kernel launch
  int cuda_device = -1;    // CUDA: the device to run on (-1: select_cuda_device())
};

// The median of the samples; for an even count, the mean of the middle two. 0 for none.
double median(std::vector<double> samples);

// Why a run's timings cannot be compared, or "" when they can: a run with no sample, or a sample
// of the case or of a launch timed apart that is not a finite time of at least
// kMinMeasuredSeconds (zero, negative, NaN, infinite or below 1 ns: the timer failed), which would
// divide the model's time by about zero. Names the first such sample of each and counts them.
std::string invalid_timing(const CaseRun& run);

using Progress = std::function<void(std::size_t done, std::size_t total, const std::string& name)>;

std::vector<CaseRun> run_suite(const Suite& suite, const RunOptions& options,
                               const Progress& progress);

enum class Backend { cpu, cuda };

// The case as the model sees it (gqa, swa or linear), measured on profile `hw_id`: fp32 on the
// CPU kernels (kernel cpu_flash), fp16 inputs on the CUDA kernels (this project's kernels, the
// project_* schedules of cuda_case_model).
MeasuredCase to_measured(const CaseRun& run, const std::string& hw_id,
                         const models::Registry& registry, Backend backend = Backend::cpu);

}  // namespace validate
