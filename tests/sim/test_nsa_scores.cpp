// NSA's block scores and top-k as compressed_attention.py's kernels (sim/schedule_nsa_scores.cpp):
// the score kernel's grid over (KV head, 128 tokens, 128 summaries) looping over the group's
// heads, the torch launches around it, the per-KV-head loop above 32768 tokens, and the ops it
// leaves to the elementwise kernel.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>

#include "sim/engine.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::catalog;
using test_support::cost;
using test_support::make;
using test_support::workload;

namespace {

models::AttentionSpec nsa_64_4() {
  return make("nsa", {{"heads", 64},
                      {"kv_heads", 4},
                      {"head_dim", 128},
                      {"v_head_dim", 128},
                      {"top_k", 16},
                      {"select_block", 64}});
}

models::Workload bf16_prefill(std::int64_t tokens) {
  models::Workload w = workload(models::Phase::fwd, 1, tokens, tokens);
  w.dtype = w.kv_dtype = models::DType::bf16;
  return w;
}

// The launches of the selection op `name`, as `auto` prices it on an A100.
sim::Prediction selection(const models::Workload& w, const std::string& name) {
  models::CostModel c = cost(nsa_64_4(), w);
  models::CostModel kept = c;
  kept.ops = {};
  for (const models::Op& op : c.ops) {
    if (op.name == name) kept.ops.push_back(op);
  }
  REQUIRE(kept.ops.size() == 1);
  return sim::predict_tile(kept, w, catalog().resolve("a100-sxm4-80gb"), sim::KernelChoice());
}

}  // namespace

TEST_CASE(
    "nsa_triton_compressed's block scores recompute every (128 tokens, 128 summaries) tile for "
    "each query head of a KV head, masked tiles included",
    "[sim][nsa]") {
  // 8192 tokens, M = 511 summaries: 64 x 4 tiles per KV head, 4 KV heads, 16 heads each.
  const sim::Prediction p = selection(bf16_prefill(8192), "block_scores");
  CHECK(test_support::launch_names(p) ==
        "query_blocks:nsa_triton_compressed zero_scores:nsa_triton_compressed "
        "block_scores:nsa_triton_compressed zero_block_scores:nsa_triton_compressed "
        "pooling_offsets:nsa_triton_compressed pooling_weights:nsa_triton_compressed "
        "pool_block_scores:nsa_triton_compressed ");
  const sim::LaunchPrediction& k = p.launches[2];
  CHECK(k.ctas == 4 * 64 * 4);
  CHECK(k.flops.tensor == Approx(4.0 * 64 * 4 * 16 * 2 * 128 * 128 * 128));
  CHECK(k.flops.exp == Approx(4.0 * 64 * 4 * 16 * 128 * 128));
  // The fp32 score tensor (KV heads x tokens x summaries) is zeroed first.
  CHECK(p.launches[1].hbm_bytes == Approx(4.0 * 8192 * 511 * 4));
}

TEST_CASE(
    "nsa_triton_compressed's top-k reads each token's block scores and sorts its picks, at most "
    "as many as there are blocks",
    "[sim][nsa]") {
  // 256 tokens in blocks of 64: 4 blocks, so top-16 picks 4 (topk = min(topk, NB)).
  const sim::Prediction few = selection(bf16_prefill(256), "top_k_select");
  CHECK(few.launches[0].hbm_bytes == Approx(4.0 * 256 * (4 * 4 + 4 * 12 * 3)));
  const sim::Prediction p = selection(bf16_prefill(8192), "top_k_select");
  CHECK(test_support::launch_names(p) ==
        "top_k:nsa_triton_compressed sort_top_k:nsa_triton_compressed "
        "mask_and_cast:nsa_triton_compressed ");
  // 128 blocks of 64 per row: their fp32 scores read, 16 values and int64 indices written, then
  // sorted in place (read and written again).
  CHECK(p.launches[0].hbm_bytes == Approx(4.0 * 8192 * (128 * 4 + 16 * 12 * 3)));
  // torch.topk(sorted=True) is the gather and the in-place sort of its results; Tensor.sort on
  // 16 indices is the index fill (arange, copy), the keys' copy and the in-place sort; then the
  // compare, the masked assignment and the cast.
  CHECK(p.launches[0].host_launches == 2);
  CHECK(p.launches[1].host_launches == 4);
  CHECK(p.launches[2].host_launches == 3);
  CHECK(sim::host_units(p, models::CostModel{}, hw::Caller::triton) == 2 + 4 + 3);
}

