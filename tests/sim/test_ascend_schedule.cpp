// ascend (sim/schedule_other.cpp): torch_npu's fused-attention kernels on a 910B. A forward whose
// row blocks leave core groups idle splits its keys over them, at the fastest count, as the decode
// kernel does; a forward that fills the groups keeps every block's keys on one group.
#include <catch2/catch.hpp>

#include "sim/engine.hpp"
#include "sim/price.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::catalog;
using test_support::cost;
using test_support::make;
using test_support::one_head_fp16_fwd;

namespace {

sim::Launches lower_ascend_fwd(const models::Workload& w, std::int64_t heads = 1) {
  return test_support::lower_dense_forward(
      "ascend", cost(make("mha", {{"heads", heads}, {"head_dim", 128}}), w), w,
      catalog().resolve("ascend-910b2"));
}

double ascend_fwd_time(std::int64_t rows, std::int64_t keys) {
  return test_support::one_head_fp16_time("ascend", rows, keys, catalog().resolve("ascend-910b2"));
}

}  // namespace

TEST_CASE("ascend's forward splits the keys of too few row blocks over the core groups",
          "[sim][ascend]") {
  // 128 rows: two 64-row blocks for 24 core groups; 8192 keys are 8 rounds of 1024, so the split
  // gives every block's rounds to groups of their own (one launch, the reduce inside it).
  const sim::Launches split = lower_ascend_fwd(one_head_fp16_fwd(128, 8192));
  REQUIRE(split.size() == 1);
  CHECK(split[0].jobs.count > 2);
  CHECK(split[0].jobs.max_tiles < 8);
  // Without the split one group would walk all 8 rounds, about 8 times one round's time; split,
  // 8 rounds cost little more than one (each group walks one, then the reduce).
  CHECK(ascend_fwd_time(128, 8192) < 2.5 * ascend_fwd_time(128, 1024));
}

TEST_CASE("ascend's forward keeps the keys of row blocks that fill the core groups together",
          "[sim][ascend]") {
  // 32 heads x 2048 rows: 512 blocks of 128 rows, many waves; splitting adds partials and saves
  // nothing.
  const sim::Launches full = lower_ascend_fwd(one_head_fp16_fwd(2048, 8192), 32);
  REQUIRE(full.size() == 1);
  CHECK(full[0].jobs.count == 32 * 2048 / 128);
  CHECK(full[0].jobs.max_tiles == 8);
}

TEST_CASE("ascend's forward time grows with the work from one row block up, never shrinking",
          "[sim][ascend]") {
  // The measured torch_npu rows grow with Sq x Sk from a single 128-row block: more rows or more
  // keys never price faster, and 16 times the rows at 8192 keys costs several times more.
  for (std::int64_t keys : {2048, 8192}) {
    double last = 0;
    for (std::int64_t rows : {128, 256, 512, 1024, 2048, 3072}) {
      const double t = ascend_fwd_time(rows, keys);
      INFO(rows << " rows, " << keys << " keys");
      CHECK(t >= last * 0.999);
      last = t;
    }
  }
  CHECK(ascend_fwd_time(2048, 8192) > 3 * ascend_fwd_time(128, 8192));
}

namespace {

// The tile engine's 910B2 decode of one token over `context` keys, batch 1, for `variant` at its
// defaults.
sim::Prediction ascend_decode(const char* variant, std::int64_t context) {
  const models::Workload w = test_support::workload(models::Phase::decode, 1, 1, context);
  return sim::predict_tile(cost(make(variant, {}), w), w, catalog().resolve("ascend-910b2"),
                           "ascend");
}

}  // namespace

