// Family C, static sparse patterns beyond a window (docs/variants.md §C3, C5, C6): S2-Attn and
// SinkLoRA's SF-Attn (shifted groups), MoA (elastic per-length spans) and LGA (attention inside
// cross-view groups).
#pragma once

#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

void add_static_sparse_variants(std::vector<std::unique_ptr<Variant>>& table);

}  // namespace models
