// sweep --plot's legend and subtitle: a series is labelled by what varies between the series,
// never cut off where two differ, and the subtitle says what they share, the mask included.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <set>
#include <string>
#include <vector>

#include "cli/plot_svg.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/svg_check.hpp"
#include "tests/support/temp_dir.hpp"

using test_support::parse_xml;
using test_support::read_file;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::texts;

TEST_CASE("sweep --plot legend labels never cut off what varies, nor give two series one label",
          "[cli][plot]") {
  TempDir dir;
  const std::string svg = (dir.path() / "hd2.svg").string();
  const RunResult r = run_cli({"sweep", "--variant", "gqa", "--head-dim", "64,128", "--seq-len",
                               "4096,8192", "--hw", "h100,h200", "--plot", svg});
  REQUIRE(r.exit_code == 0);
  const auto root = parse_xml(read_file(svg));
  const std::vector<std::string> legend = texts(*root, "legend-label");
  CHECK(legend ==
        std::vector<std::string>{"h100-sxm5-80gb head_dim=64", "h100-sxm5-80gb head_dim=128",
                                 "h200-sxm-141gb head_dim=64", "h200-sxm-141gb head_dim=128"});
  CHECK(std::set<std::string>(legend.begin(), legend.end()).size() == legend.size());
}

TEST_CASE(
    "sweep --plot says in its subtitle whether the mask is causal and the projections counted",
    "[cli][plot]") {
  TempDir dir;
  const std::string svg = (dir.path() / "mask.svg").string();
  for (const bool causal : {true, false}) {
    std::vector<std::string> args = {"sweep",     "--variant", "gqa",
                                     "--seq-len", "1k..8k:x2", "--include-projections",
                                     "--plot",    svg};
    if (!causal) args.push_back("--no-causal");
    REQUIRE(run_cli(args).exit_code == 0);
    const std::string subtitle = test_support::subtitle(*parse_xml(read_file(svg)));
    INFO(subtitle);
    CHECK_THAT(subtitle, Catch::Contains(causal ? ", causal," : ", non-causal,") &&
                             Catch::Contains("+projections"));
  }
}

TEST_CASE(
    "sweep --plot's subtitle fits the chart's width in lines, and leaves out an empty kernel and "
    "a KV dtype that is the dtype",
    "[cli][plot]") {
  TempDir dir;
  const std::string svg = (dir.path() / "roofline.svg").string();
  REQUIRE(run_cli({"sweep", "--variant", "gqa", "--seq-len", "1k,2k,3k,4k", "--engine", "roofline",
                   "--hw", "h100", "--plot", svg})
              .exit_code == 0);
  const auto root = parse_xml(read_file(svg));
  const std::vector<std::string> lines = texts(*root, "subtitle");
  REQUIRE(lines.size() >= 2);  // 13 shared fields do not fit one 960-pixel line
  for (const std::string& line : lines) {
    INFO(line);
    CHECK(cli::plot::text_width(line, 12) <= 960 - 40);
  }
  const std::string subtitle = test_support::subtitle(*root);
  CHECK_THAT(subtitle, Catch::Contains("engine roofline, caller direct") &&
                           !Catch::Contains("kernel") && !Catch::Contains("kv_dtype") &&
                           Catch::Contains("dtype bf16"));
  // Token ticks step by powers of two, written as the sizes are given.
  const std::vector<std::string> ticks = texts(*root, "x-tick");
  CHECK(ticks == std::vector<std::string>{"1k", "2k", "3k", "4k"});
  // An fp8 cache beside bf16 activations is said.
  REQUIRE(run_cli({"sweep", "--variant", "gqa", "--seq-len", "1k,2k", "--kv-dtype", "fp8", "--hw",
                   "h100", "--plot", svg})
              .exit_code == 0);
  CHECK_THAT(test_support::subtitle(*parse_xml(read_file(svg))),
             Catch::Contains("kv_dtype fp8") && Catch::Contains("kernel auto"));
}

