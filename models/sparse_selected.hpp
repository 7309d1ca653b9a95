// Family D, content-selected sparse attention (docs/variants.md §D3-D7): DMA (value-driven
// top-w keys), LLSA (hierarchical top-k), Routing Transformer (k-means clusters), Superlinear
// (span search) and DHSA (chunk-level selection). Each costs its selection pass as its own ops.
#pragma once

#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

void add_selected_sparse_variants(std::vector<std::unique_ptr<Variant>>& table);

}  // namespace models
