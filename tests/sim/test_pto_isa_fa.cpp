// pto_isa_fa (sim/schedule_pto.cpp): the PTO-ISA manual flash attention on Ascend: one 128-row
// block per core group and wave, 256-key steps of two cube stages, each the longest of its matmul
// and its GM transfers, a serial block dispatch, and what it refuses.
#include <catch2/catch.hpp>

#include <map>
#include <string>
#include <utility>

#include "common/errors.hpp"
#include "sim/engine.hpp"
#include "sim/price.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::catalog;
using test_support::cost;
using test_support::make;
using test_support::one_head_fp16_fwd;
using test_support::workload;

namespace {

// pto-isa's own cost model of the kernel (scripts/fa_cost_model.py, on-board mode), the constants
// the schedule started from before attnsim fitted it on the JIT-built kernel's rows: the tests of
// the schedule's structure use them, so they do not move with a refit.
const hw::ScheduleCalibration kCostModel = {1.0, 1.0, 1000, 2000, std::nullopt};

// An Ascend profile with the cost model's constants as its pto_isa_fa entry; kept for the test
// run, since a lowered launch points at its profile's calibration.
const hw::Profile& cost_model_profile(const std::string& id = "ascend-910b2") {
  static std::map<std::string, hw::Profile> profiles;
  auto it = profiles.find(id);
  if (it == profiles.end()) {
    hw::Profile p = catalog().resolve(id);
    p.calibration.schedules["pto_isa_fa"] = kCostModel;
    it = profiles.emplace(id, std::move(p)).first;
  }
  return it->second;
}

sim::Launches lower_isa(const models::Workload& w, std::int64_t head_dim = 128,
                        const hw::Profile& p = cost_model_profile()) {
  return test_support::lower_dense_forward(
      "pto_isa_fa", cost(make("mha", {{"heads", 1}, {"head_dim", head_dim}}), w), w, p);
}

double isa_time(std::int64_t rows, std::int64_t keys, const hw::Profile& p = cost_model_profile()) {
  return test_support::one_head_fp16_time("pto_isa_fa", rows, keys, p);
}

}  // namespace

TEST_CASE("pto_isa_fa runs one 128-row block per core group, each walking every 256-key step",
          "[sim][ascend]") {
  const sim::Launches l = lower_isa(one_head_fp16_fwd(3072, 8192));
  REQUIRE(l.size() == 1);
  CHECK(l[0].jobs.count == 24);      // 3072 / 128
  CHECK(l[0].jobs.min_tiles == 32);  // 8192 / 256
  CHECK(l[0].jobs.max_tiles == 32);
  CHECK(l[0].per_tile.tensor_flops == 2.0 * 128 * 256 * (128 + 128));
  CHECK(l[0].serial_cycles_per_job == 2000);  // the entry's block dispatch
  CHECK(l[0].overhead_is_wait);
}

TEST_CASE("pto_isa_fa's step waits for the transfers each cube stage's matmul does not hide",
          "[sim][ascend]") {
  // d 128: Q K^T is 1,024 cycles of matmul (128 x 256 x 128 MACs at 4,096 a cycle; the profile
  // rounds the peak to 353.9 TF/s, hence the tolerance), 1,024 of K
  // in and 2,048 of S out (128 KiB fp32 at 64 B a cycle): 1,024 beyond the matmul. P V is 1,024
  // of matmul, 2,048 of P and V in (64 KiB each), 1,024 of P V out: 1,024 beyond.
  CHECK(lower_isa(one_head_fp16_fwd(3072, 8192))[0].per_tile.latency_cycles ==
        Approx(2048).epsilon(1e-4));
  // d 64: Q K^T 512 of matmul, 512 of K in, 2,048 of S out: 1,536 beyond; P V 512 of matmul,
  // 1,536 of P (64 KiB) and V (32 KiB) in, 512 out: 1,024 beyond.
  CHECK(lower_isa(one_head_fp16_fwd(3072, 8192), 64)[0].per_tile.latency_cycles ==
        Approx(2560).epsilon(1e-4));
}

