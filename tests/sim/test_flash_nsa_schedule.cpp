// flash_nsa (sim/schedule_flash_nsa.cpp, sim/schedule_flash_nsa_backward.cpp): NSA as the Hopper
// Triton kernels of mdy666/Scalable-Flash-Native-Sparse-Attention: one-warp selected programs per
// token, 128 x 64 compressed tiles, the fused block probabilities and argmax top-k, the bitmap
// index inversion and atomics in the backward, the window branch as fa3, and the shapes it refuses.
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

models::AttentionSpec nsa_spec(std::int64_t heads, std::int64_t kv_heads, std::int64_t top_k,
                               std::int64_t v_head_dim = 128) {
  return make("nsa", {{"heads", heads},
                      {"kv_heads", kv_heads},
                      {"head_dim", 128},
                      {"v_head_dim", v_head_dim},
                      {"top_k", top_k},
                      {"select_block", 64}});
}

models::Workload sequence_bf16(models::Phase phase, std::int64_t tokens) {
  models::Workload w = workload(phase, 1, tokens, tokens);
  w.dtype = w.kv_dtype = models::DType::bf16;
  return w;
}

// The launches flash_nsa lowers the op named `name` into on the H100 (its forward, backward or
// selection lowering by the op's kind and pass).
sim::Launches lower_flash(const models::AttentionSpec& spec, const models::Workload& w,
                          const std::string& name) {
  const hw::Profile& p = catalog().resolve("h100-sxm5-80gb");
  const sim::ScheduleInfo& info = sim::find_schedule("flash_nsa");
  for (const models::Op& op : cost(spec, w).ops) {
    if (std::string(op.name) != name) continue;
    sim::Launches out;
    if (op.kind == models::OpKind::selection) {
      info.selection({op, w, p, sim::forward_calibration(p, info), info.name}, out);
    } else if (op.pass == models::Pass::backward) {
      info.backward({op, w, p, sim::backward_calibration(p, info), info.name}, out);
    } else {
      info.forward({op, w, p, sim::forward_calibration(p, info), info.name}, out);
    }
    return out;
  }
  FAIL("no op " << name);
  return {};
}

std::string flash_launch_names(const sim::Launches& launches) {
  std::string names;
  for (const sim::Launch& l : launches) names += std::string(l.name) + " ";
  return names;
}

}  // namespace

TEST_CASE(
    "flash_nsa's selected forward is one one-warp program per token and KV head, with no fills "
    "and no token loop",
    "[sim][flash_nsa]") {
  // 256 tokens, blocks of 64, top 2: tokens 0-63 see one block, 64-255 two: 448 tiles per head.
  const sim::Launches l = lower_flash(nsa_spec(64, 4, 2), sequence_bf16(models::Phase::fwd, 256),
                                      "selected_attention_fwd");
  REQUIRE(l.size() == 1);  // o and lse come from torch.empty: no launch
  const sim::Launch& k = l[0];
  CHECK(k.jobs.count == 4 * 256);
  CHECK(k.jobs.total_tiles == 4 * 448);
  CHECK(k.jobs.max_tiles == 2);
  CHECK(k.per_tile.tensor_flops == 2.0 * 16 * 64 * (128 + 128));
  CHECK(k.mma_class == hw::MmaClass::mma_sync);  // one warp: no warpgroup MMA
  CHECK(k.cta.threads == 32);
  CHECK(k.issue_share == 0.25);
  // Two stages of K and V (2 x 32 KiB) and the 16 query rows (4 KiB): three programs per H100 SM.
  CHECK(k.cta.smem_bytes == 2 * 64.0 * 256 * 2 + 16 * 128 * 2);
  CHECK(sim::ctas_per_sm(k.cta, catalog().resolve("h100-sxm5-80gb")) == 3);
  // At 65536 tokens still one token a program (nsa_triton walks three).
  const sim::Launches big = lower_flash(
      nsa_spec(64, 4, 16), sequence_bf16(models::Phase::fwd, 65536), "selected_attention_fwd");
  CHECK(big[0].jobs.count == 4 * 65536.0);
  CHECK(big[0].jobs.max_tiles == 16);
}

