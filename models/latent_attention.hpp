// Family B, latent attention (docs/variants.md#b1-mla): MLA, absorbed and non-absorbed.
#pragma once

#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

// How an MLA layer is computed. auto picks absorbed for decode and the cheaper of the two in
// FLOPs otherwise (absorbed wins when few new queries meet a long cached context).
enum class MlaMode { automatic = 0, absorbed = 1, non_absorbed = 2 };

void add_latent_variants(std::vector<std::unique_ptr<Variant>>& table);

}  // namespace models