TEST_CASE("sweep --plot with more series than a chart holds is refused before the first row",
          "[cli][sweep][plot]") {
  TempDir dir;
  const std::string svg = (dir.path() / "p.svg").string();
  // 21 batches: 21 series over --seq-len. Nothing on stdout: not the header, not a row.
  const RunResult r = run_cli(
      {"sweep", "--seq-len", "1k,2k", "--batch", "1..21", "--plot-x", "seq-len", "--plot", svg});
  test_support::require_bad_input(r, {"more than 20 series"});
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE(
    "sweep --plot draws a sweep whose axes allow more than 20 series when its priced rows draw 20 "
    "or fewer",
    "[cli][sweep][plot]") {
  TempDir dir;
  const std::string svg = (dir.path() / "p.svg").string();
  // 5 x 5 (q_len, kv_len) pairs, 15 of them causal (kv_len >= q_len): 15 series over --batch.
  const RunResult r =
      run_cli({"sweep", "--batch", "1,2", "--q-len", "1k,2k,3k,4k,5k", "--kv-len", "1k,2k,3k,4k,5k",
               "--plot-x", "batch", "--plot", svg, "--progress", "no"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 31);  // the header and 15 x 2 rows
  CHECK_THAT(read_file(svg), Catch::Contains("<svg"));
}

TEST_CASE(
    "sweep --plot draws a swept variant parameter on x when no other axis varies (or with "
    "--plot-x NAME); a variant without it draws no point",
    "[cli][plot]") {
  TempDir dir;
  const std::string svg = (dir.path() / "window.svg").string();
  const RunResult r = run_cli({"sweep", "--variant", "swa,gqa", "--param", "window=256..8192:x2",
                               "--seq-len", "16k", "--hw", "b200,h100", "--plot", svg});
  REQUIRE(r.exit_code == 0);
  const auto root = parse_xml(read_file(svg));
  const std::vector<std::string> x_title = texts(*root, "x-title");
  REQUIRE(x_title.size() == 1);
  CHECK_THAT(x_title[0], Catch::StartsWith("window (tokens"));
  // One line per device for swa; gqa, which has no window, draws none.
  CHECK(texts(*root, "legend-label") == std::vector<std::string>{"b200", "h100-sxm5-80gb"});
  // A head count swept beside lengths leaves x on the lengths (the series are the head counts);
  // --plot-x puts it on x.
  const RunResult heads = run_cli(
      {"sweep", "--variant", "gqa", "--kv-heads", "1,2,4,8", "--seq-len", "8k,16k", "--plot", svg});
  REQUIRE(heads.exit_code == 0);
  CHECK_THAT(texts(*parse_xml(read_file(svg)), "x-title")[0], Catch::StartsWith("seq-len"));
  const RunResult on_x = run_cli({"sweep", "--variant", "gqa", "--kv-heads", "1,2,4,8", "--seq-len",
                                  "8k,16k", "--plot", svg, "--plot-x", "kv_heads"});
  REQUIRE(on_x.exit_code == 0);
  CHECK(texts(*parse_xml(read_file(svg)), "x-title")[0] == "kv_heads (log scale)");
  // A head dim on x is one line: v_head_dim follows it and names no series.
  const RunResult dims = run_cli(
      {"sweep", "--variant", "gqa", "--head-dim", "64,128", "--seq-len", "1k", "--plot", svg});
  REQUIRE(dims.exit_code == 0);
  const auto dims_root = parse_xml(read_file(svg));
  CHECK(texts(*dims_root, "x-title")[0] == "head_dim");
  CHECK(texts(*dims_root, "legend-label").size() == 1);
  // Defaults that differ between variants are no axis: nothing varies here.
  const RunResult defaults =
      run_cli({"sweep", "--variant", "gqa,mha", "--seq-len", "1k", "--plot", svg});
  CHECK(defaults.exit_code == 2);
  CHECK_THAT(defaults.err, Catch::Contains("no axis has more than one value"));
  // A shard whose rows all lack x's parameter draws an empty chart, and says so.
  const RunResult shard = run_cli({"sweep", "--variant", "swa,gqa", "--param", "window=1k,4k",
                                   "--seq-len", "8k", "--shard", "3/3", "--plot", svg});
  CHECK(shard.exit_code == 0);
  CHECK_THAT(shard.err, Catch::Contains("the chart is empty"));
  // A parameter with one value cannot be x.
  const RunResult one = run_cli({"sweep", "--variant", "swa", "--param", "window=256", "--seq-len",
                                 "8k,16k", "--plot", svg, "--plot-x", "window"});
  CHECK(one.exit_code == 2);
  CHECK_THAT(one.err, Catch::Contains("--plot-x 'window'"));
}

TEST_CASE(
    "sweep --plot labels a parameter's axis in tokens when the variant's table counts it in "
    "tokens (llsa's block, fit's latents), and as a plain count otherwise (nsa's top_k)",
    "[cli][plot]") {
  TempDir dir;
  const std::string svg = (dir.path() / "param.svg").string();
  struct Case {
    const char* variant;
    const char* param;
    bool tokens;
  };
  for (const Case& c : {Case{"llsa", "block=8,16,32", true}, Case{"fit", "latents=16,32,64", true},
                        Case{"nsa", "top_k=4,8,16", false}}) {
    INFO(c.variant << " " << c.param);
    const RunResult r = run_cli({"sweep", "--variant", c.variant, "--param", c.param, "--seq-len",
                                 "8k", "--phase", "prefill", "--plot", svg});
    REQUIRE(r.exit_code == 0);
    const std::vector<std::string> x_title = texts(*parse_xml(read_file(svg)), "x-title");
    REQUIRE(x_title.size() == 1);
    const std::string name(c.param, std::string_view(c.param).find('='));
    CHECK_THAT(x_title[0], Catch::StartsWith(name));
    CHECK((x_title[0].find("tokens") != std::string::npos) == c.tokens);
  }
}
