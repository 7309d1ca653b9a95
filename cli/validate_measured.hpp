// `attnsim validate --measurements`: the rows of published timing files, each priced on its
// device (with --hw-set), or skipped, or priced with `auto` instead of a kernel that cannot price
// it, with the warnings that say so.
#pragma once

#include "cli/context.hpp"
#include "cli/validate_backends.hpp"
#include "cli/validate_options.hpp"
#include "hwprofiles/catalog.hpp"

namespace cli {

// Every skipped row is a warning (and a count in the report's summary); so is every row priced
// with `auto` instead of the kernel it names (`repriced`). Each row's device becomes its profile
// id, so that rows naming one device differently (`H100`, `h100-sxm5-80gb`) are one group and one
// fit. Warnings are printed on stderr before the report.
Acquired read_measurement_files(const Context& ctx, const ValidateOptions& o,
                                const hw::ProfileCatalog& catalog);

}  // namespace cli
