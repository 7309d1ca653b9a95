// A tile's dependency chain (calibration chain_cycles): where a schedule entry has one, a tile
// takes at least (its matmul time + its softmax time + the chain's cycles) over the tiles the
// kernel keeps in flight; where it has none, the overlap rule alone prices the tile.
#include <catch2/catch.hpp>

#include <algorithm>
#include <optional>

#include "hwprofiles/catalog.hpp"
#include "models/workload.hpp"
#include "sim/engine.hpp"
#include "sim/price.hpp"
#include "sim/schedule.hpp"
#include "sim/waves.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

namespace {

// How the launch is set up around its tiles.
struct Setup {
  double overlap = 0.5;            // softmax_overlap
  std::optional<double> chain;     // chain_cycles
  double in_flight = 2;            // Launch::tiles_in_flight
  double tile_overhead = 0;        // tile_overhead_cycles
  bool overhead_is_wait = false;   // Launch::overhead_is_wait
  double per_sm = 1;               // CTAs stacked on each SM
  double serial_tiles = 0;         // Launch::serial_tiles_per_job
  double tiles = 100;              // tiles per CTA
  sim::Resource* bound = nullptr;  // where to report the launch's bound
};

// One full wave of `per_sm` CTAs per SM, each of `tiles` tiles of `flops` bf16 MMA FLOPs and `exps`
// exps, with no bytes and no per-CTA cycles: the launch's time above its launch cost.
double chain_seconds(const hw::Profile& p, double flops, double exps, const Setup& s) {
  const hw::ScheduleCalibration cal{1.0, s.overlap, s.tile_overhead, 0.0, s.chain};
  sim::Launch l = test_support::full_wave_launch(p, cal, "fa4", s.tiles);
  l.serial_tiles_per_job = s.serial_tiles;
  l.cta.max_ctas_per_sm = s.per_sm;
  l.jobs.count *= s.per_sm;
  l.jobs.total_tiles *= s.per_sm;
  l.per_tile.tensor_flops = flops;
  l.per_tile.exp_ops = exps;
  l.tiles_in_flight = s.in_flight;
  l.overhead_is_wait = s.overhead_is_wait;
  models::Workload w;
  w.dtype = w.kv_dtype = models::DType::bf16;
  const sim::LaunchPrediction r = sim::price_launch(l, p, w, 1);
  if (s.bound != nullptr) *s.bound = r.bound;
  return r.time_s - r.fixed_s;
}

// A setup with a chain of `cycles` (and the other fields as given).
Setup with_chain(double cycles, double in_flight = 2, sim::Resource* bound = nullptr) {
  Setup s;
  s.chain = cycles;
  s.in_flight = in_flight;
  s.bound = bound;
  return s;
}

// A 256 x 128 tile at hd 64: 8.4 MFLOP of MMAs and 32768 exps, the two pipes about balanced on
// GB300.
constexpr double kFlops = 2.0 * 256 * 128 * 128, kExps = 256.0 * 128;

}  // namespace

TEST_CASE("a tile with a chain takes at least its pipes plus the chain over the tiles in flight",
          "[sim][tile]") {
  const hw::Profile& gb300 = test_support::catalog().resolve("gb300");
  const double clock = gb300.compute.tensor_clock_hz;
  const double matmul = chain_seconds(gb300, kFlops, 0, {});
  const double softmax = chain_seconds(gb300, 0, kExps, {});
  REQUIRE(matmul > 0);
  REQUIRE(softmax > 0);
  // No chain: the overlap rule, the longer pipe plus half the shorter.
  const double rule = sim::overlapped(matmul, softmax, 0.5);
  sim::Resource bound{};
  Setup plain;
  plain.bound = &bound;
  CHECK(chain_seconds(gb300, kFlops, kExps, plain) == Approx(rule).epsilon(1e-9));
  CHECK(bound != sim::Resource::latency);
  // A chain of 2000 cycles per tile binds: (pipes + 100 tiles x 2000 cycles) / 2 in flight, and
  // the launch is latency-bound.
  const double chained = (matmul + softmax + 100 * 2000 / clock) / 2;
  REQUIRE(chained > rule);
  CHECK(chain_seconds(gb300, kFlops, kExps, with_chain(2000, 2, &bound)) ==
        Approx(chained).epsilon(1e-9));
  CHECK(bound == sim::Resource::latency);
  // One tile in flight exposes the whole chain.
  CHECK(chain_seconds(gb300, kFlops, kExps, with_chain(2000, 1)) ==
        Approx(matmul + softmax + 100 * 2000 / clock).epsilon(1e-9));
}

