// Where the commands' output files go, run through the binary from a shell in a temporary
// directory: stdout named as /dev/stdout is the descriptor the shell opened, a sweep's -o follows
// the rules every -o follows, a chart that cannot be written leaves no new results file, and a
// path the system cannot take is bad input before any work. No test writes to a device.
#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <vector>

#include <catch2/catch.hpp>

#include "tests/support/cli_runner.hpp"
#include "tests/support/file_helpers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/validate_helpers.hpp"

namespace {

namespace fs = std::filesystem;
using test_support::append_quoted;
using test_support::entries;
using test_support::read_file;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;

// Runs `script` with bash in `dir`, "$A" naming the attnsim binary; stdout and stderr captured
// (stderr in a folder of its own, so that `dir` holds only what the script makes).
RunResult shell(const TempDir& dir, const std::string& script) {
  std::string inner = "cd ";
  append_quoted(inner, dir.path().string());
  inner += " && A=";
  append_quoted(inner, test_support::attnsim_binary());
  inner += " && " + script;
  std::string cmd = "bash -c ";
  append_quoted(cmd, inner);
  return test_support::run_command(cmd);
}

std::size_t lines(const std::string& text) {
  return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n'));
}

const std::string kLongName = std::string(256, 'r');  // one byte over NAME_MAX

}  // namespace

TEST_CASE(
    "sweep -o /dev/stdout writes into the file the shell opened: >> appends, > keeps its inode",
    "[cli][output][sweep]") {
  TempDir dir;
  RunResult r =
      shell(dir, "echo old > f.csv && \"$A\" sweep --seq-len 1k,2k -o /dev/stdout >> f.csv");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string appended = read_file(dir.path() / "f.csv");
  CHECK(appended.rfind("old\nhw,variant,", 0) == 0);
  CHECK(lines(appended) == 4);
  // A hard link sees what went into the file: it was written, not replaced by another.
  r = shell(dir, "ln f.csv g.csv && \"$A\" sweep --seq-len 1k,2k -o /dev/stdout > f.csv");
  REQUIRE(r.exit_code == 0);
  CHECK(read_file(dir.path() / "g.csv") == read_file(dir.path() / "f.csv"));
  CHECK(read_file(dir.path() / "g.csv").rfind("hw,variant,", 0) == 0);
  CHECK(entries(dir.path()) == std::vector<std::string>{"f.csv", "g.csv"});
}

TEST_CASE("sweep -o /dev/stdout into a pipe writes its rows into the pipe",
          "[cli][output][sweep]") {
  TempDir dir;
  const RunResult r = shell(
      dir, "\"$A\" sweep --seq-len 1k,2k -o /dev/stdout | cat > got.csv; exit ${PIPESTATUS[0]}");
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(lines(read_file(dir.path() / "got.csv")) == 3);
  CHECK(entries(dir.path()) == std::vector<std::string>{"got.csv"});
}

TEST_CASE("sweep -o onto links that loop is bad input, and leaves no file behind",
          "[cli][output][sweep]") {
  TempDir dir;
  const RunResult r =
      shell(dir, "ln -s loop.csv loop.csv && \"$A\" sweep --seq-len 1k -o loop.csv");
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("too many levels of symbolic links"));
  CHECK(entries(dir.path()) == std::vector<std::string>{"loop.csv"});
}

