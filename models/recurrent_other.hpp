// Family E beyond plain linear attention (docs/variants.md §E3, §E4): LightNet's additive
// recurrence (a single scan, also non-causal) and GAM's gated associative memory (no token-token
// attention at all).
#pragma once

#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

void add_recurrent_variants(std::vector<std::unique_ptr<Variant>>& table);

}  // namespace models
