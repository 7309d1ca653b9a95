// The L2 reuse of K/V in long causal prefill (sim::streamed_read_bytes; docs/kernels.md, section
// 2.3 Scheduling and L2): resident CTAs of a head share a tile while the window of tiles in flight
// stays in L2, and only later passes need the head's whole K/V range there.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <string_view>

#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "sim/schedule.hpp"
#include "sim/schedule_common.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

using models::DType;
using models::Phase;

using test_support::catalog;
using test_support::Query;
using test_support::tile_prediction;

namespace {

constexpr double kMiB = 1024.0 * 1024.0;

Query prefill_query(std::int64_t len, bool causal, std::int64_t hq, std::int64_t hkv) {
  static const models::Registry registry;
  Query q{registry.find(hq == hkv ? "mha" : "gqa")
              .make_spec({{"heads", hq}, {"kv_heads", hkv}, {"head_dim", 128}}, {}),
          {}};
  q.w.phase = Phase::prefill;
  q.w.batch = 1;
  q.w.q_len = q.w.kv_len = len;
  q.w.causal = causal;
  q.w.dtype = q.w.kv_dtype = DType::bf16;
  return q;
}

// K/V bytes from HBM of the fa3 forward launch, and what the op must read (K and V once).
struct KvBytes {
  double hbm, compulsory;
};
KvBytes fa3_kv_bytes(const Query& q, const hw::Profile& p) {
  const models::CostModel cost = q.spec.variant->cost(q.spec, q.w);
  const sim::ScheduleInfo& info = sim::find_schedule("fa3");
  sim::Launches out;
  info.forward({cost.ops[0], q.w, p, sim::forward_calibration(p, info), info.name}, out);
  REQUIRE(out.size() == 1);  // no split: causal
  const sim::Launch& l = out[0];
  return {l.per_tile.hbm_bytes * l.jobs.total_tiles, cost.ops[0].bytes.k + cost.ops[0].bytes.v};
}

// Hand-worked numbers for H100 (132 SMs, 50 MiB L2 x l2_reuse_fraction 0.64 = 32 MiB share) and
// FA3 causal d = 128 (M = N = 128, one persistent CTA per SM): a K/V tile is 128 keys x 256
// elements x 2 B = 64 KiB, the window of 132 resident CTAs 8.25 MiB (fits), one head's K+V at
// S tokens S x 512 B (64 MiB at 128k: half of it misses between passes). A head has S / 128 row
// blocks; under the causal mask a tile's mean readers are (blocks + 1) / 2.
double passes(double blocks) {
  return ((blocks + 1) / 2) / 132;
}

}  // namespace

TEST_CASE("streamed reads: one pass costs the compulsory bytes, later passes miss past the L2",
          "[tile][l2]") {
  const hw::Profile& h100 = catalog().resolve("h100");
  const double c = 64 * kMiB, window = 132 * 64 * 1024.0;
  // One pass (64.5 readers <= 132 resident): every re-read hits the 8.25 MiB window.
  CHECK(sim::streamed_read_bytes(c, 64.5 * c, 132, window, c, h100) == Approx(c));
  // 128k: 512.5 readers, P = 512.5 / 132 = 3.883 passes; a pass re-reads 64 MiB of which the
  // 32 MiB share holds half: c (1 + 2.883 x 0.5) = 2.441 c (the whole-K/V model: c + 511.5 c x
  // 0.5 = 256.75 c).
  CHECK(sim::streamed_read_bytes(c, 512.5 * c, 132, window, c, h100) ==
        Approx(c * (1 + (512.5 / 132 - 1) * 0.5)));
  // A window larger than the share pays: 64 MiB in flight, 32 MiB share -> half of the in-pass
  // re-reads miss.
  CHECK(sim::streamed_read_bytes(c, 64.5 * c, 132, 64 * kMiB, c, h100) ==
        Approx(c + 63.5 * c * 0.5));
}

TEST_CASE("causal fa3 K/V reaches HBM once per pass over a head, not once per reader",
          "[tile][l2]") {
  const hw::Profile& h100 = catalog().resolve("h100");
  // 16k, 8 heads: 128 row blocks of a head, all resident at once (one pass): exactly the
  // compulsory once-per-head read, 8 x 8 MiB.
  const KvBytes short_len = fa3_kv_bytes(prefill_query(16384, true, 8, 8), h100);
  CHECK(short_len.compulsory == Approx(8 * 8 * kMiB));
  CHECK(short_len.hbm == Approx(short_len.compulsory));
  // 128k: 1024 row blocks, 3.883 passes, half of each later pass misses: 2.441 x compulsory.
  const KvBytes long_len = fa3_kv_bytes(prefill_query(131072, true, 8, 8), h100);
  CHECK(long_len.hbm == Approx(long_len.compulsory * (1 + (passes(1024) - 1) * 0.5)));
  CHECK(long_len.hbm < 2.5 * long_len.compulsory);
}

TEST_CASE("reuse that genuinely fails still pays: passes over a 1M head, a window past the L2",
          "[tile][l2]") {
  const hw::Profile& h100 = catalog().resolve("h100");
  // 1M: 8192 row blocks, 31.03 passes; a pass re-reads 512 MiB of which 32 MiB stays, so each
  // later pass misses 1 - 32 / 512 = 0.9375 of it: 1 + 30.03 x 0.9375 = 29.2 x compulsory.
  const KvBytes million = fa3_kv_bytes(prefill_query(1048576, true, 1, 1), h100);
  CHECK(million.hbm == Approx(million.compulsory * (1 + (passes(8192) - 1) * 0.9375)));
  CHECK(million.hbm > 29 * million.compulsory);
  // An 8 MiB L2 (5.12 MiB share) cannot hold the 8.25 MiB window of 132 resident CTAs: even a
  // single pass (16k) misses 1 - 5.12 / 8.25 = 0.379 of its 63.5 re-reads per tile.
  const hw::Profile small = hw::with_overrides(h100, {"memory.l2_MiB=8"});
  const KvBytes one_pass = fa3_kv_bytes(prefill_query(16384, true, 8, 8), small);
  const double miss = 1 - 8 * 0.64 / 8.25;
  CHECK(one_pass.hbm == Approx(one_pass.compulsory * (1 + 63.5 * miss)));
}

TEST_CASE("causal fa3 prefill on H100 keeps its tensor utilisation from 16k to 1M tokens",
          "[tile][l2]") {
  const hw::Profile& h100 = catalog().resolve("h100");
  // Long causal prefill is compute-bound (FA3 paper, arXiv:2407.08608: forward TFLOP/s flat or
  // rising with length up to 16k): the K/V from HBM is a few reads per head, not one per row block.
  // The band: every length within 0.05 of 16k's utilisation (the causal tail only shrinks).
  const double u16k = tile_prediction(prefill_query(16384, true, 32, 8), h100).tensor_utilization;
  for (std::int64_t len : {65536, 131072, 262144, 1048576}) {
    const sim::Prediction p = tile_prediction(prefill_query(len, true, 32, 8), h100);
    INFO("seq_len " << len);
    CHECK(p.bound == sim::Resource::tensor);
    CHECK(p.tensor_utilization == Approx(u16k).margin(0.05));
  }
}
