// attnsim's main (cli/main.cpp), compiled under the name attnsim_main so the CLI fuzz target can
// call it in-process, once per input, exactly as the executable runs it. The headers main.cpp
// uses come first, so the rename touches main.cpp's own definition only.
#include <exception>
#include <iostream>
#include <stdexcept>

#include <CLI/CLI.hpp>

#include "cli/context.hpp"
#include "cli/flags.hpp"
#include "validate/cuda/cuda_devices.hpp"

#define main attnsim_main
#include "cli/main.cpp"
#undef main
