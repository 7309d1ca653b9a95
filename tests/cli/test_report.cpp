// Unit tests of cli/report.hpp (flattening, CSV) and cli/output.hpp (formats, human-readable
// quantities, atomic file output).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <limits>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <unistd.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"
#include "tests/support/file_helpers.hpp"
#include "tests/support/temp_dir.hpp"

#include "cli/output.hpp"
#include "cli/report.hpp"
#include "common/errors.hpp"

namespace {

namespace fs = std::filesystem;
using ojson = nlohmann::ordered_json;

using test_support::entries;
using test_support::read_file;
// A fresh, empty directory for one test; removed with everything in it at the end.
using test_support::TempDir;

std::vector<std::string> keys_of(const ojson& object) {
  std::vector<std::string> keys;
  for (const auto& [key, v] : object.items()) {
    (void)v;
    keys.push_back(key);
  }
  return keys;
}

}  // namespace

TEST_CASE(
    "flatten_json joins nested keys with '_', keeps scalar values and their order, drops arrays",
    "[report]") {
  const ojson doc = ojson::parse(R"({
    "hw": "h100", "flops": {"tensor": 1, "exp": 2.5},
    "deep": {"a": {"b": "x"}, "list": [1, 2]}, "launches": [{"name": "fwd"}],
    "flag": true, "none": null})");
  ojson flat = ojson::object();
  cli::flatten_json(doc, "", flat);
  CHECK(keys_of(flat) ==
        std::vector<std::string>{"hw", "flops_tensor", "flops_exp", "deep_a_b", "flag", "none"});
  CHECK(flat["hw"] == "h100");
  CHECK(flat["flops_tensor"] == 1);
  CHECK(flat["flops_exp"] == 2.5);
  CHECK(flat["deep_a_b"] == "x");
  CHECK(flat["flag"] == true);
  CHECK(flat["none"].is_null());
}

TEST_CASE("flatten_json puts a non-empty prefix in front of every key", "[report]") {
  ojson flat = ojson::object();
  cli::flatten_json(ojson::parse(R"({"q": 1, "inner": {"k": 2}})"), "bytes", flat);
  CHECK(keys_of(flat) == std::vector<std::string>{"bytes_q", "bytes_inner_k"});
}

TEST_CASE("csv_from_objects quotes cells with commas, quotes or newlines and doubles inner quotes",
          "[report]") {
  const std::vector<ojson> rows = {
      ojson{{"name", "a,b"}, {"says", "he said \"hi\""}, {"note", "two\nlines"}, {"plain", "ok"}}};
  CHECK(cli::csv_from_objects(rows) ==
        "name,says,note,plain\n"
        "\"a,b\",\"he said \"\"hi\"\"\",\"two\nlines\",ok\n");
}

TEST_CASE("every CSV cell is quoted by one rule: a comma, a quote, a CR or a LF quotes it",
          "[report][csv]") {
  CHECK(cli::csv_quote("plain") == "plain");
  CHECK(cli::csv_quote("a,b") == "\"a,b\"");
  CHECK(cli::csv_quote("say \"hi\"") == "\"say \"\"hi\"\"\"");
  CHECK(cli::csv_quote("two\nlines") == "\"two\nlines\"");
  CHECK(cli::csv_quote("m\r.csv") == "\"m\r.csv\"");
  // The report tables (validate's, query's) quote as the sweep rows do.
  CHECK(cli::csv_from_objects({ojson{{"file", "m\r.csv"}}}) == "file\n\"m\r.csv\"\n");
}

TEST_CASE("csv_from_objects orders columns by first appearance and leaves missing cells empty",
          "[report]") {
  const std::vector<ojson> rows = {
      ojson{{"hw", "h100"}, {"time", {{"s", 1.5}}}, {"n", 3}},
      ojson{{"extra", true}, {"hw", "a100"}},
      ojson{{"n", 7}, {"nothing", nullptr}},
  };
  CHECK(cli::csv_from_objects(rows) ==
        "hw,time_s,n,extra,nothing\n"
        "h100,1.5,3,,\n"
        "a100,,,true,\n"
        ",,7,,\n");
}

TEST_CASE("csv_from_objects writes every row with as many fields as the header", "[report]") {
  const std::vector<ojson> rows = {ojson{{"a", 1}}, ojson{{"b", 2}}, ojson{{"c", 3}, {"a", 4}}};
  std::istringstream csv(cli::csv_from_objects(rows));
  std::string line;
  std::vector<std::size_t> commas;
  while (std::getline(csv, line)) commas.push_back(std::count(line.begin(), line.end(), ','));
  REQUIRE(commas.size() == 4);
  for (std::size_t c : commas) CHECK(c == 2);
}

