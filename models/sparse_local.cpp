#include "models/sparse_local.hpp"

#include <array>

#include "models/dense_attention.hpp"
#include "models/errors.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

const std::array<ParamInfo, 6> kSwaParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    {"window", "keys each query sees, itself included (Mistral-7B: 4096)", "4096", 1, 1 << 30},
    {"n_sink", "leading tokens every query also sees (StreamingLLM: 4)", "0", 0, 1 << 20},
}};

class SlidingWindow final : public VariantBase {
 public:
  SlidingWindow()
      : VariantBase("swa", "local",
                    "sliding-window attention: each query sees its last `window` keys (a ring "
                    "buffer cache), plus n_sink attention-sink tokens",
                    kSwaParams) {}
  AttentionSpec make_spec(const ParamValues& given, const ProjectionConfig& proj) const override {
    ParamReader r(*this, given);
    AttentionSpec spec = heads_spec(*this, r, proj);
    spec.extra[0] = static_cast<double>(r.integer("window", 4096));
    spec.extra[1] = static_cast<double>(r.integer("n_sink", 0));
    return spec;
  }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    if (!w.causal) {
      throw SpecError("swa is a causal window; --no-causal (neighbourhood attention) is gna's");
    }
    CostModel model;
    model.layers = w.layers;
    const AttentionPattern pattern{static_cast<std::int64_t>(spec.extra[0]),
                                   static_cast<std::int64_t>(spec.extra[1]), ScoreFn::softmax};
    add_dense_attention(spec.heads, w, model, pattern);
    add_projections(spec.heads, spec.projections, w, model);
    return model;
  }
};

}  // namespace

void add_local_sparse_variants(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<SlidingWindow>());
}

}  // namespace models
