// nsa_triton (sim/schedule_nsa.cpp): NSA's selected branch as the Triton kernel of
// XunhaoLai/native-sparse-attention-triton: its grid of (token, KV head) programs, the 16-row
// tiles over the blocks a causal query visits, the L2 misses of K/V re-reads, the compressed
// branch's kernel, and the ops it leaves to fa2.
#include <catch2/catch.hpp>

#include <string>

#include "common/errors.hpp"
#include "sim/engine.hpp"
#include "sim/schedule.hpp"
#include "sim/waves.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::catalog;
using test_support::cost;
using test_support::make;
using test_support::workload;

namespace {

models::AttentionSpec nsa(std::int64_t heads, std::int64_t kv_heads, std::int64_t top_k) {
  return make("nsa", {{"heads", heads},
                      {"kv_heads", kv_heads},
                      {"head_dim", 128},
                      {"v_head_dim", 128},
                      {"top_k", top_k},
                      {"select_block", 64}});
}

models::Workload prefill_bf16(std::int64_t tokens) {
  models::Workload w = workload(models::Phase::fwd, 1, tokens, tokens);
  w.dtype = w.kv_dtype = models::DType::bf16;
  return w;
}

// The launches nsa_triton lowers the forward op named `name` into, on `device`.
sim::Launches lower_nsa_forward(const models::AttentionSpec& spec, const models::Workload& w,
                                const std::string& name, const char* device = "a100-sxm4-80gb") {
  const hw::Profile& p = catalog().resolve(device);
  const sim::ScheduleInfo& info = sim::find_schedule("nsa_triton");
  for (const models::Op& op : cost(spec, w).ops) {
    if (std::string(op.name) != name) continue;
    sim::Launches out;
    info.forward({op, w, p, sim::forward_calibration(p, info), info.name}, out);
    return out;
  }
  FAIL("no op " << name);
  return {};
}

}  // namespace

TEST_CASE("nsa_triton runs one program per token and KV head over the blocks the query visits",
          "[sim][nsa]") {
  // 256 tokens, blocks of 64, top 2: tokens 0-63 see one block, 64-255 two: 448 tiles per head.
  const sim::Launches l =
      lower_nsa_forward(nsa(64, 4, 2), prefill_bf16(256), "selected_attention_fwd");
  REQUIRE(l.size() == 3);  // o = zeros_like(q), lse = zeros, then the kernel
  CHECK(std::string(l[0].name) == "zero_o");
  CHECK(std::string(l[1].name) == "zero_lse");
  const sim::Launch& k = l[2];
  CHECK(k.jobs.count == 4 * 256);
  CHECK(k.jobs.total_tiles == 4 * 448);
  CHECK(k.jobs.max_tiles == 2);
  // 16 query heads of a token share a KV head: a 16 x 64 tile, Q K^T and P V at d 128.
  CHECK(k.per_tile.tensor_flops == 2.0 * 16 * 64 * (128 + 128));
  // Every tile loads its block's K and V (64 keys x 256 values x 2 bytes) through the SM.
  CHECK(k.per_tile.sm_bytes == 64.0 * 256 * 2);
  CHECK(k.overhead_is_wait);
  // Its registers fit two programs on an A100 SM, one on Hopper (8 warps, 142 registers).
  CHECK(sim::ctas_per_sm(k.cta, catalog().resolve("a100-sxm4-80gb")) == 2);
  const sim::Launches h100 = lower_nsa_forward(nsa(64, 4, 2), prefill_bf16(256),
                                               "selected_attention_fwd", "h100-sxm5-80gb");
  CHECK(sim::ctas_per_sm(h100[2].cta, catalog().resolve("h100-sxm5-80gb")) == 1);
}

TEST_CASE(
    "nsa_triton leaves a chunk after cached keys to fa2: its kernels index queries from "
    "the sequence's start",
    "[sim][nsa]") {
  models::Workload chunk = workload(models::Phase::fwd, 1, 64, 256);
  chunk.dtype = chunk.kv_dtype = models::DType::bf16;
  for (const char* name : {"selected_attention_fwd", "compressed_attention_fwd"}) {
    const sim::Launches l = lower_nsa_forward(nsa(64, 4, 2), chunk, name);
    REQUIRE(!l.empty());
    for (const sim::Launch& launch : l) CHECK(launch.schedule == "fa2");
  }
}