TEST_CASE("human_time picks ns, us, ms or s with three significant digits", "[report]") {
  CHECK(cli::human_time(1.5e-3) == "1.5 ms");
  CHECK(cli::human_time(250e-9) == "250 ns");
  CHECK(cli::human_time(12.5e-6) == "12.5 us");
  CHECK(cli::human_time(3.0) == "3 s");
  CHECK(cli::human_time(0.1234) == "123 ms");
}

TEST_CASE("human_time prints a minute and more in min, an hour and more in h, never an exponent",
          "[report]") {
  CHECK(cli::human_time(59.4) == "59.4 s");
  CHECK(cli::human_time(59.97) == "1 min");  // 60 s at 3 digits
  CHECK(cli::human_time(90) == "1.5 min");
  CHECK(cli::human_time(6300) == "1.75 h");
  CHECK(cli::human_time(3599.9) == "1 h");
  CHECK(cli::human_time(3.6e6) == "1000 h");
  CHECK(cli::human_time(4.4444e7) == "12300 h");
  for (double s : {1e3, 1e5, 1e7, 1e9, 1e12}) {
    INFO("seconds " << s << " -> " << cli::human_time(s));
    CHECK(cli::human_time(s).find('e') == std::string::npos);
  }
}

TEST_CASE("human_bytes uses decimal units B, kB, MB, GB, TB", "[report]") {
  CHECK(cli::human_bytes(2e9) == "2 GB");
  CHECK(cli::human_bytes(999) == "999 B");
  CHECK(cli::human_bytes(1500) == "1.5 kB");
  CHECK(cli::human_bytes(67108864) == "67.1 MB");
  CHECK(cli::human_bytes(3.2e12) == "3.2 TB");
}

TEST_CASE("human counts and bytes run to Z and Y, so a 1G-token prefill's FLOPs take no exponent",
          "[report]") {
  // 256 query heads over 2^30 causal tokens: 7.56e22 tensor FLOPs had printed "7.56e+04 E".
  CHECK(cli::human_count(7.556e22) == "75.6 Z");
  CHECK(cli::human_count(1.48e20) == "148 E");
  CHECK(cli::human_count(2e24) == "2 Y");
  CHECK(cli::human_bytes(3e21) == "3 ZB");
}

TEST_CASE("human_time and human_bytes never fall into scientific notation just below a unit step",
          "[report]") {
  // 0.9996 s is below 1 s, so it is printed in ms, where three digits round it to 1000: the result
  // must read like "1 s" or "1000 ms", never "1e+03 ms".
  for (double s : {0.9996, 999.7e-6, 999.8e-9}) {
    INFO("seconds " << s << " -> " << cli::human_time(s));
    CHECK(cli::human_time(s).find('e') == std::string::npos);
  }
  for (double b : {999999.0, 999.6e3, 999.9e6}) {
    INFO("bytes " << b << " -> " << cli::human_bytes(b));
    CHECK(cli::human_bytes(b).find('e') == std::string::npos);
  }
}

TEST_CASE("write_output to a path writes exactly the text and leaves no temporary file",
          "[report]") {
  TempDir dir;
  const fs::path target = dir.path() / "result.json";
  cli::write_output("{\"a\": 1}\n", target.string());
  CHECK(read_file(target) == "{\"a\": 1}\n");
  CHECK(entries(dir.path()) == std::vector<std::string>{"result.json"});
}

TEST_CASE("write_output replaces an existing file whole and leaves no temporary file", "[report]") {
  TempDir dir;
  const fs::path target = dir.path() / "out.csv";
  cli::write_output(std::string(10000, 'x'), target.string());
  cli::write_output("short\n", target.string());
  CHECK(read_file(target) == "short\n");
  CHECK(entries(dir.path()) == std::vector<std::string>{"out.csv"});
}

TEST_CASE("write_output into a missing directory throws and creates nothing", "[report]") {
  TempDir dir;
  const fs::path target = dir.path() / "missing" / "out.json";
  CHECK_THROWS(cli::write_output("text\n", target.string()));
  CHECK(entries(dir.path()).empty());
}

TEST_CASE("parse_format accepts table, json and csv", "[report]") {
  CHECK(cli::parse_format("table") == cli::Format::table);
  CHECK(cli::parse_format("json") == cli::Format::json);
  CHECK(cli::parse_format("csv") == cli::Format::csv);
}

