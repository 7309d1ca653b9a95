// Context parallelism for decode, one layer: the KV cache is sharded over the cp devices in
// contiguous blocks (the last device holds the newest tokens), every device that holds keys the
// variant reads computes a partial attention of the q_len new tokens over them, and the partial
// outputs with their log-sum-exp are combined, as split-KV decoding combines its splits
// (Flash-Decoding, https://crfm.stanford.edu/2023/10/12/flashdecoding.html), here across devices.
// Ring attention and all-gather CP both reduce to this for decode: the K/V stay where they are and
// only the partials move, so both are priced alike.
#include <algorithm>
#include <cmath>
#include <optional>
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

// Cached tokens [begin, begin + tokens) on one device.
struct Range {
  std::int64_t begin = 0;
  std::int64_t tokens = 0;
};

// cp - 1 leading shards of ceil or floor(kv_len / cp) tokens (the longer ones first) and the last
// of floor(kv_len / cp), which must hold the q_len new tokens.
std::vector<Range> ranges(const Context& c) {
  const std::int64_t p = c.layout.cp;
  const std::int64_t base = c.w.kv_len / p;
  const std::int64_t longer = c.w.kv_len % p;  // devices with base + 1 tokens
  if (base < 1 || (c.w.causal && base < c.w.q_len)) {
    throw common::SpecError(fmt::format(
        "--cp {} with decode: the last KV shard of {} tokens ({} cached tokens over {} devices) "
        "must hold the {} new tokens; lower --cp",
        p, base, c.w.kv_len, p, std::max<std::int64_t>(c.w.q_len, 1)));
  }
  std::vector<Range> out;
  std::int64_t begin = 0;
  for (std::int64_t i = 0; i < p; ++i) {
    const std::int64_t n = base + (i < longer ? 1 : 0);
    out.push_back({begin, n});
    begin += n;
  }
  return out;
}

// A sliding window (with attention sinks) is what every attention op of the layer reads: the
// keys of [0, sinks) and of the last window + q_len - 1 positions. Empty for any other pattern.
struct Window {
  std::int64_t keys = 0;  // window + q_len - 1, at most kv_len
  std::int64_t sinks = 0;
};
std::optional<Window> window_of(const models::CostModel& whole, const models::Workload& w) {
  std::optional<Window> out;
  for (const models::Op& op : whole.ops) {
    if (op.kind == models::OpKind::selection || op.kind == models::OpKind::scan) return {};
    if (op.kind != models::OpKind::dense_attention) continue;
    const models::AttentionShape& a = op.attention;
    if (a.window <= 0 || a.visits.blocks != 0 || a.summaries.stride != 0) return {};
    const Window win{std::min(w.kv_len, a.window + w.q_len - 1), a.sinks};
    if (out && (out->keys != win.keys || out->sinks != win.sinks)) return {};
    out = win;
  }
  return out;
}

// Keys of `r` the window reads.
std::int64_t window_keys(const Range& r, const Window& win, std::int64_t kv_len) {
  const auto overlap = [&](std::int64_t a, std::int64_t b) {
    return std::max<std::int64_t>(0, std::min(b, r.begin + r.tokens) - std::max(a, r.begin));
  };
  const std::int64_t start = kv_len - win.keys;
  return overlap(0, std::min(win.sinks, start)) + overlap(start, kv_len);
}

// One device's share of the layer: `block` run `count` times (a fraction for a share in
// proportion), holding `cache` bytes of it.
struct Share {
  Block block;
  double count = 0;
  double cache = 0;
  std::int64_t kv_len = 0;  // of the run (a share in proportion: 0)
  bool causal = false;
  double time_s() const { return count * block.prediction.time_s; }
};

// What each device computes and holds, by what the variant reads of the cache:
// - every key (dense, latent, ...): the variant on its shard; the earlier shards are non-causal
//   (the new tokens stand after them), or, for a causal-only variant, priced causally;
// - a sliding window (with sinks): the window's keys fall in the last one or two shards (and the
//   sinks in the first); a device runs the variant over the keys of its shard it reads, and a
//   device holding none of them does nothing for this layer;
// - anything else (a budget, a content selection, compressed keys, a window that grows with the
//   cache as MoA's elastic spans): the kept and read keys are spread over the cache, so each
//   device does its share of the single-device layer in proportion to its tokens, and holds that
//   share of its cache.
std::vector<Share> shares(const Context& c, const std::vector<Range>& parts) {
  const Block whole = run(c, c.spec, c.w);
  const bool causal_only = c.spec.variant->causal_only();
  std::vector<Share> out;
  // Shards of one length run alike (at most three lengths): one engine run each.
  const auto run_on = [&](std::int64_t kv_len, bool causal) {
    for (const Share& s : out) {
      if (s.count > 0 && s.kv_len == kv_len && s.causal == causal) {
        return Share{s.block, 1, s.block.cost.kv_cache_bytes, kv_len, causal};
      }
    }
    models::Workload w = c.w;
    w.kv_len = kv_len;
    w.causal = causal;
    Block b = run(c, c.spec, w);
    const double cache = b.cost.kv_cache_bytes;
    return Share{std::move(b), 1, cache, kv_len, causal};
  };
  for (std::size_t i = 0; i < parts.size(); ++i) {
    const bool last = i + 1 == parts.size();
    out.push_back(run_on(parts[i].tokens, c.w.causal && (last || causal_only)));
  }
  // The shards together do the single-device layer's matrix work and hold its cache.
  const auto adds_up = [&] {
    double flops = 0, cache = 0;
    for (const Share& s : out) flops += s.count * s.block.prediction.flops.tensor, cache += s.cache;
    const auto same = [](double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(a, b); };
    return same(flops, whole.prediction.flops.tensor) && same(cache, whole.cost.kv_cache_bytes);
  };
  if (adds_up()) return out;  // every key, each in one shard
  out.clear();
  if (const std::optional<Window> win = window_of(whole.cost, c.w)) {
    for (const Range& r : parts) {
      const std::int64_t keys = window_keys(r, *win, c.w.kv_len);
      if (keys == 0) {
        out.push_back({});
        continue;
      }
      out.push_back(run_on(std::max(keys, c.w.q_len), c.w.causal));
    }
    if (adds_up()) return out;
    out.clear();  // the window depends on the keys a run sees (MoA's elastic spans)
  }
  for (const Range& r : parts) {
    const double f = static_cast<double>(r.tokens) / static_cast<double>(c.w.kv_len);
    out.push_back({whole, f, f * whole.cost.kv_cache_bytes, 0, false});
  }
  return out;
}

