#pragma once

#include <stdexcept>
#include <string>

namespace common {

// A workload or attention spec the user asked for that is not valid. Bad input: the CLI exits 2.
class SpecError : public std::invalid_argument {
 public:
  explicit SpecError(const std::string& message) : std::invalid_argument(message) {}
};

}  // namespace common
