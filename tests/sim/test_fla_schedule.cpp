// fla_chunk (sim/schedule_fla.cpp): flash-linear-attention's chunked GLA kernels, their launch
// geometry on hand-worked cases and the in-order state steps that set the time at small B H.
#include <catch2/catch.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "sim/engine.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::catalog;
using test_support::cost;
using test_support::gla;
using test_support::make;
using test_support::workload;

namespace {

sim::Launches lower_scan(const models::AttentionSpec& spec, const models::Workload& w,
                         const hw::Profile& p, models::Pass pass) {
  const models::CostModel c = cost(spec, w);
  const sim::ScheduleInfo& info = sim::find_schedule("fla_chunk");
  for (const models::Op& op : c.ops) {
    if (op.kind != models::OpKind::scan || op.pass != pass) continue;
    sim::Launches out;
    info.scan({op, w, p, sim::forward_calibration(p, info), info.name}, out);
    return out;
  }
  FAIL("no scan op of that pass");
  return {};
}

const hw::Profile& h200() {
  return catalog().resolve("h200-sxm-141gb");
}

}  // namespace

TEST_CASE("fla_chunk forward: cumsum, in-order states, two sub-chunk score kernels, output",
          "[sim][fla]") {
  // B = 2, H = 4, dk = dv = 64, L = 2048, chunk 64: NT = 32 chunks, 8 (batch, head) pairs.
  const auto w = workload(models::Phase::fwd, 2, 2048, 2048);
  const sim::Launches l = lower_scan(gla(4, 64, 64), w, h200(), models::Pass::forward);
  REQUIRE(l.size() == 5);
  CHECK(std::string(l[0].name) == "fla_cumsum_fwd");
  CHECK(l[0].jobs.count == 32 * 8);
  // One CTA per 64 x 64 state block of a head, 32 steps each.
  CHECK(std::string(l[1].name) == "fla_chunk_fwd_h");
  CHECK(l[1].jobs.count == 8);
  CHECK(l[1].jobs.min_tiles == 32);
  CHECK(l[1].jobs.max_tiles == 32);
  // A step: K and V chunks (64 x 64 fp16 each), fp32 gates 64 x 64, the fp16 state stored:
  // 8 + 8 + 16 + 8 KiB; one 64 x 64 x 64 MMA.
  CHECK(l[1].per_tile.hbm_bytes == 40960);
  CHECK(l[1].per_tile.tensor_flops == 2.0 * 64 * 64 * 64);
  // Sub-chunks of 16: 4 per chunk, 6 pairs below the diagonal, 4 diagonal blocks.
  CHECK(l[2].jobs.count == 32 * 8 * 6);
  CHECK(l[3].jobs.count == 32 * 8 * 4);
  CHECK(l[3].per_tile.exp_ops == 16.0 * 16 * 64);  // one exp per pair and channel
  CHECK(std::string(l[4].name) == "fla_fwd_o");
  CHECK(l[4].jobs.count == 32 * 8);
}

TEST_CASE(
    "fla_chunk with a per-head decay runs simple_gla: the states, then outputs that score their "
    "own chunk",
    "[sim][fla]") {
  const auto w = workload(models::Phase::fwd, 2, 2048, 2048);
  const sim::Launches l = lower_scan(gla(4, 64, 1), w, h200(), models::Pass::forward);
  // No cumulative sum (the decay is a constant per head) and no scores kernel.
  REQUIRE(l.size() == 2);
  CHECK(std::string(l[0].name) == "fla_chunk_fwd_h");
  CHECK(std::string(l[1].name) == "fla_fwd_o");
  // The state step reads no gate: K and V chunks (8 + 8 KiB) and the fp16 state stored (8 KiB).
  CHECK(l[0].per_tile.hbm_bytes == 16384 + 8192);
  // Per (BV block, chunk): Q h, the masked Q K^T and A V, each 2 x 64 x 64 x 64; Q and K chunks,
  // the state block, V read and O written, all fp16.
  CHECK(l[1].jobs.count == 32 * 8);
  CHECK(l[1].per_tile.tensor_flops == 3 * 2.0 * 64 * 64 * 64);
  CHECK(l[1].per_tile.hbm_bytes == (2 * 64 * 64 + 64 * 64 + 2 * 64 * 64) * 2.0);
  CHECK(l[1].per_tile.exp_ops == 64.0 * 64 + 64);
}

