// What the built-in suites cover (every kernel path of both backends), the CUDA linear kernel's
// shared-memory layout, the one device choice, and the median of repeats.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <set>
#include <stdexcept>
#include <string>

#include "validate/cpu/cpu_suite.hpp"
#include "validate/cuda/cuda_devices.hpp"
#include "validate/cuda/cuda_linear_layout.hpp"

namespace {

using validate::CpuKernel;
using validate::SuiteCase;

bool any(const validate::Suite& s, const std::function<bool(const SuiteCase&)>& pred) {
  return std::any_of(s.cases.begin(), s.cases.end(), pred);
}

// Each path a kernel of either backend branches on, as a predicate over suite cases.
void require_every_path(const validate::Suite& s) {
  INFO("suite " << s.name);
  CHECK(
      any(s, [](const SuiteCase& c) { return c.kernel == CpuKernel::flash && c.head_dim == 32; }));
  CHECK(any(s, [](const SuiteCase& c) { return c.block_stride > 0; }));
  CHECK(any(s, [](const SuiteCase& c) {
    return c.kernel == CpuKernel::split_kv && c.head_dim == 576 && c.v_head_dim == 512;
  }));
  CHECK(any(s, [](const SuiteCase& c) { return c.kernel != CpuKernel::linear && c.q_len % 64; }));
  CHECK(any(s, [](const SuiteCase& c) { return c.kernel != CpuKernel::linear && c.kv_len % 64; }));
  CHECK(any(s, [](const SuiteCase& c) { return c.kernel == CpuKernel::split_kv && c.window > 0; }));
  CHECK(any(s, [](const SuiteCase& c) { return c.kernel == CpuKernel::split_kv && c.q_len > 1; }));
  CHECK(any(s, [](const SuiteCase& c) {
    return c.kernel == CpuKernel::unfused && c.kv_heads < c.heads;
  }));
  CHECK(any(s, [](const SuiteCase& c) { return c.kernel == CpuKernel::unfused && c.window > 0; }));
  CHECK(any(s, [](const SuiteCase& c) { return c.kernel == CpuKernel::linear && c.chunk % 2; }));
}

}  // namespace

TEST_CASE("the quick, full and check suites run every kernel path", "[validate]") {
  for (const char* name : {"quick", "full", "check"})
    require_every_path(validate::find_suite(name));
}

TEST_CASE("full holds every quick case unchanged", "[validate]") {
  const validate::Suite quick = validate::find_suite("quick");
  const validate::Suite full = validate::find_suite("full");
  for (const SuiteCase& q : quick.cases) {
    INFO(q.name);
    const auto it = std::find_if(full.cases.begin(), full.cases.end(),
                                 [&](const SuiteCase& f) { return f.name == q.name; });
    REQUIRE(it != full.cases.end());
    CHECK(it->kernel == q.kernel);
    CHECK((it->batch == q.batch && it->heads == q.heads && it->kv_heads == q.kv_heads &&
           it->head_dim == q.head_dim && it->v_head_dim == q.v_head_dim && it->q_len == q.q_len &&
           it->kv_len == q.kv_len && it->causal == q.causal && it->window == q.window &&
           it->splits == q.splits && it->chunk == q.chunk && it->block_stride == q.block_stride));
  }
}

TEST_CASE("the check suite instantiates every CUDA kernel and head dim once", "[validate]") {
  const validate::Suite check = validate::find_suite("check");
  std::set<std::pair<int, int>> seen;  // (kernel, head_dim)
  for (const SuiteCase& c : check.cases) seen.insert({static_cast<int>(c.kernel), c.head_dim});
  for (int d : {32, 64, 128}) {
    for (CpuKernel k : {CpuKernel::flash, CpuKernel::split_kv, CpuKernel::linear}) {
      INFO("kernel " << static_cast<int>(k) << " head_dim " << d);
      CHECK(seen.count({static_cast<int>(k), d}) == 1);
    }
  }
  CHECK(seen.count({static_cast<int>(CpuKernel::split_kv), 576}) == 1);
  CHECK(std::any_of(check.cases.begin(), check.cases.end(),
                    [](const SuiteCase& c) { return c.kernel == CpuKernel::unfused; }));
}

