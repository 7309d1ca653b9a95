#include "cli/sweep_spec.hpp"

#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "common/files.hpp"
#include "common/json_events.hpp"

namespace cli {

namespace {

using Json = nlohmann::json;

// Flags whose values may be fractions: a variant parameter (group_fraction 0.5) and a profile
// field (calibration.tensor_fraction 0.7).
bool takes_fractions(std::string_view key) {
  return key == "param" || key == "hw-set";
}

// Where a scalar sits, which says what may stand there: a key's own value (anything a flag
// takes), an element of a list, or a value in the object of a key such as `param` or `hw-set`
// (name=value pairs).
enum class Place { key, element, member };

// What `place` holds, for the error message.
std::string allowed_at(Place place, std::string_view key, bool fractions) {
  switch (place) {
    case Place::key:
      return "a string, an integer, a boolean, an array or an object";
    case Place::element:
      return "a list holds strings, integers or booleans";
    case Place::member:
      break;
  }
  return fmt::format(
      "'{}' takes name=value pairs, an object of strings, {} or booleans ({{\"name\": value}}{}) "
      "or a list of \"name=value\" strings",
      key, fractions ? "numbers" : "integers",
      key == "param" ? ", a parameter's sweep values as a list: {\"window\": [256, 4096]}" : "");
}

// One scalar as flag text. Fractions are refused but where the flag takes them: "0.5" for a size
// would only fail later with a message that does not name the file. A whole number written with
// an exponent or beyond 64 bits (1e30, 18446744073709551616, which JSON readers hold as doubles) is
// no fraction: it goes to the flag in decimal digits, and the flag says whether it is in range.
std::string scalar_text(const Json& v, std::string_view where, std::string_view key, Place place,
                        bool fractions) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  if (v.is_number_integer()) return v.dump();
  if (fractions && v.is_number_float()) return fmt::format("{}", v.get<double>());
  if (v.is_number_float() && std::isfinite(v.get<double>()) &&
      std::trunc(v.get<double>()) == v.get<double>()) {
    return fmt::format("{:.0f}", v.get<double>());
  }
  const std::string got = v.is_number()   ? "a fraction (" + v.dump() + ")"
                          : v.is_array()  ? std::string("an array")
                          : v.is_object() ? std::string("an object")
                                          : std::string(v.type_name());
  if (place == Place::key) {
    throw common::SpecError(
        fmt::format("{}: expected {}, got {}", where, allowed_at(place, key, fractions), got));
  }
  throw common::SpecError(
      fmt::format("{}: {}; got {}", where, allowed_at(place, key, fractions), got));
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

// Flags that may be given more than once: an array becomes one value per element.
bool repeatable(std::string_view key) {
  return key == "param" || key == "hw-set" || key == "hw-dir" || key == "hf-config";
}

std::vector<std::string> values_of(const std::string& key, const Json& v, std::string_view where) {
  if (v.is_object()) {
    std::vector<std::string> pairs;
    for (const auto& [name, value] : v.items()) {
      const std::string at = fmt::format("{}.{}", where, name);
      if (key == "param" && value.is_array() && !value.empty()) {
        // A sweep's parameter axis: {"window": [256, 4096]} is --param window=256,4096.
        std::vector<std::string> values;
        for (std::size_t i = 0; i < value.size(); ++i) {
          const std::string item_at = fmt::format("{}[{}]", at, i);
          values.push_back(
              scalar_text(value[i], item_at, key, Place::member, takes_fractions(key)));
          if (values.back().find(',') != std::string::npos) {
            throw common::SpecError(
                fmt::format("{}: '{}' holds a comma; give one value per element of the list",
                            item_at, values.back()));
          }
        }
        pairs.push_back(name + "=" + join(values));
        continue;
      }
      pairs.push_back(name + "=" +
                      scalar_text(value, at, key, Place::member, takes_fractions(key)));
    }
    if (pairs.empty()) throw common::SpecError(fmt::format("{}: an empty object", where));
    return repeatable(key) ? pairs : std::vector<std::string>{join(pairs)};
  }
  if (!v.is_array()) return {scalar_text(v, where, key, Place::key, false)};
  std::vector<std::string> items;
  for (std::size_t i = 0; i < v.size(); ++i) {
    items.push_back(scalar_text(v[i], fmt::format("{}[{}]", where, i), key, Place::element, false));
  }
  if (items.empty()) throw common::SpecError(fmt::format("{}: an empty list", where));
  return repeatable(key) ? items : std::vector<std::string>{join(items)};
}

}  // namespace

std::vector<SweepSpecEntry> parse_sweep_spec(std::string_view text, std::string_view source) {
  // nlohmann keeps the last of two equal keys; a spec with both is more likely a mistake, at the
  // top level (flags, `seq_len` and `seq-len` alike) and in an object (`hw-set`, `param`) alike.
  const Json doc = common::parse_json_events(
      std::string(text),
      [&](const common::JsonFault& f) {
        if (f.kind != common::JsonFault::Kind::repeated_key) {
          // nlohmann's message carries the byte offset of the fault.
          throw common::SpecError(fmt::format("{}: not valid JSON ({})", source,
                                              f.kind == common::JsonFault::Kind::malformed
                                                  ? f.detail
                                                  : "number " + f.detail + " is out of range"));
        }
        throw common::SpecError(f.depth == 1
                                    ? fmt::format("{}: key '{}' is given twice", source, f.key)
                                    : fmt::format("{}: key '{}': '{}' is given twice; give it once",
                                                  source, f.parent_key, f.key));
      },
      [](int depth, std::string key) {
        if (depth == 1) std::replace(key.begin(), key.end(), '_', '-');
        return key;
      });
  if (!doc.is_object()) {
    throw common::SpecError(fmt::format("{}: a sweep spec is a JSON object of flag names, got {}",
                                        source, doc.type_name()));
  }
  std::vector<SweepSpecEntry> out;
  for (const auto& [name, value] : doc.items()) {
    std::string key = name;
    std::replace(key.begin(), key.end(), '_', '-');
    out.push_back({key, name, values_of(key, value, fmt::format("{}: key '{}'", source, name))});
  }
  return out;
}

std::vector<SweepSpecEntry> load_sweep_spec(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    throw common::SpecError(fmt::format("--spec {}: is a directory, not a JSON file", path));
  }
  const std::optional<std::string> text = common::read_file(path);
  if (!text) throw common::SpecError(fmt::format("--spec {}: cannot open the file", path));
  return parse_sweep_spec(*text, path);
}

}  // namespace cli
