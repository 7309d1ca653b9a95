#include "models/dense_variants.hpp"

#include <array>

#include <fmt/format.h>

#include "models/dense_attention.hpp"
#include "models/errors.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

constexpr std::int64_t kUncapped = 65536;       // read_heads caps a default kv_heads at heads
constexpr std::int64_t kDefaultGqaKvHeads = 8;  // Llama-3.1-8B/70B (reference/hf-configs)

const std::array<ParamInfo, 4> kMhaParams = {{
    {"heads", "query heads (Hq)", "32", 1, 65536},
    {"kv_heads", "key/value heads (Hkv); must equal heads", "= heads", 1, 65536},
    {"head_dim", "query/key head dimension (d)", "128", 1, 4096},
    {"v_head_dim", "value head dimension (dv)", "= head_dim", 1, 4096},
}};
const std::array<ParamInfo, 4> kMqaParams = {{
    {"heads", "query heads (Hq)", "32", 1, 65536},
    {"kv_heads", "key/value heads (Hkv); must be 1", "1", 1, 1},
    {"head_dim", "query/key head dimension (d)", "128", 1, 4096},
    {"v_head_dim", "value head dimension (dv)", "= head_dim", 1, 4096},
}};
const std::array<ParamInfo, 4> kGqaParams = {{
    {"heads", "query heads (Hq)", "32", 1, 65536},
    {"kv_heads", "key/value heads (Hkv); must divide heads", "8", 1, 65536},
    {"head_dim", "query/key head dimension (d)", "128", 1, 4096},
    {"v_head_dim", "value head dimension (dv)", "= head_dim", 1, 4096},
}};

class HeadSharingVariant final : public Variant {
 public:
  explicit HeadSharingVariant(HeadSharing kind) : kind_(kind) {}

  std::string_view name() const override {
    switch (kind_) {
      case HeadSharing::mha:
        return "mha";
      case HeadSharing::mqa:
        return "mqa";
      case HeadSharing::gqa:
        return "gqa";
    }
    return "?";
  }
  std::string_view family() const override { return "dense"; }
  std::string_view summary() const override {
    switch (kind_) {
      case HeadSharing::mha:
        return "multi-head attention: every query head has its own K/V head";
      case HeadSharing::mqa:
        return "multi-query attention: all query heads share one K/V head";
      case HeadSharing::gqa:
        return "grouped-query attention: each K/V head serves heads/kv_heads query heads";
    }
    return "";
  }
  std::span<const ParamInfo> params() const override {
    switch (kind_) {
      case HeadSharing::mha:
        return kMhaParams;
      case HeadSharing::mqa:
        return kMqaParams;
      case HeadSharing::gqa:
        return kGqaParams;
    }
    return {};
  }

  AttentionSpec make_spec(const ParamValues& given, const ProjectionConfig& proj) const override {
    ParamReader r(*this, given);
    AttentionSpec spec;
    spec.variant = this;
    const std::int64_t default_kv = kind_ == HeadSharing::mha   ? kUncapped
                                    : kind_ == HeadSharing::mqa ? 1
                                                                : kDefaultGqaKvHeads;
    spec.heads = read_heads(r, name(), default_kv);  // mha: kv_heads defaults to heads
    const HeadConfig& h = spec.heads;
    if (kind_ == HeadSharing::mha && h.kv_heads != h.heads) {
      throw SpecError(fmt::format(
          "mha needs kv_heads == heads (got heads {} and kv_heads {}); use --variant gqa", h.heads,
          h.kv_heads));
    }
    if (proj.hidden_size < 0) {
      throw SpecError(fmt::format("hidden size must be positive, got {}", proj.hidden_size));
    }
    spec.projections = proj;
    return spec;
  }

  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    CostModel model;
    model.layers = w.layers;
    add_dense_attention(spec.heads, w, model);
    add_projections(spec.heads, spec.projections, w, model);
    return model;
  }

 private:
  HeadSharing kind_;
};

}  // namespace

std::unique_ptr<Variant> make_head_sharing_variant(HeadSharing kind) {
  return std::make_unique<HeadSharingVariant>(kind);
}

}  // namespace models
