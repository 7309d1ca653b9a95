// Writing a result to the file the user named with -o, without damaging anything else there.
#pragma once

#include <signal.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstddef>
#include <string>
#include <string_view>

namespace cli {

// Registers a temporary file for removal on SIGINT/SIGTERM/SIGHUP while the guard exists (one at a
// time: the handler can reach only static storage). Signals the caller ignores (nohup) stay
// ignored.
class TempFileGuard {
 public:
  explicit TempFileGuard(const std::string& path);
  ~TempFileGuard();
  TempFileGuard(const TempFileGuard&) = delete;
  TempFileGuard& operator=(const TempFileGuard&) = delete;

 private:
  bool installed_[3] = {};  // SIGINT, SIGTERM, SIGHUP
  struct sigaction old_[3]{};
};

// A write(2)-like call. Tests pass one that fails (a full disk, a signal mid-write) so that no test
// ever has to write to a device.
using WriteFn = ssize_t (*)(int fd, const void* data, std::size_t size);

// Writes `text` to `path`:
//  - a regular file, or a path that does not exist yet, is written whole to a temporary file
//    beside it (`.attnsim-XXXXXXXX`, a unique name that fits wherever the target's does) and
//    renamed over it, so a failed run leaves the old file; SIGINT, SIGTERM and SIGHUP remove the
//    temporary file before the process dies. An existing file keeps its mode and owner;
//  - a symbolic link is followed and its target written (the temporary file goes beside the
//    target); the link itself is never replaced;
//  - anything else (a FIFO, a character device, `/dev/fd/N` from `-o >(cmd)`, or a /proc fd link
//    such as /dev/stdout) is opened and written in place, never replaced or created.
// Throws std::invalid_argument for an empty path or a directory (bad input) and
// std::runtime_error naming the path for I/O failures ("disk full" for ENOSPC).
void write_file(std::string_view text, const std::string& path, WriteFn write_fn = ::write);

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
