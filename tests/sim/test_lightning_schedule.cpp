// lightning2 (sim/schedule_lightning.cpp): Lightning Attention-2's Triton kernels: the forward's
// grid of (head, 32-wide value slice) programs walking 64-token blocks, TF32 products, the
// backward's intra and inter kernels, and when auto picks it.
#include <catch2/catch.hpp>

#include <string>

#include "sim/engine.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::catalog;
using test_support::cost;
using test_support::make;
using test_support::workload;

namespace {

models::AttentionSpec lightning(std::int64_t heads, std::int64_t d, std::int64_t e) {
  return make("lightning", {{"heads", heads}, {"head_dim", d}, {"v_head_dim", e}});
}

models::Workload bf16(models::Phase phase, std::int64_t batch, std::int64_t tokens) {
  models::Workload w = workload(phase, batch, tokens, tokens);
  w.dtype = w.kv_dtype = models::DType::bf16;
  return w;
}

sim::Launches lower_lightning2_scans(const models::AttentionSpec& spec, const models::Workload& w,
                                     models::Pass pass) {
  const hw::Profile& p = catalog().resolve("a100-sxm4-80gb");
  const sim::ScheduleInfo& info = sim::find_schedule("lightning2");
  sim::Launches out;
  for (const models::Op& op : cost(spec, w).ops) {
    if (op.kind != models::OpKind::scan || op.pass != pass) continue;
    info.scan({op, w, p, sim::forward_calibration(p, info), info.name}, out);
  }
  return out;
}

std::string schedules_of(const models::AttentionSpec& spec, const models::Workload& w,
                         const char* device) {
  std::string names;
  const sim::Prediction p =
      sim::predict_tile(cost(spec, w), w, catalog().resolve(device), sim::KernelChoice());
  for (const sim::LaunchPrediction& l : p.launches) names += std::string(l.schedule) + " ";
  return names;
}

}  // namespace

TEST_CASE(
    "lightning2's forward runs a program per head and 32-wide value slice over 64-token "
    "blocks, TF32",
    "[sim][lightning]") {
  // 2 sequences x 3 heads, e 128: 4 slices each; 8192 tokens: 128 blocks in turn.
  const sim::Launches l = lower_lightning2_scans(
      lightning(3, 128, 128), bf16(models::Phase::fwd, 2, 8192), models::Pass::forward);
  REQUIRE(l.size() == 1);
  CHECK(l[0].jobs.count == 2 * 3 * 4);
  CHECK(l[0].jobs.max_tiles == 128);
  // Per block and slice: Q K^T 64x128x64, P V 64x64x32, Q S 64x128x32, K^T V 128x64x32.
  CHECK(l[0].per_tile.tensor_flops == 2.0 * (524288 + 131072 + 262144 + 262144));
  CHECK(l[0].tf32_operands);
  CHECK(l[0].overhead_is_wait);
  // A value dim of 64 makes two slices.
  const sim::Launches e64 = lower_lightning2_scans(
      lightning(8, 128, 64), bf16(models::Phase::fwd, 6, 8192), models::Pass::forward);
  CHECK(e64[0].jobs.count == 6 * 8 * 2);
}

TEST_CASE("lightning2's backward is the intra kernel per block and the inter kernel per head",
          "[sim][lightning]") {
  const sim::Launches l = lower_lightning2_scans(
      lightning(4, 128, 128), bf16(models::Phase::bwd, 1, 4096), models::Pass::backward);
  REQUIRE(l.size() == 2);
  CHECK(l[0].jobs.count == 4 * 64);  // one program per (head, block), no loop
  CHECK(l[0].jobs.max_tiles == 1);
  CHECK(l[0].per_tile.tensor_flops == 2.0 * 64 * 64 * (3 * 128 + 2 * 128));
  CHECK(l[1].jobs.count == 4);  // one program per head: forward and backward walks
  CHECK(l[1].jobs.max_tiles == 2 * 64);
  CHECK(l[1].per_tile.tensor_flops == 320.0 * 128 * 128);
}

