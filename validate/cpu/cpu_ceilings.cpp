#include "validate/cpu/cpu_ceilings.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "validate/cpu/cpu_attention.hpp"

namespace validate::cpu {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const std::size_t mid = v.size() / 2;
  return v.size() % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

// At most this many timed repeats per benchmark: enough for a stable median, few enough that a
// small budget still gives each repeat a measurable length.
constexpr int kRepeats = 5;

// Median rate (work units per second) of `body(iters)`, which does `iters` units of work. `iters`
// is first doubled until one call takes about slice_s / (2 kRepeats), so that timer resolution
// and loop overhead are negligible, then up to kRepeats calls are timed. A call that would end
// past the slice is not started, except that at least one timed call is always made, so a tiny
// budget still returns a (noisier) number.
template <class Body>
double median_rate(Body&& body, double slice_s) {
  const Clock::time_point start = Clock::now();
  const double target_s = slice_s / (2 * kRepeats);
  long long iters = 1;
  for (double dt = 0; dt < target_s && seconds_since(start) + 3 * dt < slice_s / 2; iters *= 2) {
    const Clock::time_point t0 = Clock::now();
    body(iters);
    dt = seconds_since(t0);
    if (dt >= target_s) break;
  }
  std::vector<double> rates;
  double dt = 0;
  do {
    const Clock::time_point t0 = Clock::now();
    body(iters);
    dt = seconds_since(t0);
    if (dt > 0) rates.push_back(static_cast<double>(iters) / dt);
  } while (static_cast<int>(rates.size()) < kRepeats && seconds_since(start) + dt < slice_s);
  return median(rates);
}

// First "key : value" line of /proc/cpuinfo whose key is `key`; empty if absent.
std::string cpuinfo_field(const std::string& key) {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    const std::size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string k = line.substr(0, colon);
    k.erase(k.find_last_not_of(" \t") + 1);
    if (k != key) continue;
    const std::size_t v = line.find_first_not_of(" \t", colon + 1);
    return v == std::string::npos ? std::string() : line.substr(v);
  }
  return {};
}

// sysfs cache sizes look like "48K", "2048K" or "32M".
double parse_cache_size(const std::string& text) {
  std::size_t used = 0;
  double value = 0;
  try {
    value = std::stod(text, &used);
  } catch (const std::exception&) {
    return 0;
  }
  const char unit = used < text.size() ? text[used] : ' ';
  if (unit == 'K') return value * 1024;
  if (unit == 'M') return value * 1024 * 1024;
  if (unit == 'G') return value * 1024 * 1024 * 1024;
  return value;
}