TEST_CASE("sweep -o takes a 250-byte file name and keeps an existing file's mode",
          "[cli][output][sweep]") {
  TempDir dir;
  const fs::path long_target = dir.path() / (std::string(246, 'r') + ".csv");
  RunResult r = run_cli({"sweep", "--seq-len", "1k", "-o", long_target.string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(lines(read_file(long_target)) == 2);
  const fs::path kept = dir.path() / "private.csv";
  write_file(kept, "old\n");
  fs::permissions(kept, fs::perms::owner_read | fs::perms::owner_write);
  r = run_cli({"sweep", "--seq-len", "1k", "-o", kept.string()});
  CHECK(r.exit_code == 0);
  CHECK(lines(read_file(kept)) == 2);
  CHECK(fs::status(kept).permissions() == (fs::perms::owner_read | fs::perms::owner_write));
  CHECK(entries(dir.path()).size() == 2);
}

TEST_CASE(
    "query -o /dev/stdout writes at stdout's offset: what the shell wrote before and after keeps "
    "its place",
    "[cli][output]") {
  TempDir dir;
  const RunResult r =
      shell(dir, "( echo before; \"$A\" query --format csv -o /dev/stdout; echo after ) > log.txt");
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::string log = read_file(dir.path() / "log.txt");
  CHECK(log.rfind("before\nhw,variant,", 0) == 0);
  CHECK(lines(log) == 4);
  CHECK_THAT(log, Catch::EndsWith("\nafter\n"));
}

TEST_CASE("a chart that cannot be written leaves no new -o file and nothing on stdout",
          "[cli][output][plot]") {
  // The chart's path names descriptor 9, open read only (every write fails) or not open at all.
  // (A sweep without -o streams its rows to stdout as they come: it is run with -o only.)
  const std::vector<std::string> commands = {
      "\"$A\" sweep --seq-len 1k,2k --plot chart.svg -o out.txt",
      "\"$A\" query --plot chart.svg",
      "\"$A\" compare --variants gqa,mla --plot chart.svg",
  };
  for (const std::string& command : commands) {
    for (const std::string& descriptor : {std::string(" 9<keep.txt"), std::string(" 9<&-")}) {
      for (const std::string& output : {std::string(), std::string(" -o out.txt")}) {
        if (!output.empty() && command.find(" -o ") != std::string::npos) continue;
        TempDir dir;
        const RunResult r = shell(dir, "echo keep > keep.txt && ln -s /dev/fd/9 chart.svg && " +
                                           command + output + descriptor);
        INFO(command << output << descriptor << "\nstderr: " << r.err);
        CHECK(r.exit_code == 1);
        CHECK_THAT(r.err, Catch::Contains("cannot write"));
        CHECK(r.out.empty());
        CHECK(entries(dir.path()) == std::vector<std::string>{"chart.svg", "keep.txt"});
        CHECK(read_file(dir.path() / "keep.txt") == "keep\n");
      }
    }
  }
}

TEST_CASE("a --plot or -o name too long for the system is bad input before any work",
          "[cli][output][plot]") {
  TempDir dir;
  const std::string out = (dir.path() / "out.csv").string();
  const std::string long_svg = (dir.path() / (kLongName + ".svg")).string();
  const std::string long_json = (dir.path() / (kLongName + ".json")).string();
  const std::vector<std::vector<std::string>> cases = {
      {"query", "--plot", long_svg, "-o", out},
      {"compare", "--variants", "gqa,mla", "--plot", long_svg, "-o", out},
      {"sweep", "--seq-len", "1k,2k", "--plot", long_svg, "-o", out},
      {"query", "-o", long_json},
      {"sweep", "--seq-len", "1k,2k", "-o", long_json},
      // Before the measurement, which would take its whole budget.
      {"hw", "probe", "--budget", "5", "-o", long_json},
  };
  for (const std::vector<std::string>& args : cases) {
    const RunResult r = run_cli(args);
    INFO(args[0] << " " << args[1] << "\nstderr: " << r.err);
    test_support::require_bad_input(r, {"longer than 255 bytes"});
    CHECK(fs::is_empty(dir.path()));
  }
}

TEST_CASE("a sweep spec's output too long for the system is bad input naming the key",
          "[cli][output][sweep]") {
  TempDir dir;
  const fs::path spec = dir.path() / "spec.json";
  write_file(spec, "{\"seq_len\": \"1k,2k\", \"output\": \"" +
                       (dir.path() / (kLongName + ".csv")).string() + "\"}");
  const RunResult r = run_cli({"sweep", "--spec", spec.string()});
  test_support::require_bad_input(r, {"key 'output'", "longer than 255 bytes"});
  CHECK(entries(dir.path()) == std::vector<std::string>{"spec.json"});
}

TEST_CASE(
    "validate --write-profiles that cannot take a profile file (a name too long, a directory in "
    "the profile's place) is bad input before anything is written",
    "[cli][output][validate]") {
  TempDir dir;
  const fs::path csv = dir.path() / "m.csv";
  write_file(csv, std::string(test_support::kMeasuredHeader) + test_support::kFa3Row);
  const fs::path report = dir.path() / "report.json";
  RunResult r = run_cli({"validate", "--measurements", csv.string(), "--write-profiles",
                         (dir.path() / kLongName).string(), "-o", report.string()});
  test_support::require_bad_input(r, {"--write-profiles", "longer than 255 bytes"});
  const fs::path fitted = dir.path() / "fitted";
  fs::create_directories(fitted / "h100-sxm5-80gb.json");
  r = run_cli({"validate", "--measurements", csv.string(), "--write-profiles", fitted.string(),
               "-o", report.string()});
  test_support::require_bad_input(r, {"--write-profiles", "h100-sxm5-80gb.json", "is a directory"});
  CHECK_FALSE(fs::exists(report));
  CHECK(entries(fitted) == std::vector<std::string>{"h100-sxm5-80gb.json"});
  CHECK(fs::is_empty(fitted / "h100-sxm5-80gb.json"));
}
