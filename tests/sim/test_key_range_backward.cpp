// A backward whose queries each draw their keys from a wider range (GNA's neighbourhoods, a
// non-causal superlinear's spans: models::AttentionShape::key_range) runs a CTA per KV tile of
// that range, each visiting its share of the forward's (row block, tile) pairs, and reduces the
// grouped dK/dV of every key in it. On the keys one query sees, FA2 on an A100 had 64 CTAs for
// 32 heads (GNA 13 x 13 at 4096 tokens), each walking all 64 row blocks, and a training step at
// head dim 144 priced 25 % below 128.
#include <catch2/catch.hpp>

#include <string>

#include "sim/engine.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

using test_support::builtin_profile;
using test_support::cost;
using test_support::make;
using test_support::workload;

namespace {

sim::Launches gna_backward(std::int64_t head_dim) {
  const models::AttentionSpec gna =
      make("gna", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", head_dim}});
  models::Workload w = workload(models::Phase::bwd, 1, 4096, 4096, false);
  w.dtype = w.kv_dtype = models::DType::bf16;
  const hw::Profile& a100 = builtin_profile("a100");
  const sim::ScheduleInfo& fa2 = sim::find_schedule("fa2");
  sim::Launches out;
  for (const models::Op& op : cost(gna, w).ops) {
    if (op.pass != models::Pass::backward) continue;
    fa2.backward({op, w, a100, sim::backward_calibration(a100, fa2), fa2.name}, out);
  }
  return out;
}

const sim::Launch& launch(const sim::Launches& launches, const std::string& name) {
  for (const sim::Launch& l : launches) {
    if (name == l.name) return l;
  }
  FAIL("no launch " << name);
  return launches[0];
}

}  // namespace

TEST_CASE(
    "a backward over a neighbourhood has a CTA per KV tile of the whole sequence, sharing the "
    "forward's tile pairs, and reduces every key's grouped gradients",
    "[sim][backward]") {
  // d 128 on an A100: 64 x 128 tiles. 4096 queries are 64 row blocks, each over the 169 keys of
  // its neighbourhood: ceil(169 / 128) = 2 tiles, 128 pairs a head, over 32 KV tiles: 4 each.
  const sim::Launches out = gna_backward(128);
  const sim::Launch& main = launch(out, "attention_bwd");
  CHECK(main.jobs.count == 32 * 32);
  CHECK(main.jobs.min_tiles == 4);
  CHECK(main.jobs.max_tiles == 4);
  CHECK(main.jobs.total_tiles == 32 * 128);
  CHECK(main.per_tile.tensor_flops == 2.0 * 64 * 128 * (3 * 128 + 2 * 128));
  // GQA 32/8: the per-query-head dK and dV of all 4096 keys are summed into the 8 KV heads, a
  // CTA per 128 keys.
  CHECK(launch(out, "attention_bwd_reduce_dkdv").jobs.count == 8 * 4096 / 128);
}
