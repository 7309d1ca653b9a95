// Family C, local / static sparse (docs/variants.md §C1, §C4): sliding-window attention with
// optional attention-sink tokens (StreamingLLM).
#pragma once

#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

void add_local_sparse_variants(std::vector<std::unique_ptr<Variant>>& table);

}  // namespace models
