#include "models/variant.hpp"

#include <cmath>

#include <fmt/format.h>

#include "models/errors.hpp"

namespace models {

namespace {
std::string param_names(const Variant& v) {
  std::string names;
  for (const ParamInfo& p : v.params()) {
    if (!names.empty()) names += ", ";
    names += p.name;
  }
  return names;
}
}  // namespace

ParamReader::ParamReader(const Variant& variant, const ParamValues& given)
    : variant_(variant), given_(given) {
  for (const auto& [name, value] : given_) {
    (void)value;
    info(name);  // throws for an unknown name
  }
}

const ParamInfo& ParamReader::info(std::string_view name) const {
  for (const ParamInfo& p : variant_.params()) {
    if (p.name == name) return p;
  }
  throw SpecError(fmt::format("variant '{}' has no parameter '{}'; its parameters: {}",
                              variant_.name(), name, param_names(variant_)));
}

bool ParamReader::given(std::string_view name) const {
  for (const auto& [n, v] : given_) {
    if (n == name) return true;
  }
  return false;
}

std::int64_t ParamReader::integer(std::string_view name, std::int64_t fallback) const {
  const ParamInfo& p = info(name);
  double value = static_cast<double>(fallback);
  for (const auto& [n, v] : given_) {
    if (n == name) value = v;
  }
  if (value != std::floor(value) || value < p.min || value > p.max) {
    throw SpecError(fmt::format("{} {} ({}) must be an integer in [{}, {}], got {}",
                                variant_.name(), p.name, p.help, p.min, p.max, value));
  }
  return static_cast<std::int64_t>(value);
}

}  // namespace models
