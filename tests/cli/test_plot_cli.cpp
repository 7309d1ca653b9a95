// --plot FILE.svg on query, compare and sweep: the file is written (well-formed, with the expected
// points and series), the results on stdout are the same bytes as without it, and bad input exits
// 2 leaving no file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/support/cli_runner.hpp"
#include "tests/support/svg_check.hpp"
#include "tests/support/temp_dir.hpp"

using test_support::contains;
using test_support::parse_xml;
using test_support::read_file;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::texts;
using test_support::with;
using test_support::write_file;
using test_support::XmlElement;

namespace fs = std::filesystem;

namespace {

std::vector<std::string> attrs(const XmlElement& root, const std::string& tag,
                               const std::string& cls, const std::string& key) {
  std::vector<std::string> out;
  for (const XmlElement* e : root.all(tag, cls)) out.push_back(e->attr(key));
  return out;
}

}  // namespace

TEST_CASE("query --plot writes a roofline with the workload on each profile", "[cli][plot]") {
  TempDir dir;
  const std::string svg = (dir.path() / "roofline.svg").string();
  const std::vector<std::string> args = {"query",      "--variant", "gqa",  "--heads",  "32",
                                         "--kv-heads", "8",         "--hw", "h100,b200"};
  const RunResult plain = run_cli(args);
  const RunResult plotted = run_cli(with(args, {"--plot", svg}));
  REQUIRE(plotted.exit_code == 0);
  CHECK(plotted.out == plain.out);
  const auto root = parse_xml(read_file(svg));
  CHECK(attrs(*root, "circle", "point", "data-label") == std::vector<std::string>{"gqa", "gqa"});
  const auto devices = attrs(*root, "line", "ceiling", "data-device");
  CHECK(contains(devices, "h100-sxm5-80gb"));
  CHECK(contains(devices, "b200"));
  CHECK(contains(attrs(*root, "line", "ceiling", "data-ceiling"), "bf16 tensor"));
  CHECK(contains(texts(*root, "ceiling-label"), "h100-sxm5-80gb bf16 tensor 989 TFLOP/s"));
}

TEST_CASE("query --model --plot draws one point per layer group", "[cli][plot]") {
  TempDir dir;
  const std::string svg = (dir.path() / "model.svg").string();
  const RunResult r =
      run_cli({"query", "--model", "gemma-3-27b", "--seq-len", "8192", "--plot", svg});
  REQUIRE(r.exit_code == 0);
  const auto labels = attrs(*parse_xml(read_file(svg)), "circle", "point", "data-label");
  CHECK(labels.size() == 2);
  CHECK(contains(labels, "window (swa)"));
}

TEST_CASE("compare --plot labels each compared variant", "[cli][plot]") {
  TempDir dir;
  const std::string svg = (dir.path() / "compare.svg").string();
  const std::vector<std::string> args = {"compare", "--variants", "gqa:kv_heads=8,mla,mqa",
                                         "--seq-len", "8192"};
  const RunResult plain = run_cli(args);
  const RunResult plotted = run_cli(with(args, {"--plot", svg}));
  REQUIRE(plotted.exit_code == 0);
  CHECK(plotted.out == plain.out);
  const auto root = parse_xml(read_file(svg));
  CHECK(attrs(*root, "circle", "point", "data-label") ==
        std::vector<std::string>{"gqa:kv_heads=8", "mla", "mqa"});
  CHECK(texts(*root, "point-label").size() == 3);
}

TEST_CASE("sweep --plot draws one series per variant and leaves the rows unchanged",
          "[cli][plot]") {
  TempDir dir;
  const std::string svg = (dir.path() / "sweep.svg").string();
  const std::vector<std::string> args = {"sweep",      "--variant", "gqa,mla", "--seq-len",
                                         "1k..32k:x2", "--phase",   "decode"};
  for (const char* format : {"csv", "json", "jsonl"}) {
    INFO(format);
    const RunResult plain = run_cli(with(args, {"--format", format}));
    const RunResult plotted = run_cli(with(args, {"--format", format, "--plot", svg}));
    REQUIRE(plotted.exit_code == 0);
    CHECK(plotted.out == plain.out);
    const auto root = parse_xml(read_file(svg));
    CHECK(attrs(*root, "g", "series", "data-series") == std::vector<std::string>{"gqa", "mla"});
    CHECK(root->all("circle", "marker").size() == 12);
    CHECK(texts(*root, "x-title").at(0) == "seq-len (tokens, k = 1024) (log scale)");
    fs::remove(svg);
  }
  REQUIRE(run_cli(with(args, {"--plot", svg, "--plot-y", "kv-bytes"})).exit_code == 0);
  CHECK(texts(*parse_xml(read_file(svg)), "y-title").at(0).rfind("KV cache + recurrent state", 0) ==
        0);
}

