// A launch names the model's op it computes (LaunchPrediction::op) on both engines, beside the
// kernel's own name for it (LaunchPrediction::name): NSA's three branches, H2O's column sums and
// SuperLinear's span attention each lower to a flash kernel that calls its launch `attention_fwd`,
// and were told apart on the roofline only.
#include <catch2/catch.hpp>

#include <cstddef>
#include <cstring>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "sim/engine.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/sim_helpers.hpp"

using models::Phase;
using test_support::builtin_profile;
using test_support::registry;

namespace {

// The op names of `p`'s launches, in order.
std::vector<std::string> launch_ops(const sim::Prediction& p) {
  std::vector<std::string> ops;
  for (const sim::LaunchPrediction& l : p.launches) ops.emplace_back(l.op);
  return ops;
}

std::vector<std::string> op_names(const models::CostModel& c) {
  std::vector<std::string> names;
  for (const models::Op& op : c.ops) names.emplace_back(op.name);
  return names;
}

// Whether every launch's op is an op of `c`, in the order of c.ops (an op may lower to several
// launches, one after another).
bool ops_in_order(const sim::Prediction& p, const models::CostModel& c) {
  std::size_t at = 0;
  for (const sim::LaunchPrediction& l : p.launches) {
    while (at < c.ops.size() && std::strcmp(c.ops[at].name, l.op) != 0) ++at;
    if (at == c.ops.size()) return false;
  }
  return true;
}

}  // namespace

TEST_CASE("every launch names the op it computes, in the ops' order, on both engines",
          "[tile][roofline][launch-ops]") {
  const hw::Profile& h100 = builtin_profile("h100");
  for (const auto& variant : registry().variants()) {
    const models::Variant* v = variant.get();
    models::AttentionSpec spec;
    try {
      spec = v->make_spec({}, {});
    } catch (const common::SpecError&) {
      spec = v->make_spec({}, {true, 0});  // variants that change only the projections
    }
    for (Phase phase : {Phase::prefill, Phase::decode, Phase::train}) {
      if (!v->supports(phase)) continue;
      const models::Workload w = test_support::workload(phase, 1, phase == Phase::decode ? 1 : 1024,
                                                        1024, /*causal=*/true);
      models::CostModel cost;
      try {
        cost = v->cost(spec, w);
      } catch (const common::SpecError&) {
        continue;  // a shape the variant rejects
      }
      INFO(v->name() << " " << models::to_string(phase));
      const sim::Prediction roof = sim::predict(sim::EngineKind::roofline, cost, w, h100, "auto");
      CHECK(launch_ops(roof) == op_names(cost));  // one launch per op
      const sim::Prediction tile = sim::predict(sim::EngineKind::tile, cost, w, h100, "auto");
      CHECK(ops_in_order(tile, cost));
    }
  }
}

TEST_CASE("NSA, H2O and SuperLinear tile launches carry their ops' names, not attention_fwd",
          "[tile][launch-ops]") {
  const hw::Profile& h100 = builtin_profile("h100");
  const models::Workload w = test_support::workload(Phase::prefill, 1, 1024, 1024);
  struct Case {
    const char* variant;
    std::vector<std::string> attention_ops;
  };
  for (const Case& c : std::vector<Case>{
           {"nsa", {"compressed_attention_fwd", "selected_attention_fwd", "window_attention_fwd"}},
           {"h2o", {"attention_fwd", "score_column_sums"}},
           {"superlinear", {"span_attention_fwd"}}}) {
    INFO(c.variant);
    const models::CostModel cost = test_support::cost(test_support::make(c.variant, {}), w);
    const sim::Prediction tile = sim::predict(sim::EngineKind::tile, cost, w, h100, "auto");
    std::vector<std::string> flash_ops;  // launches of an attention kernel (not gemm, elementwise)
    for (const sim::LaunchPrediction& l : tile.launches) {
      if (l.schedule != "gemm" && l.schedule != "elementwise") flash_ops.emplace_back(l.op);
    }
    CHECK(flash_ops == c.attention_ops);
  }
}

TEST_CASE(
    "H2O's column-sum pass runs QK^T alone on the tile engine, as its FLOPs say: its launch "
    "does the op's matmul work, not a whole attention's",
    "[tile][launch-ops]") {
  // 16k causal tokens, H100: the pass is 2 B Hq d P = 1.0995e12 FLOPs. Its flash launch charged
  // 2 M N (d + dv) per tile and re-read V, 2.2e12 FLOPs and as long as the real attention launch.
  const hw::Profile& h100 = builtin_profile("h100");
  const models::Workload w = test_support::workload(Phase::prefill, 1, 16384, 16384);
  const models::CostModel cost = test_support::cost(test_support::make("h2o", {}), w);
  const sim::Prediction tile = sim::predict(sim::EngineKind::tile, cost, w, h100, "auto");
  double attention_s = 0, colsum_s = 0, colsum_flops = 0;
  for (const sim::LaunchPrediction& l : tile.launches) {
    if (std::strcmp(l.op, "score_column_sums") == 0) {
      colsum_s += l.time_s;
      colsum_flops += l.flops.tensor;
    } else if (std::strcmp(l.op, "attention_fwd") == 0) {
      attention_s += l.time_s;
    }
  }
  double op_flops = 0;
  for (const models::Op& op : cost.ops) {
    if (std::strcmp(op.name, "score_column_sums") == 0) op_flops = op.flops.tensor;
  }
  CHECK(op_flops == Approx(2.0 * 32 * 128 * 16384 * 16385 / 2));
  CHECK(colsum_flops >= op_flops);
  CHECK(colsum_flops < 1.1 * op_flops);  // masked diagonal tiles only
  CHECK(colsum_s < 0.8 * attention_s);
}
