#include "cli/sweep_sink.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

#include <fmt/format.h>

#include "cli/output_file.hpp"

namespace cli {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string& path, const char* what) {
  const std::string target =
      path.empty() || path == "-" ? std::string("to stdout") : fmt::format("'{}'", path);
  throw std::runtime_error(fmt::format("cannot write {}: {}", target,
                                       errno == ENOSPC ? "disk full" : std::strerror(errno)) +
                           (what[0] ? std::string(" (") + what + ")" : ""));
}

}  // namespace

SweepSink::SweepSink(const std::string& path) : path_(path) {
  if (path.empty() || path == "-") {
    file_ = stdout;
    return;
  }
  std::error_code ec;
  const fs::path target =
      fs::is_symlink(path, ec) ? fs::weakly_canonical(path, ec) : fs::path(path);
  const auto status = fs::status(target, ec);
  if (fs::is_directory(status))
    throw std::invalid_argument(fmt::format("-o '{}' is a directory", path));
  if (fs::exists(status) && !fs::is_regular_file(status)) {
    file_ = std::fopen(target.c_str(), "w");  // a FIFO or device: written in place
    if (!file_) fail(path_, "");
    return;
  }
  path_ = target.string();
  temp_ = fmt::format("{}.tmp.{}", path_, ::getpid());
  guard_ = std::make_unique<TempFileGuard>(temp_);
  file_ = std::fopen(temp_.c_str(), "w");
  if (!file_) fail(path_, "");
}

SweepSink::~SweepSink() {
  if (file_ && file_ != stdout) std::fclose(file_);
  if (!committed_ && !temp_.empty()) std::remove(temp_.c_str());
}

void SweepSink::write(std::string_view text) {
  if (!text.empty() && std::fwrite(text.data(), 1, text.size(), file_) != text.size()) {
    fail(path_, "");
  }
}

void SweepSink::commit() {
  if (std::fflush(file_) != 0) fail(path_, "");
  if (file_ != stdout) {
    const int rc = std::fclose(file_);
    file_ = nullptr;
    if (rc != 0) fail(path_, "");
  }
  if (!temp_.empty() && std::rename(temp_.c_str(), path_.c_str()) != 0) fail(path_, "rename");
  committed_ = true;
}

}  // namespace cli