TEST_CASE("pto_isa_fa reproduces pto-isa's own cost model of the kernel within 3 %",
          "[sim][ascend]") {
  // scripts/fa_cost_model.py (on-board mode) for a 910B2 at 3072 rows, d 128, fp16
  // (validate/data/candidates/pto_isa_fa_notes.md §4.3): 124.0, 214.7 and 396.2 us.
  CHECK(isa_time(3072, 8192) == Approx(124.0e-6).epsilon(0.03));
  CHECK(isa_time(3072, 16384) == Approx(214.7e-6).epsilon(0.03));
  CHECK(isa_time(3072, 32768) == Approx(396.2e-6).epsilon(0.03));
}

TEST_CASE("pto_isa_fa's blocks are dispatched one after another, once per launch",
          "[sim][ascend]") {
  const hw::Profile& p = cost_model_profile();
  const models::Workload w = one_head_fp16_fwd(3072, 8192);
  const sim::Launches l = lower_isa(w);
  // 24 blocks x 2,000 cycles at 1.8 GHz, on top of the device launch.
  CHECK(sim::price_launch(l[0], p, w, 1).fixed_s ==
        Approx(p.calibration.kernel_launch_s + 24 * 2000 / 1.8e9));
}

TEST_CASE("pto_isa_fa's GM rate follows the device's HBM: half on the 910B4", "[sim][ascend]") {
  const sim::Launches out =
      lower_isa(one_head_fp16_fwd(3072, 8192), 128, cost_model_profile("ascend-910b4"));
  REQUIRE(out.size() == 1);
  // 32 B a cycle (800 GB/s of HBM): Q K^T 4,096 of S out against 1,024 of matmul, P V 4,096 of
  // P and V in against 1,024: 6,144 cycles beyond the matmuls (2,048 on the 910B2).
  CHECK(out[0].per_tile.latency_cycles == Approx(6144).epsilon(1e-3));
}

TEST_CASE("pto_isa_fa's blocks in flight share the core groups' GM rate: fewer blocks, more each",
          "[sim][ascend]") {
  // 64 B a cycle each with all 24 groups busy is 1,536 in all. 16 blocks take 96 each: S out
  // (128 KiB) and P and V in (128 KiB) take 1,365 cycles against 1,024 of matmul, 683 beyond.
  CHECK(lower_isa(one_head_fp16_fwd(2048, 8192))[0].per_tile.latency_cycles ==
        Approx(2 * (131072.0 / 96 - 1024)).epsilon(1e-3));
  // One or a few blocks run their stages at the matmuls' pace (the JIT rows: one block's step
  // takes 1.9 us, about the two stages' matmuls and the step's synchronisation).
  CHECK(lower_isa(one_head_fp16_fwd(128, 8192))[0].per_tile.latency_cycles == 0);
  CHECK(lower_isa(one_head_fp16_fwd(1024, 8192))[0].per_tile.latency_cycles == 0);
  // More blocks than groups: still 24 in flight, 64 each.
  CHECK(lower_isa(one_head_fp16_fwd(6144, 8192))[0].per_tile.latency_cycles ==
        Approx(2048).epsilon(1e-4));
}

TEST_CASE(
    "pto_isa_fa's K and V come from HBM with the steps that read them, a block's Q and O "
    "with the block",
    "[sim][ascend]") {
  const models::Workload w = one_head_fp16_fwd(128, 8192);
  const sim::Launches l = lower_isa(w);
  REQUIRE(l.size() == 1);
  const double kv = 2.0 * 8192 * 128 * 2;  // K and V, fp16
  CHECK(l[0].per_tile.hbm_bytes * l[0].jobs.total_tiles == Approx(kv));
  CHECK(l[0].per_job_hbm_bytes == Approx(128 * 128 * 2 + 128 * 128 * 4));  // Q in, O out (fp32)
  // One block's steps hide its K and V: its time is at least its 32 steps (2,048 cycles of matmul
  // and 1,000 of synchronisation each) and far from those steps plus the whole K and V at what
  // one core draws from HBM.
  const hw::Profile& p = cost_model_profile();
  const sim::LaunchPrediction one = sim::price_launch(l[0], p, w, 1);
  const double steps_s = 32 * (2048 + 1000) / 1.8e9;
  CHECK(one.time_s - one.fixed_s >= steps_s * 0.999);
  CHECK(one.time_s - one.fixed_s < steps_s + 0.5 * kv / sim::sm_load_Bps(p));
}