TEST_CASE("nsa_triton pads a small group of query heads to the 16-row MMA minimum", "[sim][nsa]") {
  const sim::Launches g16 =
      lower_nsa_forward(nsa(64, 4, 4), prefill_bf16(1024), "selected_attention_fwd");
  const sim::Launches g4 =
      lower_nsa_forward(nsa(16, 4, 4), prefill_bf16(1024), "selected_attention_fwd");
  CHECK(g4[2].per_tile.tensor_flops == g16[2].per_tile.tensor_flops);
  CHECK(g4[2].jobs.count == g16[2].jobs.count);
}

TEST_CASE("nsa_triton walks several tokens per program from 32768 tokens on", "[sim][nsa]") {
  // num_q_loop = 65536 / 32768 + 1 = 3 tokens per program, 4 KV heads.
  const sim::Launches l =
      lower_nsa_forward(nsa(64, 4, 16), prefill_bf16(65536), "selected_attention_fwd");
  CHECK(l[2].jobs.count == 4 * std::ceil(65536.0 / 3));
  CHECK(l[2].jobs.max_tiles == 3 * 16);
}

TEST_CASE("nsa_triton's K/V re-reads reach HBM once the sequence's K/V outgrow L2", "[sim][nsa]") {
  // 8192 tokens: 16 MiB of K/V stays in the A100's L2 share, so HBM sees each byte once.
  const sim::Launches small =
      lower_nsa_forward(nsa(64, 4, 16), prefill_bf16(8192), "selected_attention_fwd");
  const double kv_small = 8192.0 * 4 * 256 * 2;
  CHECK(small[2].per_tile.hbm_bytes * small[2].jobs.total_tiles == Approx(kv_small));
  // 131072 tokens: 256 MiB; most re-reads miss.
  const sim::Launches big =
      lower_nsa_forward(nsa(64, 4, 16), prefill_bf16(131072), "selected_attention_fwd");
  const double kv_big = 131072.0 * 4 * 256 * 2;
  CHECK(big[2].per_tile.hbm_bytes * big[2].jobs.total_tiles > 5 * kv_big);
}

TEST_CASE("nsa_triton's compressed kernel walks the summaries each 128-token block's last row sees",
          "[sim][nsa]") {
  // 8192 tokens, summaries of 32 every 16: M = 511. Program i of a head sees min(511, 8 i + 8)
  // summaries: 1 tile for i < 16, 2 to i = 31, 3 to 47, 4 to 63: 160 tiles per head, 64 heads
  // (no GQA packing).
  const sim::Launches l =
      lower_nsa_forward(nsa(64, 4, 16), prefill_bf16(8192), "compressed_attention_fwd");
  REQUIRE(l.size() == 3);
  const sim::Launch& k = l[2];
  CHECK(std::string(k.name) == "compressed_attention_fwd");
  CHECK(k.jobs.count == 64 * 64);
  CHECK(k.jobs.total_tiles == 64 * 160);
  CHECK(k.jobs.min_tiles == 1);
  CHECK(k.jobs.max_tiles == 4);
  CHECK(k.per_tile.tensor_flops == 2.0 * 128 * 128 * (128 + 128));
  CHECK(k.mma_class == hw::MmaClass::native);  // Triton's 128-row tiles use wgmma on Hopper
  // nsa_triton prices it with the compressed kernels' own entry.
  CHECK(k.schedule == "nsa_triton_compressed");
  CHECK(k.calibration ==
        &catalog().resolve("a100-sxm4-80gb").calibration.schedules.at("nsa_triton_compressed"));
}

