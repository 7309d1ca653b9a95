// Family C, neighbourhood attention (docs/variants.md §C2): GNA's windows in one to three
// dimensions, strided, dilated or causal per dimension on a token grid (NATTEN), or the blocked
// bound.
#pragma once

#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

void add_neighbourhood_variants(std::vector<std::unique_ptr<Variant>>& table);

}  // namespace models
