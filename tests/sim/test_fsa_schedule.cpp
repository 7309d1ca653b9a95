// fsa_triton (sim/schedule_fsa.cpp, schedule_fsa_backward.cpp): FSA's selected branch as the Triton
// kernels of Relaxed-System-Lab/Flash-Sparse-Attention: KV block outer, one launch per query head,
// the statistics pre-pass per KV head, the merge of per-block partials, the index bookkeeping and
// host reads around them; where auto runs it, and FSA's extras it absorbs.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <string>

#include "sim/engine.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::builtin_profile;
using test_support::cost;
using test_support::make;
using test_support::only;
using test_support::workload;

namespace {

models::AttentionSpec fsa(std::int64_t heads, std::int64_t kv_heads) {
  return make("fsa", {{"heads", heads},
                      {"kv_heads", kv_heads},
                      {"head_dim", 128},
                      {"v_head_dim", 128},
                      {"top_k", 16},
                      {"select_block", 64}});
}

models::Workload bf16(models::Phase phase, std::int64_t tokens) {
  models::Workload w = workload(phase, 1, tokens, tokens);
  w.dtype = w.kv_dtype = models::DType::bf16;
  return w;
}

// The selected branch's forward as `kernel` prices it on an H100.
sim::Prediction selected(const models::AttentionSpec& spec, const models::Workload& w,
                         const char* kernel = "fsa_triton") {
  const models::CostModel c = only(cost(spec, w), {"selected_attention_fwd"});
  return sim::predict_tile(c, w, builtin_profile("h100"), kernel);
}

const sim::LaunchPrediction& launch(const sim::Prediction& p, const std::string& name) {
  for (const sim::LaunchPrediction& l : p.launches) {
    if (name == l.name) return l;
  }
  FAIL("no launch " << name);
  return p.launches[0];
}

}  // namespace

TEST_CASE(
    "fsa_triton runs the selected forward as the wrapper does: the index bookkeeping, the "
    "statistics pre-pass per KV head, then per query head block 0, the other blocks and the merge",
    "[sim][fsa]") {
  const sim::Prediction p = selected(fsa(32, 4), bf16(models::Phase::fwd, 8192));
  CHECK(test_support::launch_names(p) ==
        "fsa_setup:fsa_triton block_to_token:fsa_triton token_lists:fsa_triton "
        "index_mapping:fsa_triton stats_prepass:fsa_triton running_max:fsa_triton "
        "selected_first_block:fsa_triton rest_grid:fsa_triton selected_other_blocks:fsa_triton "
        "merge_partials:fsa_triton copy_out:fsa_triton ");
  // 8192 tokens, top 16 of 128 blocks of 64 keys: a causal token visits min(t / 64 + 1, 16)
  // blocks, 123,392 (token, block) pairs per KV head; block 0 has all 8192 tokens and the other
  // 127 share 115,200 (907 each): one program of eight 128-token tiles each.
  const double tile_qk = 2.0 * 128 * 64 * 128;
  const sim::LaunchPrediction& first = launch(p, "selected_first_block");
  CHECK(first.ctas == 32 * 8);  // per query head, 8192 / 1024 programs
  CHECK(first.flops.tensor == Approx(32.0 * 64 * 2 * tile_qk));  // Q K^T and P V per tile
  const sim::LaunchPrediction& other = launch(p, "selected_other_blocks");
  CHECK(other.ctas == 32 * 127);
  CHECK(other.flops.tensor == Approx(32.0 * 127 * 8 * 2 * tile_qk));
  // The pre-pass runs per KV head (the group's first query head), Q K^T only, over the same tiles.
  const sim::LaunchPrediction& stats = launch(p, "stats_prepass");
  CHECK(stats.ctas == 4 * (8 + 127));
  CHECK(stats.flops.tensor == Approx(4.0 * (64 + 127 * 8) * tile_qk));
  // One merge program (a warp) per token and query head.
  CHECK(launch(p, "merge_partials").ctas == 32 * 8192);
}

