#include "models/registry.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/errors.hpp"
#include "common/suggest.hpp"
#include "common/text.hpp"
#include "models/compressed_attention.hpp"
#include "models/dense_extensions.hpp"
#include "models/dense_variants.hpp"
#include "models/head_routing.hpp"
#include "models/latent_attention.hpp"
#include "models/linear_attention.hpp"
#include "models/neighbourhood.hpp"
#include "models/recurrent_other.hpp"
#include "models/sparse_dynamic.hpp"
#include "models/sparse_local.hpp"
#include "models/sparse_selected.hpp"
#include "models/sparse_static.hpp"
#include "models/token_compressed.hpp"
#include "models/weight_side.hpp"

namespace models {

Registry::Registry() {
  variants_.push_back(make_head_sharing_variant(HeadSharing::mha));
  variants_.push_back(make_head_sharing_variant(HeadSharing::mqa));
  variants_.push_back(make_head_sharing_variant(HeadSharing::gqa));
  add_dense_extensions(variants_);
  add_head_routing_variants(variants_);
  add_latent_variants(variants_);
  add_compressed_variants(variants_);
  add_token_compressed_variants(variants_);
  add_local_sparse_variants(variants_);
  add_neighbourhood_variants(variants_);
  add_static_sparse_variants(variants_);
  add_dynamic_sparse_variants(variants_);
  add_selected_sparse_variants(variants_);
  add_linear_variants(variants_);
  add_recurrent_variants(variants_);
  add_weight_side_variants(variants_);
}

const Variant& Registry::find(std::string_view name) const {
  // In any case, as profile and model names are (variant names are lower case); without an
  // allocation, since model sweeps look a group's variant up at every point.
  const auto same = [name](std::string_view lower) {
    return lower.size() == name.size() &&
           std::equal(lower.begin(), lower.end(), name.begin(),
                      [](char a, char b) { return a == common::ascii_lower(b); });
  };
  for (const auto& v : variants_) {
    if (same(v->name())) return *v;
  }
  std::vector<std::string> known;
  for (const auto& v : variants_) known.emplace_back(v->name());
  throw common::SpecError(fmt::format("unknown variant '{}'{}; known: {}", name,
                                      common::did_you_mean(name, known), fmt::join(known, ", ")));
}

}  // namespace models