TEST_CASE("parse_format rejects xml with a SpecError naming it and listing table, json, csv",
          "[report]") {
  CHECK_THROWS_AS(cli::parse_format("xml"), common::SpecError);
  CHECK_THROWS_WITH(cli::parse_format("xml"),
                    Catch::Contains("'xml'") && Catch::Contains("table") &&
                        Catch::Contains("json") && Catch::Contains("csv"));
  CHECK_THROWS_AS(cli::parse_format("JSON"), common::SpecError);
}

TEST_CASE("CSV prints counts exactly, as JSON does (no 9-digit rounding)", "[report][cli]") {
  // 131072 tokens x 64 sequences x 8 KV heads x (128 + 128) x 2 B = 34359738368 B of KV cache.
  const test_support::RunResult csv =
      test_support::run_cli({"query", "--variant", "gqa", "--seq-len", "131072", "--batch", "64",
                             "--phase", "decode", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.find(",34359738368,") != std::string::npos);
  const test_support::RunResult sweep = test_support::run_cli(
      {"sweep", "--variant", "gqa", "--seq-len", "131072", "--batch", "64", "--phase", "decode"});
  REQUIRE(sweep.exit_code == 0);
  CHECK(sweep.out.find(",34359738368,") != std::string::npos);
}

TEST_CASE("the README's list of query's JSON keys is the keys query prints, word for word",
          "[report][cli]") {
  const std::string readme =
      test_support::read_file(fmt::format("{}/README.md", ATTNSIM_SOURCE_DIR));
  const std::size_t start = readme.find("JSON output: `");
  REQUIRE(start != std::string::npos);
  const std::size_t end = readme.find("`.", start + 14);
  REQUIRE(end != std::string::npos);
  // The identifiers the README lists (attnsim_version, results, hw, ..., hbm_bytes).
  std::set<std::string> listed;
  std::string word;
  for (char c : readme.substr(start + 14, end - start - 14) + " ") {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '_') {
      word += c;
    } else if (!word.empty()) {
      listed.insert(word);
      word.clear();
    }
  }
  const test_support::RunResult r = test_support::run_cli(
      {"query", "--variant", "gqa", "--phase", "train", "--caller", "pytorch", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const nlohmann::json doc = nlohmann::json::parse(r.out);
  std::set<std::string> printed;
  auto keys_of = [&](const nlohmann::json& object) {
    for (const auto& [key, value] : object.items()) {
      INFO(key);
      CHECK(listed.count(key) == 1);
      printed.insert(key);
    }
  };
  const nlohmann::json& result = doc.at("results").at(0);
  const nlohmann::json& launch = result.at("launches").at(0);
  for (const nlohmann::json* object : {&doc, &result, &launch, &launch.at("job_tiles"),
                                       &result.at("flops"), &result.at("bytes")}) {
    keys_of(*object);
  }
  // And nothing listed that query does not print.
  for (const std::string& key : listed) {
    INFO(key);
    CHECK(printed.count(key) == 1);
  }
}

TEST_CASE(
    "query's JSON names the schedule --kernel auto ran (main_schedule), as the table's "
    "kernel column does; the header says when projections are included",
    "[report][cli]") {
  const std::vector<std::string> mla = {"query",     "--variant", "mla",  "--phase", "decode",
                                        "--seq-len", "8192",      "--hw", "h200"};
  const test_support::RunResult table = test_support::run_cli(mla);
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains(" flashmla "));
  std::vector<std::string> json_args = mla;
  json_args.insert(json_args.end(), {"--format", "json"});
  const nlohmann::json doc = nlohmann::json::parse(test_support::run_cli(json_args).out);
  const nlohmann::json& r = doc.at("results").at(0);
  CHECK(r.at("kernel") == "auto");
  CHECK(r.at("main_schedule") == "flashmla");
  const nlohmann::json roof = nlohmann::json::parse(
      test_support::run_cli({"query", "--engine", "roofline", "--format", "json"}).out);
  CHECK(roof.at("results").at(0).at("main_schedule").is_null());
  const test_support::RunResult proj =
      test_support::run_cli({"query", "--variant", "gqa", "--include-projections"});
  CHECK_THAT(proj.out, Catch::Contains("layers=1 +projections | engine=tile"));
  CHECK_THAT(test_support::run_cli({"query", "--variant", "gqa"}).out,
             !Catch::Contains("+projections"));
}

TEST_CASE(
    "query's JSON names each launch after the op it computes on both engines (name), and the "
    "kernel's own name for it (launch)",
    "[report][cli][launch-ops]") {
  auto launches = [](const char* engine) {
    const test_support::RunResult r = test_support::run_cli(
        {"query", "--variant", "nsa", "--seq-len", "1024", "--engine", engine, "--format", "json"});
    REQUIRE(r.exit_code == 0);
    return nlohmann::json::parse(r.out).at("results").at(0).at("launches");
  };
  std::vector<std::string> tile_names, roof_names;
  for (const nlohmann::json& l : launches("tile")) {
    tile_names.push_back(l.at("name"));
    if (l.at("name") == "selected_attention_fwd") CHECK(l.at("launch") == "attention_fwd");
  }
  for (const nlohmann::json& l : launches("roofline")) {
    roof_names.push_back(l.at("name"));
    CHECK(l.at("launch") == l.at("name"));  // the roofline's launch is the op itself
  }
  CHECK(tile_names == roof_names);  // each op one launch here, on both engines
}

TEST_CASE(
    "main_schedule (the table's kernel column) is the attention's schedule, never a collective "
    "the tile engine prices on the roofline, even where the collective takes longer",
    "[report][cli]") {
  // TPLA over 8 shards on a short cache: its partial-output all-reduce outlasts the attention.
  const std::vector<std::string> tpla = {"query",     "--variant", "tpla",    "--phase", "decode",
                                         "--seq-len", "1024",      "--batch", "64",      "--param",
                                         "shards=8",  "--hw",      "h100"};
  std::vector<std::string> json_args = tpla;
  json_args.insert(json_args.end(), {"--format", "json"});
  const test_support::RunResult json = test_support::run_cli(json_args);
  REQUIRE(json.exit_code == 0);
  const nlohmann::json doc = nlohmann::json::parse(json.out);
  const nlohmann::json& r = doc.at("results").at(0);
  double attention_s = 0, all_reduce_s = 0;
  std::string attention_schedule;
  for (const nlohmann::json& l : r.at("launches")) {
    if (l.at("name") == "partial_output_all_reduce") all_reduce_s = l.at("time_s");
    if (l.at("name") == "attention_fwd") {
      attention_s = l.at("time_s");
      attention_schedule = l.at("schedule");
    }
  }
  REQUIRE(all_reduce_s > attention_s);  // the case this pins
  CHECK(attention_schedule != "roofline");
  CHECK(r.at("main_schedule") == attention_schedule);
  const test_support::RunResult table = test_support::run_cli(tpla);
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains(" " + attention_schedule + " "));
  CHECK_THAT(table.out, !Catch::Contains("roofline"));
}

