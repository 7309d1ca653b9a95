// Fuzzes the sweep spec reader (cli/sweep_spec.hpp, `attnsim sweep --spec FILE.json`). Besides the
// rule every target checks (a malformed input is refused only as bad input), an accepted spec must
// hold what `sweep` relies on when it turns the entries into flags: every key is unique once '_' is
// read as '-', is written with dashes only, and carries at least one value.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <stdexcept>
#include <string>

#include "cli/sweep_spec.hpp"
#include "fuzz/fuzz_support.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<cli::SweepSpecEntry> entries;
  try {
    entries = cli::parse_sweep_spec(fuzz_support::as_text(data, size), "fuzz.json");
  } catch (const std::invalid_argument&) {
    return 0;
  }
  std::set<std::string> keys;
  for (const cli::SweepSpecEntry& entry : entries) {
    const bool fresh = keys.insert(entry.key).second;
    const bool dashed = entry.key.find('_') == std::string::npos;
    if (!fresh || !dashed || entry.values.empty()) std::abort();
  }
  return 0;
}