TEST_CASE(
    "ascend's forward of fewer query rows than a basic block pads them to the cube's 16-row "
    "fractal, not to the block",
    "[sim][ascend]") {
  // 256 heads of r rows over 8192 keys: the basic block would be 128 rows (blocks outnumber the
  // AIVs); FlashAttentionScore's block holds the real rows (s1RealSize), which the cube pads to
  // 16. The cube work of all tiles, whatever split of the keys the schedule takes:
  auto cube_flops = [](std::int64_t rows) {
    double flops = 0;
    for (const sim::Launch& l : lower_ascend_fwd(one_head_fp16_fwd(rows, 8192), 256))
      flops += l.per_tile.tensor_flops * l.jobs.total_tiles;
    return flops;
  };
  // (A split of the keys rounds its parts up to whole 128-key cube blocks: a few % more. Padded
  // to the 128-row block, one row cost 8 fractals.)
  const double fractal = 256 * 2.0 * 16 * 8192 * (128 + 128);  // QK^T and PV of 16 rows a head
  CHECK(cube_flops(1) == Approx(fractal).epsilon(0.05));
  CHECK(cube_flops(16) == Approx(fractal).epsilon(0.05));
  CHECK(cube_flops(40) == Approx(3 * fractal).epsilon(0.05));  // three fractals, 48 rows
  CHECK(cube_flops(64) == Approx(4 * fractal).epsilon(0.05));  // a block of 64 rows, as before
}

TEST_CASE("ascend's decode never prices a longer context faster, from 16 keys to 1M",
          "[sim][ascend]") {
  // A split takes whole 16-key parts, so a short context can run every split a longer one runs.
  // With 1024-key rounds as the unit, MLA's 2k-key decode (2 splits, each with half the reduce)
  // priced above 16k (16 splits): 44.98 against 44.18 us.
  for (const char* variant : {"mla", "gla", "tpla", "gqa", "mha", "swa"}) {
    double last = 0;
    std::int64_t last_context = 0;
    for (std::int64_t context = 16; context <= (1 << 20); context *= 2) {
      const double t = ascend_decode(variant, context).time_s;
      INFO(variant << " at " << context << " keys: " << t << " s; at " << last_context << ": "
                   << last);
      CHECK(t >= last);
      last = t;
      last_context = context;
    }
  }
}

TEST_CASE("ascend's decode splits a short context over the core groups without empty splits",
          "[sim][ascend]") {
  // MLA at 2048 keys: one absorbed row block for 24 core groups. The split takes parts shorter than
  // a 1024-key round (2 splits at most before), and launches only splits that hold keys: all but
  // the last split take max_tiles tiles, and the last takes at least one.
  const models::Workload w = test_support::workload(models::Phase::decode, 1, 1, 2048);
  const sim::Launches split = test_support::lower_dense_forward(
      "ascend", cost(make("mla", {}), w), w, catalog().resolve("ascend-910b2"));
  REQUIRE(split.size() == 1);
  const sim::Launch& l = split[0];
  CHECK(l.jobs.count > 2);
  CHECK(l.jobs.count <= 24);
  CHECK((l.jobs.count - 1) * l.jobs.max_tiles < l.jobs.total_tiles);
  CHECK(ascend_decode("mla", 2048).time_s < ascend_decode("mla", 16384).time_s);
}

TEST_CASE("ascend's windowed decode walks the window from its first key, wherever it falls",
          "[sim][ascend]") {
  // swa's 4096-key window over 4544 keys starts at key 448, over 4608 at 512, over 1M at
  // 1044480: the same keys to walk. Parts laid from key 0 priced 1M keys dearer (21.04 against
  // 20.84 us); with 4 sinks before the window the price cycled by 6 % every 256 keys.
  const double aligned = ascend_decode("swa", 4096 + 512).time_s;
  CHECK(ascend_decode("swa", 4096 + 448).time_s == Approx(aligned).epsilon(1e-9));
  CHECK(ascend_decode("swa", 1 << 20).time_s == Approx(aligned).epsilon(1e-9));
  const models::Workload w = test_support::workload(models::Phase::decode, 1, 1, 4544);
  const models::Workload w2 = test_support::workload(models::Phase::decode, 1, 1, 4608);
  const hw::Profile& p = catalog().resolve("ascend-910b2");
  const auto sinks = make("swa", {{"n_sink", 4}});
  CHECK(sim::predict_tile(cost(sinks, w), w, p, "ascend").time_s ==
        Approx(sim::predict_tile(cost(sinks, w2), w2, p, "ascend").time_s).epsilon(1e-9));
}

