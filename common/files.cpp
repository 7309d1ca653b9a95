#include "common/files.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

namespace common {

std::optional<std::string> read_file(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::string path_lookup_problem(const std::filesystem::path& path) {
  std::error_code ec;
  (void)std::filesystem::status(path, ec);
  if (!ec || ec == std::errc::no_such_file_or_directory || ec == std::errc::not_a_directory)
    return "";
  if (ec == std::errc::too_many_symbolic_link_levels)
    return "a symbolic link loop (too many levels of symbolic links)";
  return ec.message();
}

}  // namespace common