TEST_CASE("sweep --plot names the series by the axes that vary besides x", "[cli][plot]") {
  TempDir dir;
  const std::string svg = (dir.path() / "sweep.svg").string();
  const RunResult r =
      run_cli({"sweep", "--variant", "gqa", "--batch", "1,8", "--hw", "h100,b200", "--seq-len",
               "4k,8k", "--plot", svg, "--plot-x", "batch", "--plot-y", "tflops"});
  REQUIRE(r.exit_code == 0);
  const auto root = parse_xml(read_file(svg));
  CHECK(attrs(*root, "g", "series", "data-series") ==
        std::vector<std::string>{"h100-sxm5-80gb q_len=4096 kv_len=4096",
                                 "h100-sxm5-80gb q_len=8192 kv_len=8192",
                                 "b200 q_len=4096 kv_len=4096", "b200 q_len=8192 kv_len=8192"});
  CHECK(texts(*root, "x-title").at(0) == "batch size (log scale)");
}

TEST_CASE("sweep --plot reads RFC-quoted CSV cells: a comma in a config path is one series",
          "[cli][plot]") {
  TempDir dir;
  const fs::path config = dir.path() / "a,b.json";
  fs::copy_file(fs::path(ATTNSIM_SOURCE_DIR) / "tests/fixtures/hf-configs/qwen3-8b.config.json",
                config);
  const std::string svg = (dir.path() / "quoted.svg").string();
  const std::string rows = (dir.path() / "rows.csv").string();
  const RunResult r =
      run_cli({"sweep", "--hf-config", config.string(), "--model", "llama-3.1-8b", "--phase",
               "decode", "--seq-len", "16k,32k", "--plot", svg, "-o", rows});
  REQUIRE(r.exit_code == 0);
  const auto root = parse_xml(read_file(svg));
  const auto series = attrs(*root, "g", "series", "data-series");
  REQUIRE(series.size() == 2);
  CHECK(std::count_if(series.begin(), series.end(), [&](const std::string& s) {
          return s.find(config.string()) != std::string::npos;
        }) == 1);
  const auto markers = root->all("circle", "marker");
  REQUIRE(markers.size() == 4);
  for (const XmlElement* m : markers) {
    const std::string x = m->attr("data-x");
    CHECK((x == "16384" || x == "32768"));
    CHECK(std::stod(m->attr("data-y")) > 0);
  }
}

TEST_CASE("bad input to --plot exits 2 and leaves no file", "[cli][plot]") {
  TempDir dir;
  const std::string svg = (dir.path() / "p.svg").string();
  const std::string out = (dir.path() / "rows.csv").string();
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const Case cases[] = {
      {{"sweep", "--seq-len", "4096", "--plot", svg}, "no axis has more than one value"},
      {{"sweep", "--seq-len", "1k,2k", "--batch", "1,2", "--plot", svg}, "--plot-x"},
      {{"sweep", "--seq-len", "1..300000", "--plot", svg, "-o", out}, "at most 200000"},
      {{"sweep", "--seq-len", "1k,2k", "--plot", svg, "--plot-y", "power"}, "--plot-y"},
      {{"sweep", "--seq-len", "1k,2k", "--batch", "1..21", "--plot", svg, "--plot-x", "seq-len",
        "-o", out},
       "more than 20 series"},
      {{"query", "--plot", "-"}, "--plot needs a file name"},
      {{"query", "--plot", ""}, "empty path"},
      {{"query", "--plot", svg, "-o", svg}, "also the -o file"},
      {{"compare", "--variants", "gqa,mla", "--plot", dir.path().string()}, "is a directory"},
  };
  for (const Case& c : cases) {
    INFO(c.args.back());
    const RunResult r = run_cli(c.args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.find(c.message) != std::string::npos);
    CHECK_FALSE(fs::exists(svg));
    CHECK_FALSE(fs::exists(out));
  }
}

