// `attnsim validate --measurements`: how the rows of the files given are read into one run
// (cli/validate_measured.cpp).
#include <fmt/format.h>
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "cli/validate_backends.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/validate_helpers.hpp"

namespace {

using nlohmann::json;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;

const char* kOther = "h100-sxm5-80gb,fa3,fwd,fp16,16,32,32,64,2048,2048,0,1.1,FA3 paper Fig.5\n";

}  // namespace

TEST_CASE("validate counts a measurement written twice once, naming both rows",
          "[cli][validate][duplicates]") {
  TempDir dir;
  const auto a = dir.path() / "a.csv", b = dir.path() / "b.csv";
  // Twice in one file, and a third time in another file under another source and device alias.
  write_file(a, std::string(test_support::kMeasuredHeader) + test_support::kFa3Row + kOther +
                    test_support::kFa3Row);
  std::string copy = test_support::kFa3Row;
  copy.replace(0, std::string("h100-sxm5-80gb").size(), "h100");
  copy.replace(copy.find("FA3 paper Fig.5"), 15, "copied");
  write_file(b, std::string(test_support::kMeasuredHeader) + copy);
  const RunResult r = run_cli(
      {"validate", "--measurements", a.string(), "--measurements", b.string(), "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  CHECK(doc["cases"].size() == 2);  // the first row and the other shape, once each
  CHECK(doc["summary"]["skipped_rows"] == 2);
  CHECK_THAT(r.err, Catch::Contains(a.string() + ":4: the same measurement as " + a.string() +
                                    ":2 (every column but source and notes): counted once"));
  CHECK_THAT(r.err,
             Catch::Contains(b.string() + ":2: the same measurement as " + a.string() + ":2"));
  // The same shape measured again (another time) is another measurement: both count.
  std::string again = test_support::kFa3Row;
  again.replace(again.find("0.3506"), 6, "0.3600");
  write_file(b, std::string(test_support::kMeasuredHeader) + again);
  const RunResult both = run_cli(
      {"validate", "--measurements", a.string(), "--measurements", b.string(), "--format", "json"});
  CHECK(json::parse(both.out)["cases"].size() == 3);
  // --strict refuses a run with a duplicate, as any row not compared.
  const RunResult strict = run_cli({"validate", "--measurements", a.string(), "--strict"});
  CHECK(strict.exit_code == 2);
  CHECK_THAT(strict.err, Catch::Contains("the same measurement as"));
}

TEST_CASE(
    "a measurements file named suite is read as measurements: its rows keep their kernel, not "
    "taken for suite cases run here",
    "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "suite";
  std::string row = test_support::kFa3Row;
  row.replace(row.find(",fa3,"), 5, ",FlashAttention-3,");
  write_file(csv, std::string(test_support::kMeasuredHeader) + row);
  const RunResult r = run_cli({"validate", "--measurements", csv.string(), "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  CHECK(doc["cases"][0]["kernel"] == "FlashAttention-3");
  CHECK(doc["cases"][0]["schedule"] == "fa3");
  const json& worst = doc["summary"]["groups"][0]["worst_row"];
  CHECK_FALSE(worst.contains("case"));
  CHECK(worst["line"] == 2);
}

TEST_CASE(
    "a measurement written twice is found by its parsed values, however its names and numbers "
    "are spelt",
    "[cli][validate][duplicates]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  write_file(csv, std::string(test_support::kMeasuredHeader) +
                      "h100,fa2,fwd,fp16,16,32,32,64,1024,1024,0,0.2437,a\n"
                      "H100,fa2,fwd,fp16,16,32,32,64,1024,1024,0,0.2437,b\n"
                      "h100,FA2,forward,float16,16,32,32,64,1024,1024,false,0.24370,c\n"
                      "h100-sxm5-80gb,fa2,fwd,fp16,16,32,32,64,1024,1024,0,2.437e-1,d\n");
  const RunResult r = run_cli({"validate", "--measurements", csv.string(), "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  CHECK(doc["cases"].size() == 1);
  CHECK(doc["summary"]["skipped_rows"] == 3);
  for (int line : {3, 4, 5}) {
    CHECK_THAT(r.err, Catch::Contains(fmt::format("{}:{}: the same measurement as {}:2",
                                                  csv.string(), line, csv.string())));
  }
}

TEST_CASE(
    "a measurement written twice is found however its time's unit and its window are written: "
    "0.1 ms is 100 us, a window column is the variant's window parameter",
    "[cli][validate][duplicates]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  write_file(csv,
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,window,"
             "variant,time_ms,time_us\n"
             "h100,fa3,fwd,fp16,16,32,32,64,1024,1024,0,,,,100\n"
             "h100,fa3,fwd,fp16,16,32,32,64,1024,1024,0,,,0.1,\n"
             "h100,fa3,fwd,fp16,16,32,32,64,4096,4096,1,512,,,300\n"
             "h100,fa3,fwd,fp16,16,32,32,64,4096,4096,1,,swa:window=512,,300\n"
             "h100,fa3,fwd,fp16,16,32,32,64,4096,4096,1,,swa:window=1024,,300\n");
  const RunResult r = run_cli({"validate", "--measurements", csv.string(), "--format", "json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  CHECK(doc["cases"].size() == 3);  // another window is another measurement
  CHECK(doc["summary"]["skipped_rows"] == 2);
  for (const auto& [line, first] : {std::pair{3, 2}, std::pair{5, 4}}) {
    CHECK_THAT(r.err, Catch::Contains(fmt::format("{}:{}: the same measurement as {}:{}",
                                                  csv.string(), line, csv.string(), first)));
  }
  // The time in microseconds is read in decimal: 100 us is printed 0.0001 s, not
  // 9.999999999999999e-05.
  CHECK(doc["cases"][0]["measured_s"].get<double>() == 1e-4);
  CHECK_THAT(r.out, !Catch::Contains("9.999999999999999e-05"));
}

TEST_CASE("validate applies --hw-set once per device and keeps it for the run (Acquired::profiles)",
          "[cli][validate][hw-set]") {
  const hw::Profile& h100 = test_support::catalog().resolve("h100");
  cli::Acquired in;
  const std::vector<std::string> sets = {"memory.hbm_bandwidth_GBps=1000"};
  const hw::Profile& first = cli::with_hw_sets(in, h100, sets, "leave it out");
  CHECK(first.id == h100.id);
  CHECK(first.memory.hbm_bandwidth_Bps == Approx(1000e9));
  // The second row of that device gets the kept profile; the set is not applied again.
  const hw::Profile& again = cli::with_hw_sets(in, h100, sets, "leave it out");
  CHECK(&again == &first);
  REQUIRE(in.profiles.size() == 1);
  // The run's report prices on it: its tile time moves with the bandwidth.
  TempDir dir;
  const auto csv = dir.path() / "one.csv";
  write_file(csv, std::string(test_support::kMeasuredHeader) + test_support::kFa3Row);
  const RunResult plain = run_cli({"validate", "--measurements", csv.string(), "--format", "json"});
  const RunResult slow = run_cli(
      {"validate", "--measurements", csv.string(), "--hw-set", sets[0], "--format", "json"});
  REQUIRE(plain.exit_code == 0);
  REQUIRE(slow.exit_code == 0);
  CHECK(json::parse(slow.out)["cases"][0]["roofline_s"].get<double>() >
        json::parse(plain.out)["cases"][0]["roofline_s"].get<double>());
}