TEST_CASE(
    "torch.topk switches to ATen's multi-block radix select past 4000 slices of 400 blocks or "
    "more: 22 launches and five reads of the scores instead of 2 and one",
    "[sim][nsa]") {
  // 16384 tokens: 4 x 16384 slices of 256 blocks, single-block.
  const sim::Prediction short_rows = selection(bf16_prefill(16384), "top_k_select");
  CHECK(short_rows.launches[0].host_launches == 2);
  // 32768 tokens: 4 x 32768 slices of 512 blocks; the fill, two memsets, four passes of three
  // kernels, the k-th counts, two scans of two kernels, the gather and the sort of the results.
  const sim::Prediction long_rows = selection(bf16_prefill(32768), "top_k_select");
  CHECK(long_rows.launches[0].host_launches == 22);
  CHECK(long_rows.launches[0].hbm_bytes == Approx(4.0 * 32768 * (512 * 4 * 5 + 16 * 12 * 3)));
  // 65536 tokens, one KV head a launch set: 65536 slices of 1024 blocks, four times over.
  const sim::Prediction serial = selection(bf16_prefill(65536), "top_k_select");
  CHECK(serial.launches[0].host_launches == 4 * 22);
}

TEST_CASE(
    "torch.topk's single-block radix select is bound by its integer and vote issue: 16 SM cycles a "
    "score, on a block of whole warps, the same count on A100 and H100; the multi-block path has "
    "none",
    "[sim][nsa]") {
  // SM cycles of integer issue over the whole top_k launch, from its vector time.
  auto int_cycles = [](std::int64_t tokens, const char* hw_id) {
    const hw::Profile& p = catalog().resolve(hw_id);
    const models::Workload w = bf16_prefill(tokens);
    models::CostModel c = cost(nsa_64_4(), w);
    models::CostModel kept = c;
    kept.ops = {};
    for (const models::Op& op : c.ops) {
      if (std::string(op.name) == "top_k_select") kept.ops.push_back(op);
    }
    const sim::Prediction pr = sim::predict_tile(kept, w, p, sim::KernelChoice());
    REQUIRE(std::string(pr.launches[0].name) == "top_k");
    return pr.launches[0].vector_s * p.compute.sm_count * p.compute.tensor_clock_hz;
  };
  // 8192 tokens: 4 x 8192 slices of 128 block scores, one 128-thread block each.
  CHECK(int_cycles(8192, "a100-sxm4-80gb") == Approx(4.0 * 8192 * 128 * 16));
  CHECK(int_cycles(8192, "h100-sxm5-80gb") == Approx(4.0 * 8192 * 128 * 16));
  // 2048 tokens: 32 scores a slice, one warp.
  CHECK(int_cycles(2048, "a100-sxm4-80gb") == Approx(4.0 * 2048 * 32 * 16));
  // 1000 tokens: 16 blocks of 64 (the last partial), still a whole warp's cycles.
  CHECK(int_cycles(1000, "a100-sxm4-80gb") == Approx(4.0 * 1000 * 32 * 16));
  // 32768 tokens: the multi-block radix select, priced by its reads.
  CHECK(int_cycles(32768, "a100-sxm4-80gb") == 0);
  // The select's time grows with its scores: twice the tokens, four times the work.
  const sim::Prediction p8k = selection(bf16_prefill(8192), "top_k_select");
  const sim::Prediction p16k = selection(bf16_prefill(16384), "top_k_select");
  CHECK(p16k.launches[0].time_s > 3.5 * p8k.launches[0].time_s);
}

TEST_CASE(
    "above 32768 tokens the wrapper runs the selection chain once per KV head: the same work, "
    "four times the launches, each paid by a per-launch caller, then the heads' picks joined",
    "[sim][nsa]") {
  const sim::Prediction small = selection(bf16_prefill(32768), "block_scores");
  const sim::Prediction big = selection(bf16_prefill(65536), "block_scores");
  const double launch = catalog().resolve("a100-sxm4-80gb").calibration.kernel_launch_s;
  CHECK(small.launches[2].fixed_s == Approx(launch));
  CHECK(big.launches[2].fixed_s == Approx(4 * launch));
  CHECK(big.launches[4].fixed_s == Approx(4 * 6 * launch));  // six small torch launches per head
  // A per-launch caller pays for every host launch: the query blocks once (the length's
  // subtraction, an arange, cat, a division and the token-count compare), then per KV head the
  // zeroed scores, the score kernel, the zeroed block scores, six offset launches (two aranges,
  // an add, and histc's arguments: max, + 1, max), histc's two (zeroed bins, the histogram) and
  // the pooling kernel.
  CHECK(sim::host_units(big, models::CostModel{}, hw::Caller::triton) ==
        5 + 4 * (1 + 1 + 1 + 6 + 2 + 1));
  CHECK(sim::host_units(small, models::CostModel{}, hw::Caller::triton) ==
        5 + 1 + 1 + 1 + 6 + 2 + 1);
  // The host reads histc's bin count once per KV head on that path, once in all below it (its
  // upper edge, read right after, finds the device idle).
  CHECK(big.launches[5].host_waits == 4);
  CHECK(small.launches[5].host_waits == 1);
  // The per-head top-k results are concatenated.
  const sim::Prediction top = selection(bf16_prefill(65536), "top_k_select");
  CHECK(std::string(top.launches[top.launches.size() - 1].name) == "concat_heads");
  const sim::Prediction joined = selection(bf16_prefill(32768), "top_k_select");
  CHECK(std::string(joined.launches[joined.launches.size() - 1].name) == "mask_and_cast");
}

