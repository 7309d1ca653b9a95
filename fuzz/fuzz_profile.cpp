// Fuzzes the strict hardware-profile loader (hwprofiles/profile_loader.hpp) with JSON text, and
// the `--hw-set key=value` overrides applied to a valid built-in profile.
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "fuzz/fuzz_support.hpp"
#include "hwprofiles/catalog.hpp"
#include "hwprofiles/profile_loader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text = fuzz_support::as_text(data, size);
  try {
    const hw::Profile profile = hw::parse_profile_text(text, "fuzz.json");
    // A profile that loads must print as JSON that loads again.
    (void)hw::parse_profile(hw::to_json(profile), "fuzz.json (printed)");
  } catch (const std::invalid_argument&) {
  }
  if (text.find('=') != std::string::npos && text.find('\n') == std::string::npos) {
    static const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
    try {
      (void)hw::with_overrides(catalog.resolve("h100"), {text});
    } catch (const std::invalid_argument&) {
    }
  }
  return 0;
}
