#include "sim/parallel.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/parallel_internal.hpp"

namespace sim {

namespace pd = parallel_detail;

namespace {

constexpr std::array<CpStrategy, 6> kStrategies = {CpStrategy::ring,    CpStrategy::zigzag,
                                                   CpStrategy::ulysses, CpStrategy::allgather,
                                                   CpStrategy::lasp2,   CpStrategy::zeco};

// Megatron head split: heads / ways query heads per device; KV heads / ways, or one KV head per
// device (replicated) when there are fewer KV heads than devices (variants.md G0 cites Megatron-LM,
// Shoeybi et al., arXiv:1909.08053).
}  // namespace

namespace parallel_detail {

HeadShard split_heads(const models::AttentionSpec& spec, int ways, std::string_view flag) {
  if (ways == 1) return {spec, false};
  if (spec.variant->name() == "tpla") {
    throw common::SpecError(fmt::format(
        "{} {}: tpla is already priced per device (every device computes every head on its "
        "latent slice); set its tensor-parallel degree with --param shards={} instead",
        flag, ways, ways));
  }
  models::ParamValues given;
  bool has_heads = false;
  std::int64_t heads = 0;
  for (const auto& [name, value] : models::resolved_params(spec)) {
    if (name == "heads") has_heads = true, heads = static_cast<std::int64_t>(value);
    given.emplace_back(std::string(name), value);
  }
  if (!has_heads) {
    throw common::SpecError(fmt::format("{} {}: variant '{}' has no 'heads' parameter to split",
                                        flag, ways, spec.variant->name()));
  }
  if (heads % ways != 0) {
    throw common::SpecError(fmt::format(
        "{} {}: {} query heads do not split evenly over {} devices (heads must be a multiple of "
        "{})",
        flag, ways, heads, ways, ways));
  }
  HeadShard shard;
  for (auto& [name, value] : given) {
    if (name == "heads") value = static_cast<double>(heads / ways);
    if (name != "kv_heads") continue;
    const auto kv = static_cast<std::int64_t>(value);
    if (kv % ways == 0) {
      value = static_cast<double>(kv / ways);
    } else if (ways % kv == 0) {
      value = 1;
      shard.replicated = true;
    } else {
      throw common::SpecError(fmt::format(
          "{} {}: {} KV heads neither split over {} devices nor replicate evenly onto them (one "
          "of the two must divide the other)",
          flag, ways, kv, ways));
    }
  }
  models::ProjectionConfig proj = spec.projections;
  if (proj.hidden_size == 0) proj.hidden_size = spec.heads.heads * spec.heads.head_dim;
  shard.spec = spec.variant->make_spec(given, proj);
  return shard;
}

}  // namespace parallel_detail

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
        "--nodes {}: the {} CP ranks (tp {} x cp {} = {} devices) must split evenly over the "
        "nodes, each TP group inside one node (cp must be a multiple of nodes)",
        l.nodes, l.cp, l.tp, l.cp, l.devices()));
  }
  p.per_node = l.devices() / l.nodes;
  if (l.devices() == 1) return p;
  if (!profile.links) {
    throw common::SpecError(fmt::format(
        "profile '{}' has no 'links' object, so a layout over {} devices cannot be priced; add "
        "one (hwprofiles/SCHEMA.md) or set it with --hw-set links.scale_up...",
        profile.id, l.devices()));
  }
  const hw::ScaleUpLink& up = profile.links->scale_up;
  if (p.per_node > up.devices_per_node) {
    throw common::SpecError(fmt::format(
        "{} devices per node (tp {} x cp {} over {} node(s)) exceed the {} devices of one '{}' "
        "node (links.scale_up.devices_per_node); raise --nodes",
        p.per_node, l.tp, l.cp, l.nodes, up.devices_per_node, profile.id));
  }
  p.up_all = {up.bandwidth_Bps_per_dir, up.latency_s};
  p.up_peer = p.up_all;
  if (up.topology == hw::Topology::hccs_mesh && up.devices_per_node > 1) {
    p.up_peer.bandwidth_Bps = up.bandwidth_Bps_per_dir / (up.devices_per_node - 1);
  }
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

void check_cp(const pd::Context& c, const models::CostModel& cost) {
  const ParallelLayout& l = c.layout;
  const models::Workload& w = c.w;
  if (w.q_len != w.kv_len) {
    throw common::SpecError(fmt::format(
        "--cp {}: context parallelism splits one sequence (q_len = kv_len, phase prefill, fwd, "
        "bwd or train); got q_len {} and kv_len {}",
        l.cp, w.q_len, w.kv_len));
  }
  // Zig-zag and the balanced all-gather give each rank two of 2 cp causal chunks.
  const bool two_chunks =
      w.causal && (l.strategy == CpStrategy::zigzag || l.strategy == CpStrategy::allgather);
  const std::int64_t chunks = two_chunks ? 2 * l.cp : l.cp;
  if (w.q_len % chunks != 0) {
    throw common::SpecError(fmt::format(
        "--cp {} --cp-strategy {}: the sequence of {} tokens does not split into {} equal chunks",
        l.cp, to_string(l.strategy), w.q_len, chunks));
  }
  if (c.spec.projections.include) {
    throw common::SpecError(
        "--include-projections with --cp > 1 is not modelled (projections are per token; query "
        "the attention core)");
  }
  const bool linear_strategy = l.strategy == CpStrategy::lasp2 || l.strategy == CpStrategy::zeco;
  if (linear_strategy != is_linear(cost)) {
    throw common::SpecError(
        fmt::format("--cp-strategy {} {} variant '{}' {}", to_string(l.strategy),
                    linear_strategy ? "is for linear attention (a fixed state, no KV cache);"
                                    : "passes K/V blocks, but",
                    c.spec.variant->name(),
                    linear_strategy ? "has a KV cache: use ring, zigzag, ulysses or allgather"
                                    : "keeps a recurrent state: use lasp2 or zeco"));
  }
}

