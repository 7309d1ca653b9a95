// Writing a result to the file the user named with -o, without damaging anything else there.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace cli {

// Registers a temporary file for removal on SIGINT/SIGTERM/SIGHUP while the guard exists (a few
// at a time, as many as a command writes files at once: the handler can reach only static
// storage). Signals the caller ignores (nohup) stay ignored.
class TempFileGuard {
 public:
  explicit TempFileGuard(const std::string& path);
  ~TempFileGuard();
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;

 private:
  int slot_ = -1;  // -1: no free slot (the file is then left to the caller's cleanup)
};

// A write(2)-like call. Tests pass one that fails (a full disk, a signal mid-write) so that no test
// ever has to write to a device.
using WriteFn = ssize_t (*)(int fd, const void* data, std::size_t size);

// A file being written, piece by piece (a sweep's rows) or whole (write_file), and put in place by
// commit(). Where the bytes go is decided when it is opened, by one rule for every output path:
//  - a regular file, or a path that does not exist yet, is written to a temporary file beside it
//    (`.attnsim-XXXXXXXX`, a unique name that fits wherever the target's does) that commit()
//    renames over it, so a failed run leaves the old file; SIGINT, SIGTERM and SIGHUP remove the
//    temporary file before the process dies. An existing file keeps its mode and owner;
//  - a symbolic link is followed and its target written (the temporary file goes beside the
//    target); the link itself is never replaced;
//  - our own descriptor N named through /proc (/dev/stdout, /dev/fd/N, /proc/self/fd/N,
//    /proc/<our pid>/fd/N, as `-o /dev/stdout > file` or `-o >(cmd)` give) is written as
//    `echo x >/dev/stdout` writes it: to descriptor N itself, at its offset (the file the shell
//    opened, its append mode, what was written to it before), never reopened, replaced or
//    closed. A descriptor that is not open is an I/O failure naming the path;
//  - anything else (a FIFO, a character device, another process's /proc fd link) is opened and
//    written in place, never replaced or created (a regular file behind another process's
//    /proc fd link is appended to: it is that process's open file).
// Destroyed before commit(), it leaves no new file: the temporary file is removed (what went
// into a FIFO or a descriptor cannot be taken back). Writes are buffered; the buffer goes out
// when it fills and at commit(). Throws std::invalid_argument for an empty path or a directory
// (bad input) and std::runtime_error naming the path for I/O failures ("disk full" for ENOSPC).
class OutputFile {
 public:
  explicit OutputFile(const std::string& path, WriteFn write_fn = ::write);
  // The process's standard output (descriptor 1), named "stdout" in messages. Whatever the C and
  // C++ streams hold is flushed first, so that the bytes keep their order.
  struct StandardOutput {};
  explicit OutputFile(StandardOutput, WriteFn write_fn = ::write);
  OutputFile(OutputFile&& other) noexcept;
  OutputFile& operator=(OutputFile&&) = delete;
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  ~OutputFile();

  void write(std::string_view text);
  void commit();

 private:
  void flush();
  [[noreturn]] void fail(int error) const;

  std::string shown_;   // "'PATH'" or "to stdout": how messages name it
  std::string target_;  // what commit() renames the temporary file over ('' when in place)
  std::string temp_;
  int fd_ = -1;
  bool owns_fd_ = true;  // false for a descriptor of the process's own (stdout, /dev/fd/N)
  WriteFn write_fn_;
  std::string buffer_;
  std::unique_ptr<TempFileGuard> guard_;
  bool committed_ = false;
};

// Writes `text` to `path` whole, as OutputFile does.
void write_file(std::string_view text, const std::string& path, WriteFn write_fn = ::write);

// What keeps the system from opening `path` whatever its folder holds, checked before any work as
// the folder is, so that such a path is bad input: a name in it over NAME_MAX bytes or the whole
// at PATH_MAX or more (ENAMETOOLONG), as given or once its links are followed, or links that
// loop. '' when nothing does.
std::string unusable_path_problem(const std::string& path);

// The folder an output file would be written in, when it cannot take one: checked before any work
// so that a bad path is bad input (exit 2), not a failure after the work. Symbolic links are
// followed as write_file follows them, so a dangling link into a missing folder is caught too.
struct FolderProblem {
  std::string folder;         // the folder the file would go in ('' when it can be written)
  bool not_a_folder = false;  // `folder`, or a folder above it, is a file; otherwise it is missing
  bool itself = false;        // the file in the way is the path checked itself, not one above it
  explicit operator bool() const { return !folder.empty(); }
  // "no directory 'F'" or "'F' is not a directory" (naming the file that is in the way).
  std::string describe() const;
};
FolderProblem output_folder_problem(const std::string& path);

// A directory to create as `mkdir -p` does (validate --write-profiles DIR), when it cannot be: DIR,
// or the nearest folder above it that exists, is a file (`not_a_folder`; `itself` when DIR is).
// Links are followed as output_folder_problem follows them: a dangling link names the directory
// to create (directory_to_create), as a dangling -o link names the file to create.
FolderProblem directory_problem(const std::string& dir);
std::string directory_to_create(const std::string& dir);

// Whether two output paths name one file however they are spelt (./x, a/../x, a symbolic link to
// it, a hard link): writing both would leave only the second.
bool same_output_file(const std::string& a, const std::string& b);

}  // namespace cli