TEST_CASE(
    "flash_nsa's compressed forward walks 64-summary tiles up to what each 128-token block's last "
    "row sees",
    "[sim][flash_nsa]") {
  // 8192 tokens, summaries of 32 every 16: M = 511. Program i of a head sees
  // min(511, (128 i + 96) / 16 + 1) = 8 i + 7 summaries: 1 tile for i < 8, 2 for i < 16, ...,
  // 8 for i >= 56: 8 x (1 + ... + 8) = 288 tiles per query head, 64 heads (no GQA packing).
  const sim::Launches l = lower_flash(nsa_spec(64, 4, 16), sequence_bf16(models::Phase::fwd, 8192),
                                      "compressed_attention_fwd");
  REQUIRE(l.size() == 1);
  const sim::Launch& k = l[0];
  CHECK(k.jobs.count == 64 * 64);
  CHECK(k.jobs.total_tiles == 64 * 288);
  CHECK(k.jobs.min_tiles == 1);
  CHECK(k.jobs.max_tiles == 8);
  CHECK(k.per_tile.tensor_flops == 2.0 * 128 * 64 * (128 + 128));
  CHECK(k.mma_class == hw::MmaClass::native);
  // Priced with the device's entry for 128-row Triton tiles.
  CHECK(k.calibration ==
        &catalog().resolve("h100-sxm5-80gb").calibration.schedules.at("nsa_triton_compressed"));
}

TEST_CASE(
    "flash_nsa's block probabilities skip programs wholly in the future and loop over the group's "
    "heads; its top-k reads the pooled rows",
    "[sim][flash_nsa]") {
  const models::Workload w = sequence_bf16(models::Phase::fwd, 8192);
  const sim::Launches probs = lower_flash(nsa_spec(64, 4, 16), w, "block_scores");
  CHECK(flash_launch_names(probs) == "zero_block_probs block_probs ");
  // P = next_pow2(8192 / 64) = 128 fp16 columns per (KV head, token).
  CHECK(probs[0].per_job_hbm_bytes * probs[0].jobs.count == 4 * 8192.0 * 128 * 2);
  // 128 query tiles of 64 and 4 summary tiles of 128: tile j runs for query tile i when
  // 32 j <= i + 1: 31 + 2 x 32 + 3 x 32 + 4 x 33 = 323 programs per KV head, 16 heads each.
  const sim::Launch& k = probs[1];
  CHECK(k.jobs.count == 4 * 323);
  CHECK(k.jobs.total_tiles == 4 * 323 * 16);
  // A head's 64 queries against 128 summaries and their 32 left neighbours.
  CHECK(k.per_tile.tensor_flops == 2.0 * 64 * (128 + 32) * 128);
  const sim::Launches top = lower_flash(nsa_spec(64, 4, 16), w, "top_k_select");
  CHECK(flash_launch_names(top) == "fill_top_k top_k ");
  // Four rows a one-warp program: 8192 / 4 per KV head, each reading 4 x 128 fp16 scores.
  CHECK(top[1].jobs.count == 4 * 2048);
  CHECK(top[1].per_tile.hbm_bytes == 4 * 128 * 2 + 4 * 16 * 4);
  CHECK(top[1].issue_share == 0.25);
  // NSA's default dims (192 / 128): the kernels split d into 128 + 64, and run the selection too.
  const models::AttentionSpec wide = make("nsa", {{"heads", 64}, {"kv_heads", 4}});
  CHECK(flash_launch_names(lower_flash(wide, w, "block_scores")) ==
        "zero_block_probs block_probs ");
  const sim::Launches selected = lower_flash(wide, w, "selected_attention_fwd");
  REQUIRE(selected.size() == 1);
  CHECK(selected[0].per_tile.tensor_flops == 2.0 * 16 * 64 * (192 + 128));
}

