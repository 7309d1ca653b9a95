#include "validate/cpu/cpu_suite.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <system_error>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/files.hpp"
#include "hwprofiles/json_object.hpp"
#include "hwprofiles/json_text.hpp"
#include "hwprofiles/profile.hpp"
#include "validate/builtin_suites.hpp"
#include "validate/cpu/cpu_attention.hpp"
#include "validate/cuda/cuda_suite_schedule.hpp"

namespace validate {

namespace {

constexpr double kFloat32Band = 1e-3;  // relative error a float32 kernel must stay within

SuiteCase parse_case(hw::JsonObject o) {
  SuiteCase c;
  c.name = o.string("name");
  const std::string kernel = o.string("kernel");
  if (kernel == "flash") {
    c.kernel = CpuKernel::flash;
  } else if (kernel == "split_kv") {
    c.kernel = CpuKernel::split_kv;
  } else if (kernel == "linear") {
    c.kernel = CpuKernel::linear;
  } else if (kernel == "unfused") {
    c.kernel = CpuKernel::unfused;
  } else {
    o.fail("kernel", "unknown kernel '" + kernel + "'; allowed: flash, split_kv, linear, unfused");
  }
  auto integer = [&](const char* key, int fallback, bool required) {
    if (!required && !o.has(key)) return fallback;
    return static_cast<int>(o.positive(key));
  };
  const bool linear = c.kernel == CpuKernel::linear;
  c.batch = integer("batch", 1, true);
  c.heads = integer("heads", 1, true);
  c.kv_heads = integer("kv_heads", c.heads, !linear);
  c.head_dim = integer("head_dim", 64, true);
  c.q_len = integer("q_len", 1, true);
  c.kv_len = integer("kv_len", c.q_len, !linear);
  c.causal = !o.has("causal") || o.boolean("causal");
  c.window = integer("window", 0, false);
  c.splits = integer("splits", 1, false);
  c.chunk = integer("chunk", 64, false);
  c.v_head_dim = integer("v_head_dim", c.head_dim, false);
  c.block_stride = integer("block_stride", 0, false);
  o.finish();
  if (linear && c.v_head_dim != c.head_dim)
    o.fail("v_head_dim", "linear cases need v_head_dim = head_dim");
  if (c.block_stride > 0 && c.kernel != CpuKernel::flash)
    o.fail("block_stride", "only flash cases take a block-sparse mask");
  if (c.heads % c.kv_heads != 0) o.fail("kv_heads", "must divide heads");
  if (c.causal && c.kv_len < c.q_len) o.fail("kv_len", "causal cases need kv_len >= q_len");
  return c;
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Runs `kernel` once to warm up, then `repeats` timed runs each after flushing the caches.
template <typename Kernel>
std::vector<double> time_runs(const RunOptions& o, std::vector<float>& flush, Kernel kernel) {
  kernel();
  std::vector<double> samples;
  for (int i = 0; i < o.repeats; ++i) {
    for (std::size_t j = 0; j < flush.size(); j += 16) flush[j] += 1.0f;
    const auto start = std::chrono::steady_clock::now();
    kernel();
    samples.push_back(seconds_since(start));
  }
  return samples;
}

CaseRun run_case(const SuiteCase& c, const RunOptions& o, std::vector<float>& flush,
                 std::uint64_t seed) {
  CaseRun run;
  run.spec = c;
  if (c.kernel == CpuKernel::linear) {
    cpu::LinearProblem p{c.batch, c.heads, c.q_len, c.head_dim, c.head_dim, c.chunk};
    cpu::LinearTensors t = cpu::random_linear_inputs(p, seed);
    run.samples_s = time_runs(o, flush, [&] { cpu::chunked_linear_attention(p, t); });
    // Linear outputs are unnormalised sums that can cancel to near zero, so the relative error is
    // taken against 1 % of the largest output rather than each element alone.
    const std::vector<double> reference = cpu::reference_linear_attention(p, t);
    double largest = 0;
    for (double x : reference) largest = std::max(largest, std::abs(x));
    run.max_relative_error = cpu::max_relative_error(t.o, reference, 0.01 * largest);
  } else {
    const cpu::AttentionProblem p = problem_of(c);
    cpu::AttentionTensors t = cpu::random_attention_inputs(p, seed);
    if (c.kernel == CpuKernel::flash || c.kernel == CpuKernel::unfused) {
      // No separate unfused kernel on the CPU: an unfused case runs the flash kernel.
      run.samples_s = time_runs(o, flush, [&] { cpu::flash_attention(p, t); });
    } else {
      run.samples_s = time_runs(o, flush, [&] { cpu::split_kv_attention(p, t, c.splits); });
    }
    run.max_relative_error = cpu::max_relative_error(t.o, cpu::reference_attention(p, t));
  }
  run.median_s = median(run.samples_s);
  run.correct = run.max_relative_error <= kFloat32Band;
  return run;
}

}  // namespace

double median(std::vector<double> samples) {
  if (samples.empty()) return 0;
  std::sort(samples.begin(), samples.end());
  const std::size_t mid = samples.size() / 2;
  return samples.size() % 2 == 1 ? samples[mid] : 0.5 * (samples[mid - 1] + samples[mid]);
}

namespace {

// A timer reading a measured case may hold. No upper bound: a run that took hours did take them
// (the one-hour limit on CSV and recorded times is against unit slips in written numbers, which a
// clock does not make).
bool timer_reading(double seconds) {
  return seconds >= kMinMeasuredSeconds && std::isfinite(seconds);
}

std::string invalid_samples(const std::vector<double>& samples, const std::string& what) {
  if (samples.empty()) return what + ": no timed run";
  const auto bad =
      std::count_if(samples.begin(), samples.end(), [](double s) { return !timer_reading(s); });
  if (bad == 0) return "";
  const auto first =
      std::find_if(samples.begin(), samples.end(), [](double s) { return !timer_reading(s); });
  return fmt::format("{}: {} of {} samples not a finite time of at least 1 ns (sample {}: {} s)",
                     what, bad, samples.size(), first - samples.begin() + 1, *first);
}

}  // namespace

std::string invalid_timing(const CaseRun& run) {
  std::string problems = invalid_samples(run.samples_s, "case");
  for (const LaunchRun& l : run.launches) {
    const std::string problem = invalid_samples(l.samples_s, "launch '" + l.name + "'");
    if (!problem.empty()) problems += (problems.empty() ? "" : "; ") + problem;
  }
  return problems;
}

Suite load_suite(const std::filesystem::path& path) {
  const std::optional<std::string> text = common::read_file(path);
  if (!text) throw std::invalid_argument(path.string() + ": cannot open suite file");
  return parse_suite(*text, path.string());
}

Suite find_suite(const std::string& name_or_path) {
  std::string known;
  for (const auto& [name, text] : builtin_suite_files()) {
    if (name == name_or_path)
      return parse_suite(std::string(text), "built-in suite " + name_or_path);
    known += (known.empty() ? "" : ", ") + std::string(name);
  }
  if (const std::string problem = common::path_lookup_problem(name_or_path); !problem.empty())
    throw std::invalid_argument(
        fmt::format("suite file '{}': {}; allowed: a built-in suite or a suite JSON file",
                    name_or_path, problem));
  std::error_code ec;
  if (std::filesystem::exists(name_or_path, ec)) return load_suite(name_or_path);
  throw std::invalid_argument(
      fmt::format("unknown suite '{}': not a built-in ({}) and no such file", name_or_path, known));
}

Suite parse_suite(const std::string& text, const std::string& origin) {
  // Strict text parsing, as for profiles: 1e999 (which nlohmann reports as out_of_range, not as a
  // parse error, so that it escaped as a runtime failure) and a repeated key are bad input.
  const nlohmann::json doc = hw::parse_json_strictly(text, origin);
  hw::JsonObject o(doc, "", origin);
  Suite suite;
  suite.name = o.string("name");
  o.has("description");
  if (!o.has("cases") || !doc.at("cases").is_array() || doc.at("cases").empty()) {
    o.fail("cases", "expected a non-empty array of cases");
  }
  for (std::size_t i = 0; i < doc.at("cases").size(); ++i) {
    suite.cases.push_back(
        parse_case(hw::JsonObject(doc.at("cases")[i], fmt::format("/cases/{}", i), origin)));
  }
  o.finish();
  return suite;
}

std::vector<CaseRun> run_suite(const Suite& suite, const RunOptions& options,
                               const Progress& progress) {
  std::vector<float> flush(static_cast<std::size_t>(options.flush_bytes / sizeof(float)), 0.0f);
  std::vector<CaseRun> runs;
  for (std::size_t i = 0; i < suite.cases.size(); ++i) {
    if (progress) progress(i, suite.cases.size(), suite.cases[i].name);
    runs.push_back(run_case(suite.cases[i], options, flush, 1000 + i));
  }
  if (progress) progress(suite.cases.size(), suite.cases.size(), "");
  return runs;
}

MeasuredCase to_measured(const CaseRun& run, const std::string& hw_id,
                         const models::Registry& registry, Backend backend) {
  const SuiteCase& c = run.spec;
  MeasuredCase m;
  m.file = kSuiteFile;
  m.suite_case = true;
  m.line = 0;
  m.hw = hw_id;
  m.kernel = c.name;
  // Split-KV on one core does the same blocks in another order (plus a tiny combine). On CUDA
  // each kernel has its own schedule (cuda_case_model), with the split count the case launched.
  if (backend == Backend::cuda) {
    const CudaCaseModel model = cuda_case_model(c);
    m.schedule = model.schedule;
    m.kernel_choice = sim::KernelChoice::parse(m.schedule);
    m.splits = model.splits;
  } else if (c.kernel == CpuKernel::linear) {
    // Its only op is a scan, which cpu_linear prices as the host kernel computes it.
    m.schedule = "cpu_linear";
    m.kernel_choice = sim::KernelChoice::parse(m.schedule);
  } else {
    m.schedule = "cpu_flash";
    m.kernel_choice = sim::KernelChoice::parse(m.schedule);
  }
  // Split-KV runs decode steps, also with several query tokens (speculative decoding).
  const bool decode = c.q_len == 1 || c.kernel == CpuKernel::split_kv;
  m.pass = decode ? "decode" : "fwd";
  m.workload.phase = decode ? models::Phase::decode : models::Phase::prefill;
  m.workload.batch = c.batch;
  m.workload.q_len = c.q_len;
  m.workload.kv_len = c.kernel == CpuKernel::linear ? c.q_len : c.kv_len;
  m.workload.causal = c.causal;
  m.workload.dtype = m.workload.kv_dtype =
      backend == Backend::cpu ? models::DType::fp32 : models::DType::fp16;
  models::ParamValues params = {{"heads", static_cast<double>(c.heads)},
                                {"head_dim", static_cast<double>(c.head_dim)}};
  // Block-sparse (block_stride) cases map to plain gqa: the model has no block-stride variant, so
  // they are run for correctness only (not compared, not fitted).
  std::string variant = "linear";
  if (c.kernel != CpuKernel::linear) {
    params.emplace_back("kv_heads", static_cast<double>(c.kv_heads));
    if (c.v_head_dim != c.head_dim && c.window == 0)
      params.emplace_back("v_head_dim", static_cast<double>(c.v_head_dim));
    variant = c.window > 0 ? "swa" : "gqa";
    if (c.window > 0) params.emplace_back("window", static_cast<double>(c.window));
  } else {
    params.emplace_back("chunk", static_cast<double>(c.chunk));
  }
  m.spec = registry.find(variant).make_spec(params, {});
  m.compared = m.fit_eligible = c.block_stride == 0;
  m.measured_s = run.median_s;
  m.source = backend == Backend::cuda ? "measured by attnsim validate --backend cuda"
                                      : "measured by attnsim validate --backend cpu";
  return m;
}

}  // namespace validate