TEST_CASE(
    "fla_chunk backward: states recomputed in fp32, dh in reverse, then four parallel "
    "kernels",
    "[sim][fla]") {
  const auto w = workload(models::Phase::bwd, 2, 2048, 2048);
  const sim::Launches l = lower_scan(gla(4, 64, 64), w, h200(), models::Pass::backward);
  REQUIRE(l.size() == 6);
  CHECK(std::string(l[0].name) == "fla_chunk_fwd_h_recompute");
  CHECK(std::string(l[1].name) == "fla_chunk_bwd_dh");
  for (int i : {0, 1}) {
    CHECK(l[i].jobs.count == 8);
    CHECK(l[i].jobs.max_tiles == 32);
    CHECK(l[i].per_tile.hbm_bytes == 16384 + 16384 + 16384);  // the state stored in fp32
  }
  CHECK(std::string(l[5].name) == "fla_bwd_dqkg");
}

TEST_CASE(
    "fla_chunk: each in-order step costs the entry's step latency, so at small B H the "
    "time grows by NT times it",
    "[sim][fla]") {
  hw::Profile p = h200();
  const auto spec = gla(4, 64, 64);
  auto time = [&](std::int64_t tokens, double step_cycles) {
    p.calibration.schedules.at("fla_chunk").tile_overhead_cycles = step_cycles;
    const auto w = workload(models::Phase::train, 2, tokens, tokens);
    return sim::predict_tile(cost(spec, w), w, p, "fla_chunk").time_s;
  };
  // Three in-order state kernels in a training step (forward, recompute, dh), 32 steps each at
  // L = 2048: 10,000 more cycles per step add at least 96 steps' worth. The parallel kernels pay
  // it once per CTA, with their CTAs stacked on 132 SMs: about 40 more (2 + 12 + 8 + 2 forward,
  // 2 + 2 + 8 + 2 backward, for 256 to 1,536 CTAs).
  const double clock = p.compute.tensor_clock_hz;
  const double added = time(2048, 10000) - time(2048, 0);
  CHECK(added >= 96 * 10000 / clock);
  CHECK(added <= 140 * 10000 / clock);
  // Doubling the length doubles the steps.
  CHECK(time(4096, 10000) - time(4096, 0) == Approx(2 * added).epsilon(0.1));
}

TEST_CASE(
    "fla_chunk prices a decode step as FLA's fused_recurrent: one program per 64 x 64 block of "
    "each head's fp32 state, then a torch sum of the key blocks' partials",
    "[sim][fla]") {
  // B = 2, H = 4, dk = dv = 128: 2 x 2 blocks of 64 x 64 per head, 32 programs in all.
  const auto decode = workload(models::Phase::decode, 2, 1, 4096);
  const sim::Launches l = lower_scan(gla(4, 128, 128), decode, h200(), models::Pass::forward);
  REQUIRE(l.size() == 2);
  CHECK(std::string(l[0].name) == "fla_fused_recurrent");
  CHECK(l[0].jobs.count == 2 * 2 * 2 * 4);
  CHECK(l[0].per_job_hbm_bytes == 2 * 64 * 64 * 4);  // the state block in and out, fp32
  CHECK(l[0].per_tile.exp_ops == 64);                // GLA's gate per key channel of the block
  // The Triton kernel, then o.sum(0): two fp32 partials of 128 values per (sequence, head) read,
  // their sum written.
  CHECK(l[0].host_jit_launches == 1);
  CHECK(std::string(l[1].name) == "fla_sum_partials");
  CHECK(l[1].host_jit_launches == 0);
  CHECK(l[1].per_job_hbm_bytes * l[1].jobs.count == Approx(2.0 * 4 * 128 * 4 * 3));
  // One key block (dk = 64): o.sum(0) still runs, a copy of the one partial.
  const sim::Launches one = lower_scan(gla(4, 64, 64), decode, h200(), models::Pass::forward);
  REQUIRE(one.size() == 2);
  CHECK(one[1].per_job_hbm_bytes * one[1].jobs.count == Approx(2.0 * 4 * 64 * 4 * 2));
}

