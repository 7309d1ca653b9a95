#include "models/registry.hpp"

#include <fmt/format.h>

#include "models/dense_variants.hpp"
#include "models/errors.hpp"

namespace models {

Registry::Registry() {
  variants_.push_back(make_head_sharing_variant(HeadSharing::mha));
  variants_.push_back(make_head_sharing_variant(HeadSharing::mqa));
  variants_.push_back(make_head_sharing_variant(HeadSharing::gqa));
}

const Variant& Registry::find(std::string_view name) const {
  std::string known;
  for (const auto& v : variants_) {
    if (v->name() == name) return *v;
    if (!known.empty()) known += ", ";
    known += v->name();
  }
  throw SpecError(fmt::format("unknown variant '{}'; known: {}", name, known));
}

}  // namespace models
