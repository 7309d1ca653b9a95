#include "cli/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <system_error>

#include <fmt/format.h>

namespace cli {

namespace {

namespace fs = std::filesystem;

// The temporary file a signal must remove. A signal handler can reach nothing but static storage,
// so this is attnsim's one piece of global mutable state; only TempFileGuard writes it.
char g_temp_path[4096];
volatile std::sig_atomic_t g_temp_registered = 0;

constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};
static_assert(std::size(kCleanupSignals) == 3, "TempFileGuard keeps one slot per signal");

// Async-signal-safe only: unlink, signal and raise. The signal stays blocked while the handler
// runs, so the re-raised one is delivered (with the default action: death) when it returns.
extern "C" void remove_temp_and_reraise(int sig) {
  if (g_temp_registered) ::unlink(g_temp_path);
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

[[noreturn]] void io_failure(const std::string& path, int error) {
  const std::string why = error == ENOSPC   ? "disk full"
                          : error == EDQUOT ? "disk quota exceeded"
                          : error == EFBIG  ? "file too large"
                                            : "";
  const std::string system = std::generic_category().message(error);
  throw std::runtime_error(why.empty()
                               ? fmt::format("cannot write '{}': {}", path, system)
                               : fmt::format("cannot write '{}': {} ({})", path, why, system));
}

// Writes all of `text`, retrying short writes and EINTR; returns 0 or the errno of the failure.
int write_all(int fd, std::string_view text, WriteFn write_fn) {
  while (!text.empty()) {
    const ssize_t n = write_fn(fd, text.data(), text.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return n < 0 ? errno : EIO;
    text.remove_prefix(static_cast<std::size_t>(n));
  }
  return 0;
}

void write_in_place(std::string_view text, const std::string& path, int flags, WriteFn write_fn) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC | flags);
  if (fd < 0) io_failure(path, errno);
  int error = write_all(fd, text, write_fn);
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error != 0) io_failure(path, error);
}

// Creates a temporary file in `folder` with a short name of its own, `.attnsim-` and 8 random
// letters or digits (retried while the name is taken), so that it fits wherever the target's name
// does and a stale temporary file is never in the way. Created as open(2) creates any file (0666
// less the umask). Returns the descriptor (-1 with errno set) and its path in `tmp`.
int open_temporary(const fs::path& folder, std::string& tmp) {
  static constexpr std::string_view kLetters =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::random_device random;
  for (int attempt = 0; attempt < 100; ++attempt) {
    std::string name = ".attnsim-";
    for (int i = 0; i < 8; ++i) name += kLetters[random() % kLetters.size()];
    tmp = (folder.empty() ? fs::path(".") / name : folder / name).string();
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOCTTY | O_CLOEXEC, 0666);
    if (fd >= 0 || errno != EEXIST) return fd;
  }
  errno = EEXIST;
  return -1;
}

// Writes `text` to a temporary file beside `target` and renames it over `target`. `existing` is
// the target's stat when it exists, so the new file keeps its mode and owner.
void write_replacing(std::string_view text, const fs::path& target, const struct stat* existing,
                     WriteFn write_fn) {
  std::string tmp;
  const int fd = open_temporary(target.parent_path(), tmp);
  if (fd < 0) io_failure(target.string(), errno);
  TempFileGuard guard(tmp);
  int error = 0;
  if (existing != nullptr) {
    if (::fchown(fd, existing->st_uid, existing->st_gid) != 0) {
      // Not the owner and not root: the new file is ours, as any new file would be.
    }
    if (::fchmod(fd, existing->st_mode & 07777) != 0) error = errno;
  }
  if (error == 0) error = write_all(fd, text, write_fn);
  if (::close(fd) != 0 && error == 0) error = errno;
  if (error == 0 && ::rename(tmp.c_str(), target.c_str()) != 0) error = errno;
  if (error != 0) {
    ::unlink(tmp.c_str());
    io_failure(target.string(), error);
  }
}

struct Resolved {
  fs::path path;              // the last link's target (or `path` itself when it is no link)
  bool through_proc = false;  // a /proc fd link (/dev/stdout, /dev/fd/N): an open file, no path
};

// Follows symbolic links one by one (resolving each parent directory), so that a link to a file
// that does not exist yet resolves to the path to create, and a /proc link is recognised.
Resolved follow_links(const std::string& path) {
  Resolved r{fs::path(path)};
  for (int hops = 0; hops < 40; ++hops) {
    std::error_code ec;
    const fs::path parent =
        fs::canonical(r.path.parent_path().empty() ? "." : r.path.parent_path(), ec);
    if (ec) return r;  // the open below reports the missing directory
    r.path = parent / r.path.filename();
    if (r.path.string().rfind("/proc/", 0) == 0) r.through_proc = true;
    if (!fs::is_symlink(fs::symlink_status(r.path, ec))) return r;
    const fs::path target = fs::read_symlink(r.path, ec);
    if (ec) return r;
    r.path = target.is_absolute() ? target : parent / target;
  }
  throw std::runtime_error(
      fmt::format("cannot write '{}': too many levels of symbolic links", path));
}

}  // namespace

