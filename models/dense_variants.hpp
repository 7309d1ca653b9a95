// Family A1-A3: MHA, MQA and GQA. One cost function; the variants differ only in how many KV heads
// they allow (docs/variants.md#a1-a3-mha-mqa-gqa).
#pragma once

#include <memory>

#include "models/variant.hpp"

namespace models {

enum class HeadSharing { mha, mqa, gqa };

std::unique_ptr<Variant> make_head_sharing_variant(HeadSharing kind);

}  // namespace models