TEST_CASE("every half tile of the CUDA linear kernel is 16-byte aligned, odd chunks included",
          "[validate]") {
  for (int d : {32, 64, 128}) {
    for (int chunk = 1; chunk <= 300; ++chunk) {
      INFO("d " << d << " chunk " << chunk);
      const auto l = validate::cuda_detail::linear_smem_layout(d, chunk);
      const std::size_t dd = d, c = chunk;
      CHECK(l.q % 16 == 0);
      CHECK(l.kt % 16 == 0);
      CHECK(l.v % 16 == 0);
      // In order, without overlap, each region as large as its tile.
      CHECK(l.scores >= l.state + dd * dd * 4);
      CHECK(l.q >= l.scores + c * c * 4);
      CHECK(l.kt >= l.q + c * dd * 2);
      CHECK(l.v >= l.kt + dd * c * 2);
      CHECK(l.bytes == l.v + c * dd * 2);
    }
  }
}

TEST_CASE("the device report and the runs use one choice: the first sm_70+ device that ran",
          "[validate]") {
  validate::CudaStatus status;
  status.message = "no CUDA device: none here";
  CHECK_THROWS_WITH(validate::select_cuda_device(status), "no CUDA device: none here");
  validate::CudaDevice broken, old, good;
  broken.index = 0;
  broken.cc_major = 9;
  old.index = 1;
  old.cc_major = 6;
  old.kernel_ran = true;
  good.index = 2;
  good.cc_major = 8;
  good.kernel_ran = true;
  status.devices = {broken, old, good};
  CHECK(validate::select_cuda_device(status).index == 2);
  status.devices = {broken, old};
  CHECK_THROWS_AS(validate::select_cuda_device(status), std::runtime_error);
}

TEST_CASE("the median of an even number of repeats is the mean of the middle two", "[validate]") {
  CHECK(validate::median({3.0, 1.0, 2.0}) == 2.0);
  CHECK(validate::median({4.0, 1.0, 3.0, 2.0}) == 2.5);
  CHECK(validate::median({}) == 0.0);
}

TEST_CASE("a suite with a number beyond double range is bad input naming its JSON pointer",
          "[validate][fuzz]") {
  // Found by fuzz/fuzz_suite.cpp: nlohmann's out_of_range escaped as a runtime failure.
  const std::string text = R"({"name": "s", "cases": [{"batch": 1e999}]})";
  CHECK_THROWS_AS(validate::parse_suite(text, "s.json"), std::invalid_argument);
  CHECK_THROWS_WITH(validate::parse_suite(text, "s.json"),
                    Catch::Contains("s.json") && Catch::Contains("/cases/0/batch") &&
                        Catch::Contains("number out of range"));
}

TEST_CASE("a suite key given twice is bad input, not silently the last value", "[validate][fuzz]") {
  const std::string text = R"({"name": "s", "name": "t", "cases": [{}]})";
  CHECK_THROWS_AS(validate::parse_suite(text, "s.json"), std::invalid_argument);
  CHECK_THROWS_WITH(validate::parse_suite(text, "s.json"), Catch::Contains("duplicate key 'name'"));
}

TEST_CASE(
    "the breakdown suite runs multi-launch kernels only, each off-alignment unfused case "
    "beside its aligned twin",
    "[validate][suite]") {
  const validate::Suite s = validate::find_suite("breakdown");
  int misaligned = 0;
  for (const SuiteCase& c : s.cases) {
    INFO(c.name);
    CHECK((c.kernel == CpuKernel::unfused || c.kernel == CpuKernel::split_kv));
    // cuBLAS reads fp16 P with the key count as its leading dimension: rows of 2 * kv_len bytes.
    if (c.kernel != CpuKernel::unfused || (2 * c.kv_len) % 16 == 0) continue;
    ++misaligned;
    const int aligned = (c.kv_len + 7) / 8 * 8;
    CHECK(any(s, [&](const SuiteCase& t) {
      return t.kernel == c.kernel && t.batch == c.batch && t.heads == c.heads &&
             t.kv_heads == c.kv_heads && t.head_dim == c.head_dim && t.q_len == aligned &&
             t.kv_len == aligned && t.causal == c.causal && t.window == c.window;
    }));
  }
  CHECK(misaligned == 2);
  CHECK(
      any(s, [](const SuiteCase& c) { return c.kernel == CpuKernel::split_kv && c.splits == 1; }));
  CHECK(any(s, [](const SuiteCase& c) { return c.kernel == CpuKernel::split_kv && c.splits > 8; }));
}
