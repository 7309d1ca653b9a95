// --plot FILE.svg on query, compare and sweep: the file is written (well-formed, with the expected
// points and series), the results on stdout are the same bytes as without it, and bad input exits
// 2 leaving no file.
#include <catch2/catch.hpp>

#include <filesystem>
#include <string>

#include "tests/support/cli_runner.hpp"
#include "tests/support/svg_check.hpp"
#include "tests/support/temp_dir.hpp"

using test_support::parse_xml;
using test_support::read_file;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::with;
using test_support::XmlElement;

namespace fs = std::filesystem;

namespace {

std::vector<std::string> attrs(const XmlElement& root, const std::string& tag,
                               const std::string& cls, const std::string& key) {
  std::vector<std::string> out;
  for (const XmlElement* e : root.all(tag, cls)) out.push_back(e->attr(key));
  return out;
}

std::vector<std::string> texts(const XmlElement& root, const std::string& cls) {
  std::vector<std::string> out;
  for (const XmlElement* e : root.all("text", cls)) out.push_back(e->text);
  return out;
}

bool contains(const std::vector<std::string>& list, const std::string& item) {
  return std::find(list.begin(), list.end(), item) != list.end();
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
