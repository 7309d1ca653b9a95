// Family E, linear / recurrent attention (docs/variants.md#e1-linear): a chunked scan with a fixed
// dk x dv state per head instead of a KV cache.
#pragma once

#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

void add_linear_variants(std::vector<std::unique_ptr<Variant>>& table);

// Causal (query, key) pairs inside the chunks of one head of `x`: full chunks of b tokens and a
// last one of the remainder, r (r + 1) / 2 each. Useful work; a kernel executes whole tiles.
double intra_chunk_pairs(const ScanShape& x);

}  // namespace models
