#include "models/sparse_local.hpp"

#include <array>

#include "common/errors.hpp"
#include "models/dense_attention.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

constexpr std::array<ParamInfo, 7> kSwaParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    in_tokens(
        {"window", "keys each query sees, itself included (Mistral-7B: 4096)", 4096, 1, 1 << 30}),
    in_tokens({"n_sink", "leading tokens every query also sees (StreamingLLM: 4)", 0, 0, 1 << 20}),
    kSoftcapParam,
}};
constexpr IntParam kWindow = int_param(kSwaParams, "window");
constexpr IntParam kSinks = int_param(kSwaParams, "n_sink");
constexpr RealParam kSoftcap = real_param(kSwaParams, "softcap");

class SlidingWindow final : public VariantBase {
 public:
  SlidingWindow()
      : VariantBase("swa", "local",
                    "sliding-window attention: each query sees its last `window` keys (a ring "
                    "buffer cache), plus n_sink attention-sink tokens",
                    kSwaParams) {}
  Masking masking() const override { return Masking::causal_only; }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    if (!w.causal) {
      throw common::SpecError(
          "swa is a causal window; --no-causal (neighbourhood attention) is gna's");
    }
    CostModel model;
    model.layers = w.layers;
    const AttentionPattern pattern{spec.get(kWindow), spec.get(kSinks), ScoreFn::softmax,
                                   spec.get(kSoftcap) > 0};
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
