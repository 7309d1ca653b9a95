// Core attention disaggregation priced on one layer (Zhuang et al., arXiv:2510.18121, DistCA).
//
// Model, and the assumptions it makes:
// - In place, as DistCA runs it: the cp devices of a CP group both own the tokens (L/cp each, for
//   the rest of the model) and serve as the attention servers; `--cp N` is the pool size.
// - Tasks and placement: sim/cad_schedule.hpp (128-token query shards, longest first onto the
//   least-loaded server). DistCA's scheduler also weighs communication; this one balances FLOPs
//   only, so it is an upper bound on the bytes.
// - A server runs its tasks as one fused variable-length batch; the paper's composability
//   observation (kernels keep their efficiency on such batches) lets its time be the
//   single-device time of the whole layer times its share of the scored pairs.
// - Dispatch: a server receives Q of its query tokens and K/V of every key its tasks see (once
//   per document) and returns O and the fp32 log-sum-exp; the backward receives Q, K, V, O, dO
//   and the LSE again (the servers keep nothing between passes) and returns dQ, dK and dV. Tokens
//   live on all cp devices alike, so (cp-1)/cp of it crosses a link, priced as an all-to-all.
// - Overlap: DistCA's ping-pong runs two nano-batches so that one's transfers hide behind the
//   other's compute; in steady state over the layers only max(0, comm - compute) per layer is
//   exposed (the pipeline's one-time fill is not counted).
#include <algorithm>
#include <cmath>

#include "sim/cad_schedule.hpp"
#include "sim/parallel_internal.hpp"

namespace sim::parallel_detail {

namespace {

// FlashAttention keeps the softmax log-sum-exp in fp32 (4 bytes per row and head).
constexpr double kLseBytes = 4;

struct Traffic {
  double in = 0;   // bytes a server receives, one layer
  double out = 0;  // bytes it sends back
};

Traffic server_traffic(const Context& c, const CadServer& s, double kv_bytes_per_token) {
  const models::HeadConfig& h = c.spec.heads;
  const double act = models::bytes_per_element(c.w.dtype);
  const double rows = s.q_tokens * static_cast<double>(h.heads);
  const double d = static_cast<double>(h.head_dim), dv = static_cast<double>(h.v_head_dim);
  const double kv = s.kv_tokens * kv_bytes_per_token;
  Traffic t;
  if (models::has_forward(c.w.phase)) {
    t.in += rows * d * act + kv;
    t.out += rows * (dv * act + kLseBytes);
  }
  if (models::has_backward(c.w.phase)) {
    t.in += rows * ((d + 2 * dv) * act + kLseBytes) + kv;
    t.out += rows * d * act + kv;
  }
  return t;
}

// The server's compulsory HBM bytes: K/V by the keys it reads, the rest by its query tokens.
double server_hbm(const models::HbmBytes& whole, const CadServer& s, double tokens) {
  const double kv = whole.k + whole.v;
  return kv * s.kv_tokens / tokens + (whole.total() - kv) * s.q_tokens / tokens;
}

}  // namespace

PoolDispatch cad(const Context& c, DeviceCost& d, DeviceCost& cluster) {
  const int p = c.layout.cp;
  const CadSchedule plan = schedule_cad(c.w.batch, c.w.q_len, c.w.causal, p);
  const Block whole = run(c, c.spec, c.w);
  const double tokens = static_cast<double>(c.w.batch) * static_cast<double>(c.w.q_len);
  const double kv_per_token = kv_block_bytes_per_token(whole);  // moved to the servers
  const double cache_per_token = whole.cost.kv_cache_bytes_per_token_per_layer;
  const Hierarchy group = c.place.cp_group();
  const double total_pairs = plan.total_pairs();
  const double tp = c.layout.tp;

  const CadServer& busiest = plan.servers[plan.busiest()];
  const double share = busiest.pairs / total_pairs;
  add_compute(d, whole, share);
  d.hbm_bytes = server_hbm(whole.prediction.bytes, busiest, tokens);
  const Traffic mine = server_traffic(c, busiest, kv_per_token);
  const CommCost in = hierarchical_all_to_all(mine.in, group);
  const CommCost out = hierarchical_all_to_all(mine.out, group);
  add_comm(d, in, 1);
  add_comm(d, out, 1);
  d.exposed_comm_s = std::max(0.0, d.comm_s - d.compute_s);
  // The tokens the fullest device owns: ceil(L / N) of each sequence, in whole tokens.
  d.kv_cache_bytes = cache_per_token * static_cast<double>(c.w.batch) *
                     std::ceil(static_cast<double>(c.w.q_len) / p);

  // Every TP rank runs its own pool over its heads: the cluster is tp pools.
  add_compute(cluster, whole, tp);
  cluster.hbm_bytes = 0;
  for (const CadServer& s : plan.servers) {
    cluster.hbm_bytes += tp * server_hbm(whole.prediction.bytes, s, tokens);
    const Traffic t = server_traffic(c, s, kv_per_token);
    add_comm(cluster, hierarchical_all_to_all(t.in, group), tp);
    add_comm(cluster, hierarchical_all_to_all(t.out, group), tp);
  }
  cluster.kv_cache_bytes = tp * cache_per_token * tokens;

  PoolDispatch pool;
  pool.shard_tokens = plan.shard_tokens;
  pool.tasks = plan.tasks;
  pool.dispatch_bytes = in.bytes();
  pool.return_bytes = out.bytes();
  return pool;
}

}  // namespace sim::parallel_detail
