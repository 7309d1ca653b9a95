// Family B, token-compressed attention (docs/variants.md §B5-B7): Core Context Aware attention
// (pooled core tokens + local window), FlashVGGT descriptors (cross-attention to down-sampled
// tokens) and FIT (local groups + global latents).
#pragma once

#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

void add_token_compressed_variants(std::vector<std::unique_ptr<Variant>>& table);

}  // namespace models