TEST_CASE("a tile's fixed cycles add to its chain as to its pipes, and a wait adds to neither",
          "[sim][tile]") {
  const hw::Profile& gb300 = test_support::catalog().resolve("gb300");
  const double clock = gb300.compute.tensor_clock_hz;
  const Setup chained = with_chain(2000);
  const double base = chain_seconds(gb300, kFlops, kExps, chained);
  Setup fixed = chained;
  fixed.tile_overhead = 300;
  CHECK(chain_seconds(gb300, kFlops, kExps, fixed) ==
        Approx(base + 100 * 300 / clock).epsilon(1e-9));
  // As a wait (Launch::overhead_is_wait) the same cycles are one CTA's latency beside the chain:
  // the chain, longer than the pipes plus them, sets the time alone.
  fixed.overhead_is_wait = true;
  const double rule =
      sim::overlapped(chain_seconds(gb300, kFlops, 0, {}), chain_seconds(gb300, 0, kExps, {}), 0.5);
  REQUIRE(rule + 100 * 300 / clock < base);
  CHECK(chain_seconds(gb300, kFlops, kExps, fixed) == Approx(base).epsilon(1e-9));
}

TEST_CASE("CTAs stacked on an SM hide each other's chains as tiles in flight do", "[sim][tile]") {
  const hw::Profile& gb300 = test_support::catalog().resolve("gb300");
  const double clock = gb300.compute.tensor_clock_hz;
  const double matmul = chain_seconds(gb300, kFlops, 0, {}) / 100;  // per tile
  const double softmax = chain_seconds(gb300, 0, kExps, {}) / 100;
  const double rule = sim::overlapped(matmul, softmax, 0.5);
  // A chain that makes one CTA's tile take 1.25 times its overlapped pipes.
  const double chain_s = 2 * 1.25 * rule - matmul - softmax;
  REQUIRE(chain_s > 0);
  const Setup one = with_chain(chain_s * clock);
  Setup two = one;
  two.per_sm = 2;
  // Alone, the chain sets the tile: 100 x 1.25 x the rule. Two CTAs per SM issue 2 x the rule
  // of pipe work per tile step, which covers each one's chain: 100 x 2 x the rule, not
  // 100 x 2 x 1.25 x the rule.
  CHECK(chain_seconds(gb300, kFlops, kExps, one) == Approx(100 * 1.25 * rule).epsilon(1e-9));
  CHECK(chain_seconds(gb300, kFlops, kExps, two) == Approx(100 * 2 * rule).epsilon(1e-9));
}

TEST_CASE("fa4 and fa3 keep two query tiles or warpgroups in flight, fa3 at hd 64 three",
          "[sim][tile]") {
  const struct {
    const char* hw;
    const char* kernel;
    std::int64_t head_dim;
    double in_flight;
  } cases[] = {{"gb300", "fa4", 128, 2}, {"b200", "cudnn", 64, 2},  {"h100", "fa3", 128, 2},
               {"h100", "fa3", 64, 3},   {"h100", "cudnn", 128, 2}, {"h100", "fa2", 128, 1}};
  for (const auto& k : cases) {
    INFO(k.hw << " " << k.kernel << " hd " << k.head_dim);
    test_support::Query q{test_support::make("mha", {{"heads", 16}, {"head_dim", k.head_dim}}),
                          test_support::workload(models::Phase::fwd, 4, 4096, 4096, false)};
    q.w.dtype = q.w.kv_dtype = models::DType::bf16;
    const hw::Profile& p = test_support::catalog().resolve(k.hw);
    const sim::Launches out = test_support::lower_dense_forward(k.kernel, q.cost(), q.w, p);
    REQUIRE_FALSE(out.empty());
    CHECK(out[0].tiles_in_flight == k.in_flight);
  }
}

