// What the Hugging Face config importer (models/hf_config.cpp) knows about single fields: the ones
// that change attention in ways attnsim does not model, and the range of each integer it reads.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace models {

// A field that changes attention in a way attnsim does not model: a config that sets it is refused,
// naming it, never priced as a silently wrong stack.
struct UnsupportedField {
  const char* field;
  const char* why;
};
std::span<const UnsupportedField> unsupported_fields();

// The largest value the integer field may have (its smallest is 1).
std::int64_t hf_field_max(std::string_view field);

}  // namespace models
