// Fuzzes the measurement CSV reader (validate/measurements.hpp), which takes a path: each input is
// written to a file in the fuzzer's scratch directory and read back.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "fuzz/fuzz_support.hpp"
#include "models/registry.hpp"
#include "validate/measurements.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const models::Registry registry;
  const auto path = fuzz_support::write_input(data, size, "measurements.csv");
  try {
    (void)validate::read_measurements(path, registry);
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
