// Fuzzes the measurement CSV reader (validate/measurements.hpp), which takes a path: each input is
// written to a file in the fuzzer's scratch directory and read back. The cases it accepts are then
// predicted on their profile, as `attnsim validate --measurements` does, so that any workload the
// reader lets through also reaches the engines.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "fuzz/fuzz_support.hpp"
#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"
#include "validate/compare.hpp"
#include "validate/measurements.hpp"

namespace {
constexpr std::size_t kMaxCasesPredicted = 8;  // keeps one input fast
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const models::Registry registry;
  static const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const auto path = fuzz_support::write_input(data, size, "measurements.csv");
  try {
    const validate::MeasurementSet set = validate::read_measurements(path, registry);
    for (std::size_t i = 0; i < set.cases.size() && i < kMaxCasesPredicted; ++i) {
      try {
        (void)validate::evaluate_case(set.cases[i], catalog.resolve(set.cases[i].hw));
      } catch (const std::invalid_argument&) {
      }
    }
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