TEST_CASE(
    "flash_nsa's selected backward inverts the indices through a token bitmap and runs dK/dV per "
    "query head and block and dQ on the forward's grid",
    "[sim][flash_nsa]") {
  const sim::Launches l = lower_flash(nsa_spec(64, 4, 2), sequence_bf16(models::Phase::bwd, 8192),
                                      "selected_attention_bwd");
  CHECK(flash_launch_names(l) ==
        "dkdv_to_fp32 delta zero_block_bitmap bind_blocks reorder_blocks selected_dkdv "
        "selected_dq ");
  // The bitmap: 4 KV heads x 128 blocks x 8192 tokens of int32 = 16 MiB.
  CHECK(l[2].per_job_hbm_bytes * l[2].jobs.count == 4 * 128.0 * 8192 * 4);
  // _reorder_bind: block k's chunks of 256 tokens from token 64 k: 32 for block 0.
  CHECK(l[4].jobs.count == 4 * 128);
  CHECK(l[4].jobs.max_tiles == 32);
  // dK/dV: 64 query heads x 128 blocks; block 0 is chosen by all 8192 tokens: 128 steps.
  const sim::Launch& dkdv = l[5];
  CHECK(dkdv.jobs.count == 64 * 128);
  CHECK(dkdv.jobs.max_tiles == 128);
  CHECK(dkdv.dispatch == sim::Dispatch::persistent_lpt);
  CHECK(dkdv.per_tile.tensor_flops == 2.0 * 64 * 64 * 2 * (128 + 128));
  // The 16 query-head programs of a block share its K/V and fp32 dK/dV in L2: HBM sees them once.
  CHECK(dkdv.per_job_hbm_bytes == (64.0 * 256 * 2 + 64.0 * 256 * 4 * 2) / 16);
  // dQ: the forward's programs at 2 warps, three MMAs per block.
  const sim::Launch& dq = l[6];
  CHECK(dq.jobs.count == 4 * 8192);
  CHECK(dq.issue_share == 0.5);
  CHECK(dq.per_tile.tensor_flops == 2.0 * 16 * 64 * (2 * 128 + 128));
  CHECK(dq.calibration ==
        &catalog().resolve("h100-sxm5-80gb").calibration.schedules.at("flash_nsa_bwd"));
}

TEST_CASE(
    "flash_nsa's compressed backward runs dK/dV over 64 summaries from their first query and dQ "
    "over 32-summary tiles",
    "[sim][flash_nsa]") {
  const sim::Launches l = lower_flash(nsa_spec(64, 4, 16), sequence_bf16(models::Phase::bwd, 8192),
                                      "compressed_attention_bwd");
  CHECK(flash_launch_names(l) == "delta zero_dkdv compressed_dkdv dkdv_to_16bit compressed_dq ");
  // M = 511: 8 programs per query head; program m's queries start at 64 m x 16 + 31 and run to
  // 8192 in steps of 64: 128, 112, 96, ..., 16 steps.
  const sim::Launch& dkdv = l[2];
  CHECK(dkdv.jobs.count == 64 * 8);
  CHECK(dkdv.jobs.total_tiles == 64 * (128 + 112 + 96 + 80 + 64 + 48 + 32 + 16));
  // dQ: program i sees 8 i + 7 summaries in 32-key tiles: ceil((8 i + 7) / 32).
  const sim::Launch& dq = l[4];
  CHECK(dq.jobs.count == 64 * 64);
  CHECK(dq.jobs.total_tiles ==
        64 * 4 * (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8 + 9 + 10 + 11 + 12 + 13 + 14 + 15 + 16));
  CHECK(dq.cta.threads == 256);
}

