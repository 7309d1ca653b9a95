// A unique temporary directory, removed with everything in it when the test ends.
#pragma once

#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <system_error>

#include <unistd.h>

namespace test_support {

class TempDir {
 public:
  explicit TempDir(const std::string& tag = "attnsim-test") {
    std::random_device rd;
    namespace fs = std::filesystem;
    do {
      path_ = fs::temp_directory_path() /
              (tag + "-" + std::to_string(::getpid()) + "-" + std::to_string(rd()));
    } while (!fs::create_directory(path_));
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// Writes `text` to `name` inside `dir` and returns its path.
inline std::filesystem::path write_file(const TempDir& dir, const std::string& text,
                                        const std::string& name = "m.csv") {
  const std::filesystem::path path = dir.path() / name;
  std::ofstream(path) << text;
  return path;
}

}  // namespace test_support
