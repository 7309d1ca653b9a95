// -o never damages what it does not own: links are written through, FIFOs and devices in place,
// regular files replaced atomically with no temporary file left behind, even when killed. Every
// test works in its own temporary directory; none writes to a device.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <fmt/format.h>
#include <catch2/catch.hpp>

#include "cli/output.hpp"
#include "cli/output_file.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/file_helpers.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using test_support::append_quoted;
using test_support::entries;
using test_support::read_file;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;

// Reads everything from the FIFO at `path` on a thread, as `cat path` would.
class FifoReader {
 public:
  explicit FifoReader(const fs::path& path) : thread_([this, path] { text_ = read_file(path); }) {}
  std::string finish() {
    thread_.join();
    return text_;
  }

 private:
  std::string text_;
  std::thread thread_;
};

// A write(2) that writes half of the first call's bytes, then fails as a full disk does.
ssize_t disk_fills_up(int fd, const void* data, std::size_t size) {
  static thread_local int calls = 0;
  if (calls++ % 2 == 0 && size > 1) return ::write(fd, data, size / 2);
  errno = ENOSPC;
  return -1;
}

// A write(2) that writes a little, then receives SIGTERM, as a run killed mid-write would.
ssize_t killed_mid_write(int fd, const void* data, std::size_t size) {
  const ssize_t n = ::write(fd, data, size < 8 ? size : 8);
  ::raise(SIGTERM);
  return n;
}

}  // namespace

TEST_CASE("write_output through a symlink writes the link's target and keeps the link",
          "[output]") {
  TempDir dir;
  write_file(dir.path() / "target.json", "old\n");
  fs::create_directory(dir.path() / "sub");
  fs::create_symlink("../target.json", dir.path() / "sub" / "link.json");
  cli::write_output("new\n", (dir.path() / "sub" / "link.json").string());
  CHECK(fs::is_symlink(fs::symlink_status(dir.path() / "sub" / "link.json")));
  CHECK(read_file(dir.path() / "target.json") == "new\n");
  CHECK(entries(dir.path()) == std::vector<std::string>{"sub", "target.json"});
  CHECK(entries(dir.path() / "sub") == std::vector<std::string>{"link.json"});
}

TEST_CASE("write_output through a dangling symlink creates the target and keeps the link",
          "[output]") {
  TempDir dir;
  fs::create_symlink("made.json", dir.path() / "link.json");
  cli::write_output("new\n", (dir.path() / "link.json").string());
  CHECK(fs::is_symlink(fs::symlink_status(dir.path() / "link.json")));
  CHECK(read_file(dir.path() / "made.json") == "new\n");
}

TEST_CASE("write_output into a FIFO writes in place and leaves the FIFO a FIFO", "[output]") {
  TempDir dir;
  const fs::path fifo = dir.path() / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  FifoReader reader(fifo);
  cli::write_output("through the pipe\n", fifo.string());
  CHECK(reader.finish() == "through the pipe\n");
  CHECK(fs::is_fifo(fs::symlink_status(fifo)));
  CHECK(entries(dir.path()) == std::vector<std::string>{"pipe"});
}

TEST_CASE("write_output to a symlink to a FIFO (as -o >(cmd) gives) writes into the FIFO",
          "[output]") {
  TempDir dir;
  const fs::path fifo = dir.path() / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  fs::create_symlink(fifo, dir.path() / "fd63");
  FifoReader reader(fifo);
  cli::write_output("via link\n", (dir.path() / "fd63").string());
  CHECK(reader.finish() == "via link\n");
  CHECK(fs::is_fifo(fs::symlink_status(fifo)));
  CHECK(fs::is_symlink(fs::symlink_status(dir.path() / "fd63")));
}

