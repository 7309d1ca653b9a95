// The project_* schedules: launch geometry of this project's own CUDA kernels
// (validate/cuda/cuda_*.cu) on hand-worked cases, and the exposed-wait term they rely on.
#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "common/errors.hpp"
#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "sim/price.hpp"
#include "sim/schedule.hpp"
#include "sim/schedule_project_cuda.hpp"
#include "sim/waves.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::builtin_profile;
using test_support::Query;
using test_support::registry;

namespace {

Query attention(std::int64_t batch, std::int64_t hq, std::int64_t hkv, std::int64_t d,
                std::int64_t q_len, std::int64_t kv_len, bool causal, std::int64_t window = 0) {
  models::ParamValues params = {{"heads", static_cast<double>(hq)},
                                {"kv_heads", static_cast<double>(hkv)},
                                {"head_dim", static_cast<double>(d)}};
  if (window > 0) params.emplace_back("window", static_cast<double>(window));
  Query q{registry().find(window > 0 ? "swa" : "gqa").make_spec(params, {}), {}};
  q.w.phase = q_len == 1 ? models::Phase::decode : models::Phase::prefill;
  q.w.batch = batch;
  q.w.q_len = q_len;
  q.w.kv_len = kv_len;
  q.w.causal = causal;
  q.w.dtype = q.w.kv_dtype = models::DType::fp16;
  return q;
}

sim::Launches lower_first_op(const Query& q, const hw::Profile& p, std::string_view kernel,
                             double splits = 0) {
  const models::CostModel cost = q.spec.variant->cost(q.spec, q.w);
  const sim::ScheduleInfo& info = sim::find_schedule(kernel);
  sim::Launches out;
  info.forward({cost.ops[0], q.w, p, sim::forward_calibration(p, info), info.name,
                sim::ScheduleOptions{splits}},
               out);
  return out;
}

double slots_per_sm(const sim::Launch& l, std::string_view id) {
  return sim::ctas_per_sm(l.cta, builtin_profile(id));
}

}  // namespace

TEST_CASE("project_flash shared memory is FlashSmem<D>: Q K V rows of D+8 halves, S, P, O, m, l",
          "[tile][project]") {
  // 64 x (D+8) x 2 x 3 + 64 x 68 x 4 + 64 x 72 x 2 + 64 x (D+4) x 4 + 512
  CHECK(sim::project_cuda::flash_smem_bytes(32) == 51712);
  CHECK(sim::project_cuda::flash_smem_bytes(64) == 72192);
  CHECK(sim::project_cuda::flash_smem_bytes(128) == 113152);
}

TEST_CASE("project_flash fits 4/3/2 CTAs per SM on H100 and 3/2/1 on A100 for head_dim 32/64/128",
          "[tile][project]") {
  // (smem + 1 KiB reserved) into 228 KiB (H100) or 164 KiB (A100); 128 threads and <= 48
  // registers allow 10 or more, so shared memory decides.
  const std::pair<std::int64_t, std::pair<double, double>> expected[] = {
      {32, {4, 3}}, {64, {3, 2}}, {128, {2, 1}}};
  for (const auto& [d, per_sm] : expected) {
    const sim::Launch l = lower_first_op(attention(1, 4, 4, d, 512, 512, true),
                                         builtin_profile("h100"), "project_flash")[0];
    INFO("head_dim " << d);
    CHECK(l.cta.threads == 128);
    CHECK(slots_per_sm(l, "h100") == per_sm.first);
    CHECK(slots_per_sm(l, "h200") == per_sm.first);
    CHECK(slots_per_sm(l, "a100") == per_sm.second);
  }
}

TEST_CASE(
    "project_flash grid is one CTA per 64 query rows and query head, causal tiles to the "
    "diagonal",
    "[tile][project]") {
  // gqa-causal-1024-d128 of the quick suite at batch 4: 16 row blocks x 4 x 8 heads = 512 CTAs;
  // row block m visits m + 1 tiles of 64 keys; 2 CTAs per SM on 132 SMs = 264 slots: 2 waves.
  const Query q = attention(4, 8, 2, 128, 1024, 1024, true);
  const sim::Launch l = lower_first_op(q, builtin_profile("h100"), "project_flash")[0];
  CHECK(l.jobs.count == 512);
  CHECK(l.jobs.min_tiles == 1);
  CHECK(l.jobs.max_tiles == 16);
  CHECK(l.jobs.total_tiles == 32 * (16 * 17 / 2));
  const sim::Prediction p = sim::predict_tile(q.spec.variant->cost(q.spec, q.w), q.w,
                                              builtin_profile("h100"), "project_flash");
  REQUIRE(p.launches.size() == 1);
  CHECK(p.launches[0].ctas_per_sm == 2);
  CHECK(p.launches[0].waves == 2);
  // A window of 256 keys: row block m starts at tile floor((64 m - 255) / 64), so a full block
  // visits 5 tiles (swa-2048-w256-d64).
  const sim::Launch w = lower_first_op(attention(1, 4, 4, 64, 2048, 2048, true, 256),
                                       builtin_profile("h100"), "project_flash")[0];
  CHECK(w.jobs.max_tiles == 5);
}

