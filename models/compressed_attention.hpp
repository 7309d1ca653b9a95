// Family B, feature-compressed attention beyond MLA (docs/variants.md §B3, §B4): CCA/CCGQA
// (attention inside a down-projected latent) and TPLA (MLA's latent sharded across devices).
#pragma once

#include <memory>
#include <vector>

#include "models/variant.hpp"

namespace models {

void add_compressed_variants(std::vector<std::unique_ptr<Variant>>& table);

}  // namespace models