TEST_CASE("tiles a kernel runs in turn cost their pipes one after the other, once per CTA",
          "[sim][tile]") {
  const hw::Profile& gb300 = test_support::catalog().resolve("gb300");
  const double clock = gb300.compute.tensor_clock_hz;
  const double matmul = chain_seconds(gb300, kFlops, 0, {}) / 100;  // per tile
  const double softmax = chain_seconds(gb300, 0, kExps, {}) / 100;
  const double rule = sim::overlapped(matmul, softmax, 0.5);
  // Two of each CTA's 100 tiles in turn: 98 overlapped tiles and 2 of matmul + softmax.
  Setup two_serial;
  two_serial.serial_tiles = 2;
  CHECK(chain_seconds(gb300, kFlops, kExps, two_serial) ==
        Approx(98 * rule + 2 * (matmul + softmax)).epsilon(1e-9));
  // With a chain, a tile in turn also waits its whole chain: (pipes + chain) against the chained
  // tile's (pipes + chain) / 2.
  Setup chained = with_chain(2000);
  chained.serial_tiles = 2;
  const double chain_tile = (matmul + softmax + 2000 / clock) / 2;
  REQUIRE(chain_tile > rule);
  CHECK(chain_seconds(gb300, kFlops, kExps, chained) ==
        Approx(98 * chain_tile + 2 * (matmul + softmax + 2000 / clock)).epsilon(1e-9));
  // A CTA of one tile runs only that one in turn.
  Setup short_job = two_serial;
  short_job.tiles = 1;
  CHECK(chain_seconds(gb300, kFlops, kExps, short_job) == Approx(matmul + softmax).epsilon(1e-9));
}

TEST_CASE("fa4 runs a causal row block's diagonal key blocks in turn; cuDNN and fa3 do not",
          "[sim][tile]") {
  const struct {
    const char* hw;
    const char* kernel;
    bool causal;
    double serial;
  } cases[] = {{"gb300", "fa4", true, 2},   {"b200", "fa4", true, 2}, {"b200", "fa4", false, 0},
               {"gb300", "cudnn", true, 0}, {"h100", "fa3", true, 0}, {"h100", "fa2", true, 0}};
  for (const auto& k : cases) {
    INFO(k.hw << " " << k.kernel << " causal " << k.causal);
    test_support::Query q{test_support::make("mha", {{"heads", 16}, {"head_dim", 128}}),
                          test_support::workload(models::Phase::fwd, 4, 4096, 4096, k.causal)};
    q.w.dtype = q.w.kv_dtype = models::DType::bf16;
    const hw::Profile& p = test_support::catalog().resolve(k.hw);
    const sim::Launches out = test_support::lower_dense_forward(k.kernel, q.cost(), q.w, p);
    REQUIRE_FALSE(out.empty());
    // 256-row CTAs over 128-key tiles: two tiles cross the diagonal.
    CHECK(out[0].serial_tiles_per_job == k.serial);
  }
}