TEST_CASE("project_flash rejects what flash_kernel is not instantiated for", "[tile][project]") {
  CHECK_THROWS_AS(lower_first_op(attention(1, 4, 4, 96, 256, 256, true), builtin_profile("h100"),
                                 "project_flash"),
                  common::SpecError);
}

TEST_CASE(
    "project_split_kv runs the case's splits: grid (splits, B x Hq), 16 keys per step, "
    "and always a combine",
    "[tile][project]") {
  // decode-gqa-8192-split4: 4 splits x 4 x 8 heads = 128 CTAs of 2048 keys = 128 steps; the
  // combine has one CTA per (batch, head). 56 registers x 128 threads: 9 CTAs per SM on H100
  // (sm_90), 64 registers: 8 on A100 (sm_80).
  const Query q = attention(4, 8, 2, 128, 1, 8192, true);
  const sim::Launches split = lower_first_op(q, builtin_profile("h100"), "project_split_kv", 4);
  REQUIRE(split.size() == 2);
  CHECK(split[0].jobs.count == 128);
  CHECK(split[0].jobs.max_tiles == 128);
  CHECK(split[0].per_tile.tensor_flops == 0);  // CUDA cores
  CHECK(slots_per_sm(split[0], "h100") == 9);
  CHECK(sim::ctas_per_sm(lower_first_op(q, builtin_profile("a100"), "project_split_kv", 4)[0].cta,
                         builtin_profile("a100")) == 8);
  CHECK(split[1].jobs.count == 32);
  CHECK(split[1].jobs.max_tiles == 1);
  // One split still launches the combine.
  CHECK(lower_first_op(q, builtin_profile("h100"), "project_split_kv", 1).size() == 2);
  // decode-swa-3000-w512-split4: the keys some row sees are [2488, 3000), 128 per split.
  const sim::Launches swa = lower_first_op(attention(2, 8, 2, 64, 1, 3000, true, 512),
                                           builtin_profile("h100"), "project_split_kv", 4);
  CHECK(swa[0].jobs.max_tiles == 8);
  // decode-q4-2000-split3: 666/667/667 keys, 42 steps, walked once per query row.
  const sim::Launches q4 = lower_first_op(attention(2, 8, 2, 128, 4, 2000, true),
                                          builtin_profile("h100"), "project_split_kv", 3);
  CHECK(q4[0].jobs.count == 3 * 16);
  CHECK(q4[0].jobs.max_tiles == 4 * 42);
  CHECK(q4[1].jobs.max_tiles == 4);
}

TEST_CASE("project_split_kv without a fixed count takes the fastest one", "[tile][project]") {
  const Query q = attention(1, 8, 1, 128, 1, 16384, true);
  const hw::Profile& p = builtin_profile("h100");
  const double best = sim::launches_time(lower_first_op(q, p, "project_split_kv"), p, q.w);
  for (double s : {1.0, 2.0, 8.0, 32.0}) {
    INFO("splits " << s);
    CHECK(best <= sim::launches_time(lower_first_op(q, p, "project_split_kv", s), p, q.w));
  }
}

TEST_CASE("project_unfused batches cuBLAS over (batch, KV head) and runs one softmax CTA per row",
          "[tile][project]") {
  // unfused-gqa-swa-700-w128-d64: 2 KV heads of 4 query heads x 700 rows; 8 x 700 score rows.
  const sim::Launches l = lower_first_op(attention(1, 8, 2, 64, 700, 700, true, 128),
                                         builtin_profile("h100"), "project_unfused");
  REQUIRE(l.size() == 3);
  CHECK(l[0].jobs.count == 2 * 22 * 6);  // ceil(2800 / 128) x ceil(700 / 128) tiles per batch
  CHECK(l[1].jobs.count == 8 * 700);
  CHECK(l[1].cta.threads == 256);
  CHECK(slots_per_sm(l[1], "h100") == 8);
}