TEST_CASE("ascend's decode walks a part just over a round in two equal rounds, not two whole",
          "[sim][ascend]") {
  // MLA at 24640 keys: 24 core groups take parts of 1040 keys, two rounds of 520, not a round of
  // 1024 and a second priced whole (72.53 us against 46.03 at 24576 keys).
  CHECK(ascend_decode("mla", 24640).time_s < 1.1 * ascend_decode("mla", 24576).time_s);
}

TEST_CASE("ascend's forward prices a key tail past a round as its 128-key cube blocks, not a round",
          "[sim][ascend]") {
  // 32 heads x 1024 rows fill the groups (no split): 1025 keys are two equal rounds of 576 keys
  // (nine cube blocks), not two whole rounds of 1024; the tail costs about its share.
  const auto full_fwd = [](std::int64_t keys) {
    const sim::Launches l = lower_ascend_fwd(one_head_fp16_fwd(1024, keys), 32);
    REQUIRE(l.size() == 1);
    return sim::launches_time(l, catalog().resolve("ascend-910b2"), one_head_fp16_fwd(1024, keys));
  };
  CHECK(full_fwd(1025) > full_fwd(1024));
  CHECK(full_fwd(1025) < 1.3 * full_fwd(1024));  // 9 blocks of 8, plus a round's fixed cycles
  CHECK(full_fwd(2049) < 1.3 * full_fwd(2048));
  // A window of one key visits the diagonal's block, not 1024-key rounds.
  test_support::Query swa{make("swa", {{"window", 1}}),
                          test_support::workload(models::Phase::prefill, 1, 4096, 4096, true)};
  test_support::Query gqa{make("gqa", {}), swa.w};
  const hw::Profile& p = catalog().resolve("ascend-910b2");
  CHECK(sim::predict_tile(swa.cost(), swa.w, p, "ascend").time_s <
        0.2 * sim::predict_tile(gqa.cost(), gqa.w, p, "ascend").time_s);
}

TEST_CASE(
    "ascend walks a window's rounds from each row block's first cube block, so a longer window "
    "never takes fewer rounds",
    "[sim][ascend]") {
  const hw::Profile& p = catalog().resolve("ascend-910b2");
  const auto lower = [&](std::int64_t window) {
    const test_support::Query q{make("swa", {{"window", window}}),
                                test_support::workload(models::Phase::prefill, 1, 4096, 4096)};
    return test_support::lower_dense_forward("ascend", q.cost(), q.w, p);
  };
  // 32 heads x 32 row blocks of 128 fill the groups (no split). Window 897: a block from the
  // eighth on spans keys 128 m - 896 .. 128 m + 127, 8 cube blocks: one round of 1024. Window
  // 898: 9 cube blocks (1152 keys), two equal rounds of 640, from the block's own first cube
  // block: blocks 0-4 (at most 5 cube blocks) take one, the other 27 two. On rounds of 640 from
  // key 0 blocks took two or three, and on 1024s 897's took two: 898 priced 10 % below 897.
  const sim::Launches w897 = lower(897), w898 = lower(898);
  REQUIRE(w897.size() == 1);
  REQUIRE(w898.size() == 1);
  CHECK(w897[0].jobs.total_tiles == 32 * 32);
  CHECK(w898[0].jobs.total_tiles == 32 * (5 + 27 * 2));
  CHECK(w898[0].jobs.max_tiles == 2);
  CHECK(w898[0].per_tile.tensor_flops == 2.0 * 128 * 640 * (128 + 128));
  double previous = 0;
  for (std::int64_t window = 800; window <= 1100; ++window) {
    const test_support::Query q{make("swa", {{"window", window}}),
                                test_support::workload(models::Phase::prefill, 1, 4096, 4096)};
    const double t = sim::predict_tile(q.cost(), q.w, p, "ascend").time_s;
    INFO("window " << window);
    CHECK(t >= previous);
    previous = t;
  }
}
