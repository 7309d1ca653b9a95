#include "cli/output_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <system_error>
#include <utility>

#include <fmt/format.h>

namespace cli {

namespace {

namespace fs = std::filesystem;

// The temporary files a signal must remove. A signal handler can reach nothing but static storage,
// so this is attnsim's one piece of global mutable state; only TempFileGuard writes it (from the
// main thread). A command writes at most its results and its chart at once.
constexpr int kTempSlots = 4;
char g_temp_paths[kTempSlots][4096];
volatile std::sig_atomic_t g_temp_registered[kTempSlots] = {};

constexpr int kCleanupSignals[] = {SIGINT, SIGTERM, SIGHUP};
// The handlers in place before the first live guard installed ours, restored by the last.
int g_live_guards = 0;
bool g_installed[std::size(kCleanupSignals)] = {};
struct sigaction g_old_actions[std::size(kCleanupSignals)];

// Async-signal-safe only: unlink, signal and raise. The signal stays blocked while the handler
// runs, so the re-raised one is delivered (with the default action: death) when it returns.
extern "C" void remove_temp_and_reraise(int sig) {
  for (int i = 0; i < kTempSlots; ++i) {
    if (g_temp_registered[i]) ::unlink(g_temp_paths[i]);
  }
  ::signal(sig, SIG_DFL);
  ::raise(sig);
}

// `shown` names the target as a message does: "'PATH'" or "to stdout".
[[noreturn]] void io_failure_at(const std::string& shown, int error) {
  const std::string why = error == ENOSPC   ? "disk full"
                          : error == EDQUOT ? "disk quota exceeded"
                          : error == EFBIG  ? "file too large"
                                            : "";
  const std::string system = std::generic_category().message(error);
  throw std::runtime_error(why.empty()
                               ? fmt::format("cannot write {}: {}", shown, system)
                               : fmt::format("cannot write {}: {} ({})", shown, why, system));
}

[[noreturn]] void io_failure(const std::string& path, int error) {
  io_failure_at(fmt::format("'{}'", path), error);
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

struct Resolved {
  fs::path path;              // the last link's target (or `path` itself when it is no link)
  bool through_proc = false;  // a /proc fd link of another process: an open file, no path
  int own_fd = -1;            // N for our own /proc/<pid>/fd/N (/dev/stdout, /dev/fd/N)
};

// N when `path` (its folder made canonical) is /proc/<our pid>/fd/N or
// /proc/<our pid>/task/<tid>/fd/N: a descriptor of this process. -1 otherwise.
int own_descriptor(const fs::path& path) {
  const std::string name = path.filename().string();
  if (name.empty() || name.size() > 9 ||
      name.find_first_not_of("0123456789") != std::string::npos) {
    return -1;
  }
  const std::string folder = path.parent_path().string();
  const std::string ours = fmt::format("/proc/{}/", ::getpid());
  if (folder.rfind(ours, 0) != 0) return -1;
  const std::string rest = folder.substr(ours.size());
  const bool task =
      rest.rfind("task/", 0) == 0 && rest.size() > 8 &&
      rest.compare(rest.size() - 3, 3, "/fd") == 0 &&
      rest.substr(5, rest.size() - 8).find_first_not_of("0123456789") == std::string::npos;
  return rest == "fd" || task ? std::stoi(name) : -1;
}

// Follows symbolic links one by one (resolving each parent directory), so that a link to a file
// that does not exist yet resolves to the path to create, and a /proc link is recognised (our own
// descriptor's is not followed: it names the descriptor, whatever it is open on).
Resolved follow_links(const std::string& path) {
  Resolved r{fs::path(path)};
  for (int hops = 0; hops < 40; ++hops) {
    std::error_code ec;
    const fs::path parent =
        fs::canonical(r.path.parent_path().empty() ? "." : r.path.parent_path(), ec);
    if (ec) return r;  // the open below reports the missing directory
    r.path = parent / r.path.filename();
    r.own_fd = own_descriptor(r.path);
    if (r.own_fd >= 0) return r;
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
  if (path.size() >= sizeof g_temp_paths[0]) return;
  for (int i = 0; i < kTempSlots && slot_ < 0; ++i) {
    if (!g_temp_registered[i]) slot_ = i;
  }
  if (slot_ < 0) return;
  std::memcpy(g_temp_paths[slot_], path.c_str(), path.size() + 1);
  std::atomic_signal_fence(std::memory_order_seq_cst);
  g_temp_registered[slot_] = 1;
  if (g_live_guards++ > 0) return;  // the handler is in place already
  struct sigaction action {};
  action.sa_handler = remove_temp_and_reraise;
  sigemptyset(&action.sa_mask);
  for (std::size_t i = 0; i < std::size(kCleanupSignals); ++i) {
    struct sigaction old {};
    ::sigaction(kCleanupSignals[i], nullptr, &old);
    g_installed[i] = old.sa_handler == SIG_DFL &&
                     ::sigaction(kCleanupSignals[i], &action, &g_old_actions[i]) == 0;
  }
}

TempFileGuard::~TempFileGuard() {
  if (slot_ < 0) return;
  if (--g_live_guards == 0) {
    for (std::size_t i = 0; i < std::size(kCleanupSignals); ++i) {
      if (g_installed[i]) ::sigaction(kCleanupSignals[i], &g_old_actions[i], nullptr);
      g_installed[i] = false;
    }
  }
  g_temp_registered[slot_] = 0;
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
    return {};  // a link loop: unusable_path_problem names it
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

namespace {

constexpr std::size_t kBufferBytes = std::size_t{1} << 16;

}  // namespace

OutputFile::OutputFile(const std::string& path, WriteFn write_fn)
    : shown_(fmt::format("'{}'", path)), write_fn_(write_fn) {
  if (path.empty()) throw std::invalid_argument("the output path is empty");
  const Resolved r = follow_links(path);
  if (r.own_fd >= 0) {
    if (::fcntl(r.own_fd, F_GETFD) < 0) fail(errno);
    std::fflush(nullptr);  // what stdio holds for the descriptor goes first
    fd_ = r.own_fd;
    owns_fd_ = false;
    return;
  }
  struct stat st {};
  const bool exists = ::stat(path.c_str(), &st) == 0;
  if (!exists && errno != ENOENT) fail(errno);
  if (exists && S_ISDIR(st.st_mode)) {
    throw std::invalid_argument(fmt::format("output '{}' is a directory", path));
  }
  if (exists && (!S_ISREG(st.st_mode) || r.through_proc)) {
    // A regular file behind another process's /proc fd link is that process's open file: append.
    const int append = S_ISREG(st.st_mode) ? O_APPEND : 0;
    fd_ = ::open(path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC | append);
    if (fd_ < 0) fail(errno);
    return;
  }
  target_ = r.path.string();
  fd_ = open_temporary(r.path.parent_path(), temp_);
  if (fd_ < 0) io_failure(target_, errno);
  guard_ = std::make_unique<TempFileGuard>(temp_);
  if (exists) {
    if (::fchown(fd_, st.st_uid, st.st_gid) != 0) {
      // Not the owner and not root: the new file is ours, as any new file would be.
    }
    if (::fchmod(fd_, st.st_mode & 07777) != 0) {
      const int error = errno;  // a constructor that throws runs no destructor: clean up here
      ::close(fd_);
      ::unlink(temp_.c_str());
      io_failure(target_, error);
    }
  }
}

OutputFile::OutputFile(StandardOutput, WriteFn write_fn)
    : shown_("to stdout"), fd_(STDOUT_FILENO), owns_fd_(false), write_fn_(write_fn) {
  std::fflush(nullptr);  // std::cout is synchronised with stdio: this flushes it too
}

OutputFile::OutputFile(OutputFile&& other) noexcept
    : shown_(std::move(other.shown_)),
      target_(std::move(other.target_)),
      temp_(std::move(other.temp_)),
      fd_(std::exchange(other.fd_, -1)),
      owns_fd_(other.owns_fd_),
      write_fn_(other.write_fn_),
      buffer_(std::move(other.buffer_)),
      guard_(std::move(other.guard_)),
      committed_(std::exchange(other.committed_, true)) {
  other.temp_.clear();
}

OutputFile::~OutputFile() {
  if (fd_ >= 0 && owns_fd_) ::close(fd_);
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

void OutputFile::fail(int error) const {
  io_failure_at(target_.empty() ? shown_ : fmt::format("'{}'", target_), error);
}

void OutputFile::flush() {
  const int error = write_all(fd_, buffer_, write_fn_);
  buffer_.clear();
  if (error != 0) fail(error);
}

void OutputFile::write(std::string_view text) {
  if (buffer_.size() + text.size() < kBufferBytes) {
    buffer_.append(text);
    return;
  }
  flush();
  if (text.size() < kBufferBytes) {
    buffer_.append(text);
  } else if (const int error = write_all(fd_, text, write_fn_); error != 0) {
    fail(error);
  }
}

void OutputFile::commit() {
  flush();
  if (owns_fd_) {
    const int fd = std::exchange(fd_, -1);
    if (::close(fd) != 0) fail(errno);
  }
  if (!temp_.empty() && ::rename(temp_.c_str(), target_.c_str()) != 0) fail(errno);
  committed_ = true;
  guard_.reset();
}

void write_file(std::string_view text, const std::string& path, WriteFn write_fn) {
  OutputFile file(path, write_fn);
  file.write(text);
  file.commit();
}

std::string unusable_path_problem(const std::string& path) {
  const auto too_long = [](const fs::path& p) -> std::string {
    if (p.string().size() >= PATH_MAX) {
      return fmt::format("the path is longer than {} bytes", PATH_MAX - 1);
    }
    for (const fs::path& name : p) {
      if (name.string().size() > NAME_MAX) {
        return fmt::format("a name in it is longer than {} bytes", NAME_MAX);
      }
    }
    return "";
  };
  if (std::string problem = too_long(path); !problem.empty()) return problem;
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0 && errno == ENAMETOOLONG) {
    return "a name in it is too long for its file system";
  }
  try {
    return too_long(follow_links(path).path);
  } catch (const std::runtime_error&) {
    return "too many levels of symbolic links";
  }
}

}  // namespace cli