TEST_CASE(
    "project_linear: one CTA per (batch, head) per chunk sequence, smem of "
    "linear_smem_layout",
    "[tile][project]") {
  CHECK(sim::project_cuda::linear_smem_bytes(64, 64) == 57344);
  CHECK(sim::project_cuda::linear_smem_bytes(64, 128) == 131072);
  CHECK(sim::project_cuda::linear_smem_bytes(32, 37) == 16688);
  // linear-2048-c64-d64: 4 heads, 32 chunks each; 57344 + 1024 bytes: 4 CTAs per H100 SM.
  const models::AttentionSpec spec = registry().find("linear").make_spec(
      {{"heads", 4.0}, {"head_dim", 64.0}, {"chunk", 64.0}}, {});
  models::Workload w;
  w.q_len = w.kv_len = 2048;
  w.dtype = w.kv_dtype = models::DType::fp16;
  const models::CostModel cost = spec.variant->cost(spec, w);
  const sim::Prediction p = sim::predict_tile(cost, w, builtin_profile("h100"), "project_linear");
  REQUIRE(p.launches.size() == 1);
  CHECK(std::string(p.launches[0].name) == "linear_kernel");
  CHECK(p.launches[0].ctas == 4);
  CHECK(p.launches[0].waves == 1);
  // The generic scan schedule prices other kernels' names.
  CHECK(sim::predict_tile(cost, w, builtin_profile("h100"), "fa2").launches[0].schedule ==
        "chunked_scan");
  // Softmax attention is not this kernel's.
  const Query q = attention(1, 4, 4, 64, 512, 512, true);
  CHECK_THROWS_AS(lower_first_op(q, builtin_profile("h100"), "project_linear"), common::SpecError);
}

TEST_CASE("a CTA that waits on its own loads takes that wait per tile; a co-resident CTA hides it",
          "[tile][project]") {
  // One 64-row block per head against 1024 keys (16 tiles, d128): 132 heads put one CTA on each
  // H100 SM, 264 put two. The waits (K/V loads, shuffle chains) dominate, so the second CTA costs
  // far less than the first; priced as pipe time alone, two CTAs would take twice as long.
  const hw::Profile& p = builtin_profile("h100");
  auto time = [&](std::int64_t heads) {
    const Query q = attention(1, heads, heads, 128, 64, 1024, false);
    return sim::predict_tile(q.spec.variant->cost(q.spec, q.w), q.w, p, "project_flash").time_s;
  };
  const double one = time(132), two = time(264);
  INFO("132 CTAs " << one << " s, 264 CTAs " << two << " s");
  CHECK(two < 1.5 * one);
  // The wait is per tile: a lone CTA takes at least tiles x wait.
  const Query q1 = attention(1, 1, 1, 128, 64, 1024, false);
  const sim::Launch l = lower_first_op(q1, p, "project_flash")[0];
  CHECK(l.per_tile.latency_cycles > 0);
  CHECK(sim::predict_tile(q1.spec.variant->cost(q1.spec, q1.w), q1.w, p, "project_flash").time_s >=
        16 * l.per_tile.latency_cycles / p.compute.tensor_clock_hz);
}

TEST_CASE("the project's flash kernel is priced slower than FlashAttention-2 on the same op",
          "[tile][project]") {
  for (std::string_view id : {"h100", "h200", "a100"}) {
    const Query q = attention(1, 8, 2, 128, 1024, 1024, true);
    const models::CostModel cost = q.spec.variant->cost(q.spec, q.w);
    INFO(id);
    CHECK(sim::predict_tile(cost, q.w, builtin_profile(id), "project_flash").time_s >
          sim::predict_tile(cost, q.w, builtin_profile(id), "fa2").time_s);
  }
}

TEST_CASE(
    "project_flash: CTAs stacked on an SM delay each other's chains by their pipe time, so three "
    "per SM take longer per tile than one",
    "[tile][project]") {
  const hw::Profile& p = builtin_profile("h200");
  // One 64-row query block per head, 1024 keys: 132 heads fill the SMs once, 396 three deep (three
  // flash_kernel<64> CTAs fit an H200 SM). On the H200 the second took 15 % longer
  // (validate/results/2026-11-30-h200-run2-cuda-scaling-r15.json).
  const auto one = lower_first_op(attention(1, 132, 132, 64, 64, 1024, false), p, "project_flash");
  const auto three =
      lower_first_op(attention(1, 396, 396, 64, 64, 1024, false), p, "project_flash");
  REQUIRE(one[0].chain_shares_issue);
  const double ratio = sim::launches_time(three, p, attention(1, 396, 396, 64, 64, 1024, false).w) /
                       sim::launches_time(one, p, attention(1, 132, 132, 64, 64, 1024, false).w);
  CHECK(ratio > 1.05);
  CHECK(ratio < 1.3);
  // Without the flag, stacked CTAs fill each other's waits: the same time.
  auto filled = three;
  filled[0].chain_shares_issue = false;
  const double same = sim::launches_time(filled, p, attention(1, 396, 396, 64, 64, 1024, false).w) /
                      sim::launches_time(one, p, attention(1, 132, 132, 64, 64, 1024, false).w);
  CHECK(same == Approx(1).epsilon(0.02));
}
