// Strict reader for one JSON object: every key must be asked for, so a misspelled key is an error
// naming the JSON pointer and the keys that are allowed there.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "hwprofiles/ranges.hpp"

namespace hw {

class JsonObject {
 public:
  // Throws ProfileError if `value` is not an object.
  JsonObject(const nlohmann::json& value, std::string pointer, const std::string& origin);

  double positive(std::string_view key);
  // A number in `range`; otherwise an error naming the value and the range.
  double in_range(std::string_view key, const Range& range);
  std::optional<double> optional_in_range(std::string_view key, const Range& range);
  double unit_interval(std::string_view key);      // in [0, 1]
  double count(std::string_view key, double max);  // a whole number in [1, max]
  std::optional<double> optional_count(std::string_view key, double max);
  std::optional<std::string> optional_string(std::string_view key);
  std::string string(std::string_view key);
  bool boolean(std::string_view key);
  std::vector<std::string> string_array(std::string_view key, bool required);
  JsonObject object(std::string_view key);
  std::optional<JsonObject> optional_object(std::string_view key);
  bool has(std::string_view key);         // marks the key as allowed
  std::vector<std::string> keys() const;  // for maps with free-form keys

  // Every key present must have been asked for; otherwise throws listing the allowed keys.
  void finish() const;

  const std::string& pointer() const { return pointer_; }
  [[noreturn]] void fail(std::string_view key, const std::string& problem) const;

 private:
  const nlohmann::json& required(std::string_view key);
  const nlohmann::json* find(std::string_view key);
  // `v` as a number; otherwise an error saying `expected` ("a number in (0.1, 1000000]").
  double number(std::string_view key, const nlohmann::json& v, std::string_view expected) const;

  const nlohmann::json& value_;
  std::string pointer_;
  const std::string& origin_;
  std::vector<std::string> allowed_;
};

}  // namespace hw
