// Runs the attnsim binary from tests, capturing stdout, stderr and the exit code. The binary is the
// one built beside the tests (ATTNSIM_BINARY), or $ATTNSIM_TEST_BINARY when set: .ci/run points the
// CLI tests at the sanitizer build's attnsim that way (scripts/sanitize.sh --bounded).
#pragma once

#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/file_helpers.hpp"
#include "tests/support/temp_dir.hpp"

namespace test_support {

namespace fs = std::filesystem;

struct RunResult {
  int exit_code = -1;
  std::string out, err;
};

// Appends `s` to `cmd` as one single-quoted shell word.
inline void append_quoted(std::string& cmd, const std::string& s) {
  cmd.push_back('\'');
  for (char c : s) c == '\'' ? cmd.append("'\\''") : cmd.append(1, c);
  cmd.push_back('\'');
}

inline void write_file(const fs::path& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary);
  REQUIRE((out << text).good());
}

inline std::vector<std::string> with(std::vector<std::string> args,
                                     const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
  return args;
}

// The attnsim executable under test.
inline std::string attnsim_binary() {
  const char* override_path = std::getenv("ATTNSIM_TEST_BINARY");
  return override_path != nullptr && *override_path != '\0' ? override_path : ATTNSIM_BINARY;
}

// Runs the shell command line `cmd` with its stdout and stderr captured separately.
inline RunResult run_command(std::string cmd) {
  TempDir scratch;
  const fs::path err_file = scratch.path() / "stderr";
  cmd.append(" 2>");
  append_quoted(cmd, err_file.string());
  FILE* pipe = ::popen(cmd.c_str(), "r");
  REQUIRE(pipe != nullptr);
  RunResult r;
  char buffer[4096];
  std::size_t n;
  while ((n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0) r.out.append(buffer, n);
  const int status = ::pclose(pipe);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  r.err = read_file(err_file);
  return r;
}

// Runs `env <assignments> attnsim args...` with stdout and stderr captured separately.
inline RunResult run_with_env(const std::vector<std::string>& env,
                              const std::vector<std::string>& args) {
  std::string cmd = "env";
  for (const std::string& word : with(env, with({attnsim_binary()}, args))) {
    cmd.push_back(' ');
    append_quoted(cmd, word);
  }
  return run_command(std::move(cmd));
}

// Runs `ATTNSIM_HW_PATH=<hw_path> attnsim args...` with stdout and stderr captured separately.
inline RunResult run_cli(const std::vector<std::string>& args, const std::string& hw_path = "") {
  return run_with_env({"ATTNSIM_HW_PATH=" + hw_path}, args);
}

// Runs a command that must succeed and print one JSON document.
inline nlohmann::json run_json(const std::vector<std::string>& args,
                               const std::string& hw_path = "") {
  const RunResult r = run_cli(args, hw_path);
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.err.empty());
  return nlohmann::json::parse(r.out);
}

// A command that must succeed, run with `--format json`.
inline nlohmann::json run_json_format(const std::vector<std::string>& args,
                                      const std::string& hw_path = "") {
  return run_json(with(args, {"--format", "json"}), hw_path);
}

// The first result of a query that must succeed.
inline nlohmann::json first_result(const std::vector<std::string>& args,
                                   const std::string& hw_path = "") {
  return run_json(args, hw_path).at("results").at(0);
}

// Bad input: exit 2, nothing on stdout, exactly one "attnsim: error:" line naming each of
// `mentions`.
inline void require_bad_input(const RunResult& r, const std::vector<std::string>& mentions) {
  INFO("stdout: " << r.out);
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("attnsim: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  CHECK((!r.err.empty() && r.err.back() == '\n'));
  for (const std::string& m : mentions) CHECK_THAT(r.err, Catch::Contains(m));
}

}  // namespace test_support
