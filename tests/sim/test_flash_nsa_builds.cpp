// flash_nsa's two builds of Scalable-Flash-NSA's kernels (sim::FlashNsaBuild): the TMA kernels on
// Hopper and the Ampere fallback (flash_nsa/ops/ampere_ops.py) elsewhere, each with its own warps,
// stages and tiles, at d <= 128 and above.
#include <catch2/catch.hpp>

#include <string>

#include "sim/schedule.hpp"
#include "sim/waves.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::catalog;
using test_support::cost;
using test_support::make;
using test_support::workload;

namespace {

models::AttentionSpec ampere_nsa(std::int64_t head_dim) {
  return make("nsa", {{"heads", 64},
                      {"kv_heads", 4},
                      {"head_dim", head_dim},
                      {"v_head_dim", 128},
                      {"top_k", 16},
                      {"select_block", 64}});
}

models::Workload bf16_sequence(models::Phase phase, std::int64_t tokens) {
  models::Workload w = workload(phase, 1, tokens, tokens);
  w.dtype = w.kv_dtype = models::DType::bf16;
  return w;
}

}  // namespace

TEST_CASE(
    "flash_nsa on an A100 prices its Ampere build: 4-warp selected programs, 8-warp compressed "
    "programs, and 64-summary probability programs at d 128",
    "[sim][flash_nsa]") {
  const hw::Profile& a100 = catalog().resolve("a100-sxm4-80gb");
  const sim::ScheduleInfo& info = sim::find_schedule("flash_nsa");
  const models::Workload w = bf16_sequence(models::Phase::fwd, 8192);
  auto lower_a100 = [&](const char* name) {
    sim::Launches out;
    for (const models::Op& op : cost(ampere_nsa(128), w).ops) {
      if (std::string(op.name) != name) continue;
      const sim::ScheduleInput in{op, w, a100, sim::forward_calibration(a100, info), info.name};
      (op.kind == models::OpKind::selection ? info.selection : info.forward)(in, out);
    }
    REQUIRE(!out.empty());
    return out;
  };
  const sim::Launches selected = lower_a100("selected_attention_fwd");
  CHECK(selected[0].cta.threads == 128);
  CHECK(selected[0].issue_share == 1);
  CHECK(sim::ctas_per_sm(selected[0].cta, a100) == 2);  // 68 KiB of a 164 KiB SM
  CHECK(lower_a100("compressed_attention_fwd")[0].cta.threads == 256);
  // 128 query tiles against 8 tiles of 64 summaries; tile j runs for query tile i when
  // 16 j <= i + 1: 15 + 16 x (2 + ... + 8) + 8 = 583 programs per KV head.
  const sim::Launches probs = lower_a100("block_scores");
  CHECK(probs[1].jobs.count == 4 * 583);
  CHECK(probs[1].per_tile.tensor_flops == 2.0 * 64 * (64 + 16) * 128);
}

TEST_CASE(
    "flash_nsa's backward and its kernels above d 128 take each build's own warps, stages and "
    "tiles",
    "[sim][flash_nsa]") {
  const sim::ScheduleInfo& info = sim::find_schedule("flash_nsa");
  const models::Workload w = bf16_sequence(models::Phase::bwd, 8192);
  auto lower_on = [&](const char* device, std::int64_t head_dim, const char* name) {
    const hw::Profile& p = catalog().resolve(device);
    const models::AttentionSpec spec = ampere_nsa(head_dim);
    sim::Launches out;
    for (const models::Op& op : cost(spec, w).ops) {
      if (std::string(op.name) != name) continue;
      info.backward({op, w, p, sim::backward_calibration(p, info), info.name}, out);
    }
    REQUIRE(!out.empty());
    return out;
  };
  auto find = [](const sim::Launches& l, const char* name) {
    for (const sim::Launch& x : l) {
      if (std::string(x.name) == name) return x;
    }
    FAIL("no launch " << name);
    return sim::Launch{};
  };
  // dQ: 2 warps on Hopper, 4 on Ampere at d 128, 2 above (AO:2250-2253).
  CHECK(find(lower_on("h100", 128, "selected_attention_bwd"), "selected_dq").cta.threads == 64);
  CHECK(find(lower_on("a100", 128, "selected_attention_bwd"), "selected_dq").cta.threads == 128);
  CHECK(find(lower_on("a100", 192, "selected_attention_bwd"), "selected_dq").cta.threads == 64);
  // The compressed dQ: 128 queries at 8 warps on Hopper at d 128; 64 at 4 warps above, on both.
  const sim::Launch narrow =
      find(lower_on("h100", 128, "compressed_attention_bwd"), "compressed_dq");
  const sim::Launch wide = find(lower_on("h100", 192, "compressed_attention_bwd"), "compressed_dq");
  CHECK(narrow.cta.threads == 256);
  CHECK(wide.cta.threads == 128);
  CHECK(wide.jobs.count == 2 * narrow.jobs.count);
  CHECK(find(lower_on("a100", 192, "compressed_attention_bwd"), "compressed_dq").jobs.count ==
        wide.jobs.count);
}
