// The optional `op` column of a timing row: which ops of the row's variant it timed.
#pragma once

#include <string>

#include "validate/measurements.hpp"

namespace validate {

// The `op` column names ops of the row's variant (for this pass): anything else is bad input
// (std::invalid_argument naming `where` and listing the ops the variant has). A cost the variant
// cannot build throws SpecError, which skips the row as elsewhere.
void check_op(const MeasuredCase& c, const std::string& where);

}  // namespace validate
