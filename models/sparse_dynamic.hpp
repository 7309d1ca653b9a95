// Family D, content-dependent sparse attention (docs/variants.md §D1, §D8): NSA (compressed,
// selected and sliding branches plus the selection pass) and H2O (heavy-hitter KV eviction).
// Selection, scoring and top-k are ops of their own, never hidden in the attention.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

void add_dynamic_sparse_variants(std::vector<std::unique_ptr<Variant>>& table);

// fsa's selected branch: the tokens batched per chosen KV block (BLOCK_SIZE_Q of FSA's paper, §D2);
// its block visits carry row_group = this x the query heads of a group (NSA's: the group alone).
inline constexpr std::int64_t kFsaQueryBlock = 32;

}  // namespace models
