#include "sim/parallel.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/parallel_internal.hpp"

namespace sim {

namespace pd = parallel_detail;

namespace {

pd::Placement place_layout(const ParallelLayout& l, const hw::Profile& profile) {
  if (l.tp < 1 || l.cp < 1 || l.nodes < 1) {
    throw common::SpecError(
        fmt::format("--tp, --cp and --nodes must be >= 1, got {}, {}, {}", l.tp, l.cp, l.nodes));
  }
  pd::Placement p;
  p.tp = l.tp;
  p.nodes = l.nodes;
  if (l.devices() % l.nodes != 0 || l.cp % l.nodes != 0) {
    throw common::SpecError(fmt::format(
        "--nodes {}: the layout's {} CP rank{} (tp {} x cp {} = {} device{}) must split evenly "
        "over the nodes, each TP group inside one node (cp must be a multiple of nodes)",
        l.nodes, l.cp, l.cp == 1 ? "" : "s", l.tp, l.cp, l.devices(), l.devices() == 1 ? "" : "s"));
  }
  p.per_node = l.devices() / l.nodes;
  if (l.devices() == 1) return p;
  if (!profile.links) {
    throw common::SpecError(fmt::format(
        "profile '{}' has no 'links' object, so a layout over {} devices cannot be priced; add "
        "one to the profile or give the whole object with --hw-set 'links={{\"scale_up\": "
        "{{...}}}}' "
        "(fields: hwprofiles/SCHEMA.md)",
        profile.id, l.devices()));
  }
  const hw::ScaleUpLink& up = profile.links->scale_up;
  if (l.tp > up.devices_per_node) {
    throw common::SpecError(fmt::format(
        "--tp {}: a TP group stays inside one node, and one '{}' node has {} devices "
        "(links.scale_up.devices_per_node); tp may be at most {} (spread further devices with --cp "
        "and --nodes)",
        l.tp, profile.id, up.devices_per_node, up.devices_per_node));
  }
  if (p.per_node > up.devices_per_node) {
    throw common::SpecError(fmt::format(
        "{} devices per node (tp {} x cp {} over {} node(s)) exceed the {} devices of one '{}' "
        "node (links.scale_up.devices_per_node); raise --nodes",
        p.per_node, l.tp, l.cp, l.nodes, up.devices_per_node, profile.id));
  }
  p.up = up;
  if (l.nodes > 1) {
    if (!profile.links->scale_out) {
      throw common::SpecError(
          fmt::format("--nodes {}: profile '{}' has no links.scale_out (network between nodes)",
                      l.nodes, profile.id));
    }
    p.out = {profile.links->scale_out->bandwidth_Bps_per_dir, profile.links->scale_out->latency_s};
  }
  return p;
}

bool is_linear(const models::CostModel& cost) {
  return cost.state_bytes > 0 && cost.kv_cache_bytes == 0;
}

// Decode shards the KV cache: ring and all-gather CP both reduce to partial attention plus a
// combine (sim/parallel_decode.cpp); the others need a sequence of new tokens to split.
// Whether the layout's strategy applies to this variant and phase at all, whatever cp is: decode
// shards the cache (ring or all-gather); lasp2 and zeco pass a recurrent state, the others K/V
// blocks; ring, zig-zag and all-gather cut the sequence into chunks.
void check_strategy(const pd::Context& c, const models::CostModel& cost) {
  const ParallelLayout& l = c.layout;
  const CpStrategy s = l.strategy;
  if (c.w.phase == models::Phase::decode) {
    // A recurrent state is not split for decode (check_cp refuses that at cp > 1); its layers'
    // strategy (--cp-state-strategy) is then moot, not wrong.
    if (is_linear(cost)) return;
    if (s != CpStrategy::ring && s != CpStrategy::allgather) {
      throw common::SpecError(fmt::format(
          "--cp-strategy {} does not apply to decode (q_len {} new tokens against kv_len {}): "
          "decode shards the KV cache over the cp devices and combines partial outputs; use ring "
          "or allgather (both are priced that way)",
          to_string(s), c.w.q_len, c.w.kv_len));
    }
    return;
  }
  const bool linear_strategy = s == CpStrategy::lasp2 || s == CpStrategy::zeco;
  if (linear_strategy != is_linear(cost)) {
    throw common::SpecError(
        fmt::format("--cp-strategy {} {} variant '{}' {}", to_string(s),
                    linear_strategy ? "is for linear attention (a fixed state, no KV cache);"
                                    : "passes K/V blocks, but",
                    c.spec.variant->name(),
                    linear_strategy ? "has a KV cache: use ring, zigzag, ulysses, allgather or cad"
                                    : "keeps a recurrent state: use lasp2 or zeco (in a hybrid "
                                      "model, --cp-state-strategy lasp2 or zeco for its state "
                                      "layers)"));
  }
  // Ring, zig-zag and all-gather give each rank chunks of the sequence; a pattern sized by the
  // whole sequence (groups, frames, clusters, spans) has no share a chunk can run on its own.
  const bool chunks_sequence =
      s == CpStrategy::ring || s == CpStrategy::zigzag || s == CpStrategy::allgather;
  if (chunks_sequence &&
      c.spec.variant->sequence_split(c.w.phase) == models::SequenceSplit::heads_only) {
    throw common::SpecError(fmt::format(
        "--cp {} --cp-strategy {}: variant '{}' ({}) cannot be cut into (query chunk x key chunk) "
        "blocks: its pattern is sized by the whole sequence, which one rank's chunk does not see; "
        "use --cp-strategy ulysses (splits heads over the whole sequence)",
        l.cp, to_string(s), c.spec.variant->name(), models::to_string(c.w.phase)));
  }
}

// Whether the workload splits over the layout's cp devices.
void check_cp(const pd::Context& c, const models::CostModel& cost) {
  const ParallelLayout& l = c.layout;
  const models::Workload& w = c.w;
  if (w.phase == models::Phase::decode && is_linear(cost)) {
    throw common::SpecError(fmt::format(
        "--cp {} with decode: variant '{}' keeps a fixed recurrent state, not a KV cache to "
        "shard; decode it on one device (or split heads with --tp)",
        l.cp, c.spec.variant->name()));
  }
  check_strategy(c, cost);
  if (w.phase == models::Phase::decode) return;
  if (w.q_len != w.kv_len) {
    throw common::SpecError(fmt::format(
        "--cp {}: context parallelism splits one sequence (q_len = kv_len, phase prefill, fwd, "
        "bwd or train) or, for decode, the KV cache; got q_len {} and kv_len {}",
        l.cp, w.q_len, w.kv_len));
  }
  // Zig-zag and the balanced all-gather give each rank two of 2 cp causal chunks; cad cuts
  // token-level tasks of its own.
  const bool two_chunks =
      w.causal && (l.strategy == CpStrategy::zigzag || l.strategy == CpStrategy::allgather);
  const std::int64_t chunks = two_chunks ? 2 * l.cp : l.cp;
  if (l.strategy == CpStrategy::cad && w.q_len < l.cp) {
    throw common::SpecError(fmt::format(
        "--cp {} --cp-strategy cad: the sequence of {} tokens gives some of the {} devices no "
        "token to own; give at most --cp {}",
        l.cp, w.q_len, l.cp, w.q_len));
  }
  if (l.strategy != CpStrategy::cad && w.q_len % chunks != 0) {
    throw common::SpecError(fmt::format(
        "--cp {} --cp-strategy {}: the sequence of {} tokens does not split into {} equal chunks",
        l.cp, to_string(l.strategy), w.q_len, chunks));
  }
}

// Megatron's row-parallel output projection all-reduces B x tokens x D activations over the TP
// group once per forward and once per backward (variants.md G0). On an HCCS full mesh the tp
// devices reach each other over tp - 1 direct links only (Placement::up_group).
void tp_all_reduce(const pd::Context& c, double tokens, DeviceCost& d) {
  if (c.layout.tp == 1) return;
  const double payload = static_cast<double>(c.w.batch) * tokens *
                         static_cast<double>(c.spec.projections.hidden_size) *
                         models::bytes_per_element(c.w.dtype);
  const CommCost ar =
      ring_all_reduce(payload, c.layout.tp, c.place.up_group(c.layout.tp), LinkClass::scale_up);
  const double passes = pd::pass_factor(c.w.phase, 1);
  d.scale_up_bytes += passes * ar.scale_up_bytes;
  d.comm_s += passes * ar.time_s;
  d.exposed_comm_s += passes * ar.time_s;
}

// Projections under CP are sequence-parallel: each device projects its own L/cp tokens (decode:
// every device projects the q_len new tokens, replicated, since each needs all their queries).
// Their cost is the local run with projections less the run without.
void cp_projections(const pd::Context& c, const models::AttentionSpec& with, DeviceCost& d,
                    DeviceCost& cluster) {
  const bool decode = c.w.phase == models::Phase::decode;
  models::Workload local = c.w;
  if (!decode) local.q_len = local.kv_len = (c.w.q_len + c.layout.cp - 1) / c.layout.cp;
  pd::Block proj = pd::run(c, with, local);
  const Prediction& core = pd::run(c, c.spec, local).prediction;
  Prediction& p = proj.prediction;
  p.time_s -= core.time_s;
  p.flops.tensor -= core.flops.tensor;
  p.flops.vector -= core.flops.vector;
  p.flops.exp -= core.flops.exp;
  models::HbmBytes extra;
  extra.weights = p.bytes.weights - core.bytes.weights;
  extra.activations = p.bytes.activations - core.bytes.activations;
  p.bytes = extra;
  pd::add_compute(d, proj, 1);
  // Cluster: the projections of every token once per TP rank (decode: once per device).
  const double share =
      decode ? c.layout.devices()
             : c.layout.tp * static_cast<double>(c.w.q_len) / static_cast<double>(local.q_len);
  pd::add_compute(cluster, proj, share);
  const double before = d.scale_up_bytes;
  tp_all_reduce(c, static_cast<double>(local.q_len), d);
  cluster.scale_up_bytes += c.layout.devices() * (d.scale_up_bytes - before);
}

// TP only: every device runs its head shard over the whole sequence; the row-parallel output
// projection all-reduces B x q_len x D activations once per forward and once per backward
// (Megatron; variants.md G0), when projections are counted.
void tensor_parallel(const pd::Context& c, DeviceCost& d) {
  const pd::Block b = pd::run(c, c.spec, c.w);
  pd::add_compute(d, b, 1);
  d.kv_cache_bytes = b.cost.kv_cache_bytes;
  d.state_bytes = b.cost.state_bytes;
  // All layers at once here: the all-reduce runs once per layer.
  if (c.spec.projections.include) {
    DeviceCost one_layer;
    tp_all_reduce(c, static_cast<double>(c.w.q_len), one_layer);
    const double layers = static_cast<double>(c.w.layers);
    d.scale_up_bytes += layers * one_layer.scale_up_bytes;
    d.comm_s += layers * one_layer.comm_s;
    d.exposed_comm_s += layers * one_layer.exposed_comm_s;
  }
}

DeviceCost scaled(DeviceCost d, double n, bool times_too) {
  d.flops.tensor *= n, d.flops.vector *= n, d.flops.exp *= n;
  d.hbm_bytes *= n, d.kv_cache_bytes *= n, d.state_bytes *= n;
  d.scale_up_bytes *= n, d.scale_out_bytes *= n;
  if (times_too) d.compute_s *= n, d.comm_s *= n, d.exposed_comm_s *= n;
  d.total_s = d.compute_s + d.exposed_comm_s;
  return d;
}

// What a device keeps of one layer after the pass: of the KV cache, at most what one device would
// keep of this layer (its TP shard; a window or a budget keeps no more keys for being split), and
// of the cluster, that once per TP rank and copy: a strategy reports the K/V of the chunk a device
// owns, which for a windowed or budgeted layer overstates it. `copies`: the CP ranks that hold
// each KV value (Ulysses beyond the KV head count replicates them, as TP does, and both count
// every copy). A recurrent state (linear attention) is not split by CP: every device keeps its
// heads' state (a linear strategy reports it as what the device holds, so it leaves the KV cache
// here).
void hold_at_most_one_device(const pd::Context& c, double copies, DeviceCost& d,
                             DeviceCost& cluster) {
  const models::CostModel one = c.spec.variant->cost(c.spec, c.w);
  d.kv_cache_bytes = std::min(d.kv_cache_bytes, one.kv_cache_bytes);
  cluster.kv_cache_bytes =
      std::min(cluster.kv_cache_bytes, c.layout.tp * copies * one.kv_cache_bytes);
  d.state_bytes = one.state_bytes;
  cluster.state_bytes = c.layout.devices() * one.state_bytes;
}

// One layer of a CP layout (c.w: the whole workload), then times the layers.
void context_parallel(const pd::Context& whole, ParallelPrediction& out) {
  models::Workload one = whole.w;
  one.layers = 1;
  models::AttentionSpec core = whole.spec;  // projections are priced apart (cp_projections)
  core.projections.include = false;
  const pd::Context c{whole.engine, whole.profile, whole.kernel, whole.layout,
                      whole.place,  core,          one};
  check_cp(c, core.variant->cost(core, one));
  DeviceCost& d = out.per_device;
  DeviceCost& cluster = out.cluster;
  double kv_copies = 1;
  if (one.phase == models::Phase::decode) {
    pd::sharded_decode(c, d, cluster);
  } else {
    switch (c.layout.strategy) {
      case CpStrategy::ring:
      case CpStrategy::zigzag:
        pd::ring(c, d, cluster);
        break;
      case CpStrategy::ulysses: {
        const pd::HeadShard heads = pd::ulysses(c, d, cluster);
        out.device_heads = heads.spec.heads;
        out.kv_heads_replicated = out.kv_heads_replicated || heads.replicated;
        kv_copies = heads.kv_copies;
      } break;
      case CpStrategy::allgather:
        pd::all_gather_cp(c, d, cluster);
        break;
      case CpStrategy::lasp2:
      case CpStrategy::zeco:
        pd::linear_sp(c, d, cluster);
        break;
      case CpStrategy::cad:
        out.pool = pd::cad(c, d, cluster);
        break;
    }
  }
  hold_at_most_one_device(c, kv_copies, d, cluster);
  if (whole.spec.projections.include) cp_projections(c, whole.spec, d, cluster);
  const double layers = static_cast<double>(whole.w.layers);
  d = scaled(d, layers, true);
  cluster = scaled(cluster, layers, false);
  if (out.pool) out.pool->dispatch_bytes *= layers, out.pool->return_bytes *= layers;
}

}  // namespace

ParallelPrediction predict_parallel(EngineKind engine, const models::AttentionSpec& spec,
                                    const models::Workload& asked, const hw::Profile& profile,
                                    std::string_view kernel, const ParallelLayout& given,
                                    hw::Caller caller) {
  // A non-causal-only variant ignores the causal flag; the layouts read it (a causal ring runs
  // each rank's prefix), so they take the flag as the variant prices it.
  models::Workload w = asked;
  w.causal = models::effective_causal(*spec.variant, asked);
  // A state-keeping variant (a hybrid model's linear layers) takes the layout's state strategy.
  ParallelLayout layout = given;
  if (given.state_strategy && is_linear(spec.variant->cost(spec, w))) {
    layout.strategy = *given.state_strategy;
  }
  ParallelPrediction out;
  out.layout = given;  // as asked: both strategies, whichever this variant took
  const pd::Placement place = place_layout(layout, profile);
  out.devices_per_node = place.per_node;
  const pd::HeadShard shard = pd::split_heads(spec, layout.tp, "--tp");
  out.device_heads = shard.spec.heads;
  out.kv_heads_replicated = pd::replicates_kv(shard, spec, layout.tp, w);
  DeviceCost& d = out.per_device;
  DeviceCost& cluster = out.cluster;
  if (layout.cp == 1) {
    // The whole workload, all layers at once: TP = 1 is the single-device prediction itself.
    const pd::Context c{engine, profile, kernel, layout, place, shard.spec, w};
    // A strategy the user named must apply to the variant even where it moves nothing, so that
    // a sweep's cp 1 row does not carry a strategy its cp 2 row refuses.
    if (layout.strategy_given) check_strategy(c, shard.spec.variant->cost(shard.spec, w));
    tensor_parallel(c, d);
    cluster = scaled(d, layout.tp, false);
  } else {
    context_parallel(pd::Context{engine, profile, kernel, layout, place, shard.spec, w}, out);
  }
  const double mean = cluster.flops.total() / layout.devices();
  out.balance = mean > 0 ? d.flops.total() / mean : 1;
  // The host floor, as apply_caller_floor sets it for one device: every device makes the whole
  // workload's calls (one per layer and pass) and takes at least that many floors (or adds them,
  // for a caller whose host work runs in turn with the device).
  const models::CostModel shard_cost = shard.spec.variant->cost(shard.spec, w);
  // A per-launch caller counts the launches one device runs for the whole workload, as the
  // single-device prediction does (sim::host_units).
  const Prediction launches = hw::caller_per_launch(caller)
                                  ? predict(engine, shard_cost, w, profile, kernel)
                                  : Prediction{};
  d.caller_floor_s = caller_host_s(launches, shard_cost, profile, caller);
  const bool in_turn = profile.caller_in_turn(caller);
  d.total_s = call_time_s(d.compute_s + d.exposed_comm_s, d.caller_floor_s, in_turn);
  if (hw::caller_per_launch(caller) && !in_turn) {
    d.total_s += host_wait_excess_s(launches, host_cost(profile, caller));
  }
  cluster.compute_s = d.compute_s;
  cluster.caller_floor_s = d.caller_floor_s;
  cluster.comm_s = d.comm_s;
  cluster.exposed_comm_s = d.exposed_comm_s;
  cluster.total_s = d.total_s;
  return out;
}

}  // namespace sim