TEST_CASE("flash_nsa runs the window branch as fa3 and refuses what its kernels cannot run",
          "[sim][flash_nsa]") {
  const sim::Launches window = lower_flash(
      nsa_spec(64, 4, 16), sequence_bf16(models::Phase::fwd, 4096), "window_attention_fwd");
  REQUIRE(!window.empty());
  for (const sim::Launch& launch : window) CHECK(launch.schedule == "fa3");
  models::Workload step = workload(models::Phase::decode, 1, 1, 4096);
  step.dtype = step.kv_dtype = models::DType::bf16;
  // Its decode kernels are not modelled: a decode step is priced as auto prices it (split-KV).
  for (const char* op : {"compressed_attention_fwd", "selected_attention_fwd"}) {
    const sim::Launches decode = lower_flash(nsa_spec(64, 4, 16), step, op);
    REQUIRE(!decode.empty());
    for (const sim::Launch& launch : decode) CHECK(launch.schedule == "split_kv");
  }
  models::Workload fp32 = sequence_bf16(models::Phase::fwd, 4096);
  fp32.dtype = fp32.kv_dtype = models::DType::fp32;
  CHECK_THROWS_AS(lower_flash(nsa_spec(64, 4, 16), fp32, "selected_attention_fwd"),
                  common::KernelRefusal);
  // v_head_dim must be a power of two (the kernels assert it).
  CHECK_THROWS_WITH(lower_flash(nsa_spec(64, 4, 16, 96), sequence_bf16(models::Phase::fwd, 4096),
                                "selected_attention_fwd"),
                    Catch::Contains("power-of-two v_head_dim"));
  // FSA's 32-token groups are not its selection.
  const models::AttentionSpec fsa = make("fsa", {{"heads", 64}, {"kv_heads", 4}});
  const models::Workload w = sequence_bf16(models::Phase::fwd, 4096);
  CHECK_THROWS_WITH(
      sim::predict_tile(cost(fsa, w), w, catalog().resolve("h100-sxm5-80gb"), "flash_nsa"),
      Catch::Contains("not FSA's 32-token groups"));
  // Its config: a power-of-two stride dividing the kernel, blocks covering whole summaries.
  const models::AttentionSpec stride12 = make(
      "nsa", {{"heads", 64}, {"kv_heads", 4}, {"compress_block", 48}, {"compress_stride", 12}});
  CHECK_THROWS_WITH(lower_flash(stride12, w, "compressed_attention_fwd"),
                    Catch::Contains("power-of-two stride"));
  const models::AttentionSpec small_block =
      make("nsa", {{"heads", 64}, {"kv_heads", 4}, {"select_block", 16}});
  CHECK_THROWS_WITH(lower_flash(small_block, w, "block_scores"),
                    Catch::Contains("select_block=16 compress_block=32"));
}

TEST_CASE(
    "flash_nsa's top-k writes and searches top_n slots, its general path scores every tile, and "
    "a short sequence's longest program visits only the blocks it has",
    "[sim][flash_nsa]") {
  const models::Workload w = sequence_bf16(models::Phase::fwd, 8192);
  const sim::Launches top32 = lower_flash(nsa_spec(64, 4, 32), w, "top_k_select");
  const sim::Launches top16 = lower_flash(nsa_spec(64, 4, 16), w, "top_k_select");
  CHECK(top32[0].per_job_hbm_bytes * top32[0].jobs.count == 4 * 8192.0 * 32 * 4);
  // Passes a row runs: min(top_n, t / 64 + 1) less the 3 forced blocks, averaged over the tokens:
  // (sum of min(t / 64 + 1, 32) - sum of min(t / 64 + 1, 3)) / 8192 = (230400 - 24384) / 8192,
  // after one global load, 6 shared-memory latencies a pass (400 and 20 cycles).
  CHECK(top32[1].per_tile.latency_cycles == Approx(400 + (230400.0 - 24384) / 8192 * 6 * 20));
  CHECK(top16[1].per_tile.latency_cycles == Approx(400 + (123392.0 - 24384) / 8192 * 6 * 20));
  // 128-token selection blocks take the general path: a zeroed buffer of next_pow2(511) summary
  // columns, then the (KV head, 128 summaries, 64 tokens) tiles whose first summary ends by the
  // tile's last token, 2048 j + 32 <= 64 (i + 1): 32 query tiles each see 1, 2, 3 and 4.
  const models::AttentionSpec wide_blocks = make("nsa", {{"heads", 64},
                                                         {"kv_heads", 4},
                                                         {"head_dim", 128},
                                                         {"v_head_dim", 128},
                                                         {"select_block", 128}});
  const sim::Launches general = lower_flash(wide_blocks, w, "block_scores");
  CHECK(flash_launch_names(general) == "zero_block_probs block_probs ");
  CHECK(general[0].per_job_hbm_bytes * general[0].jobs.count == 4 * 8192.0 * 512 * 2);
  CHECK(general[1].jobs.count == 4 * 32 * (1 + 2 + 3 + 4));
  // 256 tokens of 64-key blocks, top 16: no token sees more than 4 blocks.
  const sim::Launches short_seq = lower_flash(
      nsa_spec(64, 4, 16), sequence_bf16(models::Phase::fwd, 256), "selected_attention_fwd");
  CHECK(short_seq[0].jobs.max_tiles == 4);
}

