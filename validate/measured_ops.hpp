// The optional `op` column of a timing row: which ops of the row's variant it timed.
#pragma once

#include <string>
#include <string_view>

#include "validate/measurements.hpp"

namespace validate {

// The `op` column names ops of the row's variant (for this pass): anything else is bad input
// (std::invalid_argument naming `where` and listing the ops the variant has). A cost the variant
// cannot build throws SpecError, which skips the row as elsewhere.
void check_op(const MeasuredCase& c, const std::string& where);

// The ops of `implied` (names joined by '+', as the column takes them) that the row's variant has
// in its passes, joined the same way: what a branch kernel's name implies for this row (an
// nsa-compressed-topk backward row: the compressed attention alone, whose block scores and top-k
// run forward only); empty when it has none of them. A cost the variant cannot build throws
// SpecError, which skips the row.
std::string ops_the_variant_has(const MeasuredCase& c, std::string_view implied);

}  // namespace validate