TEST_CASE(
    "a triton caller pays caller_floor_us.triton for every host launch and triton_jit more for "
    "each Triton kernel among them",
    "[sim][fla][caller]") {
  // A decode step of FLA's fused_recurrent is one Triton kernel and a torch sum: two launches'
  // floors and one Triton launch's extra (GB200: 2 x 9 + 48 us), more than the device's time.
  const hw::Profile& gb200 = catalog().resolve("gb200");
  const double floor = gb200.caller_floor_s(hw::Caller::triton);
  const double jit = gb200.caller_jit_s(hw::Caller::triton);
  REQUIRE(jit > 0);
  const auto decode = workload(models::Phase::decode, 1, 1, 1);
  const models::CostModel c = cost(gla(64, 128, 128), decode);
  const sim::KernelChoice fla(sim::find_schedule("fla_chunk"));
  const sim::Prediction p =
      sim::predict(sim::EngineKind::tile, c, decode, gb200, fla, hw::Caller::triton);
  CHECK(p.caller_floor_s == Approx(2 * floor + jit));
  CHECK(p.time_s == Approx(p.caller_floor_s));
  CHECK(p.bound == sim::Resource::host);
  // Without the extra, the floors alone.
  hw::Profile plain = gb200;
  plain.calibration.triton_jit_s = 0;
  CHECK(sim::caller_host_s(p, c, plain, hw::Caller::triton) == Approx(2 * floor));
  // A per-call caller pays its floor once per call, whatever the launches are.
  const sim::Prediction eager =
      sim::predict(sim::EngineKind::tile, c, decode, gb200, fla, hw::Caller::pytorch);
  CHECK(eager.caller_floor_s == Approx(gb200.caller_floor_s(hw::Caller::pytorch)));
}

TEST_CASE(
    "auto runs the linear variant's scans as flash-linear-attention does where the device "
    "calibrates fla_chunk (chunked kernels, fused_recurrent for decode), else chunked_scan; "
    "LightNet stays with chunked_scan",
    "[sim][fla]") {
  const auto prefill = workload(models::Phase::prefill, 1, 4096, 4096);
  const auto decode = workload(models::Phase::decode, 1, 1, 4096);
  auto names = [](const models::AttentionSpec& spec, const models::Workload& w, const char* hw) {
    return test_support::launch_names(
        sim::predict_tile(cost(spec, w), w, catalog().resolve(hw), "auto"));
  };
  CHECK(names(gla(4, 64, 1), prefill, "h200-sxm-141gb") ==
        "fla_chunk_fwd_h:fla_chunk fla_fwd_o:fla_chunk ");
  CHECK(names(gla(4, 128, 128), decode, "gb200") ==
        "fla_fused_recurrent:fla_chunk fla_sum_partials:fla_chunk ");
  // The H100 and the A100 have H200's entry (FLA's Triton kernels run on both); a 910B has none:
  // the generic scan.
  CHECK(names(gla(4, 64, 1), prefill, "h100-sxm5-80gb") ==
        "fla_chunk_fwd_h:fla_chunk fla_fwd_o:fla_chunk ");
  CHECK(names(gla(4, 64, 1), prefill, "a100-sxm4-80gb") ==
        "fla_chunk_fwd_h:fla_chunk fla_fwd_o:fla_chunk ");
  CHECK(names(gla(4, 64, 1), prefill, "ascend-910b2") == "linear_scan_fwd:chunked_scan ");
  const models::AttentionSpec lightnet = make("lightnet", {{"heads", 4}, {"head_dim", 64}});
  CHECK_THAT(names(lightnet, prefill, "h200-sxm-141gb"), Catch::Contains(":chunked_scan"));
}

