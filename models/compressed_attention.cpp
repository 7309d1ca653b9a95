#include "models/compressed_attention.hpp"

#include <array>

#include <fmt/format.h>

#include "models/dense_attention.hpp"
#include "models/errors.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

// §B4: width E = heads x head_dim is compressed by C into a latent of E / C; attention runs there
// with E / (C d) heads; CCGQA shares each K/V head across G query heads.
const std::array<ParamInfo, 5> kCcaParams = {{
    {"model_heads", "heads of the uncompressed baseline (E = model_heads x head_dim)", "32", 1,
     65536},
    kHeadDimParam,
    {"compression", "compression factor C of the latent (E / C wide)", "2", 1, 1024},
    {"kv_group", "query heads per K/V head inside the latent (G; CCA: 1)", "1", 1, 1024},
    {"conv_kernel", "length k of the short sequence convolutions on q and k", "4", 1, 1024},
}};

class Cca final : public VariantBase {
 public:
  explicit Cca(bool grouped)
      : VariantBase(grouped ? "ccgqa" : "cca", "latent",
                    grouped
                        ? "compressed convolutional grouped-query attention: CCA with K/V heads "
                          "shared by kv_group query heads"
                        : "compressed convolutional attention: attention inside a latent "
                          "compressed by C, with short q/k convolutions",
                    kCcaParams),
        grouped_(grouped) {}
  AttentionSpec make_spec(const ParamValues& given, const ProjectionConfig& proj) const override {
    ParamReader r(*this, given);
    AttentionSpec spec;
    spec.variant = this;
    const std::int64_t heads = r.integer("model_heads", 32);
    const std::int64_t c = r.integer("compression", 2);
    const std::int64_t g = r.integer("kv_group", grouped_ ? 2 : 1);
    if (!grouped_ && g != 1) throw SpecError("cca has kv_group 1; use ccgqa to share K/V heads");
    if (heads % (c * g) != 0) {
      throw SpecError(
          fmt::format("{}: heads ({}) must be divisible by compression x kv_group ({} x {})",
                      name(), heads, c, g));
    }
    const std::int64_t d = r.integer("head_dim", 128);
    spec.heads = {heads / c, heads / (c * g), d, d};
    spec.extra = {static_cast<double>(heads), static_cast<double>(c), static_cast<double>(g),
                  static_cast<double>(r.integer("conv_kernel", 4))};
    spec.projections = proj;
    if (spec.projections.hidden_size == 0) spec.projections.hidden_size = heads * d;
    return spec;
  }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const HeadConfig& h = spec.heads;
    CostModel model;
    model.layers = w.layers;
    add_dense_attention(h, w, model);
    // Depthwise sequence convolutions on q~ and k~: 2 k FLOPs per latent element each (the
    // channel-mixing conv's grouping is not verified, so it is left out). Reads and writes both.
    const double latent = static_cast<double>(h.heads * h.head_dim);
    const double tokens = static_cast<double>(w.batch * w.q_len);
    const double s = bytes_per_element(w.dtype);
    const double k = spec.extra[3];
    if (has_forward(w.phase)) {
      model.ops.push_back(elementwise_op("qk_convolutions_fwd", Pass::forward, 2 * tokens * latent,
                                         2 * s, 0, 2 * k));
    }
    if (has_backward(w.phase)) {
      model.ops.push_back(elementwise_op("qk_convolutions_bwd", Pass::backward, 2 * tokens * latent,
                                         3 * s, 0, 4 * k));
    }
    // Cache: K and V of the latent heads, plus k - 1 rows of q~ and k~ conv state per sequence.
    model.kv_cache_bytes_per_token_per_layer = dense_kv_bytes_per_token(h, w.kv_dtype);
    model.kv_cache_bytes =
        (model.kv_cache_bytes_per_token_per_layer * static_cast<double>(w.kv_len) +
         (k - 1) * 2 * latent * bytes_per_element(w.kv_dtype)) *
        static_cast<double>(w.batch * w.layers);
    add_projections(h, spec.projections, w, model);
    return model;
  }

 private:
  bool grouped_;
};

}  // namespace

void add_compressed_variants(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<Cca>(false));
  table.push_back(std::make_unique<Cca>(true));
}

}  // namespace models
