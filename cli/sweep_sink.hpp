// Where a sweep streams its rows: stdout, or the -o file, written as it goes and put in place by
// commit() (a regular file appears whole or not at all; an abandoned one leaves no file).
#pragma once

#include <cstdio>
#include <memory>
#include <string>
#include <string_view>

namespace cli {

class TempFileGuard;

class SweepSink {
 public:
  explicit SweepSink(const std::string& path);  // "" or "-": stdout
  ~SweepSink();
  SweepSink(const SweepSink&) = delete;
  SweepSink& operator=(const SweepSink&) = delete;

  void write(std::string_view text);
  // Flushes and, for a regular file, renames the temporary file over the path. Throws
  // std::runtime_error naming the path on failure.
  void commit();

 private:
  std::string path_, temp_;
  std::FILE* file_ = nullptr;
  std::unique_ptr<TempFileGuard> guard_;  // removes the temporary file on SIGINT/SIGTERM/SIGHUP
  bool committed_ = false;
};

}  // namespace cli
