// Start-up cost of one `attnsim query` process, as a user pays it: fork, exec of build/attnsim
// (ATTNSIM_BINARY), the query, exit, wait. Reported per process: wall time (the benchmark's real
// time), the child's CPU time (user + system) and its peak resident set, both from wait4's rusage.
// Issue #10's target: under 10 ms and under 32 MiB.
#include <benchmark/benchmark.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

double seconds(const timeval& t) {
  return static_cast<double>(t.tv_sec) + 1e-6 * static_cast<double>(t.tv_usec);
}

// Runs the binary with `args`, stdout and stderr to /dev/null; returns the child's rusage.
rusage run_process(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, STDOUT_FILENO);
    ::dup2(null, STDERR_FILENO);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  rusage usage{};
  if (::wait4(pid, &status, 0, &usage) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw std::runtime_error("attnsim query did not exit 0: " + args[0]);
  return usage;
}

void BM_QueryProcess(benchmark::State& state) {
  const std::vector<std::string> args = {ATTNSIM_BINARY, "query", "--variant", "gqa",
                                         "--seq-len",    "4096",  "--hw",      "h100"};
  double cpu_s = 0, peak_kib = 0;
  for (auto _ : state) {
    const rusage usage = run_process(args);
    cpu_s += seconds(usage.ru_utime) + seconds(usage.ru_stime);
    peak_kib = std::max(peak_kib, static_cast<double>(usage.ru_maxrss));
  }
  state.counters["child_cpu_ms"] =
      benchmark::Counter(1e3 * cpu_s / static_cast<double>(state.iterations()));
  state.counters["child_peak_MiB"] = benchmark::Counter(peak_kib / 1024.0);
}

}  // namespace

BENCHMARK(BM_QueryProcess)->UseRealTime()->Unit(benchmark::kMillisecond)->MinTime(2.0);

BENCHMARK_MAIN();