TEST_CASE("whole counts print as integers, one rule for every JSON and CSV printer",
          "[cli][report]") {
  CHECK(cli::whole_number(64.0) == std::int64_t{64});
  CHECK(cli::whole_number(17592722915328.0) == std::int64_t{17592722915328});
  CHECK(cli::whole_number(-0.0) == std::int64_t{0});
  CHECK_FALSE(cli::whole_number(0.5));
  CHECK_FALSE(cli::whole_number(1e19));  // beyond int64: written as a double
  CHECK_FALSE(cli::whole_number(std::numeric_limits<double>::infinity()));
  CHECK(fmt::format("{}", cli::Number{1e17}) == "100000000000000000");
  CHECK(fmt::format("{}", cli::Number{0.25}) == "0.25");
  // query: the head counts (linear's kv_heads and heads alike), launch CTAs and FLOPs.
  for (const char* variant : {"mha", "linear"}) {
    INFO(variant);
    const test_support::RunResult q = test_support::run_cli(
        {"query", "--variant", variant, "--seq-len", "8192", "--hw", "h100", "--format", "json"});
    REQUIRE(q.exit_code == 0);
    CHECK(q.out.find(".0,\n") == std::string::npos);
    CHECK(q.out.find(".0\n") == std::string::npos);
    const nlohmann::json r = nlohmann::json::parse(q.out).at("results").at(0);
    CHECK(r.at("params").at("heads").is_number_integer());
    CHECK(r.at("params").at("kv_heads").is_number_integer());
    CHECK(r.at("launches").at(0).at("ctas").is_number_integer());
    CHECK(r.at("flops").at("tensor").is_number_integer());
    // sweep writes the same count the same way.
    const test_support::RunResult s = test_support::run_cli(
        {"sweep", "--variant", variant, "--seq-len", "8192", "--hw", "h100", "--format", "jsonl"});
    REQUIRE(s.exit_code == 0);
    CHECK_THAT(s.out, Catch::Contains(
                          fmt::format("\"flops_tensor\":{},", r.at("flops").at("tensor").dump())));
  }
  // compare's counts too.
  const test_support::RunResult c =
      test_support::run_cli({"compare", "--variants", "mha,gqa", "--seq-len", "8192", "--hw",
                             "h100", "--format", "json"});
  REQUIRE(c.exit_code == 0);
  CHECK(c.out.find(".0,\n") == std::string::npos);
}
