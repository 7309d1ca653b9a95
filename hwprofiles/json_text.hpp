// JSON text to a document, with errors that say where: a number too large for a double (1e999)
// names its JSON pointer, which nlohmann's own message does not, and a key repeated in one object
// (which nlohmann silently resolves to the last value) is an error.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace hw {

// Throws ProfileError naming `origin` (and the JSON pointer where there is one).
nlohmann::json parse_json_strictly(const std::string& text, const std::string& origin);

}  // namespace hw