TempFileGuard::TempFileGuard(const std::string& path) {
  if (path.size() >= sizeof g_temp_path) return;
  std::memcpy(g_temp_path, path.c_str(), path.size() + 1);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  g_temp_registered = 1;
  struct sigaction action {};
  action.sa_handler = remove_temp_and_reraise;
  sigemptyset(&action.sa_mask);
  for (std::size_t i = 0; i < std::size(kCleanupSignals); ++i) {
    struct sigaction old {};
    ::sigaction(kCleanupSignals[i], nullptr, &old);
    if (old.sa_handler != SIG_DFL) continue;
    installed_[i] = ::sigaction(kCleanupSignals[i], &action, &old_[i]) == 0;
  }
}

TempFileGuard::~TempFileGuard() {
  for (std::size_t i = 0; i < std::size(kCleanupSignals); ++i) {
    if (installed_[i]) ::sigaction(kCleanupSignals[i], &old_[i], nullptr);
  }
  g_temp_registered = 0;
}

std::string FolderProblem::describe() const {
  return not_a_folder ? fmt::format("'{}' is not a directory", folder)
                      : fmt::format("no directory '{}'", folder);
}

namespace {

// What keeps `folder` (a path whose links are followed) from holding a file: a file in its place
// or above it, or, unless `missing_ok` (a folder to create, as `mkdir -p`), its absence. `given`
// is the path as the user wrote it, which says how to name the folder.
FolderProblem folder_problem(const fs::path& folder, const std::string& given, bool missing_ok) {
  std::error_code ec;
  if (folder.empty() || fs::is_directory(folder, ec)) return {};
  // Named as the user would: relative to the working directory when the path given was relative
  // (following the links made it absolute).
  const fs::path here = fs::path(given).is_absolute() ? fs::path() : fs::current_path(ec);
  const auto shown = [&](const fs::path& p) {
    const fs::path relative = here.empty() ? fs::path() : p.lexically_relative(here);
    return (relative.empty() ? p : relative).string();
  };
  // The nearest thing above that exists says which: a file in the way, or a missing folder.
  for (fs::path above = folder; !above.empty(); above = above.parent_path()) {
    const fs::file_status status = fs::status(above, ec);
    if (fs::exists(status)) {
      if (fs::is_directory(status)) break;
      return {shown(above), true, above == folder};
    }
    if (above == above.parent_path()) break;
  }
  if (missing_ok) return {};
  return {shown(folder), false};
}

// `path` with its links followed, or as given where they loop (the write reports that).
fs::path followed(const std::string& path) {
  try {
    return follow_links(path).path;
  } catch (const std::runtime_error&) {
    return fs::path(path);
  }
}

// `dir` without a trailing separator ("fit/" is the folder "fit").
std::string without_trailing_separator(const std::string& dir) {
  const fs::path p(dir);
  return !p.has_filename() && p.has_relative_path() ? p.parent_path().string() : dir;
}

}  // namespace

FolderProblem output_folder_problem(const std::string& path) {
  try {
    (void)follow_links(path);
  } catch (const std::runtime_error&) {
    return {};  // a link loop: the write reports it
  }
  return folder_problem(followed(path).parent_path(), path, false);
}

FolderProblem directory_problem(const std::string& dir) {
  const std::string trimmed = without_trailing_separator(dir);
  return folder_problem(followed(trimmed), trimmed, true);
}

std::string directory_to_create(const std::string& dir) {
  return followed(without_trailing_separator(dir)).string();
}

bool same_output_file(const std::string& a, const std::string& b) {
  if (a == b) return true;
  std::error_code ec;
  if (fs::equivalent(a, b, ec)) return true;  // both exist: one inode
  try {
    // Files not written yet: the same path once links are followed and parents made canonical.
    return follow_links(a).path.lexically_normal() == follow_links(b).path.lexically_normal();
  } catch (const std::runtime_error&) {
    return false;  // a link loop: the write reports it
  }
}

void write_file(std::string_view text, const std::string& path, WriteFn write_fn) {
  if (path.empty()) throw std::invalid_argument("the output path is empty");
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0) {
    if (S_ISDIR(st.st_mode)) {
      throw std::invalid_argument(fmt::format("output '{}' is a directory", path));
    }
    if (!S_ISREG(st.st_mode)) return write_in_place(text, path, 0, write_fn);
    const Resolved r = follow_links(path);
    // A regular file behind a /proc fd link (`-o /dev/stdout >> log`) is the caller's open file:
    // append to it rather than replace it.
    if (r.through_proc) return write_in_place(text, path, O_APPEND, write_fn);
    return write_replacing(text, r.path, &st, write_fn);
  }
  if (errno != ENOENT) io_failure(path, errno);
  write_replacing(text, follow_links(path).path, nullptr, write_fn);
}

}  // namespace cli