TEST_CASE(
    "flash_nsa prices NSA's forward below nsa_triton on Hopper, where its one-warp programs "
    "share an SM, and runs only where the profile calibrates it",
    "[sim][flash_nsa]") {
  const models::AttentionSpec spec = nsa_spec(64, 4, 16);
  const hw::Profile& h100 = catalog().resolve("h100-sxm5-80gb");
  for (std::int64_t tokens : {8192, 65536}) {
    const models::Workload w = sequence_bf16(models::Phase::fwd, tokens);
    const double flash = sim::predict_tile(cost(spec, w), w, h100, "flash_nsa").time_s;
    const double xunhao = sim::predict_tile(cost(spec, w), w, h100, "nsa_triton").time_s;
    CHECK(flash < xunhao);
  }
  const models::Workload w = sequence_bf16(models::Phase::fwd, 4096);
  CHECK_THROWS_WITH(sim::predict_tile(cost(spec, w), w, catalog().resolve("b200"), "flash_nsa"),
                    Catch::Contains("flash_nsa"));
  // auto keeps nsa_triton.
  CHECK_THAT(
      test_support::launch_names(sim::predict_tile(cost(spec, w), w, h100, sim::KernelChoice())),
      !Catch::Contains("flash_nsa"));
}

TEST_CASE(
    "flash_nsa leaves what its training kernels do not run to the kernels auto picks: a chunk "
    "after cached keys as fa3 (forward and backward), a decode step as split_kv or, without it, "
    "fa3, and a decode step's selection as elementwise work",
    "[sim][flash_nsa]") {
  const models::AttentionSpec spec = nsa_spec(64, 4, 16);
  models::Workload chunk = workload(models::Phase::fwd, 1, 512, 4096);
  chunk.dtype = chunk.kv_dtype = models::DType::bf16;
  models::Workload chunk_bwd = chunk;
  chunk_bwd.phase = models::Phase::bwd;
  for (const char* op : {"selected_attention_fwd", "compressed_attention_fwd"}) {
    for (const sim::Launch& l : lower_flash(spec, chunk, op)) CHECK(l.schedule == "fa3");
  }
  for (const sim::Launch& l : lower_flash(spec, chunk_bwd, "selected_attention_bwd")) {
    CHECK(l.schedule == "fa3");
  }
  models::Workload step = workload(models::Phase::decode, 1, 1, 4096);
  step.dtype = step.kv_dtype = models::DType::bf16;
  for (const sim::Launch& l : lower_flash(spec, step, "block_scores")) {
    CHECK(l.schedule == "elementwise");
  }
  // An fp8 cache: its training kernels refuse a prefill; a decode step runs none of them.
  models::Workload fp8_cache = sequence_bf16(models::Phase::fwd, 4096);
  fp8_cache.kv_dtype = models::DType::fp8;
  CHECK_THROWS_AS(lower_flash(spec, fp8_cache, "selected_attention_fwd"), common::KernelRefusal);
  models::Workload fp8_step = step;
  fp8_step.kv_dtype = models::DType::fp8;
  for (const sim::Launch& l : lower_flash(spec, fp8_step, "selected_attention_fwd")) {
    CHECK(l.schedule == "split_kv");
  }
  // A profile without split_kv's entry: the decode step as the window branch is (fa3).
  hw::Profile h100 = catalog().resolve("h100-sxm5-80gb");
  h100.calibration.schedules.erase("split_kv");
  const sim::ScheduleInfo& info = sim::find_schedule("flash_nsa");
  for (const models::Op& op : cost(spec, step).ops) {
    if (std::string(op.name) != "selected_attention_fwd") continue;
    sim::Launches out;
    info.forward({op, step, h100, sim::forward_calibration(h100, info), info.name}, out);
    REQUIRE(!out.empty());
    for (const sim::Launch& l : out) CHECK(l.schedule == "fa3");
  }
}
