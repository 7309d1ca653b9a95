// Reading a whole input file (a profile, suite, sweep spec, HF config or recorded report) into a
// string, for the parsers that take text.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace common {

// The bytes of the file at `path`, or nullopt when it cannot be opened or is a directory: each
// reader raises its own error, naming what the file was for.
std::optional<std::string> read_file(const std::filesystem::path& path);

// Why `path` cannot even be looked at ("Too many levels of symbolic links" for a link loop, a
// permission denied above it), or "" where it can, or simply does not exist: the readers name
// the path with it as bad input, where std::filesystem's own exception would be a runtime failure.
std::string path_lookup_problem(const std::filesystem::path& path);

}  // namespace common