TEST_CASE("a --plot naming the -o file however it is spelt is refused", "[cli][plot]") {
  TempDir dir;
  fs::create_directory(dir.path() / "sub");
  const fs::path svg = dir.path() / "p.svg";
  fs::create_symlink("p.svg", dir.path() / "link.svg");  // to a file not written yet
  const std::string spellings[] = {(dir.path() / "." / "p.svg").string(),
                                   (dir.path() / "sub" / ".." / "p.svg").string(),
                                   (dir.path() / "link.svg").string()};
  for (const std::string& output : spellings) {
    INFO(output);
    const RunResult r = run_cli({"query", "--plot", svg.string(), "-o", output});
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains("also the -o file"));
    CHECK_FALSE(fs::exists(svg));
  }
  // A hard link: two names, one file.
  write_file(svg, "old\n");
  fs::create_hard_link(svg, dir.path() / "hard.svg");
  const RunResult r =
      run_cli({"query", "--plot", svg.string(), "-o", (dir.path() / "hard.svg").string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("also the -o file"));
  CHECK(read_file(svg) == "old\n");
}

TEST_CASE("query and compare --format svg print the roofline; other commands refuse svg",
          "[cli][plot]") {
  const RunResult query = run_cli({"query", "--variant", "mla", "--format", "svg"});
  REQUIRE(query.exit_code == 0);
  CHECK(attrs(*parse_xml(query.out), "circle", "point", "data-label") ==
        std::vector<std::string>{"mla"});
  const RunResult compare = run_cli({"compare", "--variants", "gqa,mla", "--format", "svg"});
  REQUIRE(compare.exit_code == 0);
  CHECK(attrs(*parse_xml(compare.out), "circle", "point", "data-label") ==
        std::vector<std::string>{"gqa", "mla"});
  const RunResult model = run_cli({"query", "--model", "deepseek-v3", "--format", "svg"});
  REQUIRE(model.exit_code == 0);
  CHECK(attrs(*parse_xml(model.out), "circle", "point", "data-label").size() == 1);
  const RunResult hw = run_cli({"hw", "list", "--format", "svg"});
  CHECK(hw.exit_code == 2);
  CHECK(hw.err.find("allowed: table, json, csv\n") != std::string::npos);
  const RunResult bad = run_cli({"query", "--format", "png"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("allowed: table, json, csv, svg") != std::string::npos);
}

// --- sweep --plot with a multi-device layout ---

namespace {

// The CSV rows of a sweep as header -> cell maps.
std::vector<std::map<std::string, std::string>> csv_row_maps(const std::string& text) {
  std::vector<std::vector<std::string>> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string cell; std::getline(fields, cell, ',');) cells.push_back(cell);
    if (!line.empty() && line.back() == ',') cells.emplace_back();  // a trailing empty cell
    lines.push_back(cells);
  }
  std::vector<std::map<std::string, std::string>> rows;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    std::map<std::string, std::string> row;
    for (std::size_t c = 0; c < lines[0].size(); ++c) row[lines[0][c]] = lines[i].at(c);
    rows.push_back(row);
  }
  return rows;
}

}  // namespace

TEST_CASE("sweep --plot-y exposed-comm draws exposed communication against context length",
          "[cli][plot][parallel]") {
  TempDir dir;
  const std::string svg = (dir.path() / "exposed.svg").string();
  const std::string rows_csv = (dir.path() / "rows.csv").string();
  // Ring attention over 8 nodes: short contexts cannot hide the network transfers.
  const RunResult r = run_cli({"sweep",   "--variant", "gqa",
                               "--heads", "32",        "--kv-heads",
                               "8",       "--seq-len", "2048,8192,32768,131072",
                               "--cp",    "8",         "--cp-strategy",
                               "ring",    "--nodes",   "8",
                               "--hw",    "h100",      "--plot",
                               svg,       "--plot-y",  "exposed-comm",
                               "-o",      rows_csv});
  REQUIRE(r.exit_code == 0);
  const auto rows = csv_row_maps(read_file(rows_csv));
  REQUIRE(rows.size() == 4);
  const auto root = parse_xml(read_file(svg));
  REQUIRE(root->all("g", "series").size() == 1);
  const auto markers = root->all("circle", "marker");
  REQUIRE(markers.size() == 4);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO(i);
    CHECK(markers[i]->attr("data-x") == rows[i].at("kv_len"));
    CHECK(markers[i]->attr("data-y") == rows[i].at("per_device_exposed_comm_s"));
  }
  CHECK(std::stod(rows[0].at("per_device_exposed_comm_s")) > 0);
  CHECK(texts(*root, "y-title").at(0).rfind("exposed communication per device", 0) == 0);
  CHECK(texts(*root, "x-title").at(0).rfind("seq-len (tokens", 0) == 0);
}

