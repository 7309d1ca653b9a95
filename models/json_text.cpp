#include "models/json_text.hpp"

#include <fmt/format.h>

#include "common/errors.hpp"
#include "common/json_events.hpp"

namespace models {

nlohmann::json parse_json_refusing_repeats(const std::string& text, const std::string& source) {
  return common::parse_json_events(text, [&](const common::JsonFault& f) {
    switch (f.kind) {
      case common::JsonFault::Kind::repeated_key:
        throw common::SpecError(fmt::format("{}: key '{}' is given twice{}; give it once", source,
                                            f.key,
                                            f.object.empty() ? "" : " (in " + f.object + ")"));
      case common::JsonFault::Kind::number_overflow:
        // Beyond DBL_MAX: without this it escaped as a runtime failure naming no file.
        throw common::SpecError(
            fmt::format("{}: not valid JSON: {} is out of range (beyond about 1.8e308)", source,
                        f.detail.empty() ? "a number" : "number " + f.detail));
      case common::JsonFault::Kind::malformed:
        break;
    }
    throw common::SpecError(fmt::format("{}: not valid JSON: {}", source, f.detail));
  });
}

}  // namespace models
