// The text layer of a measurements CSV (validate/measured_csv.hpp): header names read as cells
// are, blank lines, empty files, unknown columns, and the shortest and longest time a row may give.
#include <catch2/catch.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/support/model_helpers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/validate_helpers.hpp"
#include "validate/measured_csv.hpp"
#include "validate/measurements.hpp"

namespace {

const char* kCsvLayerHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms,source\n";
const char* kCsvLayerRow = "h100,fa2,fwd,fp16,16,32,32,64,1024,1024,0,0.5,x\n";

validate::MeasurementSet read_csv_text(const std::string& text) {
  return test_support::measurements_of(text);
}

// The message read_measurements throws for `text`, or "" when it reads it.
std::string csv_layer_error(const std::string& text) {
  try {
    read_csv_text(text);
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("header names are trimmed and matched in any case, as cells are", "[validate][csv]") {
  const std::string spaced =
      "hw, kernel, pass ,dtype,\tbatch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms,"
      "source\n";
  const std::string upper =
      "HW,Kernel,PASS,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,Time_ms,source\n";
  for (const std::string& header : {spaced, upper}) {
    const auto set = read_csv_text(header + kCsvLayerRow);
    REQUIRE(set.cases.size() == 1);
    CHECK(set.cases[0].kernel == "fa2");
    CHECK(set.cases[0].measured_s == Approx(0.5e-3));
    CHECK(set.warnings.empty());
  }
  // Cells too: ' 16 ' is 16.
  const auto set = read_csv_text(std::string(kCsvLayerHeader) +
                                 " h100 , fa2 , fwd , fp16 , 16 , 32 , 32 , 64 , 1024 , 1024 , 0 , "
                                 "0.5 , x \n");
  REQUIRE(set.cases.size() == 1);
  CHECK(set.cases[0].workload.batch == 16);
  // Names equal once folded are one column twice.
  CHECK_THAT(csv_layer_error("hw,HW,kernel\n"), Catch::Contains("duplicate column 'hw'"));
}

TEST_CASE("a spreadsheet's unnamed trailing columns and rows of empty cells are ignored",
          "[validate][csv]") {
  // Two unnamed columns (",,"), a row with their empty cells, and a row of nothing but commas.
  std::string header = kCsvLayerHeader;
  header.insert(header.size() - 1, ",,");
  std::string row = kCsvLayerRow;
  row.insert(row.size() - 1, ",,");
  const auto set = read_csv_text(header + row + ",,,,,,,,,,,,,,\n" + row);
  REQUIRE(set.cases.size() == 2);
  CHECK(set.cases[1].line == 4);
  CHECK(set.warnings.empty());  // an unnamed column is no misspelt one
  // A row must still have a cell for each of them.
  CHECK_THAT(csv_layer_error(header + kCsvLayerRow),
             Catch::Contains("13 cells, the header has 15 columns"));
}

TEST_CASE("a whitespace-only line is skipped like an empty one", "[validate][csv]") {
  const auto set = read_csv_text(std::string(kCsvLayerHeader) + "  \t \r\n" + kCsvLayerRow +
                                 "   \n" + kCsvLayerRow);
  REQUIRE(set.cases.size() == 2);
  CHECK(set.cases[1].line == 5);  // lines are still counted
}

TEST_CASE(
    "a file with no header line (empty, only a byte order mark or blank lines) says it is "
    "empty",
    "[validate][csv]") {
  for (const std::string text : {"", "\xEF\xBB\xBF", "\n\n\n", "\xEF\xBB\xBF\r\n  \n"}) {
    CHECK_THAT(csv_layer_error(text), Catch::Contains("empty file"));
  }
  // Blank lines before the header are skipped, and the line numbers count them.
  const auto set = read_csv_text(std::string("\n") + kCsvLayerHeader + kCsvLayerRow);
  REQUIRE(set.cases.size() == 1);
  CHECK(set.cases[0].line == 3);
}

TEST_CASE("an unknown column draws one warning per file naming it and the known columns",
          "[validate][csv]") {
  const std::string header =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,windw,time_ms,"
      "source,Comment\n";
  const std::string row = "h100,fa2,fwd,fp16,16,32,32,64,8192,8192,0,512,0.5,x,hi\n";
  const auto set = read_csv_text(header + row + row);
  REQUIRE(set.cases.size() == 2);
  REQUIRE(set.warnings.size() == 1);
  CHECK_THAT(set.warnings[0], Catch::Contains("m.csv:1") &&
                                  Catch::Contains("unknown columns 'windw', 'comment' ignored") &&
                                  Catch::Contains("known: hw, kernel") &&
                                  Catch::Contains("window") && Catch::Contains("notes"));
  // The documented optional columns, notes included, draw none.
  const auto documented = read_csv_text(
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,v_head_dim,seq_q,seq_kv,causal,window,"
      "variant,op,caller,time_ms,time_us,tflops,source,notes\n"
      "h100,fa2,fwd,fp16,16,32,32,64,64,1024,1024,0,,,,direct,0.5,,,x,free text\n");
  REQUIRE(documented.cases.size() == 1);
  CHECK(documented.warnings.empty());
}

TEST_CASE("under --strict an unknown column is bad input naming it and the allowed columns",
          "[validate][csv]") {
  const std::string header =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,windw,time_ms,"
      "source\n";
  test_support::TempDir dir;
  const auto path = test_support::write_file(
      dir, header + "h100,fa2,fwd,fp16,16,32,32,64,8192,8192,0,512,0.5,x\n");
  try {
    validate::read_measurements(path, test_support::registry(), validate::UnknownColumns::refuse);
    FAIL("an unknown column was read under refuse");
  } catch (const std::invalid_argument& e) {
    const std::string message = e.what();
    CHECK_THAT(message, Catch::Contains("m.csv:1") &&
                            Catch::Contains("unknown column 'windw' refused under --strict") &&
                            Catch::Contains("allowed: hw, kernel") && Catch::Contains("window"));
    CHECK(message.find('\n') == std::string::npos);
  }
  // The known columns are read under refuse as under warn.
  const auto known = test_support::write_file(dir, std::string(kCsvLayerHeader) + kCsvLayerRow);
  CHECK(
      validate::read_measurements(known, test_support::registry(), validate::UnknownColumns::refuse)
          .cases.size() == 1);
}

TEST_CASE("a time below 1 ns is refused (no kernel launch is shorter), so no error overflows",
          "[validate][csv]") {
  const std::string row_start =
      std::string(kCsvLayerHeader) + "h100,fa2,fwd,fp16,16,32,32,64,1024,1024,0,";
  for (const char* tiny : {"1e-320", "1e-310", "1e-300", "9.9e-7", "0", "-1"}) {
    INFO(tiny);
    CHECK_THAT(csv_layer_error(row_start + tiny + ",x\n"),
               Catch::Contains("m.csv:2") && Catch::Contains("'time_ms'") &&
                   Catch::Contains("below 1 ns") && Catch::Contains("time_ms from 1e-6"));
  }
  CHECK(read_csv_text(row_start + "1e-6,x\n").cases.at(0).measured_s == Approx(1e-9));
  // A time derived from an absurd TFLOP/s is held to the same floor.
  const std::string tflops_csv =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,tflops,source\n"
      "h100,fa2,fwd,fp16,16,32,32,64,1024,1024,0,1e300,x\n";
  CHECK_THAT(csv_layer_error(tflops_csv),
             Catch::Contains("'tflops'") && Catch::Contains("from 1 ns"));
}

TEST_CASE("a time above one hour is refused as a unit slip or a typo, naming row, column and range",
          "[validate][csv]") {
  const std::string header =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_us,source\n";
  const std::string row_start = header + "h100,fa2,fwd,fp16,16,32,32,64,1024,1024,0,";
  for (const char* huge : {"1e300", "3600000001", "1e10"}) {
    INFO(huge);
    CHECK_THAT(csv_layer_error(row_start + huge + ",x\n"),
               Catch::Contains("m.csv:2") && Catch::Contains("'time_us'") &&
                   Catch::Contains(std::string("'") + huge + "'") &&
                   Catch::Contains("above one hour") &&
                   Catch::Contains("time_us from 0.001 to 3600000000"));
  }
  // One hour itself is allowed, in either unit.
  CHECK(read_csv_text(row_start + "3600000000,x\n").cases.at(0).measured_s == Approx(3600));
  CHECK(read_csv_text(std::string(kCsvLayerHeader) +
                      "h100,fa2,fwd,fp16,16,32,32,64,1024,1024,0,3600000,x\n")
            .cases.at(0)
            .measured_s == Approx(3600));
  CHECK_THAT(csv_layer_error(std::string(kCsvLayerHeader) +
                             "h100,fa2,fwd,fp16,16,32,32,64,1024,1024,0,3600001,x\n"),
             Catch::Contains("'time_ms'") && Catch::Contains("time_ms from 1e-6 to 3600000"));
  // A time derived from a tiny TFLOP/s is held to the same ceiling.
  const std::string tflops_csv =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,tflops,source\n"
      "h100,fa2,fwd,fp16,16,32,32,64,1024,1024,0,1e-20,x\n";
  CHECK_THAT(csv_layer_error(tflops_csv),
             Catch::Contains("'tflops'") &&
                 Catch::Contains("a TFLOP/s giving a time " + validate::measured_time_range()));
}

TEST_CASE("the measured time range in messages is the one plausible_measured_time allows",
          "[validate][measured]") {
  // One text, derived from kMinMeasuredSeconds and kMaxMeasuredSeconds, for the CSV's tflops
  // message and validate --recorded's (which had a copy of its own).
  CHECK(validate::measured_time_range() ==
        "from 1 ns (no kernel launch is shorter) to 3600 s (one hour: longer is a unit slip or a "
        "typo)");
  CHECK(validate::plausible_measured_time(validate::kMinMeasuredSeconds));
  CHECK(validate::plausible_measured_time(validate::kMaxMeasuredSeconds));
}

TEST_CASE("a file whose lines end in a carriage return alone reads as one with line feeds",
          "[validate][csv]") {
  std::string text = std::string(kCsvLayerHeader) + kCsvLayerRow + kCsvLayerRow;
  std::replace(text.begin(), text.end(), '\n', '\r');
  const auto set = read_csv_text(text);
  REQUIRE(set.cases.size() == 2);
  CHECK(set.cases[1].line == 3);
  // CR LF line ends stay one line end each.
  std::string crlf;
  for (char c : std::string(kCsvLayerHeader) + kCsvLayerRow)
    crlf += c == '\n' ? "\r\n" : std::string(1, c);
  const auto windows = read_csv_text(crlf + "\r\n" + kCsvLayerRow);
  REQUIRE(windows.cases.size() == 2);
  CHECK(windows.cases[1].line == 4);
}

TEST_CASE("a header separated by ';' or tabs says the separator is ','", "[validate][csv]") {
  std::string semicolons = kCsvLayerHeader, tabs = kCsvLayerHeader;
  std::replace(semicolons.begin(), semicolons.end(), ',', ';');
  std::replace(tabs.begin(), tabs.end(), ',', '\t');
  CHECK_THAT(csv_layer_error(semicolons + "x\n"),
             Catch::Contains("missing column 'hw'") &&
                 Catch::Contains("the header holds ';' but the separator is ','"));
  CHECK_THAT(csv_layer_error(tabs + "x\n"),
             Catch::Contains("the header holds a tab but the separator is ','"));
  // A comma-separated header missing a column gets no such hint.
  CHECK_THAT(csv_layer_error("hw,kernel\n"), !Catch::Contains("separator"));
}

TEST_CASE("a quoted cell that spans lines is refused saying a newline in quotes is unsupported",
          "[validate][csv]") {
  std::string row = kCsvLayerRow;
  row.replace(row.rfind(",x"), 2, ",\"two\nlines\"");
  CHECK_THAT(csv_layer_error(kCsvLayerHeader + row),
             Catch::Contains(":2: unterminated quoted cell") &&
                 Catch::Contains("a newline inside quotes is not supported"));
}

TEST_CASE(
    "a quote opens a quoted cell only at the cell's start (RFC 4180); elsewhere it is text, and "
    "text after a closing quote is refused naming the cell",
    "[validate][csv]") {
  using validate::split_csv_line;
  CHECK(split_csv_line("a,ab\"c,d\"e", "f:2") == std::vector<std::string>{"a", "ab\"c", "d\"e"});
  CHECK(split_csv_line("h\"10\"0,x", "f:2") == std::vector<std::string>{"h\"10\"0", "x"});
  CHECK(split_csv_line(" \"a, b\" ,\"say \"\"hi\"\"\"", "f:2") ==
        std::vector<std::string>{"a, b", "say \"hi\""});
  CHECK_THROWS_WITH(split_csv_line("a,\"b\"c,d", "f:2"),
                    Catch::Contains("f:2: cell 2: text after the closing quote"));
  // A stray quote in a row's unquoted cell no longer swallows the rest of the line.
  std::string row = kCsvLayerRow;
  row.replace(row.rfind(",x"), 2, ",ab\"c");
  const validate::MeasurementSet set = read_csv_text(kCsvLayerHeader + row);
  REQUIRE(set.cases.size() == 1);
  CHECK(set.cases[0].source == "ab\"c");
}