TEST_CASE(
    "a decode step's or an fp32 selection stays with the elementwise kernel, and an explicit "
    "kernel without selection kernels leaves it there",
    "[sim][nsa]") {
  models::Workload step = workload(models::Phase::decode, 1, 1, 8192);
  step.dtype = step.kv_dtype = models::DType::bf16;
  CHECK_THAT(test_support::launch_names(selection(step, "block_scores")),
             Catch::Contains("block_scores:elementwise"));
  models::Workload fp32 = bf16_prefill(8192);  // the kernels are 16-bit
  fp32.dtype = fp32.kv_dtype = models::DType::fp32;
  CHECK_THAT(test_support::launch_names(selection(fp32, "block_scores")),
             Catch::Contains("block_scores:elementwise"));
  const models::Workload w = bf16_prefill(8192);
  const hw::Profile& a100 = catalog().resolve("a100-sxm4-80gb");
  const std::string fa2 =
      test_support::launch_names(sim::predict_tile(cost(nsa_64_4(), w), w, a100, "fa2"));
  const std::string nsa =
      test_support::launch_names(sim::predict_tile(cost(nsa_64_4(), w), w, a100, "nsa_triton"));
  CHECK_THAT(fa2, Catch::Contains("block_scores:elementwise"));
  CHECK_THAT(nsa, Catch::Contains("block_scores:nsa_triton_compressed"));
}

TEST_CASE(
    "the selection chain's host waits (each sequence's length, the token-count check, histc's "
    "bin count) cost a per-launch caller its launches after each, and cost a direct call nothing",
    "[sim][nsa]") {
  models::Workload w = bf16_prefill(2048);
  w.batch = 2;
  models::CostModel c = cost(nsa_64_4(), w);
  models::CostModel kept = c;
  kept.ops = {};
  for (const models::Op& op : c.ops) {
    if (std::string(op.name) == "block_scores") kept.ops.push_back(op);
  }
  const hw::Profile& a100 = catalog().resolve("a100-sxm4-80gb");
  sim::ScheduleOptions triton;
  triton.caller = hw::Caller::triton;
  const sim::Prediction direct = sim::predict_tile(kept, w, a100, sim::KernelChoice());
  const sim::Prediction hosted = sim::predict_tile(kept, w, a100, sim::KernelChoice(), triton);
  CHECK(direct.launches[0].host_waits == 2);  // an arange per sequence, each after a read
  CHECK(direct.launches[1].host_waits == 1);  // the Python `if` on the token count
  const double per_launch = a100.caller_floor_s(hw::Caller::triton);
  const double jit = a100.caller_jit_s(hw::Caller::triton);  // more per Triton kernel
  const double excess = sim::host_wait_excess_s(hosted, sim::HostCost{per_launch, jit});
  CHECK(excess > 0);
  CHECK(excess ==
        Approx(test_support::reference_wait_excess(hosted, per_launch, jit)).epsilon(1e-9));
  CHECK(hosted.time_s ==
        Approx(std::max(direct.time_s, hosted.caller_floor_s) + excess).epsilon(1e-12));
  // A direct call pays its launches' device time and nothing for the waits.
  double device = 0;
  for (const sim::LaunchPrediction& l : direct.launches) device += l.count * l.time_s;
  CHECK(direct.time_s == Approx(device).epsilon(1e-12));
}

TEST_CASE(
    "the score kernel takes the profile's nsa_triton_scores entry where it has one, the compressed "
    "kernels' forward entry otherwise; the launches around it keep the latter",
    "[sim][nsa]") {
  const models::Workload w = bf16_prefill(8192);
  hw::Profile a100 = catalog().resolve("a100-sxm4-80gb");
  const sim::ScheduleInfo& info = sim::find_schedule("nsa_triton_compressed");
  auto lower_scores = [&](const hw::Profile& p) {
    sim::Launches out;
    for (const models::Op& op : cost(nsa_64_4(), w).ops) {
      if (op.name != std::string("block_scores")) continue;
      info.selection({op, w, p, sim::forward_calibration(p, info), info.name}, out);
    }
    REQUIRE(out.size() == 7);
    return out;
  };
  const sim::Launches own = lower_scores(a100);
  CHECK(std::string(own[2].name) == "block_scores");
  CHECK(own[2].calibration == &a100.calibration.schedules.at("nsa_triton_scores"));
  CHECK(own[2].per_job_fixed_cycles ==
        a100.calibration.schedules.at("nsa_triton_scores").cta_overhead_cycles);
  for (std::size_t i : {0, 1, 3, 4, 5, 6}) {
    CHECK(own[i].calibration == &a100.calibration.schedules.at("nsa_triton_compressed"));
  }
  a100.calibration.schedules.erase("nsa_triton_scores");
  const sim::Launches fallback = lower_scores(a100);
  CHECK(fallback[2].calibration == &a100.calibration.schedules.at("nsa_triton_compressed"));
}
