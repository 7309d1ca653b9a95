// Training is its forward and its backward (models/workload.hpp: "train: fwd + bwd"): for every
// variant that trains, the train phase's FLOPs by unit and bytes by tensor are the fwd phase's plus
// the bwd phase's, and the backward holds no forward-only work (a selection's scores and top-k, a
// column-sum pass, an importance pre-pass): the forward chose the keys and the backward reuses the
// choice.
#include <catch2/catch.hpp>

#include <optional>
#include <string>
#include <vector>

#include "common/errors.hpp"
#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using models::Phase;
using test_support::default_spec;
using test_support::registry;
using test_support::workload;

namespace {

std::vector<double> totals(const models::CostModel& c) {
  const models::FlopCounts f = c.total_flops();
  const models::HbmBytes b = c.total_bytes();
  return {f.tensor, f.vector,   f.exp,     b.q,       b.k,           b.v,    b.o,
          b.lse,    b.grad_out, b.grad_in, b.weights, b.activations, b.state};
}

// The costs of `phase`, or nothing where the variant refuses the shape (a causal-only variant
// asked for non-causal attention).
std::optional<models::CostModel> cost_of(const models::AttentionSpec& spec, Phase phase,
                                         std::int64_t len, bool causal) {
  try {
    return spec.variant->cost(spec, workload(phase, 2, len, len, causal));
  } catch (const common::SpecError&) {
    return std::nullopt;
  }
}

}  // namespace

TEST_CASE("every variant's train costs are exactly its fwd costs plus its bwd costs",
          "[variants][phases]") {
  for (const auto& v : registry().variants()) {
    if (!v->supports(Phase::train)) continue;
    for (bool projections : {false, true}) {
      const models::AttentionSpec spec = default_spec(*v, projections);
      for (bool causal : {true, false}) {
        for (std::int64_t len : {std::int64_t{100}, std::int64_t{5000}}) {
          INFO(v->name() << " projections " << projections << " causal " << causal << " len "
                         << len);
          const auto train = cost_of(spec, Phase::train, len, causal);
          const auto fwd = cost_of(spec, Phase::fwd, len, causal);
          const auto bwd = cost_of(spec, Phase::bwd, len, causal);
          REQUIRE(train.has_value() == fwd.has_value());
          REQUIRE(train.has_value() == bwd.has_value());
          if (!train) continue;
          const std::vector<double> t = totals(*train), f = totals(*fwd), b = totals(*bwd);
          for (std::size_t i = 0; i < t.size(); ++i) {
            INFO("total #" << i);
            CHECK(t[i] == Approx(f[i] + b[i]).epsilon(1e-12).margin(1e-9));
          }
          CHECK(train->ops.size() == fwd->ops.size() + bwd->ops.size());
        }
      }
    }
  }
}

TEST_CASE("a backward pass holds backward work only; a forward pass forward work only",
          "[variants][phases]") {
  for (const auto& v : registry().variants()) {
    for (Phase phase : {Phase::fwd, Phase::bwd}) {
      if (!v->supports(phase)) continue;
      const models::AttentionSpec spec = default_spec(*v, true);
      for (bool causal : {true, false}) {
        const auto c = cost_of(spec, phase, 4096, causal);
        if (!c) continue;
        for (const models::Op& op : c->ops) {
          INFO(v->name() << " " << models::to_string(phase) << " op " << op.name);
          CHECK((op.pass == models::Pass::forward) == (phase == Phase::fwd));
        }
      }
    }
  }
}
