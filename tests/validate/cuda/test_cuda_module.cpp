// The CUDA backend lives in a module (attnsim_cuda.so) that attnsim opens only for its CUDA paths:
// the executable does not link the CUDA libraries, `query` never loads them, and a missing,
// foreign or unusable module (or no GPU) makes `validate --backend cuda` fail with one clean line.
#include <catch2/catch.hpp>

#include <cstdio>
#include <string>
#include <vector>

#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using test_support::run_with_env;
using test_support::RunResult;

std::string command_output(const std::string& cmd) {
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  std::string out;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) out.append(buffer, n);
  ::pclose(pipe);
  return out;
}

bool cuda_compiled_in() {
  // "CUDA backend: compiled in (...)" or "CUDA backend: not compiled in"
  return test_support::run_cli({"--version"}).out.find("backend: compiled in") != std::string::npos;
}

// A runtime failure reported as one line on stderr and nothing on stdout.
void check_one_line_failure(const RunResult& r, const std::string& says) {
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("attnsim: error: ") && Catch::Contains(says));
  CHECK(r.err.find('\n') == r.err.size() - 1);
}

}  // namespace

TEST_CASE("the attnsim executable does not link libcudart or libcublas (readelf -d NEEDED)",
          "[validate][cuda][startup]") {
  std::string cmd = "readelf -d ";
  test_support::append_quoted(cmd, ATTNSIM_BINARY);
  const std::string dynamic = command_output(cmd + " 2>&1");
  INFO(dynamic);
  REQUIRE_THAT(dynamic, Catch::Contains("(NEEDED)") && Catch::Contains("libc.so"));
  for (const char* lib : {"libcudart", "libcublas", "libcuda.so", "libnvrtc"}) {
    CHECK_THAT(dynamic, !Catch::Contains(lib));
  }
}

TEST_CASE("query never opens the CUDA module or a CUDA library; validate --devices does",
          "[validate][cuda][startup]") {
  const RunResult q = run_with_env(
      {"LD_DEBUG=files"}, {"query", "--variant", "gqa", "--seq-len", "4096", "--hw", "h100"});
  REQUIRE(q.exit_code == 0);
  REQUIRE_THAT(q.err, Catch::Contains("file=libc.so"));  // the loader's trace is there
  for (const char* lib : {"attnsim_cuda", "libcudart", "libcublas", "libcuda.so"}) {
    CHECK_THAT(q.err, !Catch::Contains(lib));
  }
  if (!cuda_compiled_in()) return;
  const RunResult devices = run_with_env({"LD_DEBUG=files"}, {"validate", "--devices"});
  CHECK(devices.exit_code == 0);
  CHECK_THAT(devices.err, Catch::Contains("attnsim_cuda.so") && Catch::Contains("libcublas"));
}

TEST_CASE("validate --backend cuda with no GPU here fails with one line naming the reason",
          "[validate][cuda][startup]") {
  const RunResult devices = test_support::run_cli({"validate", "--devices"});
  if (devices.out.find("device 0") != std::string::npos) {
    WARN("a CUDA device is present: the no-GPU failure is not checked");
    return;
  }
  check_one_line_failure(test_support::run_cli({"validate", "--backend", "cuda"}),
                         "no CUDA device");
  check_one_line_failure(test_support::run_cli({"validate", "--backend", "cuda", "--check"}),
                         "no CUDA device");
}

TEST_CASE("a missing or foreign CUDA module is a clean one-line error naming the module",
          "[validate][cuda][startup]") {
  const std::string missing = "/nonexistent-dir/attnsim_cuda.so";
  const std::vector<std::string> cuda = {"validate", "--backend", "cuda", "--check"};
  if (!cuda_compiled_in()) {
    check_one_line_failure(run_with_env({"ATTNSIM_CUDA_MODULE=" + missing}, cuda),
                           "built without the CUDA backend");
    return;
  }
  check_one_line_failure(run_with_env({"ATTNSIM_CUDA_MODULE=" + missing}, cuda),
                         "cannot load the CUDA module: " + missing);
  test_support::TempDir dir;
  const auto text = dir.path() / "attnsim_cuda.so";
  test_support::write_file(text, "not a shared object\n");
  check_one_line_failure(run_with_env({"ATTNSIM_CUDA_MODULE=" + text.string()}, cuda),
                         "cannot load the CUDA module");
  check_one_line_failure(run_with_env({"ATTNSIM_CUDA_MODULE=" ATTNSIM_FAKE_CUDA_MODULE}, cuda),
                         "comes from another build of attnsim");
  // The device report still succeeds, and says why there is no device.
  const RunResult devices =
      run_with_env({"ATTNSIM_CUDA_MODULE=" + missing}, {"validate", "--devices"});
  CHECK(devices.exit_code == 0);
  CHECK_THAT(devices.out, Catch::Contains("CUDA backend unavailable"));
}