TEST_CASE(
    "fla_chunk tiles 64 tokens whatever the variant's chunk, and a decode step of more than 64 "
    "tokens runs the chunked kernels from the state, as FLA's layers do",
    "[sim][fla]") {
  const auto w = workload(models::Phase::fwd, 2, 2048, 2048);
  const models::AttentionSpec chunk16 =
      make("linear", {{"heads", 4}, {"head_dim", 64}, {"gate_dim", 1}, {"chunk", 16}});
  const sim::Launches a = lower_scan(chunk16, w, h200(), models::Pass::forward);
  const sim::Launches b = lower_scan(gla(4, 64, 1), w, h200(), models::Pass::forward);
  REQUIRE(a.size() == b.size());
  CHECK(a[0].jobs.max_tiles == 32);  // 2048 tokens in 64-token chunks
  CHECK(a[0].jobs.max_tiles == b[0].jobs.max_tiles);
  // Up to 64 tokens a step: fused_recurrent; above: the chunked kernels.
  const auto short_step = workload(models::Phase::decode, 2, 64, 4096);
  CHECK(std::string(lower_scan(gla(4, 64, 1), short_step, h200(), models::Pass::forward)[0].name) ==
        "fla_fused_recurrent");
  const auto long_step = workload(models::Phase::decode, 2, 256, 4096);
  const sim::Launches chunked = lower_scan(gla(4, 64, 1), long_step, h200(), models::Pass::forward);
  CHECK(std::string(chunked[0].name) == "fla_chunk_fwd_h");
  CHECK(chunked[0].jobs.max_tiles == 4);  // 256 tokens, 64 a chunk
}

TEST_CASE(
    "fla_chunk's forward state kernel loads a cached prefix's fp32 state once a CTA and, in "
    "inference, stores the final fp32 state once a CTA (chunk_fwd_h's h0 and ht)",
    "[sim][fla]") {
  // B = 2, H = 4, dk = dv = 64: 8 CTAs of one 64 x 64 state block each, 16 KiB in fp32.
  const double block = 64.0 * 64 * 4;
  auto state_kernel = [](const models::Workload& w) {
    const sim::Launches l = lower_scan(gla(4, 64, 1), w, h200(), models::Pass::forward);
    REQUIRE(std::string(l[0].name) == "fla_chunk_fwd_h");
    return l[0];
  };
  // A training forward from no prior state keeps no final state (use_cache is off in training).
  CHECK(state_kernel(workload(models::Phase::fwd, 2, 2048, 2048)).per_job_hbm_bytes == 0);
  // A prefill from scratch stores the final state; onto a cached prefix it also loads the prefix's.
  CHECK(state_kernel(workload(models::Phase::prefill, 2, 2048, 2048)).per_job_hbm_bytes == block);
  CHECK(state_kernel(workload(models::Phase::prefill, 2, 2048, 6144)).per_job_hbm_bytes ==
        2 * block);
  // A decode step longer than fused_recurrent's 64 tokens: the state in and out, as
  // fused_recurrent's own per-CTA state block does for a shorter one.
  const sim::Launches recurrent = lower_scan(
      gla(4, 64, 1), workload(models::Phase::decode, 2, 64, 4096), h200(), models::Pass::forward);
  CHECK(state_kernel(workload(models::Phase::decode, 2, 256, 4096)).per_job_hbm_bytes ==
        recurrent[0].per_job_hbm_bytes);
  CHECK(recurrent[0].per_job_hbm_bytes == 2 * block);
}

