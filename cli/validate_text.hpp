// The `attnsim validate` report as text: the table (rows, launches timed apart, summaries, the
// per-group table, calibration) and CSV (rows, then the summary as `#` comment lines). Both render
// the JSON document that cli/validate_report.hpp builds, so every format says the same.
#pragma once

#include <string>

#include "cli/validate_report.hpp"

namespace cli {

std::string validate_table(const ValidateJson& doc);
std::string validate_csv(const ValidateJson& doc);

}  // namespace cli