TEST_CASE(
    "fsa_triton's host reads: 15 + 5 Hkv + Hq per sequence, each costing a per-launch caller the "
    "launches after it; a direct call pays none",
    "[sim][fsa]") {
  const sim::Prediction p = selected(fsa(32, 4), bf16(models::Phase::fwd, 8192));
  double waits = 0, host = 0;
  for (const sim::LaunchPrediction& l : p.launches) {
    waits += l.host_waits;
    host += l.host_launches;
  }
  CHECK(waits == 15 + 5 * 4 + 32);
  // Setup 17 + 10 per KV head; per KV head 1 + 11 + 1 + 1 + 4; per query head 1 + 3 + 1 + 1;
  // the two copies out.
  CHECK(host == (17 + 10 * 4) + 4 * (1 + 11 + 1 + 1 + 4) + 32 * (1 + 3 + 1 + 1) + 2);
  const hw::Profile& h100 = builtin_profile("h100");
  models::Workload w = bf16(models::Phase::fwd, 8192);
  const models::CostModel c = only(cost(fsa(32, 4), w), {"selected_attention_fwd"});
  sim::ScheduleOptions triton;
  triton.caller = hw::Caller::triton;
  const sim::Prediction hosted = sim::predict_tile(c, w, h100, "fsa_triton", triton);
  const double f = h100.caller_floor_s(hw::Caller::triton);
  const double jit = h100.caller_jit_s(hw::Caller::triton);  // more per Triton kernel
  const double excess = sim::host_wait_excess_s(hosted, sim::HostCost{f, jit});
  CHECK(excess > 0);
  // Its lumps do not divide evenly among their waits (57 setup launches over 23 reads).
  CHECK(excess == Approx(test_support::reference_wait_excess(hosted, f, jit)).epsilon(1e-9));
  CHECK(hosted.time_s == Approx(std::max(p.time_s, hosted.caller_floor_s) + excess));
}

TEST_CASE(
    "nsa_triton prices FSA's selected branch with NSA's per-token kernel whatever the group (the "
    "same selection), at NSA's cost, and FSA's extras as nothing",
    "[sim][fsa]") {
  const hw::Profile& h100 = builtin_profile("h100");
  const models::Workload w = bf16(models::Phase::fwd, 8192);
  const sim::Prediction p = sim::predict_tile(cost(fsa(16, 4), w), w, h100, "nsa_triton");
  const std::string names = test_support::launch_names(p);
  CHECK_THAT(names, Catch::Contains("selected_attention_fwd:nsa_triton") &&
                        !Catch::Contains("selected_attention_fwd:fa2") &&
                        !Catch::Contains("selected_stats_prepass") &&
                        !Catch::Contains("selected_partials_reduce") &&
                        !Catch::Contains("block_indices"));
  // NSA's own variant with the same shape: the same selected kernel, launch for launch.
  const models::AttentionSpec nsa = make("nsa", {{"heads", 16},
                                                 {"kv_heads", 4},
                                                 {"head_dim", 128},
                                                 {"v_head_dim", 128},
                                                 {"top_k", 16},
                                                 {"select_block", 64}});
  const sim::Prediction q =
      sim::predict_tile(only(cost(nsa, w), {"selected_attention_fwd"}), w, h100, "nsa_triton");
  CHECK(launch(p, "selected_attention_fwd").time_s ==
        Approx(launch(q, "selected_attention_fwd").time_s));
  // Where NSA's kernel cannot run the branch (FSA's own 192/128 head dims, a decode step), it is
  // fa2's, and FSA's extras stay the model's elementwise work: the same as --kernel fa2.
  const models::AttentionSpec defaults =
      make("fsa", {{"heads", 64}, {"kv_heads", 4}, {"top_k", 16}, {"select_block", 64}});
  models::Workload step = workload(models::Phase::decode, 1, 1, 8192);
  step.dtype = step.kv_dtype = models::DType::bf16;
  for (const auto& [spec, run] : {std::pair{defaults, w}, std::pair{fsa(16, 4), step}}) {
    const sim::Prediction nsa_kernel = sim::predict_tile(cost(spec, run), run, h100, "nsa_triton");
    const sim::Prediction fa2 = sim::predict_tile(cost(spec, run), run, h100, "fa2");
    CHECK_THAT(test_support::launch_names(nsa_kernel),
               Catch::Contains("selected_stats_prepass:elementwise"));
    CHECK(nsa_kernel.time_s == Approx(fa2.time_s));
  }
}

