#include "hwprofiles/profile_files.hpp"

#include <algorithm>
#include <system_error>

#include <fmt/format.h>

#include "common/files.hpp"
#include "hwprofiles/profile.hpp"

namespace hw {

namespace {

// Refuses a --hw-dir that is no directory, saying what it is instead.
void check_profile_directory(const std::filesystem::path& dir) {
  constexpr const char* kAllowed = "allowed: a directory of profile .json files";
  if (const std::string problem = common::path_lookup_problem(dir); !problem.empty()) {
    throw ProfileError(
        fmt::format("'{}': hardware profile directory: {}; {}", dir.string(), problem, kAllowed));
  }
  std::error_code ec;
  const std::filesystem::file_status status = std::filesystem::status(dir, ec);
  if (std::filesystem::is_directory(status)) return;
  const std::string what = dir.empty()                        ? "is an empty path"
                           : !std::filesystem::exists(status) ? "does not exist"
                           : std::filesystem::is_regular_file(status)
                               ? "is a file, not a directory (give the "
                                 "directory that holds the profile file)"
                               : "is not a directory";
  throw ProfileError(
      fmt::format("'{}': hardware profile directory {}; {}", dir.string(), what, kAllowed));
}

// The .json files in `dir`, sorted. A .json entry that cannot be looked at (a link loop) is
// refused, not skipped: it was put there to be read; a link to nothing is no file, and skipped.
std::vector<std::filesystem::path> profile_files_in(const std::filesystem::path& dir) {
  check_profile_directory(dir);
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (std::filesystem::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::filesystem::path& path = it->path();
    if (path.extension() != ".json") continue;
    if (const std::string problem = common::path_lookup_problem(path); !problem.empty()) {
      throw ProfileError(fmt::format(
          "'{}': hardware profile file: {}; allowed: a profile .json file, or no such name in the "
          "directory",
          path.string(), problem));
    }
    std::error_code dangling;
    if (it->is_regular_file(dangling)) files.push_back(path);
  }
  if (ec) {
    throw ProfileError(
        fmt::format("'{}': hardware profile directory: {}", dir.string(), ec.message()));
  }
  std::sort(files.begin(), files.end());
  return files;
}

}  // namespace

std::vector<std::filesystem::path> user_profile_files(
    const std::vector<std::filesystem::path>& user_dirs) {
  std::vector<std::filesystem::path> all;
  for (const auto& dir : user_dirs) {
    for (const auto& path : profile_files_in(dir)) {
      bool seen = false;
      for (const auto& earlier : all) {
        std::error_code ec;
        if (std::filesystem::equivalent(earlier, path, ec)) {
          seen = true;
        } else if (earlier.stem() == path.stem()) {
          throw ProfileError(fmt::format(
              "hardware profile id '{}' is defined twice: by '{}' and by '{}'; remove one or "
              "give it another id",
              path.stem().string(), earlier.string(), path.string()));
        }
      }
      if (!seen) all.push_back(path);
    }
  }
  return all;
}

}  // namespace hw
