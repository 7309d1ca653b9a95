// `attnsim validate --recorded REPORT.json`: the cases of an earlier `validate --backend cuda` run
// (its JSON report, e.g. one committed under validate/results/), compared again with today's
// model and profiles, without the GPU they ran on.
#pragma once

#include <string>

#include "cli/validate_backends.hpp"
#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"

namespace cli {

// Each case is found by name in the report's suite (or `o.suite`) and predicted on the report's
// profile (or `o.profile`), with the measured median, samples and correctness it recorded. Bad
// input (not a CUDA report, a case its suite lacks, malformed JSON) is std::invalid_argument or
// common::SpecError naming the file.
Acquired read_recorded_report(const std::string& path, const models::Registry& registry,
                              const BackendOptions& o, const hw::ProfileCatalog& catalog);

}  // namespace cli
