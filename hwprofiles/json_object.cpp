#include "hwprofiles/json_object.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/suggest.hpp"
#include "hwprofiles/profile.hpp"

namespace hw {

namespace {
std::string type_name(const nlohmann::json& v) {
  return v.type_name();
}
}  // namespace

std::string to_string(const Range& range) {
  return fmt::format("{}{}, {}]", range.low_included ? "[" : "(", range.low, range.high);
}

JsonObject::JsonObject(const nlohmann::json& value, std::string pointer, const std::string& origin)
    : value_(value), pointer_(std::move(pointer)), origin_(origin) {
  if (!value_.is_object()) {
    throw ProfileError(origin_, pointer_, "expected an object, found " + type_name(value_));
  }
}

void JsonObject::fail(std::string_view key, const std::string& problem) const {
  throw ProfileError(origin_, pointer_ + "/" + std::string(key), problem);
}

const nlohmann::json* JsonObject::find(std::string_view key) {
  // A key asked for twice (has() then in_range(), optional_*() then its required reader) is
  // allowed once: the error lists each allowed key once.
  if (std::find(allowed_.begin(), allowed_.end(), key) == allowed_.end()) {
    allowed_.emplace_back(key);
  }
  auto it = value_.find(std::string(key));
  return it == value_.end() ? nullptr : &*it;
}

const nlohmann::json& JsonObject::required(std::string_view key) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) fail(key, "missing required key");
  return *v;
}

std::vector<std::string> JsonObject::keys() const {
  std::vector<std::string> out;
  for (const auto& [key, v] : value_.items()) out.push_back(key);
  return out;
}

bool JsonObject::has(std::string_view key) {
  return find(key) != nullptr;
}

double JsonObject::number(std::string_view key, const nlohmann::json& v,
                          std::string_view expected) const {
  if (v.is_number()) return v.get<double>();
  // A string shows its text: `--hw-set key=0x10` or `key=` arrives as one.
  fail(key, fmt::format("expected {}, found {}{}", expected, type_name(v),
                        v.is_string() ? " '" + v.get<std::string>() + "'" : ""));
}

double JsonObject::positive(std::string_view key) {
  double x = number(key, required(key), "a number > 0");
  if (!(x > 0)) fail(key, fmt::format("expected a number > 0, found {}", x));
  return x;
}

double JsonObject::in_range(std::string_view key, const Range& range) {
  const std::string expected = "a number in " + to_string(range);
  const double x = number(key, required(key), expected);
  if (!range.contains(x)) fail(key, fmt::format("expected {}, found {}", expected, x));
  return x;
}

std::optional<double> JsonObject::optional_in_range(std::string_view key, const Range& range) {
  if (find(key) == nullptr) return std::nullopt;
  return in_range(key, range);
}

double JsonObject::unit_interval(std::string_view key) {
  double x = number(key, required(key), "a number in [0, 1]");
  if (!(x >= 0 && x <= 1)) fail(key, fmt::format("expected a number in [0, 1], found {}", x));
  return x;
}

double JsonObject::count(std::string_view key, double max) {
  const std::string expected = fmt::format("a whole number in [1, {}]", max);
  double x = number(key, required(key), expected);
  if (!(x >= 1 && x <= max && x == std::floor(x))) {
    fail(key, fmt::format("expected {}, found {}", expected, x));
  }
  return x;
}

std::optional<double> JsonObject::optional_count(std::string_view key, double max) {
  if (find(key) == nullptr) return std::nullopt;
  return count(key, max);
}

std::optional<std::string> JsonObject::optional_string(std::string_view key) {
  if (find(key) == nullptr) return std::nullopt;
  return string(key);
}

bool JsonObject::boolean(std::string_view key) {
  const nlohmann::json& v = required(key);
  if (!v.is_boolean()) fail(key, "expected true or false, found " + type_name(v));
  return v.get<bool>();
}

std::string JsonObject::string(std::string_view key) {
  const nlohmann::json& v = required(key);
  if (!v.is_string()) fail(key, "expected a string, found " + type_name(v));
  auto s = v.get<std::string>();
  if (s.empty()) fail(key, "expected a non-empty string");
  return s;
}

std::vector<std::string> JsonObject::string_array(std::string_view key, bool is_required) {
  const nlohmann::json* v = is_required ? &required(key) : find(key);
  std::vector<std::string> out;
  if (v == nullptr) return out;
  if (!v->is_array()) fail(key, "expected an array of strings, found " + type_name(*v));
  for (std::size_t i = 0; i < v->size(); ++i) {
    const auto& item = (*v)[i];
    if (!item.is_string() || item.get<std::string>().empty()) {
      fail(fmt::format("{}/{}", key, i), "expected a non-empty string");
    }
    out.push_back(item.get<std::string>());
  }
  if (is_required && out.empty()) fail(key, "expected at least one entry");
  return out;
}

JsonObject JsonObject::object(std::string_view key) {
  return JsonObject(required(key), pointer_ + "/" + std::string(key), origin_);
}

std::optional<JsonObject> JsonObject::optional_object(std::string_view key) {
  const nlohmann::json* v = find(key);
  if (v == nullptr) return std::nullopt;
  return JsonObject(*v, pointer_ + "/" + std::string(key), origin_);
}

void JsonObject::finish() const {
  for (const auto& [key, v] : value_.items()) {
    if (std::find(allowed_.begin(), allowed_.end(), key) == allowed_.end()) {
      throw ProfileError(
          origin_, pointer_ + "/" + key,
          fmt::format("unknown key '{}'{}; allowed: {}", key, common::did_you_mean(key, allowed_),
                      fmt::join(allowed_, ", ")));
    }
  }
}

}  // namespace hw