TEST_CASE("write_output replacing a file keeps its permission bits", "[output]") {
  TempDir dir;
  const fs::path target = dir.path() / "out.json";
  write_file(target, "old\n");
  fs::permissions(target, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);
  cli::write_output("new\n", target.string());
  CHECK(read_file(target) == "new\n");
  CHECK(fs::status(target).permissions() ==
        (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
}

TEST_CASE(
    "write_output takes any valid file name: its temporary file has a short name of its own, and a "
    "stale temporary file of a former run is not in the way",
    "[output]") {
  TempDir dir;
  // 250 bytes: a valid name (NAME_MAX is 255) that `<name>.tmp.<pid>` would have made too long.
  const fs::path target = dir.path() / (std::string(245, 'r') + ".json");
  cli::write_output("new\n", target.string());
  CHECK(read_file(target) == "new\n");
  CHECK(entries(dir.path()) == std::vector<std::string>{target.filename().string()});
  // The name a former scheme would have picked for this process, left behind by a crash.
  const fs::path short_target = dir.path() / "out.json";
  write_file(dir.path() / fmt::format("out.json.tmp.{}", ::getpid()), "stale\n");
  cli::write_output("fresh\n", short_target.string());
  CHECK(read_file(short_target) == "fresh\n");
}

TEST_CASE("write_output creates a new file with the mode open(2) gives (0666 less the umask)",
          "[output]") {
  TempDir dir;
  const fs::path target = dir.path() / "new.json";
  const mode_t old = ::umask(022);
  cli::write_output("x\n", target.string());
  ::umask(old);
  struct stat st {};
  REQUIRE(::stat(target.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0644);
}

TEST_CASE("write_output to a directory or an empty path is bad input, and the directory stays",
          "[output]") {
  TempDir dir;
  CHECK_THROWS_AS(cli::write_file("x", dir.path().string()), std::invalid_argument);
  CHECK_THROWS_WITH(cli::write_file("x", dir.path().string()), Catch::Contains("directory"));
  CHECK_THROWS_AS(cli::write_file("x", ""), std::invalid_argument);
  CHECK(fs::is_directory(dir.path()));
  CHECK(entries(dir.path()).empty());
}

TEST_CASE("a full disk is a runtime error saying 'disk full'; the old file stays, no temp file",
          "[output]") {
  TempDir dir;
  const fs::path target = dir.path() / "out.json";
  write_file(target, "old\n");
  CHECK_THROWS_AS(cli::write_file(std::string(4096, 'x'), target.string(), disk_fills_up),
                  std::runtime_error);
  CHECK_THROWS_WITH(cli::write_file(std::string(4096, 'x'), target.string(), disk_fills_up),
                    Catch::Contains("disk full") && Catch::Contains(target.string()));
  CHECK(read_file(target) == "old\n");
  CHECK(entries(dir.path()) == std::vector<std::string>{"out.json"});
}

TEST_CASE("a run killed by SIGTERM while writing removes its temporary file and dies by SIGTERM",
          "[output]") {
  TempDir dir;
  const fs::path target = dir.path() / "out.json";
  write_file(target, "old\n");
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::signal(SIGTERM, SIG_DFL);  // as in attnsim itself (Catch2 installs its own handlers)
    try {
      cli::write_file(std::string(100000, 'x'), target.string(), killed_mid_write);
    } catch (...) {
    }
    ::_exit(0);  // only reached if the signal did not end the process
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK(WIFSIGNALED(status));
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM));
  CHECK(read_file(target) == "old\n");
  CHECK(entries(dir.path()) == std::vector<std::string>{"out.json"});
}

TEST_CASE(
    "an output path naming our own descriptor (/dev/fd/N) is written to descriptor N at its "
    "offset, never reopened, replaced or closed",
    "[output]") {
  TempDir dir;
  const fs::path file = dir.path() / "log.txt";
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  REQUIRE(fd >= 0);
  REQUIRE(::write(fd, "before\n", 7) == 7);
  struct stat before {};
  REQUIRE(::fstat(fd, &before) == 0);
  cli::write_file("middle\n", fmt::format("/dev/fd/{}", fd));
  cli::write_file("again\n", fmt::format("/proc/self/fd/{}", fd));
  // Still open, at the offset after what went through it, as `echo x >/dev/stdout` leaves it.
  REQUIRE(::write(fd, "after\n", 6) == 6);
  ::close(fd);
  CHECK(read_file(file) == "before\nmiddle\nagain\nafter\n");
  struct stat after {};
  REQUIRE(::stat(file.c_str(), &after) == 0);
  CHECK(after.st_ino == before.st_ino);  // the same file, not one renamed over it
  CHECK(entries(dir.path()) == std::vector<std::string>{"log.txt"});
}

TEST_CASE("an output path naming a descriptor we have not open is an I/O failure naming the path",
          "[output]") {
  const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);  // read only: a free number after
  REQUIRE(fd >= 0);
  ::close(fd);
  const std::string path = fmt::format("/dev/fd/{}", fd);
  CHECK_THROWS_WITH(cli::write_file("x", path), Catch::Contains("cannot write '" + path + "'"));
}

TEST_CASE("an output file dropped before commit leaves the old file and no temporary file",
          "[output]") {
  TempDir dir;
  const fs::path target = dir.path() / "out.csv";
  write_file(target, "old\n");
  {
    cli::OutputFile out(target.string());
    out.write(std::string(200000, 'x'));  // more than the buffer: some of it reaches the disk
    CHECK(entries(dir.path()).size() == 2);
  }
  CHECK(read_file(target) == "old\n");
  CHECK(entries(dir.path()) == std::vector<std::string>{"out.csv"});
}

TEST_CASE("a run killed by SIGTERM with two output files open removes both temporary files",
          "[output]") {
  TempDir dir;
  const pid_t child = ::fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    ::signal(SIGTERM, SIG_DFL);  // as in attnsim itself (Catch2 installs its own handlers)
    try {
      cli::OutputFile results((dir.path() / "out.csv").string());
      cli::OutputFile chart((dir.path() / "chart.svg").string());
      results.write(std::string(100000, 'x'));
      chart.write(std::string(100000, 'y'));
      ::raise(SIGTERM);
    } catch (...) {
    }
    ::_exit(0);  // only reached if the signal did not end the process
  }
  int status = 0;
  REQUIRE(::waitpid(child, &status, 0) == child);
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM));
  CHECK(fs::is_empty(dir.path()));
}

