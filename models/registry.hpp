// The explicit table of attention variants (no static-initialisation registration).
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "models/variant.hpp"

namespace models {

class Registry {
 public:
  Registry();  // fills the table in registry.cpp
  // Throws SpecError naming the known variants.
  const Variant& find(std::string_view name) const;
  const std::vector<std::unique_ptr<Variant>>& variants() const { return variants_; }

 private:
  std::vector<std::unique_ptr<Variant>> variants_;
};

}  // namespace models