TEST_CASE(
    "auto runs FSA's selected branch as FSA's module does, forward and backward: fsa_triton for "
    "groups of up to 8 query heads, NSA's kernel (nsa_triton) above; its extras add no launches "
    "under either",
    "[sim][fsa]") {
  const hw::Profile& h100 = builtin_profile("h100");
  const models::Workload train = bf16(models::Phase::train, 8192);
  const std::string g8 =
      test_support::launch_names(sim::predict_tile(cost(fsa(32, 4), train), train, h100, "auto"));
  CHECK_THAT(g8, Catch::Contains("selected_other_blocks:fsa_triton") &&
                     Catch::Contains("compressed_attention_fwd:nsa_triton_compressed") &&
                     !Catch::Contains("selected_stats_prepass") &&
                     !Catch::Contains("selected_partials_reduce") &&
                     !Catch::Contains("block_indices"));
  // The backward: NSA's dK/dV kernel and FSA's dQ path; the window branch as the default's.
  CHECK_THAT(g8, Catch::Contains("selected_dkdv:fsa_triton") &&
                     Catch::Contains("dq_other_blocks:fsa_triton") &&
                     Catch::Contains("attention_bwd:fa3"));
  const std::string g16 =
      test_support::launch_names(sim::predict_tile(cost(fsa(64, 4), train), train, h100, "auto"));
  CHECK_THAT(
      g16, !Catch::Contains("fsa_triton") && Catch::Contains("selected_attention_fwd:nsa_triton") &&
               Catch::Contains("selected_dkdv:nsa_triton") &&
               Catch::Contains("selected_dq:nsa_triton") &&
               !Catch::Contains("selected_stats_prepass") &&
               !Catch::Contains("selected_partials_reduce") && !Catch::Contains("block_indices"));
  // Without nsa_triton's entries the group of 16 goes to the default kernel, its extras to the
  // elementwise one.
  hw::Profile no_nsa = h100;
  no_nsa.calibration.schedules.erase("nsa_triton");
  no_nsa.calibration.schedules.erase("nsa_triton_bwd");
  const std::string fallback =
      test_support::launch_names(sim::predict_tile(cost(fsa(64, 4), train), train, no_nsa, "auto"));
  CHECK_THAT(fallback, !Catch::Contains(":nsa_triton ") &&
                           Catch::Contains("selected_stats_prepass:elementwise"));
  // A profile without the entry leaves FSA's selected branch and extras where they were.
  hw::Profile bare = h100;
  bare.calibration.schedules.erase("fsa_triton");
  const std::string none =
      test_support::launch_names(sim::predict_tile(cost(fsa(32, 4), train), train, bare, "auto"));
  CHECK_THAT(none, !Catch::Contains("fsa_triton") &&
                       Catch::Contains("selected_partials_reduce:elementwise"));
}

TEST_CASE(
    "fsa_triton loads each block's K and V once per query head and program, where NSA's kernel "
    "loads them per token: at a group of 8 it moves far fewer bytes for the selected branch",
    "[sim][fsa]") {
  const models::Workload w = bf16(models::Phase::fwd, 65536);
  const sim::Prediction f = selected(fsa(32, 4), w, "fsa_triton");
  const models::AttentionSpec nsa = make("nsa", {{"heads", 32},
                                                 {"kv_heads", 4},
                                                 {"head_dim", 128},
                                                 {"v_head_dim", 128},
                                                 {"top_k", 16},
                                                 {"select_block", 64}});
  const models::CostModel c = only(cost(nsa, w), {"selected_attention_fwd"});
  const sim::Prediction n = sim::predict_tile(c, w, builtin_profile("h100"), "nsa_triton");
  CHECK(f.hbm_bytes_moved < n.hbm_bytes_moved);
  CHECK(f.time_s < n.time_s);
  // Its per-query-head loop: twice the query heads on the same KV heads, twice the selected
  // kernels' work, the per-KV-head pre-pass unchanged (an explicit --kernel runs any group).
  const sim::Prediction f2 = selected(fsa(64, 4), w, "fsa_triton");
  CHECK(launch(f2, "selected_other_blocks").flops.tensor ==
        Approx(2 * launch(f, "selected_other_blocks").flops.tensor));
  CHECK(launch(f2, "stats_prepass").flops.tensor == launch(f, "stats_prepass").flops.tensor);
}