TEST_CASE("sweep --tp 1,2,4,8 --plot-x tp draws one series per context, the rows' values",
          "[cli][plot][parallel]") {
  TempDir dir;
  const std::string svg = (dir.path() / "tp.svg").string();
  const std::vector<std::string> args = {
      "sweep",   "--variant", "gqa",       "--heads",  "32",   "--kv-heads", "8",
      "--phase", "decode",    "--seq-len", "32k,128k", "--tp", "1,2,4,8"};
  const RunResult plain = run_cli(args);
  const RunResult plotted =
      run_cli(with(args, {"--plot", svg, "--plot-x", "tp", "--plot-y", "device-time"}));
  REQUIRE(plotted.exit_code == 0);
  CHECK(plotted.out == plain.out);
  const auto rows = csv_row_maps(plotted.out);
  REQUIRE(rows.size() == 8);
  const auto root = parse_xml(read_file(svg));
  CHECK(attrs(*root, "g", "series", "data-series") ==
        std::vector<std::string>{"kv_len=32768", "kv_len=131072"});
  const auto markers = root->all("circle", "marker");
  REQUIRE(markers.size() == 8);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    INFO(i);
    CHECK(markers[i]->attr("data-x") == rows[i].at("tp"));
    CHECK(markers[i]->attr("data-y") == rows[i].at("per_device_total_s"));
  }
  CHECK(texts(*root, "x-title").at(0).rfind("tp (devices)", 0) == 0);
}

TEST_CASE("a swept layout axis names the series when x is the context", "[cli][plot][parallel]") {
  TempDir dir;
  const std::string svg = (dir.path() / "series.svg").string();
  const RunResult r =
      run_cli({"sweep", "--variant", "gqa", "--heads", "32", "--kv-heads", "8", "--seq-len",
               "8k,32k", "--cp", "2,4", "--plot", svg, "--plot-x", "seq-len", "--plot-y", "comm"});
  REQUIRE(r.exit_code == 0);
  const auto root = parse_xml(read_file(svg));
  CHECK(attrs(*root, "g", "series", "data-series") == std::vector<std::string>{"cp=2", "cp=4"});
  CHECK(root->all("circle", "marker").size() == 4);
}

TEST_CASE("a sweep over a head-shape list plots one series per head shape", "[cli][plot]") {
  TempDir dir;
  const std::string svg = (dir.path() / "heads.svg").string();
  const RunResult r = run_cli({"sweep", "--variant", "gqa", "--kv-heads", "1,8", "--phase",
                               "decode", "--seq-len", "8k,32k", "--plot", svg});
  REQUIRE(r.exit_code == 0);
  const auto root = parse_xml(read_file(svg));
  // Each label names the field that varies; those all share are in the subtitle.
  CHECK(attrs(*root, "g", "series", "data-series") ==
        std::vector<std::string>{"kv_heads=1", "kv_heads=8"});
  CHECK_THAT(test_support::subtitle(*root),
             Catch::Contains("heads=32") && Catch::Contains("head_dim=128"));
  CHECK(root->all("circle", "marker").size() == 4);
}

