// Fuzzes the Hugging Face config.json importer (models/hf_config.hpp) through its file entry,
// which also covers the JSON syntax errors it must turn into SpecError.
#include <cstddef>
#include <cstdint>
#include <stdexcept>

#include "fuzz/fuzz_support.hpp"
#include "models/hf_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const auto path = fuzz_support::write_input(data, size, "config.json");
  try {
    (void)models::load_hf_config(path.string());
  } catch (const std::invalid_argument&) {
  }
  return 0;
}
