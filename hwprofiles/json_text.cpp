#include "hwprofiles/json_text.hpp"

#include "common/json_events.hpp"
#include "hwprofiles/profile.hpp"

namespace hw {

nlohmann::json parse_json_strictly(const std::string& text, const std::string& origin) {
  return common::parse_json_events(text, [&](const common::JsonFault& f) {
    switch (f.kind) {
      case common::JsonFault::Kind::repeated_key:
        throw ProfileError(origin, f.pointer, "duplicate key '" + f.key + "'");
      case common::JsonFault::Kind::number_overflow:
        throw ProfileError(
            origin, f.pointer,
            "number out of range: " + (f.detail.empty() ? "the number" : "'" + f.detail + "'") +
                " is larger than a double can hold");
      case common::JsonFault::Kind::malformed:
        break;
    }
    throw ProfileError(origin + ": malformed JSON: " + f.detail);
  });
}

}  // namespace hw
