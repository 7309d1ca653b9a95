// JSON text from outside (a Hugging Face config.json) to a document, refusing what nlohmann would
// let pass silently: a key repeated in one object (nlohmann keeps the last value), and a number
// beyond a double (nlohmann's own error names no file).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace models {

// Throws common::SpecError naming `source`: "not valid JSON: ...", or "key 'K' is given twice" with
// the JSON pointer of the object when it is not the top level.
nlohmann::json parse_json_refusing_repeats(const std::string& text, const std::string& source);

}  // namespace models
