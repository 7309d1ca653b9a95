// `attnsim validate`'s options are checked before anything runs: a bad value or an option the
// chosen mode would ignore is one exit-2 line, before any CUDA device is touched, any kernel runs
// or any measurement file is read.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using test_support::require_bad_input;
using test_support::run_cli;
using test_support::run_with_env;
using test_support::TempDir;
using test_support::with;
using test_support::write_file;

const char* kGoodCsv =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms,source\n"
    "h100-sxm5-80gb,fa3,fwd,fp16,16,32,32,64,1024,1024,0,0.3506,FA3 paper Fig.5\n";

}  // namespace

TEST_CASE(
    "validate --backend cuda refuses bad input with exit 2 before touching the device or its "
    "module",
    "[cli][validate][cuda]") {
  TempDir dir;
  const auto file = dir.path() / "a-file";
  write_file(file, "not a directory\n");
  // With no module to load, any check made after the device would fail with exit 1 instead.
  const std::vector<std::string> env = {"ATTNSIM_CUDA_MODULE=/nonexistent-dir/attnsim_cuda.so",
                                        "ATTNSIM_HW_PATH="};
  const std::vector<std::string> cuda = {"validate", "--backend", "cuda"};
  require_bad_input(run_with_env(env, with(cuda, {"--suite", "nosuch"})),
                    {"unknown suite 'nosuch'"});
  require_bad_input(run_with_env(env, with(cuda, {"--profile", "nosuch"})),
                    {"unknown hardware profile 'nosuch'"});
  require_bad_input(
      run_with_env(env, with(cuda, {"--calibrate", "--write-profiles", file.string()})),
      {"--write-profiles", "is not a directory"});
  require_bad_input(run_with_env(env, with(cuda, {"--write-profiles", file.string() + "/sub"})),
                    {"--write-profiles", "is not a directory"});
  require_bad_input(run_with_env(env, with(cuda, {"--hw-set", "foo.bar=1"})),
                    {"--hw-set 'foo.bar=1'", "has no 'foo'", "--profile"});
  require_bad_input(run_with_env(env, with(cuda, {"--profile", "h100", "--hw-set", "foo.bar=1"})),
                    {"profile 'h100-sxm5-80gb' has no 'foo'"});
  require_bad_input(run_with_env(env, with(cuda, {"--ceilings", "maybe"})),
                    {"--ceilings 'maybe'", "allowed: auto, yes, no"});
}

TEST_CASE("validate refuses an option its mode would ignore: exit 2 naming it, nothing read",
          "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  write_file(csv, kGoodCsv);
  const auto out = dir.path() / "out.json";
  const std::vector<std::string> measured = {"validate", "--measurements", csv.string(), "-o",
                                             out.string()};
  for (const std::vector<std::string>& extra : std::vector<std::vector<std::string>>{
           {"--profile", "a100"}, {"--suite", "quick"}, {"--repeats", "3"}, {"--ceilings", "no"}}) {
    INFO(extra.front());
    require_bad_input(run_cli(with(measured, extra)),
                      {extra.front() + " is not used with --measurements", "hw column"});
  }
  CHECK_FALSE(std::filesystem::exists(out));
  // --devices with a file to read: the CSV would never be read.
  require_bad_input(run_cli({"validate", "--devices", "--measurements", csv.string()}),
                    {"--measurements is not used with --devices"});
  require_bad_input(run_cli({"validate", "--devices", "--calibrate", "--strict"}),
                    {"--calibrate, --strict are not used with --devices"});
  // A recorded report is compared again from its samples: nothing is repeated or measured.
  require_bad_input(run_cli({"validate", "--recorded", csv.string(), "--repeats", "3"}),
                    {"--repeats is not used with --recorded"});
  // The CPU probe measures its own ceilings; an unknown value is refused with any backend.
  require_bad_input(run_cli({"validate", "--backend", "cpu", "--ceilings", "yes"}),
                    {"--ceilings is not used with --backend cpu"});
  require_bad_input(run_cli({"validate", "--backend", "cpu", "--ceilings", "maybe"}),
                    {"--ceilings 'maybe'"});
  // Nothing is skipped or repriced but measurement rows: --strict would check nothing.
  require_bad_input(run_cli({"validate", "--recorded", csv.string(), "--strict"}),
                    {"--strict is not used with --recorded or --backend"});
  require_bad_input(run_cli({"validate", "--backend", "cpu", "--check", "--strict"}),
                    {"--strict is not used with --recorded or --backend"});
}

TEST_CASE("validate refuses an empty path or value, naming the option and what it takes",
          "[cli][validate]") {
  require_bad_input(run_cli({"validate", "--backend", ""}),
                    {"--backend", "an empty value", "allowed: cpu, cuda"});
  require_bad_input(run_cli({"validate", "--measurements", ""}),
                    {"--measurements", "an empty path"});
  require_bad_input(run_cli({"validate", "--recorded", ""}), {"--recorded", "an empty path"});
  // A row without a device names where the allowed ones are listed.
  TempDir dir;
  const auto csv = dir.path() / "e.csv";
  std::string row = std::string(kGoodCsv);
  row.replace(row.find("h100-sxm5-80gb"), 14, "");
  write_file(csv, row);
  require_bad_input(run_cli({"validate", "--measurements", csv.string()}),
                    {"e.csv:2: empty 'hw'", "attnsim hw list"});
}

TEST_CASE(
    "validate's --hw-set on a device without the entry advises a run of that device's files, "
    "naming the row that brought it",
    "[cli][validate]") {
  TempDir dir;
  const auto a100 = dir.path() / "a100.csv";
  write_file(a100,
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms\n"
             "a100-sxm4-80gb,fa2,fwd,fp16,16,32,32,64,1024,1024,0,0.5\n");
  const auto h100 = dir.path() / "h100.csv";
  write_file(h100, kGoodCsv);
  const auto r = run_cli({"validate", "--measurements", h100.string(), "--measurements",
                          a100.string(), "--hw-set", "calibration.schedules.fa3.mma_fraction=0.8"});
  require_bad_input(r, {"a100.csv:2", "profile 'a100-sxm4-80gb' has no 'calibration.schedules.fa3'",
                        "run validate on the measurement files of the devices that have it"});
  CHECK_THAT(r.err, !Catch::Contains("leave that profile out"));
}

TEST_CASE("validate refuses one measurements file given twice, however it is spelt",
          "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  write_file(csv, kGoodCsv);
  require_bad_input(
      run_cli({"validate", "--measurements", csv.string(), "--measurements", csv.string()}),
      {"given twice", "give each file once"});
  const std::string other_spelling = (dir.path() / "." / "m.csv").string();
  require_bad_input(
      run_cli({"validate", "--measurements", csv.string(), "--measurements", other_spelling}),
      {"given twice"});
}