TEST_CASE(
    "nsa_triton_compressed's backward runs delta, per-head dK/dV over 128 summaries from their "
    "first query, their sums, and dQ over the summaries each 128-token block sees",
    "[sim][nsa]") {
  const models::AttentionSpec spec = nsa(64, 4, 16);
  models::Workload w = workload(models::Phase::bwd, 1, 8192, 8192);
  w.dtype = w.kv_dtype = models::DType::bf16;
  const hw::Profile& p = catalog().resolve("a100-sxm4-80gb");
  const sim::ScheduleInfo& info = sim::find_schedule("nsa_triton_compressed");
  sim::Launches out;
  for (const models::Op& op : cost(spec, w).ops) {
    if (std::string(op.name) != "compressed_attention_bwd") continue;
    info.backward({op, w, p, sim::backward_calibration(p, info), info.name}, out);
  }
  std::string names;
  for (const sim::Launch& l : out) names += std::string(l.name) + " ";
  CHECK(names ==
        "zero_delta delta zero_dk_partials zero_dv_partials compressed_dkdv sum_dk_partials "
        "sum_dv_partials zero_dq compressed_dq ");
  // M = 511 summaries (32 tokens every 16): 4 programs per query head, whose queries start at
  // 128 i x 16 + 31 and run to 8192 in steps of 64: 128, 96, 64 and 32 steps.
  const sim::Launch& dkdv = out[4];
  CHECK(dkdv.jobs.count == 64 * 4);
  CHECK(dkdv.jobs.total_tiles == 64 * (128 + 96 + 64 + 32));
  CHECK(dkdv.jobs.max_tiles == 128);
  CHECK(dkdv.per_tile.tensor_flops == 2.0 * 128 * 64 * 2 * (128 + 128));
  // dQ: 64 programs per head from token 31; program i sees min(511, 8 i + 8) summaries in
  // 64-key tiles: 1 tile for i < 8, ..., 8 for i >= 56: 8 x (1 + ... + 8) = 288 per head.
  const sim::Launch& dq = out[8];
  CHECK(dq.jobs.count == 64 * 64);
  CHECK(dq.jobs.total_tiles == 64 * 288);
  CHECK(dq.per_tile.tensor_flops == 2.0 * 128 * 64 * (2 * 128 + 128));
  CHECK(dq.calibration == &p.calibration.schedules.at("nsa_triton_compressed_bwd"));
}

TEST_CASE(
    "nsa_triton on a profile without the compressed kernels' entries prices that branch as fa2 "
    "and its block scores as elementwise work, as auto does there",
    "[sim][nsa]") {
  hw::Profile h100 = catalog().resolve("h100-sxm5-80gb");
  h100.calibration.schedules.erase("nsa_triton_compressed");
  h100.calibration.schedules.erase("nsa_triton_compressed_bwd");
  const models::AttentionSpec spec = nsa(64, 4, 16);
  models::Workload step = workload(models::Phase::decode, 1, 1, 4096);
  step.dtype = step.kv_dtype = models::DType::bf16;
  models::Workload train = prefill_bf16(4096);
  train.phase = models::Phase::train;
  for (const models::Workload& w : {prefill_bf16(4096), train, step}) {
    for (const sim::KernelChoice& kernel :
         {sim::KernelChoice(sim::find_schedule("nsa_triton")), sim::KernelChoice()}) {
      const std::string names =
          test_support::launch_names(sim::predict_tile(cost(spec, w), w, h100, kernel));
      CHECK_THAT(names, !Catch::Contains("nsa_triton_compressed") &&
                            Catch::Contains("block_scores:elementwise"));
    }
  }
}

TEST_CASE("nsa_triton leaves the window branch, and a compressed branch in decode, to fa2",
          "[sim][nsa]") {
  const sim::Launches window =
      lower_nsa_forward(nsa(64, 4, 16), prefill_bf16(4096), "window_attention_fwd");
  REQUIRE(!window.empty());
  for (const sim::Launch& launch : window) CHECK(launch.schedule == "fa2");
  models::Workload step = workload(models::Phase::decode, 1, 1, 4096);
  step.dtype = step.kv_dtype = models::DType::bf16;
  const sim::Launches decode = lower_nsa_forward(nsa(64, 4, 16), step, "compressed_attention_fwd");
  REQUIRE(!decode.empty());
  for (const sim::Launch& launch : decode) CHECK(launch.schedule == "fa2");
}