std::string read_line(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

void read_caches(CpuCeilings& c) {
  namespace fs = std::filesystem;
  const fs::path dir = "/sys/devices/system/cpu/cpu0/cache";
  std::error_code ec;
  int llc_level = 0;
  for (const fs::directory_entry& e : fs::directory_iterator(dir, ec)) {
    if (e.path().filename().string().rfind("index", 0) != 0) continue;
    const std::string type = read_line(e.path() / "type");
    if (type == "Instruction") continue;  // data caches only: instructions don't hold operands
    const int level = std::atoi(read_line(e.path() / "level").c_str());
    const double size = parse_cache_size(read_line(e.path() / "size"));
    if (level == 1) c.l1d_bytes = size;
    if (level == 2) c.l2_bytes = size;
    if (level >= llc_level && level > 0) {
      llc_level = level;
      c.llc_bytes = size;
    }
  }
}

// Triad a = b + s c. Traffic counted as 3 arrays x 4 B per element: the write-allocate read of
// `a` that most caches add is not counted, as STREAM does not count it either.
double stream_bandwidth(double llc_bytes, double slice_s) {
  // Each array should be 4 x LLC (at least 64 MiB) so that it cannot stay cached. But first touch
  // of fresh pages runs at only ~1.5 GB/s with 4 KiB pages, and a server may report an LLC of
  // hundreds of MiB, so the arrays are also capped to what can be touched in half the slice: a
  // small budget trades some cache residency for keeping to the budget.
  constexpr double kMinBytes = 64.0 * 1024 * 1024, kFirstTouchBps = 1.5e9;
  const double cap = std::max(kMinBytes, slice_s / 2 * kFirstTouchBps / 3);
  const double bytes = std::min(std::max(4 * llc_bytes, kMinBytes), cap);
  const std::size_t n = static_cast<std::size_t>(bytes / sizeof(float));
  const Clock::time_point start = Clock::now();
  std::vector<float> a(n, 0.0f), b(n, 1.0f), c(n, 2.0f);
  // Touching the pages first costs as much as a few passes; it comes out of this slice.
  slice_s = std::max(0.0, slice_s - seconds_since(start));
  const float s = 3.0f;
  volatile float sink = 0;
  const double rate = median_rate(
      [&](long long passes) {
        for (long long p = 0; p < passes; ++p) {
          for (std::size_t i = 0; i < n; ++i) a[i] = b[i] + s * c[i];
          sink = sink + a[p % n];  // the stores must be kept
        }
      },
      slice_s);
  return rate * 3.0 * sizeof(float) * static_cast<double>(n);
}

// One core summing a buffer that its last-level cache holds and its L2 does not (four times the
// L2, at most half the LLC): the rate of re-reads such as a query head loading its KV head's
// blocks again after another head of the group loaded them.
double cache_read_bandwidth(double l2_bytes, double llc_bytes, double slice_s) {
  double bytes = 4 * std::max(l2_bytes, 256.0 * 1024);
  if (llc_bytes > 0) bytes = std::min(bytes, llc_bytes / 2);
  Eigen::ArrayXf a = Eigen::ArrayXf::Constant(static_cast<Eigen::Index>(bytes / sizeof(float)), 1);
  volatile float sink = 0;
  const double rate = median_rate(
      [&](long long passes) {
        float sum = 0;
        for (long long p = 0; p < passes; ++p) {
          sum += a.sum();
          a[p % a.size()] += 1e-3f;  // each pass reads what the last one left
        }
        sink = sink + sum;
      },
      slice_s);
  return rate * static_cast<double>(a.size()) * sizeof(float);
}

double gemm_flops(double slice_s) {
  constexpr int kN = 512;
  const Eigen::MatrixXf a = Eigen::MatrixXf::Random(kN, kN), b = Eigen::MatrixXf::Random(kN, kN);
  Eigen::MatrixXf c(kN, kN);
  volatile float sink = 0;
  const double rate = median_rate(
      [&](long long products) {
        for (long long p = 0; p < products; ++p) {
          c.noalias() = a * b;
          sink = sink + c(p % kN, 0);
        }
      },
      slice_s);
  return rate * 2.0 * kN * kN * kN;
}

// The exps the host kernels issue: Eigen's vectorised array exp over a softmax row
// (validate/cpu/cpu_attention.cpp online_update), not the C library's scalar std::exp.
double exp_throughput(double slice_s) {
  constexpr Eigen::Index kN = 4096;
  Eigen::ArrayXf x(kN), y(kN);
  // Arguments in [-8, 8): no overflow or denormals, which would take slow paths.
  for (Eigen::Index i = 0; i < kN; ++i) x[i] = -8.0f + 16.0f * static_cast<float>(i) / kN;
  volatile float sink = 0;
  const double rate = median_rate(
      [&](long long passes) {
        float sum = 0;
        for (long long p = 0; p < passes; ++p) {
          y = x.exp();
          sum += y[p % kN];  // one element per pass keeps every pass live at no cost
        }
        sink = sink + sum;
      },
      slice_s);
  return rate * kN;
}

// kChains independent accumulators of kLanes floats each, all updated with one element of an
// L1-resident array: enough independent work to hide the multiply-add latency, no memory traffic
// besides one load per kChains x kLanes operations. Written as acc * x + b; whether that becomes a
// fused instruction depends on the build's target flags, the same ones the kernels are built
// with, so this is the ceiling those kernels can reach. Either way it counts as 2 FLOPs.
double fma_flops(double slice_s) {
  constexpr std::size_t kN = 1024;
  constexpr int kChains = 8, kLanes = 4;
  std::vector<float> x(kN);
  // Multipliers below 1 make every chain converge to b / (1 - x): normal, finite numbers forever.
  for (std::size_t i = 0; i < kN; ++i) x[i] = 0.9f + 0.05f * static_cast<float>(i % 2);
  const float b = 0.001f;
  volatile float sink = 0;
  const double rate = median_rate(
      [&](long long passes) {
        // Distinct starting values keep the compiler from merging chains it could prove equal.
        float acc[kChains * kLanes];
        for (int k = 0; k < kChains * kLanes; ++k) acc[k] = 1e-3f * static_cast<float>(k);
        for (long long p = 0; p < passes; ++p)
          for (std::size_t i = 0; i < kN; ++i)
            for (int k = 0; k < kChains * kLanes; ++k) acc[k] = acc[k] * x[i] + b;
        float sum = 0;
        for (float a : acc) sum += a;
        sink = sink + sum;
      },
      slice_s);
  return rate * 2.0 * kN * kChains * kLanes;
}

// Median time of the smallest attention call (one query, one key, head_dim 8) after writing
// `flush` (validate's cache flush, cut to what half the slice can first touch), the way validate
// times a case.
double cold_call(double llc_bytes, double slice_s) {
  constexpr double kFirstTouchBps = 1.5e9;  // as in stream_bandwidth
  const Clock::time_point start = Clock::now();
  const double bytes = std::min(cache_flush_bytes(llc_bytes), slice_s / 2 * kFirstTouchBps);
  std::vector<float> flush(static_cast<std::size_t>(bytes / sizeof(float)), 0.0f);
  AttentionProblem p;
  p.head_dim = p.v_head_dim = 8;
  AttentionTensors t = random_attention_inputs(p, 1);
  split_kv_attention(p, t, 1);  // the first call's one-off costs are not the cold cost
  std::vector<double> per_call;
  do {
    for (std::size_t j = 0; j < flush.size(); j += 16) flush[j] += 1.0f;
    const Clock::time_point t0 = Clock::now();
    split_kv_attention(p, t, 1);
    per_call.push_back(seconds_since(t0));
  } while (per_call.size() < kRepeats && seconds_since(start) < slice_s);
  return median(per_call);
}

}  // namespace

double cache_flush_bytes(double llc_bytes) {
  return 2 * std::max(llc_bytes, 8.0 * 1024 * 1024);
}

CpuCeilings describe_cpu() {
  CpuCeilings c;
  c.cpu_name = cpuinfo_field("model name");
  const std::string mhz = cpuinfo_field("cpu MHz");
  c.clock_hz = mhz.empty() ? 0 : std::atof(mhz.c_str()) * 1e6;
  read_caches(c);
  return c;
}

CpuCeilings measure_cpu_ceilings(double budget_s) {
  CpuCeilings c = describe_cpu();
  // The six benchmarks share the budget equally.
  const double slice = std::max(0.0, budget_s) / 6;
  c.stream_Bps = stream_bandwidth(c.llc_bytes, slice);
  c.cache_read_Bps = cache_read_bandwidth(c.l2_bytes, c.llc_bytes, slice);
  c.gemm_flops = gemm_flops(slice);
  c.exp_per_s = exp_throughput(slice);
  c.fma_flops = fma_flops(slice);
  c.call_overhead_s = cold_call(c.llc_bytes, slice);
  return c;
}

}  // namespace validate::cpu