TEST_CASE(
    "fa4's diagonal blocks in turn follow the query positions and the causal offset, at "
    "least one; a window's edge adds as many; a split launch's longest job holds them",
    "[sim][tile]") {
  const hw::Profile& b200 = test_support::catalog().resolve("b200");
  auto lower = [&](const models::AttentionSpec& spec, std::int64_t q_len, std::int64_t kv_len,
                   models::Phase phase = models::Phase::fwd) {
    test_support::Query q{spec, test_support::workload(phase, 1, q_len, kv_len, true)};
    q.w.dtype = q.w.kv_dtype = models::DType::bf16;
    const sim::Launches out = test_support::lower_dense_forward("fa4", q.cost(), q.w, b200);
    REQUIRE_FALSE(out.empty());
    return out[0];
  };
  auto gqa = [](std::int64_t heads, std::int64_t kv_heads) {
    return test_support::make("gqa", {{"heads", heads}, {"kv_heads", kv_heads}, {"head_dim", 128}});
  };
  // A 256-row CTA of one head, diagonal aligned to the 128-key blocks: two.
  CHECK(lower(gqa(32, 32), 4096, 4096).serial_tiles_per_job == 2);
  // 64 keys of cached context shift the diagonal into a third block.
  CHECK(lower(gqa(32, 32), 4096, 4160).serial_tiles_per_job == 3);
  // GQA 64/8 packs 8 heads' rows per position: a 256-row CTA covers 32 positions, one block.
  CHECK(lower(gqa(64, 8), 4096, 4096).serial_tiles_per_job == 1);
  // One query position: FA4 still runs one masked step.
  CHECK(lower(gqa(64, 8), 1, 4096).serial_tiles_per_job == 1);
  // A sliding window masks its left edge too.
  const sim::Launch window =
      lower(test_support::make(
                "swa", {{"heads", 32}, {"kv_heads", 32}, {"head_dim", 128}, {"window", 1024}}),
            4096, 4096);
  CHECK(window.serial_tiles_per_job == 4);
  // A decode step of 256 queries of one head over 8192 keys is split (the fastest count, one job
  // per split): the split holding the diagonal holds both blocks, the mean job its share.
  const sim::Launch split = lower(gqa(1, 1), 256, 8192, models::Phase::decode);
  const double splits = split.jobs.count;
  REQUIRE(splits > 1);
  CHECK(split.serial_tiles_per_job == 2);
  CHECK(split.serial_job_share == Approx(1.0 / splits));
  // So is an inference prefill of those queries after 7936 cached keys, and one without a cache
  // (32 row blocks of 256 rows on 148 SMs, 64 key blocks).
  CHECK(lower(gqa(1, 1), 256, 8192, models::Phase::prefill).jobs.count > 1);
  CHECK(lower(gqa(1, 1), 8192, 8192, models::Phase::prefill).jobs.count > 32);
  // A training forward (flash_attn_func, num_splits = 1) is not, whatever its keys: 32 row blocks
  // where FA4's heuristic would have split them 4 ways, and one block over 8192 keys.
  CHECK(lower(gqa(1, 1), 8192, 8192).jobs.count == 32);
  CHECK(lower(gqa(1, 1), 256, 8192).jobs.count == 1);
}

TEST_CASE(
    "a launch's longest job moves a whole row block's Q and O and, split, whole key tiles; no "
    "split, the mean tile",
    "[sim][tile]") {
  const hw::Profile& h100 = test_support::catalog().resolve("h100");
  auto lower = [&](const char* kernel, const models::AttentionSpec& spec, models::Phase phase,
                   std::int64_t q_len, std::int64_t kv_len) {
    test_support::Query q{spec, test_support::workload(phase, 1, q_len, kv_len, true)};
    q.w.dtype = q.w.kv_dtype = models::DType::bf16;
    const sim::Launches out = test_support::lower_dense_forward(kernel, q.cost(), q.w, h100);
    REQUIRE_FALSE(out.empty());
    return out[0];
  };
  const models::AttentionSpec gqa =
      test_support::make("gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}});
  // A decode step over 1472 keys, split (split_kv's 128-key tiles, docs/kernels.md §1.3): 12
  // tiles for 1472 keys, so a whole tile is 12 x 128 / 1472 of the mean one.
  const sim::Launch split = lower("split_kv", gqa, models::Phase::decode, 1, 1472);
  REQUIRE(split.jobs.count > 8);  // 8 KV heads, several splits each
  CHECK(split.max_tile_hbm_scale == Approx(12.0 * 128 / 1472));
  // A 4096-key window seen from 4160 cached keys starts inside a tile: 33 tiles for its keys.
  const models::AttentionSpec swa = test_support::make(
      "swa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}, {"window", 4096}});
  const sim::Launch window = lower("split_kv", swa, models::Phase::decode, 1, 4160);
  REQUIRE(window.jobs.count > 8);
  CHECK(window.max_tile_hbm_scale == Approx(33.0 * 128 / 4096));
  // Not split, the longest job holds the partial tile too: the mean.
  const sim::Launch prefill =
      lower("fa3", test_support::make("mha", {{"heads", 32}, {"head_dim", 128}}),
            models::Phase::fwd, 1472, 1472);
  CHECK(prefill.max_tile_hbm_scale == 1);
  // FA3's 128-row blocks over 1472 rows of each of 32 heads: 12 blocks of mean 122.7 rows, so
  // a full block's Q and O are 128 / 122.7 of the mean job's.
  CHECK(prefill.max_job_hbm_bytes ==
        Approx(prefill.per_job_hbm_bytes * 128 / (1472.0 / 12)).epsilon(1e-9));
}
