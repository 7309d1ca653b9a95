#include "models/dense_variants.hpp"

#include <array>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "models/dense_attention.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

// Llama-3.1-8B/70B use 8 KV heads (their config.json num_key_value_heads).
constexpr std::array<ParamInfo, 5> kGqaParams = {
    {kHeadsParam, kKvHeadsParam, kHeadDimParam, kVHeadDimParam, kSoftcapParam}};
constexpr std::array<ParamInfo, 5> kMhaParams = {{
    kHeadsParam,
    {"kv_heads",
     "key/value heads (Hkv); must equal heads",
     0,
     1,
     65536,
     ParamType::integer,
     "heads",
     {},
     "= heads"},
    kHeadDimParam,
    kVHeadDimParam,
    kSoftcapParam,
}};
constexpr std::array<ParamInfo, 5> kMqaParams = {{
    kHeadsParam,
    {"kv_heads", "key/value heads (Hkv); must be 1", 1, 1, 1},
    kHeadDimParam,
    kVHeadDimParam,
    kSoftcapParam,
}};
// The same index in all three tables.
constexpr RealParam kSoftcap = real_param(kGqaParams, "softcap");
static_assert(kSoftcap.index == real_param(kMhaParams, "softcap").index &&
              kSoftcap.index == real_param(kMqaParams, "softcap").index);

struct SharingNames {
  std::string_view name, summary;
  std::span<const ParamInfo> params;
};

SharingNames names_of(HeadSharing kind) {
  switch (kind) {
    case HeadSharing::mha:
      return {"mha", "multi-head attention: every query head has its own K/V head", kMhaParams};
    case HeadSharing::mqa:
      return {"mqa", "multi-query attention: all query heads share one K/V head", kMqaParams};
    case HeadSharing::gqa:
      break;
  }
  return {"gqa", "grouped-query attention: each K/V head serves heads/kv_heads query heads",
          kGqaParams};
}

class HeadSharingVariant final : public VariantBase {
 public:
  explicit HeadSharingVariant(HeadSharing kind)
      : VariantBase(names_of(kind).name, "dense", names_of(kind).summary, names_of(kind).params),
        kind_(kind) {}

  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    CostModel model;
    model.layers = w.layers;
    AttentionPattern pattern;
    pattern.softcap = spec.get(kSoftcap) > 0;
    add_dense_attention(spec.heads, w, model, pattern);
    add_projections(spec.heads, spec.projections, w, model);
    return model;
  }

 protected:
  void finish(AttentionSpec& spec) const override {
    const HeadConfig& h = spec.heads;
    if (kind_ == HeadSharing::mha && h.kv_heads != h.heads) {
      throw common::SpecError(fmt::format(
          "mha needs kv_heads == heads (got heads {} and kv_heads {}); use --variant gqa", h.heads,
          h.kv_heads));
    }
  }

 private:
  HeadSharing kind_;
};

}  // namespace

std::unique_ptr<Variant> make_head_sharing_variant(HeadSharing kind) {
  return std::make_unique<HeadSharingVariant>(kind);
}

}  // namespace models
