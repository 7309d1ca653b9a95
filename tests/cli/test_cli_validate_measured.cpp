// `attnsim validate --measurements`: how the rows of the files given are read into one run
// (cli/validate_measured.cpp).
#include <algorithm>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>

#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/validate_helpers.hpp"

namespace {

using nlohmann::json;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;

const char* const kHeader = test_support::kMeasuredHeader;
const char* const kRow = test_support::kFa3Row;
const char* kOther = "h100-sxm5-80gb,fa3,fwd,fp16,16,32,32,64,2048,2048,0,1.1,FA3 paper Fig.5\n";

}  // namespace

TEST_CASE("validate counts a measurement written twice once, naming both rows",
          "[cli][validate][duplicates]") {
  TempDir dir;
  const auto a = dir.path() / "a.csv", b = dir.path() / "b.csv";
  // Twice in one file, and a third time in another file under another source and device alias.
  write_file(a, std::string(kHeader) + kRow + kOther + kRow);
  std::string copy = kRow;
  copy.replace(0, std::string("h100-sxm5-80gb").size(), "h100");
  copy.replace(copy.find("FA3 paper Fig.5"), 15, "copied");
  write_file(b, std::string(kHeader) + copy);
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
  std::string again = kRow;
  again.replace(again.find("0.3506"), 6, "0.3600");
  write_file(b, std::string(kHeader) + again);
  const RunResult both = run_cli(
      {"validate", "--measurements", a.string(), "--measurements", b.string(), "--format", "json"});
  CHECK(json::parse(both.out)["cases"].size() == 3);
  // --strict refuses a run with a duplicate, as any row not compared.
  const RunResult strict = run_cli({"validate", "--measurements", a.string(), "--strict"});
  CHECK(strict.exit_code == 2);
  CHECK_THAT(strict.err, Catch::Contains("the same measurement as"));
}
