// The head split of a multi-device layout (Megatron TP, and Ulysses over the CP group): which heads
// one device computes and whether some KV is then held by several devices.
#include <algorithm>
#include <cstdint>
#include <span>
#include <string>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/parallel_internal.hpp"

namespace sim::parallel_detail {

// Megatron head split: heads / ways query heads per device; KV heads / ways, or one KV head per
// device (replicated) when there are fewer KV heads than devices (variants.md G0 cites Megatron-LM,
// Shoeybi et al., arXiv:1909.08053). A variant's other head counts split the same way, as its
// parameter table says (models::HeadSplit: moh's shared and routed heads, gda's noise heads, dha's
// key and value heads, gla's latent heads).
HeadShard split_heads(const models::AttentionSpec& spec, int ways, std::string_view flag) {
  if (ways == 1) return {spec, false};
  if (spec.variant->name() == "tpla") {
    throw common::SpecError(fmt::format(
        "{} {}: tpla is already priced per device (every device computes every head on its "
        "latent slice); set its tensor-parallel degree with --param shards={} instead",
        flag, ways, ways));
  }
  const std::span<const models::ParamInfo> table = spec.variant->params();
  const bool has_heads = std::any_of(table.begin(), table.end(),
                                     [](const models::ParamInfo& p) { return p.name == "heads"; });
  if (!has_heads) {
    throw common::SpecError(fmt::format("{} {}: variant '{}' has no 'heads' parameter to split",
                                        flag, ways, spec.variant->name()));
  }
  HeadShard shard;
  models::ParamValues given;
  for (std::size_t i = 0; i < table.size(); ++i) {
    const std::string_view name = table[i].name;
    const double value = spec.values[i];
    given.emplace_back(std::string(name), value);
    const models::HeadSplit split = models::head_split_of(table[i]);
    if (split == models::HeadSplit::none) continue;
    const auto count = static_cast<std::int64_t>(value);
    // "32 query heads", "8 KV heads", "moh's 8 shared_heads": formatted for a refusal only (a
    // sweep's layout points split heads at every point).
    const auto what = [&] {
      return name == "heads"      ? fmt::format("{} query heads", count)
             : name == "kv_heads" ? fmt::format("{} KV heads", count)
                                  : fmt::format("{}'s {} {}", spec.variant->name(), count, name);
    };
    if (count % ways == 0) {
      given.back().second = static_cast<double>(count / ways);
    } else if (split == models::HeadSplit::query) {
      throw common::SpecError(
          fmt::format("{} {}: {} do not split evenly over {} devices ({} must be a multiple of {})",
                      flag, ways, what(), ways, name, ways));
    } else if (ways % count == 0) {
      given.back().second = 1;
      shard.replicated = true;
    } else {
      throw common::SpecError(fmt::format(
          "{} {}: {} neither split over {} devices nor replicate evenly onto them (one of the two "
          "must divide the other)",
          flag, ways, what(), ways));
    }
  }
  models::ProjectionConfig proj = spec.projections;
  if (proj.hidden_size == 0) proj.hidden_size = spec.heads.heads * spec.heads.head_dim;
  try {
    shard.spec = spec.variant->make_spec(given, proj);
  } catch (const common::SpecError& e) {
    throw common::SpecError(
        fmt::format("{} {}: one device's share of the heads is not a valid {}: {}", flag, ways,
                    spec.variant->name(), e.what()));
  }
  return shard;
}

double kv_copies(const HeadShard& shard, const models::AttentionSpec& whole, int ways,
                 const models::Workload& w) {
  const double device = shard.spec.variant->cost(shard.spec, w).kv_cache_bytes_per_token_per_layer;
  const double one = whole.variant->cost(whole, w).kv_cache_bytes_per_token_per_layer;
  return one > 0 ? std::max(1.0, ways * device / one) : 1;
}

bool replicates_kv(const HeadShard& shard, const models::AttentionSpec& whole, int ways,
                   const models::Workload& w) {
  return shard.replicated || kv_copies(shard, whole, ways, w) >= 2;
}

}  // namespace sim::parallel_detail
