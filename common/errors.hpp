#pragma once

#include <stdexcept>
#include <string>

namespace common {

// A workload or attention spec the user asked for that is not valid. Bad input: the CLI exits 2.
class SpecError : public std::invalid_argument {
 public:
  explicit SpecError(const std::string& message) : std::invalid_argument(message) {}
};

// A kernel that does not run the shape it was given (FlashMLA with values apart from the keys, an
// fp16-only template given bf16, a state too large for shared memory) or does not run on the device
// at all (no calibration entry there, no matrix path for the dtype): bad input on the command
// line; in `validate`, a measurement row that is priced with `--kernel auto` instead.
class KernelRefusal : public SpecError {
 public:
  explicit KernelRefusal(const std::string& message) : SpecError(message) {}
};

}  // namespace common
