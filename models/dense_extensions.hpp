// Family A beyond head sharing (docs/variants.md §A5, A8, A10, A11): SQA, differential,
// gated and sigmoid attention. Each is dense attention with different head counts, an extra map,
// an output gate or another score function.
#pragma once

#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

void add_dense_extensions(std::vector<std::unique_ptr<Variant>>& table);

}  // namespace models
