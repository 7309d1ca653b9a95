// Family A, head allocation (docs/variants.md §A4, A6, A7): KDGQA (key-norm driven GQA
// groups), DHA (decoupled key and value head counts) and MoH (top-k routed heads per token).
#pragma once

#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

void add_head_routing_variants(std::vector<std::unique_ptr<Variant>>& table);

}  // namespace models