TEST_CASE("nsa_triton runs only where the profile calibrates it, and names the kernel",
          "[sim][nsa]") {
  const models::AttentionSpec spec = nsa(64, 4, 16);
  const models::Workload w = prefill_bf16(4096);
  const hw::Profile& b200 = catalog().resolve("b200");
  CHECK_THROWS_WITH(sim::predict_tile(cost(spec, w), w, b200, "nsa_triton"),
                    Catch::Contains("nsa_triton"));
  const hw::Profile& a100 = catalog().resolve("a100-sxm4-80gb");
  CHECK(sim::predict_tile(cost(spec, w), w, a100, "nsa_triton").time_s > 0);
}

TEST_CASE(
    "auto prices NSA's selected and compressed prefill forward with nsa_triton where the "
    "profile calibrates it",
    "[sim][nsa]") {
  const models::AttentionSpec spec = nsa(64, 4, 16);
  auto schedules_of = [&](const models::AttentionSpec& s, const models::Workload& w,
                          const char* device) {
    return test_support::launch_names(
        sim::predict_tile(cost(s, w), w, catalog().resolve(device), sim::KernelChoice()));
  };
  const std::string h100 = schedules_of(spec, prefill_bf16(4096), "h100-sxm5-80gb");
  CHECK_THAT(h100, Catch::Contains("selected_attention_fwd:nsa_triton") &&
                       Catch::Contains("compressed_attention_fwd:nsa_triton_compressed") &&
                       Catch::Contains("attention_fwd:fa3"));  // the window branch
  // Not where the profile has no entry, not for fp8, not for FSA's token-batched selection.
  CHECK_THAT(schedules_of(spec, prefill_bf16(4096), "b200"), !Catch::Contains("nsa_triton"));
  models::Workload fp8 = prefill_bf16(4096);
  fp8.dtype = fp8.kv_dtype = models::DType::fp8;
  CHECK_THAT(schedules_of(spec, fp8, "h100-sxm5-80gb"), !Catch::Contains("nsa_triton"));
  models::Workload step = workload(models::Phase::decode, 1, 1, 4096);
  step.dtype = step.kv_dtype = models::DType::bf16;
  CHECK_THAT(schedules_of(spec, step, "h100-sxm5-80gb"), !Catch::Contains("nsa_triton"));
  models::Workload chunk = workload(models::Phase::fwd, 1, 512, 4096);
  chunk.dtype = chunk.kv_dtype = models::DType::bf16;
  CHECK_THAT(schedules_of(spec, chunk, "h100-sxm5-80gb"), !Catch::Contains("nsa_triton"));
  const models::AttentionSpec fsa = make("fsa", {{"heads", 64}, {"kv_heads", 4}});
  CHECK_THAT(schedules_of(fsa, prefill_bf16(4096), "h100-sxm5-80gb"),
             !Catch::Contains("selected_attention_fwd:nsa_triton"));
}

