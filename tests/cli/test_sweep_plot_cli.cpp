// sweep --plot's legend and subtitle: a series is labelled by what varies between the series,
// never cut off where two differ, and the subtitle says what they share, the mask included.
#include <catch2/catch.hpp>

#include <set>
#include <string>
#include <vector>

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
    const std::string subtitle = texts(*parse_xml(read_file(svg)), "subtitle").at(0);
    INFO(subtitle);
    CHECK_THAT(subtitle, Catch::Contains(causal ? ", causal," : ", non-causal,") &&
                             Catch::Contains("+projections"));
  }
}
