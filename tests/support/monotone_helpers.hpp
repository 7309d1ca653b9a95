// Shared by the tile engine's monotonicity tests (tests/sim/test_tile_monotone*.cpp): prices of
// one variant at a length, and the steps of a scan where the price falls.
#pragma once

#include <cstdint>
#include <string_view>
#include <utility>

#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

namespace test_support {

// Tile-engine time of `variant` with its default parameters; prefill-like phases use
// q_len = kv_len = len, decode one query token against len cached tokens.
inline double default_variant_time(std::string_view variant, models::Phase phase,
                                   std::string_view hw, std::int64_t batch, std::int64_t len) {
  static const models::Registry registry;
  const models::AttentionSpec spec = registry.find(variant).make_spec({}, {});
  models::Workload w;
  w.phase = phase;
  w.batch = batch;
  w.q_len = phase == models::Phase::decode ? 1 : len;
  w.kv_len = len;
  return sim::predict(sim::EngineKind::tile, spec.variant->cost(spec, w), w, builtin_profile(hw))
      .time_s;
}

// Tile-engine time of a causal bf16 `spec` on `kernel`, the workload's phase, batch and lengths.
inline double bf16_time(std::string_view hw, std::string_view kernel,
                        const models::AttentionSpec& spec, models::Phase phase, std::int64_t batch,
                        std::int64_t q_len, std::int64_t kv_len) {
  Query q{spec, workload(phase, batch, q_len, kv_len, true)};
  q.w.dtype = q.w.kv_dtype = models::DType::bf16;
  return sim::predict_tile(q.cost(), q.w, builtin_profile(hw), kernel).time_s;
}

// Steps of `from`, `from + step`, ... `to` where `time` falls below its value one step before:
// how many, and the first (0 if none). Equal prices may differ in the last bit (a sum in another
// order), so a drop is one beyond that.
template <typename Time>
std::pair<int, std::int64_t> drops(Time time, std::int64_t from, std::int64_t to,
                                   std::int64_t step) {
  int count = 0;
  std::int64_t first = 0;
  double previous = time(from);
  for (std::int64_t len = from + step; len <= to; len += step) {
    const double t = time(len);
    if (t < previous * (1 - 1e-12) && count++ == 0) first = len;
    previous = t;
  }
  return {count, first};
}

}  // namespace test_support
