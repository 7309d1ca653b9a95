// FA2's split kernel (sim/schedule_fa2.cpp, docs/kernels.md#12-grid-and-packing): the split counts
// it prices keep the split kernel's own grid within two waves of split CTAs.
#include <catch2/catch.hpp>

#include <cstring>

#include "sim/engine.hpp"
#include "tests/support/model_helpers.hpp"

TEST_CASE("fa2's split counts keep the split kernel's 64-row grid within two waves of its CTAs",
          "[tile][fa2]") {
  // MHA, 8 heads of 128, 65-128 query rows over 1M cached keys on H100 (132 SMs): the cap on
  // splits came from the unsplit kernel's 128-row grid (8 CTAs, so 33 splits), while the split
  // kernel runs 64-row blocks (16 CTAs a split): 528 split CTAs, four waves.
  const hw::Profile& h100 = test_support::catalog().resolve("h100");
  const models::AttentionSpec mha = test_support::make("mha", {{"heads", 8}, {"head_dim", 128}});
  for (std::int64_t q_len : {65, 100, 128}) {
    INFO("q_len " << q_len);
    test_support::Query q{mha, test_support::workload(models::Phase::prefill, 1, q_len, 1 << 20)};
    const sim::Prediction p = sim::predict_tile(q.cost(), q.w, h100, "fa2");
    bool split = false;
    for (const sim::LaunchPrediction& l : p.launches) {
      if (std::strcmp(l.name, "attention_fwd_splitkv") != 0) continue;
      split = true;
      CHECK(l.ctas <= 2 * h100.compute.sm_count);
    }
    CHECK(split);
  }
}