TEST_CASE(
    "a one-token prefill onto a cached linear state costs about what a decode step of that token "
    "does under fla_chunk: both move the fp32 state in and out",
    "[sim][fla]") {
  const models::AttentionSpec spec = make("linear", {{"heads", 32}, {"head_dim", 128}});
  const hw::Profile& h100 = catalog().resolve("h100-sxm5-80gb");
  const auto prefill = workload(models::Phase::prefill, 8, 1, 32768);
  const auto decode = workload(models::Phase::decode, 8, 1, 32768);
  const double p = sim::predict_tile(cost(spec, prefill), prefill, h100, "fla_chunk").time_s;
  const double d = sim::predict_tile(cost(spec, decode), decode, h100, "fla_chunk").time_s;
  // Before the prefix's state was read and the final one stored, the prefill was half the decode.
  CHECK(p == Approx(d).epsilon(0.25));
}

TEST_CASE("fla_chunk refuses softmax attention and tileops_gla a decode step, naming what to use",
          "[sim][fla]") {
  const auto decode = workload(models::Phase::decode, 2, 1, 4096);
  CHECK_THROWS_WITH(sim::predict_tile(cost(gla(4, 64, 64), decode), decode, h200(), "tileops_gla"),
                    Catch::Contains("fused_recurrent") && Catch::Contains("--kernel auto"));
  const auto w = workload(models::Phase::fwd, 1, 1024, 1024);
  const auto gqa = make("gqa", {{"heads", 8}, {"kv_heads", 2}, {"head_dim", 64}});
  CHECK_THROWS_WITH(sim::predict_tile(cost(gqa, w), w, h200(), "fla_chunk"),
                    Catch::Contains("scan ops) only"));
}

TEST_CASE("tileops_gla refuses a state that does not fit a CTA's shared memory, naming the sizes",
          "[sim][fla]") {
  const auto w = workload(models::Phase::train, 2, 8192, 8192);
  // 128 x 128: 2 stages x 64 x 256 bf16 operands (64 KiB) and the 64 KiB fp32 state: it fits.
  CHECK(sim::predict_tile(cost(gla(4, 128, 128), w), w, h200(), "tileops_gla").time_s > 0);
  // 256 x 256: 128 KiB of operands and a 256 KiB state, against 227 KiB.
  CHECK_THROWS_WITH(sim::predict_tile(cost(gla(4, 256, 256), w), w, h200(), "tileops_gla"),
                    Catch::Contains("256 x 256 state") && Catch::Contains("384 KiB") &&
                        Catch::Contains("227 KiB") && Catch::Contains("fla_chunk or auto"));
}

TEST_CASE("fla_chunk runs only where the profile calibrates it", "[sim][fla]") {
  const auto w = workload(models::Phase::fwd, 2, 2048, 2048);
  const hw::Profile& npu = catalog().resolve("ascend-910b2");
  CHECK_THROWS_WITH(sim::predict_tile(cost(gla(4, 64, 64), w), w, npu, "fla_chunk"),
                    Catch::Contains("no calibration for kernel 'fla_chunk'"));
}

TEST_CASE("fla_chunk at B H = 8 is bound by the in-order steps' latency, and says so",
          "[sim][fla]") {
  const auto w = workload(models::Phase::train, 2, 8192, 8192);
  const sim::Prediction p = sim::predict_tile(cost(gla(4, 64, 64), w), w, h200(), "fla_chunk");
  CHECK(p.bound == sim::Resource::latency);
  const std::vector<std::string> state = {"fla_chunk_fwd_h", "fla_chunk_fwd_h_recompute",
                                          "fla_chunk_bwd_dh"};
  std::size_t seen = 0;
  for (const sim::LaunchPrediction& l : p.launches) {
    if (std::find(state.begin(), state.end(), std::string(l.name)) == state.end()) continue;
    INFO(l.name);
    CHECK(l.bound == sim::Resource::latency);
    CHECK(l.ctas == 8);
    ++seen;
  }
  CHECK(seen == 3);
  // With 64 (batch, head) pairs, 8x the tokens: the state kernels run 64 CTAs of the same 3 NT
  // steps and take the same time, only the parallel kernels grow, so a token costs less than half
  // as much.
  const auto wide = workload(models::Phase::train, 16, 8192, 8192);
  const sim::Prediction q =
      sim::predict_tile(cost(gla(4, 64, 64), wide), wide, h200(), "fla_chunk");
  CHECK(q.time_s / 8 < p.time_s / 2);
}