// TP only: every device runs its head shard over the whole sequence; the row-parallel output
// projection all-reduces B x q_len x D activations once per forward and once per backward
// (Megatron; variants.md G0), when projections are counted.
void tensor_parallel(const pd::Context& c, DeviceCost& d) {
  const pd::Block b = pd::run(c, c.spec, c.w);
  pd::add_compute(d, b, 1);
  d.kv_cache_bytes = b.cost.kv_cache_bytes + b.cost.state_bytes;
  if (c.spec.projections.include && c.layout.tp > 1) {
    const double payload = static_cast<double>(c.w.batch * c.w.q_len) *
                           static_cast<double>(c.spec.projections.hidden_size) *
                           models::bytes_per_element(c.w.dtype);
    const double passes =
        (models::has_forward(c.w.phase) ? 1 : 0) + (models::has_backward(c.w.phase) ? 1 : 0);
    const CommCost ar = ring_all_reduce(payload, c.layout.tp, c.place.up_all, LinkClass::scale_up);
    d.scale_up_bytes += passes * ar.scale_up_bytes;
    d.comm_s += passes * ar.time_s;
    d.exposed_comm_s += passes * ar.time_s;
  }
}

DeviceCost scaled(DeviceCost d, double n, bool times_too) {
  d.flops.tensor *= n, d.flops.vector *= n, d.flops.exp *= n;
  d.hbm_bytes *= n, d.kv_cache_bytes *= n, d.scale_up_bytes *= n, d.scale_out_bytes *= n;
  if (times_too) d.compute_s *= n, d.comm_s *= n, d.exposed_comm_s *= n;
  d.total_s = d.compute_s + d.exposed_comm_s;
  return d;
}

}  // namespace

std::string_view to_string(CpStrategy s) {
  switch (s) {
    case CpStrategy::ring:
      return "ring";
    case CpStrategy::zigzag:
      return "zigzag";
    case CpStrategy::ulysses:
      return "ulysses";
    case CpStrategy::allgather:
      return "allgather";
    case CpStrategy::lasp2:
      return "lasp2";
    case CpStrategy::zeco:
      return "zeco";
  }
  return "?";
}

CpStrategy parse_cp_strategy(std::string_view name) {
  for (CpStrategy s : kStrategies) {
    if (to_string(s) == name) return s;
  }
  throw common::SpecError(fmt::format(
      "unknown --cp-strategy '{}'; known: ring, zigzag, ulysses, allgather, lasp2, zeco", name));
}

ParallelPrediction predict_parallel(EngineKind engine, const models::AttentionSpec& spec,
                                    const models::Workload& w, const hw::Profile& profile,
                                    std::string_view kernel, const ParallelLayout& layout) {
  ParallelPrediction out;
  out.layout = layout;
  const pd::Placement place = place_layout(layout, profile);
  out.devices_per_node = place.per_node;
  const pd::HeadShard shard = pd::split_heads(spec, layout.tp, "--tp");
  out.device_heads = shard.spec.heads;
  out.kv_heads_replicated = shard.replicated;
  DeviceCost& d = out.per_device;
  DeviceCost& cluster = out.cluster;
  if (layout.cp == 1) {
    // The whole workload, all layers at once: TP = 1 is the single-device prediction itself.
    const pd::Context c{engine, profile, kernel, layout, place, shard.spec, w};
    tensor_parallel(c, d);
    cluster = scaled(d, layout.tp, false);
  } else {
    models::Workload one = w;
    one.layers = 1;
    const pd::Context c{engine, profile, kernel, layout, place, shard.spec, one};
    check_cp(c, shard.spec.variant->cost(shard.spec, one));
    switch (layout.strategy) {
      case CpStrategy::ring:
      case CpStrategy::zigzag:
        pd::ring(c, d, cluster);
        break;
      case CpStrategy::ulysses:
        out.device_heads = pd::ulysses(c, d, cluster);
        break;
      case CpStrategy::allgather:
        pd::all_gather_cp(c, d, cluster);
        break;
      case CpStrategy::lasp2:
      case CpStrategy::zeco:
        pd::linear_sp(c, d, cluster);
        break;
    }
    const double layers = static_cast<double>(w.layers);
    d = scaled(d, layers, true);
    cluster = scaled(cluster, layers, false);
  }
  d.total_s = d.compute_s + d.exposed_comm_s;
  cluster.compute_s = d.compute_s;
  cluster.comm_s = d.comm_s;
  cluster.exposed_comm_s = d.exposed_comm_s;
  cluster.total_s = d.total_s;
  return out;
}

}  // namespace sim
