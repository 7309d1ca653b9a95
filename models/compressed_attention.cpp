#include "models/compressed_attention.hpp"

#include <array>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "models/dense_attention.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

// §B4: width E = heads x head_dim is compressed by C into a latent of E / C; attention runs there
// with E / (C d) heads; CCGQA shares each K/V head across G query heads.
constexpr std::array<ParamInfo, 5> cca_params(double kv_group_default, double kv_group_max) {
  return {{
      {"model_heads",
       "heads of the uncompressed baseline (E = model_heads x head_dim)",
       32,
       1,
       65536,
       ParamType::integer,
       {},
       {},
       "a multiple of compression x kv_group"},
      kHeadDimParam,
      {"compression",
       "compression factor C of the latent (E / C wide)",
       2,
       1,
       1024,
       ParamType::integer,
       {},
       {},
       "a divisor of model_heads / kv_group"},
      {"kv_group",
       "query heads per K/V head inside the latent (G; CCA: 1)",
       kv_group_default,
       1,
       kv_group_max,
       ParamType::integer,
       {},
       {},
       kv_group_max > 1 ? "a divisor of model_heads / compression" : ""},
      {"conv_kernel", "length k of the short sequence convolutions on q and k", 4, 1, 1024},
  }};
}
constexpr std::array<ParamInfo, 5> kCcaParams = cca_params(1, 1);
constexpr std::array<ParamInfo, 5> kCcgqaParams = cca_params(2, 1024);
constexpr IntParam kModelHeads = int_param(kCcaParams, "model_heads");
constexpr IntParam kCompression = int_param(kCcaParams, "compression");
constexpr IntParam kKvGroup = int_param(kCcaParams, "kv_group");
constexpr IntParam kConvKernel = int_param(kCcaParams, "conv_kernel");

class Cca final : public VariantBase {
 public:
  explicit Cca(bool grouped)
      : VariantBase(grouped ? "ccgqa" : "cca", "latent",
                    grouped
                        ? "compressed convolutional grouped-query attention: CCA with K/V heads "
                          "shared by kv_group query heads"
                        : "compressed convolutional attention: attention inside a latent "
                          "compressed by C, with short q/k convolutions",
                    grouped ? std::span<const ParamInfo>(kCcgqaParams)
                            : std::span<const ParamInfo>(kCcaParams)) {}

 protected:
  void finish(AttentionSpec& spec) const override {
    const std::int64_t heads = spec.get(kModelHeads), c = spec.get(kCompression);
    const std::int64_t g = spec.get(kKvGroup);
    if (heads % (c * g) != 0) {
      throw common::SpecError(
          fmt::format("{}: model_heads ({}) must be divisible by compression x kv_group ({} x {})",
                      name(), heads, c, g));
    }
    const std::int64_t d = spec.heads.head_dim;
    spec.heads = {heads / c, heads / (c * g), d, d};
    if (spec.projections.hidden_size == 0) spec.projections.hidden_size = heads * d;
  }

 public:
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const HeadConfig& h = spec.heads;
    CostModel model;
    model.layers = w.layers;
    add_dense_attention(h, w, model);
    // Depthwise sequence convolutions on q~ and k~: 2 k FLOPs per latent element each (the
    // channel-mixing conv's grouping is not verified, so it is left out). Reads and writes both.
    // q~ is the full latent (E / C); k~ has the K heads only (E / (C G)).
    const double q_width = static_cast<double>(h.heads * h.head_dim);
    const double k_width = static_cast<double>(h.kv_heads * h.head_dim);
    const double tokens = static_cast<double>(w.batch * w.q_len);
    const double s = bytes_per_element(w.dtype);
    const auto k = static_cast<double>(spec.get(kConvKernel));
    const double conv_elements = tokens * (q_width + k_width);
    if (has_forward(w.phase)) {
      // Decode also reads the k - 1 previous rows of q~ and k~ from the conv state.
      const double state_reads =
          w.phase == Phase::decode ? (k - 1) / static_cast<double>(w.q_len) : 0;
      model.ops.push_back(elementwise_op("qk_convolutions_fwd", Pass::forward, conv_elements,
                                         (2 + state_reads) * s, 0, 2 * k));
    }
    if (has_backward(w.phase)) {
      model.ops.push_back(
          elementwise_op("qk_convolutions_bwd", Pass::backward, conv_elements, 3 * s, 0, 4 * k));
    }
    // Cache: K and V of the latent heads, plus k - 1 rows of q~ and k~ conv state per sequence.
    model.kv_cache_bytes_per_token_per_layer = dense_kv_bytes_per_token(h, w.kv_dtype);
    model.kv_cache_bytes =
        (model.kv_cache_bytes_per_token_per_layer * static_cast<double>(w.kv_len) +
         (k - 1) * (q_width + k_width) * bytes_per_element(w.kv_dtype)) *
        static_cast<double>(w.batch * w.layers);
    add_projections(h, spec.projections, w, model);
    return model;
  }
};

}  // namespace

void add_compressed_variants(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<Cca>(false));
  table.push_back(std::make_unique<Cca>(true));
}

}  // namespace models