TEST_CASE("fla_chunk's in-order steps overlap on an SM once (batch, head) pairs outnumber SMs",
          "[sim][fla]") {
  // 8 pairs: one CTA per SM. 264 pairs on H200's 132 SMs: two CTAs per SM, whose step waits
  // (tile_overhead_cycles) fill each other's rather than queue. The state kernel then takes the
  // longer of the 8-pair time and the time its bytes take at the device's HBM rate, not twice
  // the 8-pair time.
  auto state = [&](std::int64_t batch) {
    const auto w = workload(models::Phase::fwd, batch, 4096, 4096);
    const sim::Prediction p = sim::predict_tile(cost(gla(4, 64, 64), w), w, h200(), "fla_chunk");
    for (const sim::LaunchPrediction& l : p.launches) {
      if (std::string(l.name) == "fla_chunk_fwd_h") return l;
    }
    FAIL("no state kernel");
    return sim::LaunchPrediction{};
  };
  const sim::LaunchPrediction few = state(2), many = state(66);
  CHECK(many.ctas_per_sm == 2);
  CHECK(many.time_s <= 1.1 * std::max(few.time_s, many.hbm_s + many.fixed_s));
  CHECK(many.time_s < 2 * few.time_s);
  CHECK(many.bound == sim::Resource::hbm);
}

TEST_CASE(
    "fla_chunk on a sequence of one sub-chunk (16 tokens or fewer) has no sub-chunk pair kernel",
    "[sim][fla]") {
  const auto w = workload(models::Phase::fwd, 2, 16, 16);
  const auto spec = make("linear", {{"heads", 4}, {"head_dim", 64}, {"gate_dim", 64}});
  const sim::Launches l = lower_scan(spec, w, h200(), models::Pass::forward);
  REQUIRE(l.size() == 4);
  for (const sim::Launch& launch : l) CHECK(std::string(launch.name) != "fla_intra_sub_inter");
}

TEST_CASE("fla_chunk backward with a per-head decay runs simple_gla's four kernels, no gates",
          "[sim][fla]") {
  const auto w = workload(models::Phase::bwd, 2, 2048, 2048);
  const sim::Launches l = lower_scan(gla(4, 64, 1), w, h200(), models::Pass::backward);
  REQUIRE(l.size() == 4);
  CHECK(std::string(l[0].name) == "fla_chunk_fwd_h_recompute");
  CHECK(std::string(l[1].name) == "fla_chunk_bwd_dh");
  CHECK(std::string(l[2].name) == "fla_bwd_dqk");
  CHECK(std::string(l[3].name) == "fla_bwd_dv");
  // The state steps read no gate: K and V chunks (8 + 8 KiB) and the fp32 state (16 KiB).
  CHECK(l[0].per_tile.hbm_bytes == 16384 + 16384);
  // dQ/dK per (BK block, chunk): dS = dO V^T, dO h and V dh, then dS K and dS^T Q, all 64^3.
  CHECK(l[2].jobs.count == 32 * 8);
  CHECK(l[2].per_tile.tensor_flops == 5 * 2.0 * 64 * 64 * 64);
  // dV per (BV block, chunk): K Q^T, K dh and A dO.
  CHECK(l[3].per_tile.tensor_flops == 3 * 2.0 * 64 * 64 * 64);
}