TEST_CASE("pto_isa_fa's time is linear in the key steps and doubles its steps with a second wave",
          "[sim][ascend]") {
  const double t8 = isa_time(3072, 8192), t16 = isa_time(3072, 16384);
  CHECK(isa_time(3072, 32768) - t16 == Approx(2 * (t16 - t8)).epsilon(1e-6));
  // 6144 rows: 48 blocks on 24 core groups, two waves of the same steps (and 24 more dispatches).
  const double two_waves = isa_time(6144, 32768) - isa_time(6144, 16384);
  CHECK(two_waves == Approx(2 * (isa_time(3072, 32768) - t16)).epsilon(0.02));
}

TEST_CASE("pto_isa_fa is several times faster than the single-buffered PTO-DSL port",
          "[sim][ascend]") {
  const hw::Profile& p = catalog().resolve("ascend-910b2");
  const models::Workload w = one_head_fp16_fwd(3072, 32768);
  const models::CostModel c = cost(make("mha", {{"heads", 1}, {"head_dim", 128}}), w);
  const double isa = sim::predict_tile(c, w, p, "pto_isa_fa").time_s;
  const double dsl = sim::predict_tile(c, w, p, "pto_dsl_fa").time_s;
  // 32-row blocks whose transfers and matmuls run in series: 24 TF/s measured against about 130.
  CHECK(dsl > 4 * isa);
}

TEST_CASE(
    "pto_isa_fa refuses decode work, windows, and causal work with more keys than queries, "
    "naming the kernel",
    "[sim][ascend]") {
  const hw::Profile& p = catalog().resolve("ascend-910b2");
  const models::AttentionSpec spec = make("mha", {{"heads", 1}, {"head_dim", 128}});
  // Its mask is aligned at the first key: causal means attnsim's causal only when Sq = Sk.
  const models::Workload causal = one_head_fp16_fwd(3072, 8192, true);
  CHECK_THROWS_WITH(sim::predict_tile(cost(spec, causal), causal, p, "pto_isa_fa"),
                    Catch::Contains("pto_isa_fa") && Catch::Contains("3072 queries and 8192 keys"));
  models::Workload decode = workload(models::Phase::decode, 1, 1, 8192, false);
  decode.dtype = decode.kv_dtype = models::DType::fp16;
  CHECK_THROWS_WITH(sim::predict_tile(cost(spec, decode), decode, p, "pto_isa_fa"),
                    Catch::Contains("pto_isa_fa") && Catch::Contains("(decode,"));
  // A sliding window (causal, q_len = kv_len) is not in the template.
  const models::Workload square = one_head_fp16_fwd(4096, 4096, true);
  const models::AttentionSpec swa =
      make("swa", {{"heads", 1}, {"head_dim", 128}, {"window", 1024}});
  CHECK_THROWS_WITH(sim::predict_tile(cost(swa, square), square, p, "pto_isa_fa"),
                    Catch::Contains("pto_isa_fa") && Catch::Contains("every key"));
}

