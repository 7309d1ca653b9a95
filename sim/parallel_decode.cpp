// Context parallelism for decode, one layer: the KV cache is sharded over the cp devices in
// contiguous blocks (the last device holds the newest tokens), every device computes a partial
// attention of the q_len new tokens over its shard, and the partial outputs with their
// log-sum-exp are combined, as split-KV decoding combines its splits (Flash-Decoding,
// https://crfm.stanford.edu/2023/10/12/flashdecoding.html), here across devices. Ring attention
// and all-gather CP both reduce to this for decode: the K/V stay where they are and only the
// partials move, so both are priced alike.
#include <algorithm>
#include <vector>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "models/projections.hpp"
#include "sim/parallel_internal.hpp"

namespace sim::parallel_detail {

namespace {

// Partial outputs and their LSE stay in fp32 until combined, as the split-KV schedule keeps them
// (sim/schedule_fa2.cpp).
constexpr double kPartialBytes = 4;

struct Shard {
  std::int64_t tokens = 0;
  bool causal = false;  // the last shard holds the new tokens' own keys
  double devices = 0;   // devices with this shard
};

// cp - 1 leading shards of ceil or floor(kv_len / cp) tokens (the longer ones first) and the last
// of floor(kv_len / cp), which must hold the q_len new tokens. A variant defined only under a
// causal mask (models::Variant::causal_only: a window, a selection among earlier blocks) has no
// non-causal shard: its earlier shards are priced as if the new tokens stood at their end, the
// variant's mask applied to that shard alone. For a window that prices every shard as holding one
// (the busiest device, which sets the time, is right; the cluster totals count a window per
// shard).
std::vector<Shard> shards(const Context& c) {
  const std::int64_t p = c.layout.cp;
  const std::int64_t base = c.w.kv_len / p;
  const std::int64_t longer = c.w.kv_len % p;  // devices with base + 1 tokens
  if (base < 1 || (c.w.causal && base < c.w.q_len)) {
    throw common::SpecError(fmt::format(
        "--cp {} with decode: the last KV shard of {} tokens ({} cached tokens over {} devices) "
        "must hold the {} new tokens; lower --cp",
        p, base, c.w.kv_len, p, std::max<std::int64_t>(c.w.q_len, 1)));
  }
  const bool earlier_causal = c.w.causal && c.spec.variant->causal_only();
  std::vector<Shard> out;
  if (longer > 0) out.push_back({base + 1, earlier_causal, static_cast<double>(longer)});
  if (p - 1 - longer > 0) {
    out.push_back({base, earlier_causal, static_cast<double>(p - 1 - longer)});
  }
  out.push_back({base, c.w.causal, 1});
  return out;
}

// The combine of cp partials on one device: each partial row is rescaled by exp(lse_i - lse) and
// accumulated (2 dv + 2 FP32 operations, one exponential), reading the fp32 partials and writing
// O once.
Block combine(const Context& c) {
  const models::HeadConfig& h = c.spec.heads;
  const double rows = static_cast<double>(c.w.batch * h.heads * c.w.q_len);
  const double dv = static_cast<double>(h.v_head_dim);
  const double partials = rows * static_cast<double>(c.layout.cp);
  models::Op op = models::elementwise_op("cp_decode_combine", models::Pass::forward, partials,
                                         kPartialBytes * (dv + 1), 1, 2 * dv + 2);
  op.bytes.o = rows * dv * models::bytes_per_element(c.w.dtype);
  Block b;
  b.cost.ops.push_back(op);
  b.prediction = predict(c.engine, b.cost, c.w, c.profile, c.kernel);
  return b;
}

}  // namespace

void sharded_decode(const Context& c, DeviceCost& d, DeviceCost& cluster) {
  double busiest_s = -1;
  Block busiest;
  for (const Shard& s : shards(c)) {
    models::Workload part = c.w;
    part.kv_len = s.tokens;
    part.causal = s.causal;
    const Block b = run(c, c.spec, part);
    add_compute(cluster, b, s.devices * c.layout.tp);
    cluster.kv_cache_bytes += s.devices * c.layout.tp * b.cost.kv_cache_bytes;
    if (b.prediction.time_s > busiest_s) busiest_s = b.prediction.time_s, busiest = b;
  }
  add_compute(d, busiest, 1);
  d.kv_cache_bytes = busiest.cost.kv_cache_bytes;

  const Block merge = combine(c);
  add_compute(d, merge, 1);
  add_compute(cluster, merge, c.layout.devices());
  const models::HeadConfig& h = c.spec.heads;
  const double gathered = static_cast<double>(c.layout.cp * c.w.batch * h.heads * c.w.q_len) *
                          static_cast<double>(h.v_head_dim + 1) * kPartialBytes;
  add_comm(d, hierarchical_all_gather(gathered, c.place.cp_group()), 1);
  d.exposed_comm_s = d.comm_s;  // the combine waits for every partial
  cluster.scale_up_bytes = c.layout.devices() * d.scale_up_bytes;
  cluster.scale_out_bytes = c.layout.devices() * d.scale_out_bytes;
}

}  // namespace sim::parallel_detail
