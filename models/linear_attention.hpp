// Family E, linear / recurrent attention (reference/variants.md §E1): a chunked scan with a fixed
// dk x dv state per head instead of a KV cache.
#pragma once

#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

void add_linear_variants(std::vector<std::unique_ptr<Variant>>& table);

}  // namespace models
