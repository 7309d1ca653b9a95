// attnsim sweep --param: a variant parameter as a sweep axis (a list or range of values),
// multiplied with the other axes for the variants that have the parameter.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"

using test_support::run_cli;
using test_support::RunResult;
using test_support::with;
using json = nlohmann::json;

namespace {

std::size_t row_lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE(
    "a --param takes a list or range of values: the variants that have the parameter sweep each, "
    "the others once; a parameter given twice, an empty item or a bad range is bad input",
    "[cli][sweep]") {
  const RunResult r = run_cli({"sweep", "--variant", "swa,gqa", "--param", "window=256,1k,4096",
                               "--seq-len", "8k", "--format", "jsonl"});
  REQUIRE(r.exit_code == 0);
  std::istringstream rows(r.out);
  std::vector<std::pair<std::string, double>> seen;  // (variant, window or 0)
  for (std::string line; std::getline(rows, line);) {
    const json row = json::parse(line);
    const json& params = row.at("params");
    seen.emplace_back(row.at("variant"),
                      params.contains("window") ? params.at("window").get<double>() : 0.0);
  }
  CHECK(seen == std::vector<std::pair<std::string, double>>{
                    {"swa", 256}, {"swa", 1024}, {"swa", 4096}, {"gqa", 0}});
  // Two axes multiply; a range steps as the size axes do.
  const RunResult product = run_cli({"sweep", "--variant", "nsa", "--param", "top_k=4..16:x2",
                                     "--param", "select_block=32,64", "--seq-len", "8k"});
  REQUIRE(product.exit_code == 0);
  CHECK(row_lines(product.out) == 1 + 3 * 2);
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"--param", "window=256", "--param", "window=512"},
        {"--param", "window=256,,512"},
        {"--param", "window="},
        {"--param", "window=1..8:x1"},
        {"--param", "window=12q"},
        // A value out of the parameter's range is bad input in a list as alone.
        {"--param", "window=0,5"},
        {"--param", "window=1.5,2"},
        // Lists that multiply past the most shapes a sweep builds.
        {"--param", "window=1..3000", "--param", "n_sink=0..3000"}}) {
    const RunResult e = run_cli(with({"sweep", "--variant", "swa"}, bad));
    INFO(bad[1]);
    CHECK(e.exit_code == 2);
    CHECK(e.out.empty());
    CHECK(row_lines(e.err) == 1);
    CHECK_THAT(e.err, Catch::Contains("--param"));
  }
}