TEST_CASE(
    "unusable_path_problem names a name longer than NAME_MAX, as given or through a link, and "
    "links that loop",
    "[output]") {
  TempDir dir;
  const std::string long_name = std::string(256, 'n') + ".json";
  CHECK_THAT(cli::unusable_path_problem((dir.path() / long_name).string()),
             Catch::Contains("longer than 255 bytes"));
  fs::create_symlink(long_name, dir.path() / "link.json");
  CHECK_THAT(cli::unusable_path_problem((dir.path() / "link.json").string()),
             Catch::Contains("longer than 255 bytes"));
  fs::create_symlink("loop.json", dir.path() / "loop.json");
  CHECK(cli::unusable_path_problem((dir.path() / "loop.json").string()) ==
        "too many levels of symbolic links");
  CHECK(cli::unusable_path_problem((dir.path() / (std::string(255, 'n'))).string()).empty());
  CHECK(cli::unusable_path_problem((dir.path() / "missing" / "x.json").string()).empty());
}

TEST_CASE("query -o '' exits 2 naming -o; nothing is written to stdout", "[cli][output]") {
  const RunResult r = run_cli({"query", "-o", ""});
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("--output") && Catch::Contains("empty"));
}

namespace {

// Runs `attnsim ARGS` (ARGS already shell-quoted where needed) while `cat` reads the FIFO at `fifo`
// into DIR/got; returns the shell's exit status. The reader gives up after 20 s, so a run that
// replaces the FIFO fails instead of hanging.
int run_with_fifo_reader(const TempDir& dir, const fs::path& fifo, const std::string& args) {
  std::string cmd = "timeout 20 cat ";
  append_quoted(cmd, fifo.string());
  cmd += " > ";
  append_quoted(cmd, (dir.path() / "got").string());
  cmd += " & ";
  append_quoted(cmd, test_support::attnsim_binary());
  cmd += " " + args + "; rc=$?; wait; exit $rc";
  std::string quoted;
  append_quoted(quoted, cmd);
  return std::system(("bash -c " + quoted).c_str());
}

}  // namespace

TEST_CASE("query -o FIFO streams the result into the FIFO and keeps it a FIFO", "[cli][output]") {
  TempDir dir;
  const fs::path fifo = dir.path() / "pipe";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string args = "query --format json --hw h100 -o ";
  append_quoted(args, fifo.string());
  const int status = run_with_fifo_reader(dir, fifo, args);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(fs::is_fifo(fs::symlink_status(fifo)));
  CHECK_THAT(read_file(dir.path() / "got"), Catch::Contains("\"h100-sxm5-80gb\""));
}

TEST_CASE("query --plot FIFO (as --plot >(cmd) gives) draws into it, whatever its name",
          "[cli][output][plot]") {
  TempDir dir;
  const fs::path fifo = dir.path() / "chart-pipe";  // not named .svg: a FIFO is written in place
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  std::string args = "query --hw h100 --plot ";
  append_quoted(args, fifo.string());
  args += " > ";  // stdout: the results table, kept apart from the chart
  append_quoted(args, (dir.path() / "table.txt").string());
  const int status = run_with_fifo_reader(dir, fifo, args);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK(fs::is_fifo(fs::symlink_status(fifo)));
  CHECK_THAT(read_file(dir.path() / "got"), Catch::Contains("<svg") && Catch::EndsWith("</svg>\n"));
}

namespace {

// Runs attnsim with its stdout closed (so every write to it fails, as on a closed pipe or a full
// disk), stderr captured.
RunResult run_with_stdout_closed(const std::vector<std::string>& args) {
  TempDir scratch;
  const fs::path err_file = scratch.path() / "stderr";
  std::string cmd;
  append_quoted(cmd, test_support::attnsim_binary());
  for (const std::string& a : args) {
    cmd.push_back(' ');
    append_quoted(cmd, a);
  }
  cmd += " >&- 2>";
  append_quoted(cmd, err_file.string());
  const int status = std::system(cmd.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_file(err_file);
  return r;
}

}  // namespace

TEST_CASE("a report that cannot be written to stdout is a runtime error naming stdout",
          "[cli][output]") {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"query"},
                                               {"query", "--format", "json"},
                                               {"hw", "list"},
                                               {"variants", "show", "gqa"},
                                               {"compare", "--variants", "gqa,mla"},
                                               {"sweep", "--seq-len", "1k,2k"}}) {
    INFO(args[0]);
    const RunResult r = run_with_stdout_closed(args);
    CHECK(r.exit_code == 1);
    CHECK_THAT(r.err, Catch::Contains("cannot write to stdout"));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}