// The combine of `partials` partials on one device: each partial row is rescaled by
// exp(lse_i - lse) and accumulated (2 dv + 2 FP32 operations, one exponential), reading the fp32
// partials and writing O once.
Block combine(const Context& c, double partials_per_row, double dv) {
  const models::HeadConfig& h = c.spec.heads;
  const double rows = static_cast<double>(c.w.batch * h.heads * c.w.q_len);
  models::Op op =
      models::elementwise_op("cp_decode_combine", models::Pass::forward, rows * partials_per_row,
                             kPartialBytes * (dv + 1), 1, 2 * dv + 2);
  op.bytes.o = rows * dv * models::bytes_per_element(c.w.dtype);
  Block b;
  b.cost.ops.push_back(op);
  b.prediction = predict(c.engine, b.cost, c.w, c.profile, c.kernel);
  return b;
}

// The width of one head's partial output: what the attention kernel writes per row, which for
// absorbed MLA is the latent (d_c, W_UV applied after the combine), not the value head dim.
double partial_width(const Block& b, const models::HeadConfig& h) {
  for (const models::Op& op : b.cost.ops) {
    if (op.kind == models::OpKind::dense_attention && op.pass == models::Pass::forward &&
        op.attention.v_head_dim > 0) {
      return static_cast<double>(op.attention.v_head_dim);
    }
  }
  return static_cast<double>(h.v_head_dim);
}

}  // namespace

void sharded_decode(const Context& c, DeviceCost& d, DeviceCost& cluster) {
  const std::vector<Share> parts = shares(c, ranges(c));
  const double tp = c.layout.tp;
  const Share* busiest = &parts.back();
  double partials = 0;  // devices with keys to attend to
  for (const Share& s : parts) {
    if (s.count == 0) continue;
    partials += 1;
    add_compute(cluster, s.block, tp * s.count);
    cluster.kv_cache_bytes += tp * s.cache;
    d.kv_cache_bytes = std::max(d.kv_cache_bytes, s.cache);  // the fullest device's memory
    if (s.time_s() > busiest->time_s()) busiest = &s;
  }
  add_compute(d, busiest->block, busiest->count);
  const double dv = partial_width(busiest->block, c.spec.heads);
  // One partial is the output already; several are combined on every device.
  if (partials > 1) {
    const Block merge = combine(c, partials, dv);
    add_compute(d, merge, 1);
    add_compute(cluster, merge, c.layout.devices());
  }
  // Every device needs the output (its projections are replicated): the partials are
  // all-gathered over the CP group, one from each device that computed one. Around the ring each
  // partial is forwarded by every device but the one before its source: k partials over p
  // devices are k (p - 1) sends, k (p - 1) / p a device on the mean (the all-gather's own
  // figure), and the busiest device forwards min(k, p - 1) of them (a window's one partial: one
  // whole partial, not (p - 1) / p of it). The busiest sets the time.
  const models::HeadConfig& h = c.spec.heads;
  const double partial =
      static_cast<double>(c.w.batch * h.heads * c.w.q_len) * (dv + 1) * kPartialBytes;
  const double p = c.layout.cp;
  const double busiest_over_mean =
      partials > 0 ? std::min(partials, p - 1) * p / (partials * (p - 1)) : 1;
  add_comm(d, hierarchical_all_gather(partials * partial * busiest_over_mean, c.place.cp_group()),
           1);
  d.exposed_comm_s = d.comm_s;  // the combine waits for every partial
  cluster.scale_up_bytes = c.layout.devices() * d.scale_up_bytes / busiest_over_mean;
  cluster.scale_out_bytes = c.layout.devices() * d.scale_out_bytes / busiest_over_mean;
}

}  // namespace sim::parallel_detail
