#include "models/weight_side.hpp"

#include <array>

#include "common/errors.hpp"
#include "models/dense_attention.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

void require_projections(const Variant& v, const ProjectionConfig& proj) {
  if (!proj.include) {
    throw common::SpecError(std::string(v.name()) +
                            " changes only the projection weights; add --include-projections");
  }
}

// §H1: W4 with 50 % group sparsity (groups of 16) by default.
constexpr std::array<ParamInfo, 8> kGqsaParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    {"sparsity", "fraction of weight groups pruned", 0.5, 0, 0.99, ParamType::real},
    {"bits", "bits per kept weight", 4, 1, 16},
    {"sparse_group", "weights per sparsity group (one 16-bit index each)", 16, 1, 65536},
    {"quant_group", "weights per quantisation group (16-bit scale and zero each)", 128, 1, 65536},
}};
constexpr RealParam kSparsity = real_param(kGqsaParams, "sparsity");
constexpr IntParam kBits = int_param(kGqsaParams, "bits");
constexpr IntParam kSparseGroup = int_param(kGqsaParams, "sparse_group");
constexpr IntParam kQuantGroup = int_param(kGqsaParams, "quant_group");

class Gqsa final : public VariantBase {
 public:
  Gqsa()
      : VariantBase("gqsa", "weights",
                    "group quantisation + group sparsity of the projection weights (GQA core)",
                    kGqsaParams) {}
  void finish(AttentionSpec& spec) const override { require_projections(*this, spec.projections); }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    CostModel model;
    model.layers = w.layers;
    add_dense_attention(spec.heads, w, model);
    const std::size_t first_projection = model.ops.size();
    add_projections(spec.heads, spec.projections, w, model);
    const double kept = 1 - spec.get(kSparsity);
    // Bytes per original weight: kept weights at `bits`, a 16-bit index per kept sparsity group,
    // a 16-bit scale and zero per quantisation group of kept weights.
    const double bytes_per_weight = kept * (static_cast<double>(spec.get(kBits)) / 8 +
                                            2 / static_cast<double>(spec.get(kSparseGroup)) +
                                            4 / static_cast<double>(spec.get(kQuantGroup)));
    const double s = bytes_per_element(w.dtype);
    for (std::size_t i = first_projection; i < model.ops.size(); ++i) {
      Op& op = model.ops[i];
      op.flops.tensor *= kept;  // the kernel skips pruned groups
      op.bytes.weights *= bytes_per_weight / s;
    }
    return model;
  }
};

// §H2: every layer's projections are combinations of shared atoms: parameters drop by
// `param_reduction` (66.7 % in the paper); per-token FLOPs and weight reads are unchanged when the
// layer's matrices are rebuilt once per forward.
constexpr std::array<ParamInfo, 5> kMasaParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    {"param_reduction", "fraction of attention projection parameters saved", 0.667, 0, 0.99,
     ParamType::real},
}};
constexpr RealParam kParamReduction = real_param(kMasaParams, "param_reduction");

class Masa final : public VariantBase {
 public:
  Masa()
      : VariantBase("masa", "weights",
                    "matrix atom sharing: projections built from atoms shared across layers",
                    kMasaParams) {}
  void finish(AttentionSpec& spec) const override { require_projections(*this, spec.projections); }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    CostModel model;
    model.layers = w.layers;
    add_dense_attention(spec.heads, w, model);
    add_projections(spec.heads, spec.projections, w, model);
    model.parameters_per_layer *= 1 - spec.get(kParamReduction);
    return model;
  }
};

}  // namespace

void add_weight_side_variants(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<Gqsa>());
  table.push_back(std::make_unique<Masa>());
}

}  // namespace models
