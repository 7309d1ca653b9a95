// Reading JSON text from outside (profiles, Hugging Face configs, sweep specs) with the parser's
// events followed, so that what nlohmann lets pass, or reports without a place, can be named: a
// key repeated in one object (nlohmann keeps the last value) and a number beyond a double.
#pragma once

#include <functional>
#include <string>

#include <nlohmann/json.hpp>

namespace common {

struct JsonFault {
  enum class Kind { repeated_key, number_overflow, malformed };
  Kind kind = Kind::malformed;
  std::string pointer;     // JSON pointer of the value being read (a repeated key: its own)
  std::string object;      // repeated key: JSON pointer of its object ('' at the top)
  std::string parent_key;  // repeated key: the key its object is the value of ('' at the top)
  std::string key;         // repeated key: as compared (after `same_key`)
  int depth = 0;           // repeated key: its object's depth, 1 at the top
  std::string detail;      // number_overflow: the number as written; malformed: nlohmann's message
};

// Parses `text`. On a fault calls `fail`, which must throw the reader's own error (the function
// throws common::SpecError if it returns). `same_key(depth, key)` is what a key is compared as
// (the sweep spec reads `seq_len` as `seq-len` at the top); as written when empty.
nlohmann::json parse_json_events(const std::string& text,
                                 const std::function<void(const JsonFault&)>& fail,
                                 const std::function<std::string(int, std::string)>& same_key = {});

}  // namespace common