TEST_CASE("pto_isa_fa's causal blocks stop at the diagonal: 1 + b x 128 / 256 steps each",
          "[sim][ascend]") {
  // 3072 rows: 24 blocks of 1, 1, 2, 2, ..., 12, 12 steps, 156 in all (288 non-causal).
  const sim::Launches l = lower_isa(one_head_fp16_fwd(3072, 3072, true));
  REQUIRE(l.size() == 1);
  CHECK(l[0].jobs.count == 24);
  CHECK(l[0].jobs.min_tiles == 1);
  CHECK(l[0].jobs.max_tiles == 12);
  CHECK(l[0].jobs.total_tiles == 156);
  // The longest blocks' later steps run beside fewer blocks as the shorter ones finish: step k
  // beside 26 - 2k, so 64 x 24 / n B a cycle each; a step's two stages wait 2 x (131072 n / 1536
  // - 1024) cycles while that is positive (n > 12): 2048 + 1707 + 1365 + 1024 + 683 + 341 = 7168
  // over 12 steps.
  CHECK(l[0].per_tile.latency_cycles == Approx(7168.0 / 12).epsilon(1e-3));
  CHECK(lower_isa(one_head_fp16_fwd(3072, 3072))[0].per_tile.latency_cycles ==
        Approx(2048).epsilon(1e-4));
  // So one causal wave is faster than without the mask, though its last block walks as many
  // steps; with two waves (6144 rows: 48 blocks, the second wave's 13-24 steps, each at the
  // full share) the mask saves the first wave's length.
  const hw::Profile& p = cost_model_profile();
  auto time = [&](std::int64_t rows, bool causal) {
    const models::Workload w = one_head_fp16_fwd(rows, rows, causal);
    return sim::predict_tile(cost(make("mha", {{"heads", 1}, {"head_dim", 128}}), w), w, p,
                             "pto_isa_fa")
        .time_s;
  };
  CHECK(time(3072, true) < 0.95 * time(3072, false));
  CHECK(time(3072, true) > 0.7 * time(3072, false));
  CHECK(time(6144, true) < 0.9 * time(6144, false));
  CHECK(time(6144, true) > 0.5 * time(6144, false));
}

TEST_CASE("pto_isa_fa refuses head dims, value dims and dtypes it is not built for",
          "[sim][ascend]") {
  const hw::Profile& p = catalog().resolve("ascend-910b2");
  const models::Workload w = one_head_fp16_fwd(3072, 8192);
  auto refused = [&](const models::AttentionSpec& spec, const models::Workload& work) {
    CHECK_THROWS_WITH(sim::predict_tile(cost(spec, work), work, p, "pto_isa_fa"),
                      Catch::Contains("pto_isa_fa") &&
                          Catch::Contains("allowed: --dtype fp16, head dims 64 or 128"));
  };
  refused(make("mha", {{"heads", 1}, {"head_dim", 96}}), w);
  refused(make("mha", {{"heads", 1}, {"head_dim", 128}, {"v_head_dim", 64}}), w);
  models::Workload bf16 = w;
  bf16.dtype = bf16.kv_dtype = models::DType::bf16;
  refused(make("mha", {{"heads", 1}, {"head_dim", 128}}), bf16);
}

TEST_CASE("pto_isa_fa never prices more rows or more keys faster, on every 910B at d 64 and 128",
          "[sim][ascend]") {
  for (const char* id : {"ascend-910b1", "ascend-910b2", "ascend-910b3", "ascend-910b4"}) {
    const hw::Profile& p = catalog().resolve(id);
    for (std::int64_t d : {64, 128}) {
      for (std::int64_t keys : {1024, 8192, 32768}) {
        double last = 0;
        for (std::int64_t rows : {128, 256, 512, 1024, 2048, 3072, 4096, 6144}) {
          const models::Workload w = one_head_fp16_fwd(rows, keys);
          const double t = sim::predict_tile(cost(make("mha", {{"heads", 1}, {"head_dim", d}}), w),
                                             w, p, "pto_isa_fa")
                               .time_s;
          INFO(id << " d " << d << ", " << rows << " rows, " << keys << " keys");
          CHECK(t >= last * 0.999);
          last = t;
        }
      }
    }
  }
}
