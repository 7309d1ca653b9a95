// Sharded decode (--cp) over every decoding variant of the registry: a device holds and reads
// only the keys of its shard the variant reads, so the cluster does one device's work and the
// busiest device takes at most one device's time plus the combine and the all-gather.
#include <catch2/catch.hpp>

#include <string>

#include "common/errors.hpp"
#include "models/projections.hpp"
#include "sim/parallel.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::catalog;
using test_support::make;
using test_support::registry;
using test_support::workload;

namespace {

sim::ParallelPrediction decode_cp(const models::AttentionSpec& spec, const models::Workload& w,
                                  int cp) {
  return sim::predict_parallel(sim::EngineKind::tile, spec, w, catalog().resolve("h100"), "auto",
                               {1, cp, sim::CpStrategy::ring, 1});
}

// The combine of `partials` fp32 partials per output row (sim/parallel_decode.cpp), priced alone:
// the most a device adds to its compute for them.
double combine_s(const models::AttentionSpec& spec, const models::Workload& w, int partials) {
  const double rows = static_cast<double>(w.batch * spec.heads.heads * w.q_len);
  const double dv = static_cast<double>(spec.heads.v_head_dim);
  models::Op op = models::elementwise_op("cp_decode_combine", models::Pass::forward,
                                         rows * partials, 4 * (dv + 1), 1, 2 * dv + 2);
  op.bytes.o = rows * dv * models::bytes_per_element(w.dtype);
  models::CostModel cost;
  cost.ops.push_back(op);
  return sim::predict(sim::EngineKind::tile, cost, w, catalog().resolve("h100"), "auto").time_s;
}

}  // namespace

TEST_CASE(
    "decode under cp does one device's work over the cluster and is no slower than one "
    "device plus the combine and all-gather, for every variant",
    "[sim][parallel][decode]") {
  const models::Workload w = workload(models::Phase::decode, 2, 1, 65536);
  int priced = 0;
  for (const auto& v : registry().variants()) {
    if (!v->supports(models::Phase::decode)) continue;
    models::AttentionSpec spec;
    models::CostModel cost;
    try {
      spec = make(std::string(v->name()).c_str(), {});
      cost = v->cost(spec, w);
    } catch (const common::SpecError&) {
      continue;  // needs parameters or projections to price (gqsa)
    }
    if (cost.kv_cache_bytes == 0 && cost.state_bytes > 0) continue;  // a state: not sharded
    if (v->name() == "tpla") continue;  // priced per device by its own shards parameter
    const sim::ParallelPrediction one = decode_cp(spec, w, 1);
    for (int cp : {2, 4, 8}) {
      INFO(v->name() << " --cp " << cp);
      const sim::ParallelPrediction p = decode_cp(spec, w, cp);
      CHECK(p.cluster.flops.tensor == Approx(one.per_device.flops.tensor).epsilon(1e-9));
      CHECK(p.cluster.kv_cache_bytes == Approx(one.per_device.kv_cache_bytes).epsilon(1e-9));
      CHECK(p.per_device.kv_cache_bytes <= one.per_device.kv_cache_bytes);
      CHECK(p.per_device.compute_s <= one.per_device.compute_s + combine_s(spec, w, cp));
      CHECK(p.per_device.total_s <=
            one.per_device.total_s + combine_s(spec, w, cp) + p.per_device.exposed_comm_s);
    }
    ++priced;
  }
  CHECK(priced > 20);
}

TEST_CASE(
    "decode under cp puts a sliding window in the shards that hold its keys; the others "
    "hold none of it and send no partial, and the busiest device forwards each partial whole",
    "[sim][parallel][decode]") {
  // 65536 cached tokens over 8 shards of 8192: the 4096-key window lies in the last shard.
  const models::AttentionSpec swa = make("swa", {{"window", 4096}});
  const models::Workload w = workload(models::Phase::decode, 1, 1, 65536);
  const sim::ParallelPrediction one = decode_cp(swa, w, 1);
  const sim::ParallelPrediction p = decode_cp(swa, w, 8);
  CHECK(p.per_device.kv_cache_bytes == Approx(one.per_device.kv_cache_bytes));
  CHECK(p.per_device.flops.tensor == Approx(one.per_device.flops.tensor));
  CHECK(p.cluster.hbm_bytes == Approx(one.per_device.hbm_bytes));
  // One partial: no combine, and the gather carries that one partial, 32 heads x (128 + 1) fp32,
  // whole to each of the 7 other devices; around the ring the busiest device forwards it whole.
  CHECK(p.cluster.flops.exp == Approx(one.per_device.flops.exp));
  const double partial = 32.0 * 129 * 4;
  CHECK(p.per_device.scale_up_bytes == Approx(partial));
  CHECK(p.cluster.scale_up_bytes == Approx(7 * partial));
  // A window of 12288 keys spans the last two shards: 8192 + 4096 keys, two partials.
  const models::AttentionSpec wide = make("swa", {{"window", 12288}});
  const sim::ParallelPrediction one_wide = decode_cp(wide, w, 1);
  const sim::ParallelPrediction two = decode_cp(wide, w, 8);
  CHECK(two.cluster.flops.tensor == Approx(one_wide.per_device.flops.tensor).epsilon(1e-12));
  CHECK(two.per_device.kv_cache_bytes == Approx(one_wide.per_device.kv_cache_bytes * 8192 / 12288));
  CHECK(two.per_device.scale_up_bytes == Approx(2 * partial));
  CHECK(two.cluster.scale_up_bytes == Approx(2 * 7 * partial));
}
