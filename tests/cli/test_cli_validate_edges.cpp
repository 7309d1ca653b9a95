// `attnsim validate` at its edges: --strict and a CSV's unknown column.
#include <algorithm>
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;

const char* kHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms,source\n";
const char* kRow = "h100-sxm5-80gb,fa3,fwd,fp16,16,32,32,64,1024,1024,0,0.3506,FA3 paper Fig.5\n";

void check_one_line_exit_2(const RunResult& r) {
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err.rfind("attnsim: error: ", 0) == 0);
  CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
}

}  // namespace

TEST_CASE(
    "validate --strict refuses a CSV's unknown column: exit 2, one line, no report; a warning "
    "without it",
    "[cli][validate]") {
  TempDir dir;
  const auto csv = dir.path() / "m.csv";
  const auto out = dir.path() / "out.json";
  std::string header = kHeader, row = kRow;
  header.replace(header.find("source\n"), 7, "source,windw\n");
  row.replace(row.find("Fig.5\n"), 6, "Fig.5,512\n");
  write_file(csv, header + row);
  const RunResult strict =
      run_cli({"validate", "--measurements", csv.string(), "--strict", "-o", out.string()});
  INFO(strict.err);
  check_one_line_exit_2(strict);
  CHECK_THAT(strict.err, Catch::Contains("m.csv:1") &&
                             Catch::Contains("unknown column 'windw' refused under --strict"));
  CHECK_FALSE(std::filesystem::exists(out));
  const RunResult lenient =
      run_cli({"validate", "--measurements", csv.string(), "-o", out.string()});
  CHECK(lenient.exit_code == 0);
  CHECK_THAT(lenient.err,
             Catch::Contains("warning: ") && Catch::Contains("unknown column 'windw' ignored"));
  CHECK(std::filesystem::exists(out));
}