TEST_CASE("bad layout plot input exits 2, lists the allowed values and leaves no file",
          "[cli][plot][parallel]") {
  TempDir dir;
  const std::string svg = (dir.path() / "p.svg").string();
  const std::string out = (dir.path() / "rows.csv").string();
  struct Case {
    std::vector<std::string> args;
    const char* message;
  };
  const Case cases[] = {
      {{"--seq-len", "1k,2k", "--plot-y", "exposed-comm"}, "needs a layout (--tp, --cp"},
      {{"--seq-len", "1k,2k", "--cp", "2", "--plot-y", "exposed_comm_s"},
       "allowed: time, tflops, kv-bytes, device-time, compute, comm, exposed-comm, "
       "device-kv-bytes"},
      {{"--seq-len", "1k,2k", "--cp", "2", "--plot-x", "tp"}, "--plot-x tp: --tp has only one"},
      {{"--seq-len", "1k,2k", "--cp", "2", "--plot-x", "nodes"},
       "allowed: seq-len, batch, q-len, kv-len, tp, cp"},
      {{"--seq-len", "1k,2k", "--tp", "1,2", "--cp", "1,2"}, "several axes vary"},
  };
  for (const Case& c : cases) {
    INFO(c.message);
    const RunResult r =
        run_cli(with(with({"sweep", "--variant", "gqa"}, c.args), {"--plot", svg, "-o", out}));
    CHECK(r.exit_code == 2);
    CHECK_THAT(r.err, Catch::Contains(c.message));
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    CHECK_FALSE(fs::exists(svg));
    CHECK_FALSE(fs::exists(out));
  }
}

TEST_CASE(
    "an output folder problem names the folder as the user gave it, relative when the path "
    "was relative",
    "[cli]") {
  test_support::TempDir dir;
  test_support::write_file(dir.path() / "good.csv", "x\n");
  std::filesystem::create_symlink("nowhere/x.json", dir.path() / "dangling.json");
  const auto in_dir = [&](std::vector<std::string> args) {
    return test_support::run_with_env({"-C", dir.path().string()}, args);
  };
  const test_support::RunResult under_file = in_dir({"query", "-o", "good.csv/q.json"});
  CHECK(under_file.exit_code == 2);
  CHECK_THAT(under_file.err, Catch::Contains("'good.csv' is not a directory") &&
                                 !Catch::Contains(dir.path().string()));
  const test_support::RunResult dangling = in_dir({"query", "-o", "dangling.json"});
  CHECK(dangling.exit_code == 2);
  CHECK_THAT(dangling.err, Catch::Contains("no directory 'nowhere'"));
  const test_support::RunResult plot = in_dir({"query", "--plot", "good.csv/p.svg"});
  CHECK(plot.exit_code == 2);
  CHECK_THAT(plot.err, Catch::Contains("'good.csv' is not a directory"));
  // An absolute path is named absolute.
  const test_support::RunResult absolute =
      in_dir({"query", "-o", (dir.path() / "good.csv" / "q.json").string()});
  CHECK_THAT(absolute.err, Catch::Contains("'" + (dir.path() / "good.csv").string() + "'"));
}

TEST_CASE("a --plot into the file the results go to on stdout is refused, naming stdout", "[cli]") {
  // `attnsim query --plot r.svg > r.svg`: the chart would clobber the table (or interleave with
  // it on a terminal or pipe, /dev/stdout).
  test_support::TempDir dir;
  const std::filesystem::path out = dir.path() / "r.svg", err = dir.path() / "err";
  const std::string cmd = "cd '" + dir.path().string() + "' && '" + test_support::attnsim_binary() +
                          "' query --plot r.svg > r.svg 2> err";
  const int status = std::system(cmd.c_str());
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 2);
  CHECK_THAT(test_support::read_file(err),
             Catch::Contains("--plot 'r.svg' is where the results go (stdout)"));
  CHECK(std::filesystem::file_size(out) == 0);  // nothing written into it
  // With -o the chart may go where stdout goes.
  const std::string with_o = "cd '" + dir.path().string() + "' && '" +
                             test_support::attnsim_binary() +
                             "' query -o table.txt --plot r.svg > r.svg 2> err";
  CHECK(WEXITSTATUS(std::system(with_o.c_str())) == 0);
  CHECK_THAT(test_support::read_file(out), Catch::StartsWith("<?xml"));
}

TEST_CASE("a roofline of every profile gives each device its own colour", "[cli][plot]") {
  const RunResult r = run_cli({"query", "--seq-len", "8k", "--hw", "all", "--format", "svg"});
  REQUIRE(r.exit_code == 0);
  const auto root = parse_xml(r.out);
  const auto fills = attrs(*root, "circle", "point", "fill");
  REQUIRE(fills.size() > 10);
  CHECK(std::set<std::string>(fills.begin(), fills.end()).size() == fills.size());
}
