// The files `attnsim validate` writes (-o and --write-profiles): never one over the other, nothing
// at all when --strict refuses the run, and one check of the --write-profiles folder shared with
// -o's.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/validate_helpers.hpp"

namespace {

namespace fs = std::filesystem;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;

}  // namespace

TEST_CASE("validate refuses -o naming a file --write-profiles writes a profile to, before any work",
          "[cli][validate]") {
  TempDir dir;
  const fs::path csv = dir.path() / "m.csv";
  write_file(csv, std::string(test_support::kMeasuredHeader) + test_support::kFa3Row);
  const fs::path fit = dir.path() / "fit";
  fs::create_directories(fit);
  for (const std::string& report :
       {(fit / "h100-sxm5-80gb.json").string(), (fit / "." / "h100-sxm5-80gb.json").string()}) {
    const RunResult r =
        run_cli({"validate", "--measurements", csv.string(), "--calibrate", "--write-profiles",
                 fit.string(), "-o", report, "--format", "json"});
    test_support::require_bad_input(r, {"-o '" + report + "'", "h100-sxm5-80gb profile"});
    CHECK(fs::is_empty(fit));  // nothing written
  }
  // Another file in that folder is the report's own.
  const RunResult ok =
      run_cli({"validate", "--measurements", csv.string(), "--calibrate", "--write-profiles",
               fit.string(), "-o", (fit / "report.json").string(), "--format", "json"});
  INFO(ok.err);
  CHECK(ok.exit_code == 0);
  CHECK(fs::exists(fit / "h100-sxm5-80gb.json"));
  CHECK(fs::exists(fit / "report.json"));
}

TEST_CASE("validate --strict that refuses the run writes neither the report nor the profiles",
          "[cli][validate]") {
  TempDir dir;
  const fs::path csv = dir.path() / "m.csv";
  // The second row is causal with seq_kv < seq_q: skipped.
  write_file(csv, std::string(test_support::kMeasuredHeader) + test_support::kFa3Row +
                      "h100-sxm5-80gb,fa3,fwd,fp16,1,8,8,128,512,256,1,0.1,x\n");
  const fs::path report = dir.path() / "out.json";
  const fs::path fit = dir.path() / "fit";
  const RunResult r =
      run_cli({"validate", "--measurements", csv.string(), "--strict", "--calibrate",
               "--write-profiles", fit.string(), "-o", report.string()});
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--strict: 1 measurement row(s) skipped"));
  CHECK_FALSE(fs::exists(report));
  CHECK_FALSE(fs::exists(fit));
}

TEST_CASE(
    "validate --write-profiles follows a symbolic link as -o does: a dangling one names the "
    "directory to create, one into a file is refused before any work",
    "[cli][validate]") {
  TempDir dir;
  const fs::path csv = dir.path() / "m.csv";
  write_file(csv, std::string(test_support::kMeasuredHeader) + test_support::kFa3Row);
  const fs::path link = dir.path() / "fit";
  fs::create_symlink(dir.path() / "made" / "fit", link);
  const RunResult r =
      run_cli({"validate", "--measurements", csv.string(), "--write-profiles", link.string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(fs::is_symlink(fs::symlink_status(link)));
  CHECK(fs::exists(dir.path() / "made" / "fit" / "h100-sxm5-80gb.json"));

  const fs::path into_file = dir.path() / "into-file";
  fs::create_symlink(csv / "sub", into_file);
  const RunResult refused =
      run_cli({"validate", "--measurements", csv.string(), "--write-profiles", into_file.string()});
  test_support::require_bad_input(refused, {"--write-profiles", "m.csv' is not a directory"});
}
