// Library kernels run heads up to a width (ScheduleInfo::max_head_dim: FlashAttention 2/3/4 and
// cuDNN SDPA stop at 256): `auto` prices a wider head with the unfused math path, as PyTorch's
// SDPA falls back to it, and a kernel named on purpose is refused; absorbed MLA's 576/512 heads
// keep the MLA decode kernels.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/errors.hpp"
#include "sim/engine.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::catalog;
using test_support::make;

namespace {

test_support::Query gqa_prefill(double head_dim) {
  return {make("gqa", {{"heads", 16}, {"kv_heads", 4}, {"head_dim", head_dim}}),
          test_support::workload(models::Phase::prefill, 1, 4096, 4096, true)};
}

}  // namespace

TEST_CASE("auto prices a head wider than 256 with the unfused path, 256 with the library kernel",
          "[sim][tile]") {
  for (const char* hw : {"a100", "h100", "b200", "gb200"}) {
    INFO(hw);
    const hw::Profile& p = catalog().resolve(hw);
    const test_support::Query wide = gqa_prefill(512), widest_run = gqa_prefill(256);
    const sim::Prediction w = sim::predict_tile(wide.cost(), wide.w, p, "auto");
    for (const sim::LaunchPrediction& l : w.launches) CHECK(l.schedule == "unfused");
    const sim::Prediction r = sim::predict_tile(widest_run.cost(), widest_run.w, p, "auto");
    CHECK(r.launches[0].schedule == p.default_schedule);
  }
}

TEST_CASE(
    "training a head wider than 256 prices its backward on the unfused math path's own "
    "backward (auto and unfused), five GEMM-class launches a pass",
    "[sim][tile]") {
  test_support::Query q = gqa_prefill(512);
  q.w.phase = models::Phase::train;
  for (const char* hw : {"a100", "h100", "b200"}) {
    for (const char* kernel : {"auto", "unfused"}) {
      INFO(hw << " " << kernel);
      const sim::Prediction p = sim::predict_tile(q.cost(), q.w, catalog().resolve(hw), kernel);
      std::vector<std::string> backward;
      for (const sim::LaunchPrediction& l : p.launches) {
        CHECK(l.schedule != "fa3");
        if (std::string(l.op) == "attention_bwd") backward.emplace_back(l.name);
      }
      CHECK(backward == std::vector<std::string>{"dv_gemm", "dp_gemm", "softmax_bwd", "dq_gemm",
                                                 "dk_gemm", "dkv_group_sum"});
    }
  }
  // Its four GEMMs do the forward's two matmuls' work twice over the whole score matrix: the
  // backward's tensor FLOPs are twice the forward's (no recompute, nothing skipped).
  const sim::Prediction h100 = sim::predict_tile(q.cost(), q.w, catalog().resolve("h100"), "auto");
  double fwd = 0, bwd = 0;
  for (const sim::LaunchPrediction& l : h100.launches) {
    (std::string(l.op) == "attention_fwd" ? fwd : bwd) += l.flops.tensor;
  }
  CHECK(bwd == Approx(2 * fwd));
  // And it is slower than a flash backward would be at 256 (the score matrix round-trips HBM).
  test_support::Query narrow = gqa_prefill(256);
  narrow.w.phase = models::Phase::train;
  CHECK(h100.time_s >
        sim::predict_tile(narrow.cost(), narrow.w, catalog().resolve("h100"), "auto").time_s);
}

TEST_CASE("a library kernel named for a head wider than it runs is refused, naming its limit",
          "[sim][tile]") {
  const test_support::Query wide = gqa_prefill(512);
  for (const char* kernel : {"fa2", "fa3", "cudnn", "split_kv"}) {
    INFO(kernel);
    CHECK_THROWS_AS(sim::predict_tile(wide.cost(), wide.w, catalog().resolve("h100"), kernel),
                    common::KernelRefusal);
    CHECK_THROWS_WITH(
        sim::predict_tile(wide.cost(), wide.w, catalog().resolve("h100"), kernel),
        Catch::Contains("runs head dimensions up to 256") && Catch::Contains("head_dim 512"));
  }
  // A v_head_dim alone past the limit counts too.
  const test_support::Query wide_v{
      make("gqa", {{"heads", 16}, {"kv_heads", 4}, {"head_dim", 128}, {"v_head_dim", 320}}),
      wide.w};
  CHECK_THROWS_AS(sim::predict_tile(wide_v.cost(), wide_v.w, catalog().resolve("h100"), "fa3"),
                  common::KernelRefusal);
}

TEST_CASE("absorbed MLA decode (576/512 heads) keeps the split-KV decode kernels", "[sim][tile]") {
  test_support::Query mla{make("mla", {}),
                          test_support::workload(models::Phase::decode, 8, 1, 8192, true)};
  for (const char* kernel : {"split_kv", "lean"}) {
    INFO(kernel);
    const sim::Prediction p =
        sim::predict_tile(mla.cost(), mla.w, catalog().resolve("a100"), kernel);
    CHECK(p.launches[0].schedule == kernel);
  }
}