TEST_CASE("lightning2's products run at the TF32 ceiling whatever the 16- or 8-bit dtype",
          "[sim][lightning]") {
  // H100's mma.sync class has no fp8 path: an fp8 workload prices only because its tiles are
  // fp32, and takes the bf16 workload's time, both on the TF32 path.
  const hw::Profile& h100 = catalog().resolve("h100-sxm5-80gb");
  const models::AttentionSpec spec = lightning(32, 128, 128);
  models::Workload w = bf16(models::Phase::fwd, 1, 8192);
  const double t_bf16 = sim::predict_tile(cost(spec, w), w, h100, "lightning2").time_s;
  w.dtype = w.kv_dtype = models::DType::fp8;
  CHECK(sim::predict_tile(cost(spec, w), w, h100, "lightning2").time_s == Approx(t_bf16));
}

TEST_CASE(
    "lightning2 runs whole sequences in 64-token blocks only; auto leaves the rest to "
    "chunked_scan and the explicit kernel refuses it",
    "[sim][lightning]") {
  const hw::Profile& a100 = catalog().resolve("a100-sxm4-80gb");
  const models::AttentionSpec spec = lightning(8, 128, 128);
  models::Workload step = workload(models::Phase::decode, 8, 1, 4096);
  step.dtype = step.kv_dtype = models::DType::bf16;
  models::Workload chunk = workload(models::Phase::fwd, 1, 512, 4096);
  chunk.dtype = chunk.kv_dtype = models::DType::bf16;
  for (const models::Workload& w : {step, chunk}) {
    CHECK_THAT(schedules_of(spec, w, "a100-sxm4-80gb"), !Catch::Contains("lightning2"));
    CHECK_THROWS_WITH(sim::predict_tile(cost(spec, w), w, a100, "lightning2"),
                      Catch::Contains("lightning2") && Catch::Contains("whole sequence"));
  }
  const models::AttentionSpec wide =
      make("lightning", {{"heads", 8}, {"head_dim", 128}, {"chunk", 128}});
  CHECK_THAT(schedules_of(wide, bf16(models::Phase::fwd, 1, 4096), "a100-sxm4-80gb"),
             !Catch::Contains("lightning2"));
}

TEST_CASE(
    "auto prices the lightning variant's scans with lightning2 where the profile "
    "calibrates it, else with FLA's simple_gla kernels (fla_chunk) where it has those, else "
    "with chunked_scan",
    "[sim][lightning]") {
  const models::Workload w = bf16(models::Phase::train, 1, 4096);
  CHECK_THAT(schedules_of(lightning(8, 128, 128), w, "a100-sxm4-80gb"),
             Catch::Contains("lightning2") && !Catch::Contains("chunked_scan"));
  CHECK_THAT(schedules_of(lightning(8, 128, 128), w, "b200"), Catch::Contains("fla_chunk") &&
                                                                  !Catch::Contains("lightning2") &&
                                                                  !Catch::Contains("chunked_scan"));
  // A decode step, which lightning2 does not run: FLA's where calibrated, else chunked_scan.
  models::Workload step = workload(models::Phase::decode, 1, 1, 4096);
  step.dtype = step.kv_dtype = models::DType::bf16;
  CHECK_THAT(schedules_of(lightning(8, 128, 128), step, "h200-sxm-141gb"),
             Catch::Contains("fla_chunk"));
  CHECK_THAT(schedules_of(lightning(8, 128, 128), step, "a100-sxm4-80gb"),
             Catch::Contains("fla_chunk"));
  // A 910B calibrates neither library's kernels (they are CUDA Triton kernels): chunked_scan.
  CHECK_THAT(schedules_of(lightning(8, 128, 128), step, "ascend-910b2"),
             Catch::Contains("chunked_scan"));
  const models::AttentionSpec linear = make("linear", {{"heads", 8}, {"head_dim", 128}});
  CHECK_THAT(schedules_of(linear, w, "a100-sxm4-80gb"),
             Catch::Contains("fla_chunk") && !Catch::Contains("lightning2"));
  CHECK_THAT(schedules_of(linear, w, "ascend-910b2"),
             Catch::Contains("chunked_scan") && !Catch::Contains("lightning2"));
}
