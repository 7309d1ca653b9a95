// Fuzzes the validation-suite reader (validate/cpu/cpu_suite.hpp, the JSON in validate/suites/).
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "fuzz/fuzz_support.hpp"
#include "validate/cpu/cpu_suite.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    (void)validate::parse_suite(fuzz_support::as_text(data, size), "fuzz.json");
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