TEST_CASE(
    "fsa_triton spreads the chosen tokens over the sequence's own blocks (not top_k's), repeats "
    "per sequence, and leaves the fsa variant's default head dims (192/128) to the default",
    "[sim][fsa]") {
  // 128 tokens in blocks of 64, top 16: two real blocks; 64 tokens choose block 1.
  const sim::Prediction tiny = selected(fsa(32, 4), bf16(models::Phase::fwd, 128));
  CHECK(launch(tiny, "selected_other_blocks").ctas == 32);  // one program per query head
  CHECK(launch(tiny, "selected_other_blocks").flops.tensor ==
        Approx(32 * 2 * 2.0 * 128 * 64 * 128));
  // Two sequences: the wrapper's loop runs everything twice.
  models::Workload two = bf16(models::Phase::fwd, 8192);
  two.batch = 2;
  const sim::Prediction one = selected(fsa(32, 4), bf16(models::Phase::fwd, 8192));
  const sim::Prediction both = selected(fsa(32, 4), two);
  for (const char* name : {"stats_prepass", "selected_first_block", "merge_partials"}) {
    CHECK(launch(both, name).ctas == 2 * launch(one, name).ctas);
  }
  double host_one = 0, host_both = 0, waits_one = 0, waits_both = 0;
  for (const sim::LaunchPrediction& l : one.launches) {
    host_one += l.host_launches;
    waits_one += l.host_waits;
  }
  for (const sim::LaunchPrediction& l : both.launches) {
    host_both += l.host_launches;
    waits_both += l.host_waits;
  }
  CHECK(host_both == 2 * host_one);  // the host issues every launch per sequence
  CHECK(waits_both == 2 * waits_one);
  // The variant's defaults: d 192 for Q and K, 128 for V; the kernels take one power-of-two dim.
  const models::Workload w = bf16(models::Phase::fwd, 8192);
  const models::AttentionSpec defaults =
      make("fsa", {{"heads", 32}, {"kv_heads", 4}, {"top_k", 16}, {"select_block", 64}});
  const std::string names = test_support::launch_names(
      sim::predict_tile(cost(defaults, w), w, builtin_profile("h100"), "auto"));
  CHECK_THAT(names, !Catch::Contains("fsa_triton") &&
                        Catch::Contains("selected_stats_prepass:elementwise"));
}

TEST_CASE(
    "fsa_triton's backward runs NSA's inversion and dK/dV kernel (with the device's nsa_triton_bwd "
    "entry), then per query head the ranks, dQ over block 0 and the other blocks, and the "
    "reduction; 20 + 2 Hq host reads priced",
    "[sim][fsa]") {
  const models::AttentionSpec spec = fsa(32, 4);
  const models::Workload w = bf16(models::Phase::bwd, 8192);
  const hw::Profile& h100 = builtin_profile("h100");
  const sim::ScheduleInfo& info = sim::find_schedule("fsa_triton");
  sim::Launches out;
  for (const models::Op& op : cost(spec, w).ops) {
    if (std::string(op.name) != "selected_attention_bwd") continue;
    info.backward({op, w, h100, sim::backward_calibration(h100, info), info.name}, out);
  }
  std::string names;
  double waits = 0;
  for (const sim::Launch& l : out) {
    names += std::string(l.name) + " ";
    waits += l.host_waits;
  }
  CHECK(names ==
        "delta block_offsets pad_indices argsort_indices index_gathers save_indices "
        "zero_dkdv_partials selected_dkdv sum_dkdv_partials zero_dq dq_slices dq_first_buffer "
        "dq_buffers dq_rank_grid dq_ranks dq_debug_fills dq_first_block dq_rest_grid "
        "dq_other_blocks dq_reduce ");
  CHECK(waits == 3 + 17 + 2 * 32);
  double host = 0;
  for (const sim::Launch& l : out) host += l.host_launches;
  // dK/dV: 2 + 15 + 2 + 4 + 5 + 1 + 2 + 1 + 2; dQ: 1 + 2 + 1 + 2, then per query head 3 + 1 + 2
  // + 1 + 3 + 1 + 1.
  CHECK(host == 34 + 6 + 32 * 12);
  // Each wait sits before the launch it sizes: the ranks kernel and the other blocks' kernel.
  CHECK(out[14].host_waits == 32);
  CHECK(out[18].host_waits == 32);
  CHECK(out[17].host_waits == 0);
  CHECK(out[7].calibration == &h100.calibration.schedules.at("nsa_triton_bwd"));
  CHECK(out[18].calibration == &h100.calibration.schedules.at("fsa_triton_bwd"));
  // dQ: three products a 128-token tile, over the forward's tiles, per query head; 8 warps.
  const double tile_qk = 2.0 * 128 * 64 * 128;
  CHECK(out[16].jobs.total_tiles == 32 * 64);
  CHECK(out[16].per_tile.tensor_flops == Approx(3 * tile_qk));
  CHECK(out[16].cta.threads == 256);
  CHECK(out[18].jobs.total_tiles == 32 * 127 * 8);
}

