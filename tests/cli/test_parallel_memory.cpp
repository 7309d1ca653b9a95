// What a device keeps under --cp for every model preset: never more of a layer's cache than one
// device keeps of that layer (a window or a budget is not one chunk of the sequence), and the
// recurrent state apart from the KV cache.
#include <catch2/catch.hpp>

#include <string>

#include "cli/model_query.hpp"
#include "common/errors.hpp"
#include "models/model_presets.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::catalog;
using test_support::registry;
using test_support::workload;

TEST_CASE(
    "under cp a device holds at most the single-device cache of each layer, for every "
    "preset, prefill and decode",
    "[cli][models][parallel]") {
  const hw::Profile& h100 = catalog().resolve("h100");
  for (const models::Preset& preset : models::builtin_presets()) {
    for (models::Phase phase : {models::Phase::prefill, models::Phase::decode}) {
      // 13440 = 16 x 840 splits into 1..8 equal chunks.
      const std::int64_t q = phase == models::Phase::decode ? 1 : 13440;
      cli::ModelQuery query{preset.model, workload(phase, 2, q, 13440)};
      for (int cp = 1; cp <= 8; ++cp) {
        INFO(preset.name << " " << models::to_string(phase) << " --cp " << cp);
        query.layout = sim::ParallelLayout{1, cp, sim::CpStrategy::ring, 1, sim::CpStrategy::lasp2};
        if (phase == models::Phase::decode) query.layout->state_strategy.reset();
        cli::ModelResult r;
        try {
          r = cli::run_model(registry(), query, h100);
        } catch (const common::SpecError& e) {
          // Decode cannot shard a linear layer's state: hybrid models decode at cp 1 only.
          CHECK(phase == models::Phase::decode);
          CHECK(std::string(e.what()).find("fixed recurrent state") != std::string::npos);
          continue;
        }
        for (const cli::GroupResult& g : r.groups) {
          INFO(g.group->variant);
          CHECK(g.parallel->per_device.kv_cache_bytes <= g.result.cost.kv_cache_bytes);
          CHECK(g.parallel->per_device.state_bytes == g.result.cost.state_bytes);
        }
        const sim::DeviceCost& d = r.parallel->per_device;
        CHECK(d.kv_cache_bytes <= r.kv_cache_bytes);
        CHECK(d.state_bytes == r.state_bytes);
        if (cp == 1) CHECK(d.kv_cache_bytes == r.kv_cache_bytes);
      }
    }
  }
}
