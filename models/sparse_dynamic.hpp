// Family D, content-dependent sparse attention (docs/variants.md §D1, §D8): NSA (compressed,
// selected and sliding branches plus the selection pass) and H2O (heavy-hitter KV eviction).
// Selection, scoring and top-k are ops of their own, never hidden in the attention.
#pragma once

#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

void add_dynamic_sparse_variants(std::vector<std::unique_ptr<Variant>>& table);

}  // namespace models
