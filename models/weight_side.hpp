// Family H, weight-side variants (docs/variants.md §H1, §H2): GQSA (group-sparse, quantised
// projection weights) and MASA (projections built from shared atoms). The attention core is
// dense GQA; only the projections change, so they need --include-projections.
#pragma once

#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

void add_weight_side_variants(std::vector<std::unique_ptr<Variant>>& table);

}  // namespace models