TEST_CASE("nsa_triton's selected backward runs delta, the index inversion, dK/dV partials and dQ",
          "[sim][nsa]") {
  // 8192 tokens, 64 query / 4 KV heads, top 2 of 64-key blocks: 128 blocks per KV head.
  const models::AttentionSpec spec = nsa(64, 4, 2);
  models::Workload w = workload(models::Phase::bwd, 1, 8192, 8192);
  w.dtype = w.kv_dtype = models::DType::bf16;
  const hw::Profile& p = catalog().resolve("a100-sxm4-80gb");
  const sim::ScheduleInfo& info = sim::find_schedule("nsa_triton");
  sim::Launches out;
  for (const models::Op& op : cost(spec, w).ops) {
    if (std::string(op.name) != "selected_attention_bwd") continue;
    info.backward({op, w, p, sim::backward_calibration(p, info), info.name}, out);
  }
  std::string names;
  for (const sim::Launch& l : out) names += std::string(l.name) + " ";
  CHECK(names ==
        "delta block_offsets count_blocks count_offsets pad_indices argsort_indices index_gathers "
        "save_indices zero_dkdv_partials selected_dkdv sum_dkdv_partials zero_dq selected_dq ");
  // count_kernel: 4096 index slots a step over rows of next_pow2(2) = 2: 2048 tokens a step.
  CHECK(out[2].jobs.count == 4);
  CHECK(out[2].jobs.total_tiles == 4 * 4);
  // The wrapper's launches, each issued by the host: 2 (delta) + 11 + 2 + 6 + 2 + 4 + 5 + 1 + 2
  // before dK/dV, then the kernel, 2 sums, the zeroed dQ and the kernel.
  double host = 0, fixed = 0, waits = 0;
  for (const sim::Launch& l : out) {
    host += l.host_launches;
    fixed += l.launch_fixed_share;
    waits += l.host_waits;
  }
  CHECK(host == 35 + 5);
  CHECK(fixed == host);  // each pays the device's launch cost too
  // The four `.item()` reads: before count_kernel, the padded copy, the gathers and the last copy.
  CHECK(waits == 4);
  for (const int i : {2, 4, 6, 7}) CHECK(out[static_cast<std::size_t>(i)].host_waits == 1);
  const sim::Launch& dkdv = out[9];
  // One program per (query head, block); every token's two blocks, 64 tokens a step, plus half a
  // step of rounding per block and KV head, times the 16 query heads of each KV head.
  CHECK(dkdv.jobs.count == 64 * 128);
  const double selections = 4.0 * (64 * 1 + (8192 - 64) * 2);
  CHECK(dkdv.jobs.total_tiles == Approx((selections / 64 + 128 * 4 / 2) * 16));
  CHECK(dkdv.jobs.max_tiles == 8192 / 64);  // block 0: chosen by every token
  CHECK(dkdv.per_tile.tensor_flops == 2.0 * 64 * 64 * 2 * (128 + 128));
  const sim::Launch& dq = out[12];
  CHECK(dq.jobs.count == 4 * 8192);
  CHECK(dq.per_tile.tensor_flops == 2.0 * 16 * 64 * (2 * 128 + 128));
}

TEST_CASE(
    "nsa_triton prices the window branch's backward as fa2's, and auto picks the Triton kernels "
    "for the selected and compressed backward",
    "[sim][nsa]") {
  const models::AttentionSpec spec = nsa(64, 4, 16);
  models::Workload w = workload(models::Phase::train, 1, 4096, 4096);
  w.dtype = w.kv_dtype = models::DType::bf16;
  const hw::Profile& h100 = catalog().resolve("h100-sxm5-80gb");
  const std::string explicit_names =
      test_support::launch_names(sim::predict_tile(cost(spec, w), w, h100, "nsa_triton"));
  const std::string auto_names =
      test_support::launch_names(sim::predict_tile(cost(spec, w), w, h100, sim::KernelChoice()));
  CHECK_THAT(explicit_names, Catch::Contains("selected_dkdv:nsa_triton") &&
                                 Catch::Contains("compressed_dkdv:nsa_triton_compressed") &&
                                 Catch::Contains("attention_bwd:fa2"));
  CHECK_THAT(auto_names, Catch::Contains("selected_dkdv:nsa_triton") &&
                             Catch::Contains("compressed_dq:nsa_triton_compressed") &&
                             Catch::Contains("attention_bwd:fa3"));
}

TEST_CASE(
    "auto leaves the selected backward to the default schedule where the profile has no "
    "nsa_triton_bwd entry",
    "[sim][nsa]") {
  hw::Profile h100 = catalog().resolve("h100-sxm5-80gb");
  h100.calibration.schedules.erase("nsa_triton_bwd");
  models::Workload w = workload(models::Phase::train, 1, 4096, 4096);
  w.dtype = w.kv_dtype = models::DType::bf16;
  const models::AttentionSpec spec = nsa(64, 4, 16);
  const std::string names =
      test_support::launch_names(sim::predict_tile(cost(spec, w), w, h100, sim::KernelChoice()));
  CHECK_THAT(names, Catch::Contains("selected_attention_fwd:nsa_triton") &&
                        !Catch::Contains("selected_dkdv"));
}
