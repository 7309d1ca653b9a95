// Pieces of `attnsim validate` that talk to the terminal and the CUDA device list.
#pragma once

#include <cstddef>
#include <string>

#include "cli/output.hpp"

namespace cli {

// The --devices report: CUDA support in this build and the devices present, in `format`.
std::string render_devices(Format format);

// Progress on stderr, only when it is a terminal.
void show_progress(std::size_t done, std::size_t total, const std::string& name);

}  // namespace cli
