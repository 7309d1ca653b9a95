// The context-parallel strategies, one layer each (sim/parallel.cpp multiplies by the layers).
// Formulas: variants.md family G, which cites the papers named at each function.
#include <algorithm>
#include <optional>
#include <utility>

#include "models/projections.hpp"
#include "sim/parallel_internal.hpp"

namespace sim::parallel_detail {

namespace {

double as_double(std::int64_t v) {
  return static_cast<double>(v);
}

}  // namespace

// One step of a ring over the CP group: every rank waits for the slowest hop. Over several nodes
// the hops that leave a node run on the network, and when a node holds more than one rank of the
// ring the others run on one scale-up peer link, which can be the slower (an HCCS mesh link).
// The bytes are those of a rank whose hop leaves its node (the last rank, the busiest).
CommCost ring_hop(double bytes, const Placement& p) {
  const CommCost inside = send_recv(bytes, p.up_peer(), LinkClass::scale_up);
  if (p.nodes == 1) return inside;
  CommCost across = send_recv(bytes, p.out, LinkClass::scale_out);
  if (p.cp_per_node() > 1) across.time_s = std::max(across.time_s, inside.time_s);
  return across;
}

double devices(const Context& c) {
  return static_cast<double>(c.layout.devices());
}

Block run(const Context& c, const models::AttentionSpec& spec, const models::Workload& w) {
  Block b;
  b.cost = spec.variant->cost(spec, w);
  b.prediction = predict(c.engine, b.cost, w, c.profile, c.kernel);
  return b;
}

double kv_block_bytes_per_token(const Block& b) {
  for (const models::CostModel& form : b.cost.alternatives) {
    if (form.form == b.prediction.form) return form.kv_block_bytes_per_token_per_layer();
  }
  return b.cost.kv_block_bytes_per_token_per_layer();
}

void add_compute(DeviceCost& d, const Block& b, double count) {
  d.flops.tensor += count * b.prediction.flops.tensor;
  d.flops.vector += count * b.prediction.flops.vector;
  d.flops.exp += count * b.prediction.flops.exp;
  d.hbm_bytes += count * b.prediction.bytes.total();
  d.compute_s += count * b.prediction.time_s;
}

void add_comm(DeviceCost& d, const CommCost& c, double times) {
  d.scale_up_bytes += times * c.scale_up_bytes;
  d.scale_out_bytes += times * c.scale_out_bytes;
  d.comm_s += times * c.time_s;
}

double pass_factor(models::Phase p, double backward_factor) {
  return (models::has_forward(p) ? 1.0 : 0.0) + (models::has_backward(p) ? backward_factor : 0.0);
}

namespace {

// The ring's K/V hops: `block_bytes` a hop (twice in the backward), cp - 1 of them on every rank,
// each hidden behind `step_s` of that rank's compute where it can be.
// `block_bytes`: the K/V each hop passes; `cache_bytes`: the K/V cache a rank holds.
void ring_comm(const Context& c, double block_bytes, double cache_bytes, double first_step_s,
               double later_step_s, DeviceCost& d, DeviceCost& cluster) {
  const int p = c.layout.cp;
  const CommCost hop = ring_hop(block_bytes * pass_factor(c.w.phase, 2), c.place);
  add_comm(d, hop, p - 1);
  d.exposed_comm_s += std::max(0.0, hop.time_s - first_step_s);
  d.exposed_comm_s += (p - 2) * std::max(0.0, hop.time_s - later_step_s);
  // Every rank sends cp - 1 blocks; `nodes` ranks of each ring send theirs across nodes.
  const double rings = c.layout.tp;
  const double out_ranks = c.place.nodes > 1 ? c.place.nodes : 0;
  const double sent = (p - 1) * hop.bytes();
  cluster.scale_out_bytes += rings * out_ranks * sent;
  cluster.scale_up_bytes += rings * (p - out_ranks) * sent;
  d.kv_cache_bytes = cache_bytes;
  cluster.kv_cache_bytes = devices(c) * cache_bytes;
}

// `cost` without its work over every key it reads (models::Op::per_key), in every form.
models::CostModel without_per_key_work(models::CostModel cost) {
  const auto drop = [](models::CostModel& form) {
    decltype(form.ops) kept;
    for (const models::Op& op : form.ops) {
      if (!op.per_key) kept.push_back(op);
    }
    form.ops = kept;
  };
  drop(cost);
  for (models::CostModel& form : cost.alternatives) drop(form);
  return cost;
}

// Each rank's query chunks run once against the keys they see: a causal chunk against its prefix
// (its queries the last of those keys, so the variant's mask decides which of the blocks it uses:
// a window of w touches the last w keys), a non-causal chunk against every key. Zig-zag and the
// balanced all-gather give rank r chunks r and 2cp-1-r of 2cp (`paired`), a plain ring chunk r of
// cp. A paired rank's earlier chunk reads a prefix of its later chunk's keys, so work over every
// key (MLA's decompression of the cached latents) is done once, by the later chunk's run.
// Every rank's runs go into `cluster` (once per TP rank); the busiest rank's are returned.
struct ChunkRuns {
  DeviceCost busiest;
  double kv_per_token = 0;  // K/V cache bytes per token and layer (from the last chunk's run)
};
ChunkRuns chunk_runs(const Context& c, bool paired, DeviceCost& cluster) {
  const int p = c.layout.cp;
  const std::int64_t chunk = c.w.q_len / (paired ? 2 * p : p);
  const std::int64_t last = (paired ? 2 * p : p) - 1;
  std::optional<Block> whole_keys;  // a non-causal chunk's run is the same on every rank
  auto run_chunk = [&](std::int64_t index, bool keys_read_again) {
    if (!c.w.causal && whole_keys) return *whole_keys;
    models::Workload w = c.w;
    w.q_len = chunk;
    w.kv_len = c.w.causal ? (index + 1) * chunk : c.w.kv_len;
    Block b;
    b.cost = c.spec.variant->cost(c.spec, w);
    if (keys_read_again) b.cost = without_per_key_work(std::move(b.cost));
    b.prediction = predict(c.engine, b.cost, w, c.profile, c.kernel);
    if (!c.w.causal) whole_keys = b;
    return b;
  };
  ChunkRuns out;
  const double per_rank = devices(c) / p;  // the TP ranks (and the copies) of each CP rank
  for (int r = 0; r < p; ++r) {
    DeviceCost rank;
    const std::int64_t chunks[] = {r, 2 * p - 1 - r};  // zig-zag's pair; a plain ring's first
    for (int k = 0; k < (paired ? 2 : 1); ++k) {
      const Block b = run_chunk(chunks[k], paired && k == 0);
      add_compute(rank, b, 1);
      add_compute(cluster, b, per_rank);
      if (chunks[k] == last) out.kv_per_token = b.cost.kv_cache_bytes_per_token_per_layer;
    }
    if (rank.compute_s >= out.busiest.compute_s) out.busiest = rank;
  }
  return out;
}

void take_compute(DeviceCost& d, const DeviceCost& rank) {
  d.flops = rank.flops;
  d.hbm_bytes = rank.hbm_bytes;
  d.compute_s = rank.compute_s;
}

// A ring over a variant whose (query chunk x key chunk) block is not a block of its pattern
// (models::SequenceSplit::query_chunks: a window, a selection among earlier blocks, a fixed number
// of keys per query): each rank's chunks run once (chunk_runs). The ring still passes every block,
// each hop hidden behind an even share of the rank's compute; the busiest rank sets the time.
void ring_chunks(const Context& c, DeviceCost& d, DeviceCost& cluster) {
  const int p = c.layout.cp;
  const bool paired = c.layout.strategy == CpStrategy::zigzag && c.w.causal;
  const ChunkRuns runs = chunk_runs(c, paired, cluster);
  take_compute(d, runs.busiest);
  const double block = runs.kv_per_token * as_double(c.w.q_len / p) * as_double(c.w.batch);
  const double step_s = runs.busiest.compute_s / p;
  ring_comm(c, block, block, step_s, step_s, d, cluster);
}

// A ring step's merge of its block's output into the rank's running output (forward): every row
// is rescaled by its two log-sum-exps and summed, one fused elementwise pass that reads the fp32
// running output and the block's output (activation dtype) and writes the running output back
// (3 FP32 operations per value, 2 exponentials per row), as ring-flash-attention's
// update_out_and_lse and MindSpeed's npu_ring_attention_update do. Not priced: a torch-eager
// merge's extra passes, and the backward's dQ/dK/dV accumulations.
Block ring_merge(const Context& c, double rows) {
  const double dv = as_double(c.spec.heads.v_head_dim);
  const double heads = as_double(c.spec.heads.heads);
  const double values = as_double(c.w.batch) * heads * rows * dv;
  models::Op op = models::elementwise_op("ring_merge_fwd", models::Pass::forward, values,
                                         2 * 4 + models::bytes_per_element(c.w.dtype), 2 / dv, 3);
  Block b;
  b.cost.ops.push_back(op);
  b.prediction = predict(c.engine, b.cost, c.w, c.profile, c.kernel);
  return b;
}

}  // namespace

// Ring attention (Liu et al., arXiv:2310.01889; RSA, arXiv:2105.13120): each device keeps its
// L/cp queries and passes K/V blocks around the ring, cp - 1 transfers, each overlapped with the
// compute of the block before it. Causal without balancing: the last rank computes its diagonal
// block and then a full block at every step (the others skip masked blocks and wait). Zig-zag
// (Brandon et al., Striped/zig-zag, as in Megatron-LM context parallelism): each rank holds
// chunks i and 2cp-1-i, so every later step is half a block on every rank. The backward passes
// K/V again and sends dK/dV back: twice the forward's bytes.
void ring(const Context& c, DeviceCost& d, DeviceCost& cluster) {
  if (c.spec.variant->sequence_split(c.w.phase) == models::SequenceSplit::query_chunks) {
    ring_chunks(c, d, cluster);
    return;
  }
  const int p = c.layout.cp;
  const std::int64_t b = c.w.q_len / p;
  models::Workload diagonal = c.w;
  diagonal.q_len = diagonal.kv_len = b;
  models::Workload full_w = diagonal;
  full_w.causal = false;
  const Block full = run(c, c.spec, full_w);
  const bool zigzag = c.layout.strategy == CpStrategy::zigzag && c.w.causal;
  const Block first = c.w.causal ? run(c, c.spec, diagonal) : full;
  Block later = full;
  if (zigzag) {
    models::Workload half = full_w;
    half.kv_len = b / 2;
    later = run(c, c.spec, half);
  }
  add_compute(d, first, 1);
  add_compute(d, later, p - 1);
  const double n = devices(c);
  add_compute(cluster, first, n);
  // Plain causal ring: rank r computes r full blocks, cp (cp - 1) / 2 over the ring.
  const double later_blocks = c.w.causal && !zigzag ? (p - 1) / 2.0 : (p - 1);
  add_compute(cluster, later, n * later_blocks);
  // Every later block's output is merged into the running one (the forward's). Zig-zag rank r
  // merges its b rows at its first r later steps and only its second chunk's b/2 rows at the
  // other p - 1 - r (ring-flash-attention's zigzag forward): 3/4 (p - 1) merges of b rows a rank
  // on the mean, all p - 1 whole on the last rank, the busiest.
  if (models::has_forward(c.w.phase)) {
    const Block merge = ring_merge(c, as_double(b));
    add_compute(d, merge, p - 1);
    add_compute(cluster, merge, n * (zigzag ? 0.75 * (p - 1) : later_blocks));
  }

  // The blocks passed are the K/V the later blocks' attention reads (MLA's non-absorbed form: its
  // decompressed K/V, as Megatron-LM's megatron/core/transformer/multi_latent_attention.py
  // up-projects them, linear_kv_up_proj, before its context-parallel core attention); the
  // cache held is the variant's own.
  const double tokens = as_double(b) * as_double(c.w.batch);
  ring_comm(c, kv_block_bytes_per_token(later) * tokens,
            full.cost.kv_cache_bytes_per_token_per_layer * tokens, first.prediction.time_s,
            later.prediction.time_s, d, cluster);
}

// DeepSpeed-Ulysses (Jacobs et al., arXiv:2309.14509): an all-to-all turns L/cp tokens of every
// head into L tokens of heads/cp before attention, another brings O back; the backward moves the
// gradients the same way. Nothing overlaps it.
HeadShard ulysses(const Context& c, DeviceCost& d, DeviceCost& cluster) {
  const int p = c.layout.cp;
  HeadShard shard = split_heads(c.spec, p, "--cp (ulysses splits heads)");
  shard.kv_copies = kv_copies(shard, c.spec, p, c.w);
  shard.replicated = shard.replicated || shard.kv_copies >= 2;  // replicates_kv, from the copies
  const Block b = run(c, shard.spec, c.w);
  add_compute(d, b, 1);
  add_compute(cluster, b, devices(c));
  const models::HeadConfig& h = c.spec.heads;  // before the all-to-all: the TP shard
  const double act = models::bytes_per_element(c.w.dtype);
  // Each rank sends every other rank 1/p of its chunk's Q (and takes 1/p of O back), and the K/V
  // of its chunk that the receiver's heads read: the receiver's shard of K/V (p of them make the
  // whole K/V; with fewer KV heads than p each is replicated, so p shards are more than the whole:
  // MQA sends its one KV head whole to every rank).
  const double kv_per_token = as_double(p) * kv_block_bytes_per_token(b);
  const double per_token =
      as_double(h.heads) * as_double(h.head_dim + h.v_head_dim) * act + kv_per_token;
  const double held = per_token * as_double(c.w.q_len / p) * as_double(c.w.batch);
  const CommCost a2a = hierarchical_all_to_all(held, c.place.cp_group());
  add_comm(d, a2a, pass_factor(c.w.phase, 1));
  d.exposed_comm_s = d.comm_s;
  cluster.scale_up_bytes += devices(c) * d.scale_up_bytes;
  cluster.scale_out_bytes += devices(c) * d.scale_out_bytes;
  d.kv_cache_bytes =
      b.cost.kv_cache_bytes_per_token_per_layer * as_double(c.w.q_len) * as_double(c.w.batch);
  cluster.kv_cache_bytes = devices(c) * d.kv_cache_bytes;
  return shard;
}

// All-gather context parallelism (Llama 3, arXiv:2407.21783 section 3.3.2): K/V are all-gathered
// before attention and each rank's queries run once against the keys they see (chunk_runs);
// causal work is balanced by giving rank i chunks i and 2cp-1-i of 2cp, but a window or a
// selection can still load one rank more, so every rank is priced and the busiest sets the time.
// The backward all-gathers K/V again and reduce-scatters dK/dV. Not overlapped.
void all_gather_cp(const Context& c, DeviceCost& d, DeviceCost& cluster) {
  const int p = c.layout.cp;
  const ChunkRuns runs = chunk_runs(c, c.w.causal, cluster);
  take_compute(d, runs.busiest);
  const double whole = runs.kv_per_token * as_double(c.w.q_len) * as_double(c.w.batch);
  add_comm(d, hierarchical_all_gather(whole, c.place.cp_group()), pass_factor(c.w.phase, 2));
  d.exposed_comm_s = d.comm_s;
  d.kv_cache_bytes = whole / p;
  const double n = devices(c);
  cluster.scale_up_bytes = n * d.scale_up_bytes;
  cluster.scale_out_bytes = n * d.scale_out_bytes;
  cluster.kv_cache_bytes = n * d.kv_cache_bytes;
}

}  // namespace sim::parallel_detail