TEST_CASE(
    "a decode step's selected-branch tile holds one sequence's query heads: FSA's 32-token row "
    "group does not span sequences, so more requests never price a step faster",
    "[sim][fsa]") {
  const models::AttentionSpec spec = fsa(64, 4);  // G = 16 query heads a KV head
  const hw::Profile& h100 = builtin_profile("h100");
  const sim::ScheduleInfo& split_kv = sim::find_schedule("split_kv");
  const auto selected_launch = [&](std::int64_t batch) {
    models::Workload w = workload(models::Phase::decode, batch, 1, 2048);
    w.dtype = w.kv_dtype = models::DType::bf16;
    sim::Launches out;
    for (const models::Op& op : cost(spec, w).ops) {
      if (std::string(op.name) != "selected_attention_fwd") continue;
      split_kv.forward({op, w, h100, sim::forward_calibration(h100, split_kv), split_kv.name}, out);
    }
    REQUIRE(!out.empty());
    return out[0];
  };
  // Batch 16: 64 (sequence, KV head) row groups of G = 16 rows (one token), each visiting its
  // top 16 blocks of 64 keys (d 128: 128-key tiles, 8 of them); the 16 rows fill the MMA's
  // minimum. Grouping 32 sequences' tokens instead made 2 tiles of 512 rows.
  const sim::Launch l = selected_launch(16);
  CHECK(std::fmod(l.jobs.count, 16.0 * 4) == 0);
  const double splits = l.jobs.count / (16 * 4);
  CHECK(l.jobs.total_tiles == 16 * 4 * 8);
  CHECK(l.jobs.max_tiles == std::ceil(8 / splits));
  CHECK(l.per_tile.tensor_flops == 2.0 * 16 * 128 * (128 + 128));
  double previous = 0;
  for (std::int64_t batch = 1; batch <= 40; ++batch) {
    models::Workload w = workload(models::Phase::decode, batch, 1, 2048);
    w.dtype = w.kv_dtype = models::DType::bf16;
    const double t = sim::predict_tile(cost(spec, w), w, h100, "auto").time_s;
    CHECK(t >= previous);
    previous = t;
  }
}

TEST_CASE(
    "a partial last row group does not thin the longest group's Q and O: FSA's selected branch "
    "under a dense kernel is never cheaper for one more token (16..160 tokens)",
    "[sim][fsa]") {
  const models::AttentionSpec spec = fsa(64, 4);
  for (const char* id : {"h100-pcie", "a100", "910b"}) {
    const hw::Profile& p = builtin_profile(id);
    double previous = 0;
    for (std::int64_t tokens = 16; tokens <= 160; ++tokens) {
      const models::Workload w = bf16(models::Phase::prefill, tokens);
      const double t = sim::predict_tile(cost(spec, w), w, p, "auto").time_s;
      INFO(id << " at " << tokens << " tokens");
      CHECK(t >= previous);
      previous = t;
    }
  }
  // 65 tokens: 1040 rows a KV head, two 512-row groups and one of 16; the longest job moves a
  // full group's Q and O, not the mean of the three.
  const hw::Profile& h100 = builtin_profile("h100");
  const sim::ScheduleInfo& fa3 = sim::find_schedule("fa3");
  const models::Workload w = bf16(models::Phase::prefill, 65);
  sim::Launches out;
  for (const models::Op& op : cost(spec, w).ops) {
    if (std::string(op.name) != "selected_attention_fwd") continue;
    fa3.forward({op, w, h100, sim::forward_calibration(h100, fa3), fa3.name}, out);
  }
  REQUIRE(out.size() == 1);
  CHECK(out[0].jobs.count == 4 * 3);
  CHECK(out[0].max_job_hbm_bytes == Approx(out[0].per_job_hbm_bytes * 512 / (1040.0 / 3)));
}
