// The roofline engine models no schedule, so its results name no kernel whatever --kernel says
// (README, --engine): null in JSON, an empty CSV cell, "-" in the table; the tile engine's keep
// --kernel as given.
#include <catch2/catch.hpp>

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"

// Named, not anonymous: the tests are unity-built, and helpers of one file must not meet another's.
namespace roofline_cli {

using test_support::run_cli;
using test_support::run_json;
using test_support::RunResult;

const std::vector<std::string> kRoofline = {"--variant", "gqa",      "--hw",     "a100",
                                            "--engine",  "roofline", "--kernel", "fa4"};

std::vector<std::string> lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  for (std::string cell; std::getline(in, cell, ',');) out.push_back(cell);
  if (!line.empty() && line.back() == ',') out.emplace_back();
  return out;
}

// The `kernel` cell of each data row of a CSV text.
std::vector<std::string> kernel_cells(const std::string& csv) {
  const std::vector<std::string> rows = lines(csv);
  REQUIRE(rows.size() >= 2);
  const std::vector<std::string> header = cells(rows[0]);
  const auto column = std::find(header.begin(), header.end(), "kernel") - header.begin();
  REQUIRE(column < static_cast<std::ptrdiff_t>(header.size()));
  std::vector<std::string> out;
  for (std::size_t i = 1; i < rows.size(); ++i) out.push_back(cells(rows[i]).at(column));
  return out;
}

}  // namespace roofline_cli

using test_support::run_cli;
using test_support::run_json;
using test_support::RunResult;

TEST_CASE("a roofline query names no kernel in JSON, CSV and the table; a tile query does",
          "[cli][roofline]") {
  const nlohmann::json doc = run_json(test_support::with({"query"}, {"--format", "json"}));
  CHECK(doc["results"][0]["kernel"] == "auto");
  std::vector<std::string> roofline = {"query"};
  roofline.insert(roofline.end(), roofline_cli::kRoofline.begin(), roofline_cli::kRoofline.end());
  const nlohmann::json json = run_json(test_support::with(roofline, {"--format", "json"}));
  CHECK(json["results"][0]["engine"] == "roofline");
  CHECK(json["results"][0]["kernel"].is_null());
  const RunResult csv = run_cli(test_support::with(roofline, {"--format", "csv"}));
  REQUIRE(csv.exit_code == 0);
  CHECK(roofline_cli::kernel_cells(csv.out) == std::vector<std::string>{""});
  const RunResult table = run_cli(roofline);
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("engine=roofline kernel=-\n"));
  CHECK(table.out.find("fa4") == std::string::npos);
  const nlohmann::json tile = run_json(
      {"query", "--variant", "gqa", "--hw", "a100", "--kernel", "fa2", "--format", "json"});
  CHECK(tile["results"][0]["kernel"] == "fa2");
}

TEST_CASE("roofline entries of compare name no kernel", "[cli][roofline]") {
  std::vector<std::string> args = {"compare", "--variants", "gqa,mla",  "--hw",
                                   "a100",    "--engine",   "roofline", "--kernel",
                                   "fa4",     "--format",   "json"};
  const nlohmann::json doc = run_json(args);
  REQUIRE(doc["comparisons"].size() == 2);
  for (const nlohmann::json& row : doc["comparisons"]) CHECK(row["detail"]["kernel"].is_null());
}

TEST_CASE("a sweep over both engines names --kernel on tile points only", "[cli][roofline]") {
  const std::vector<std::string> args = {
      "sweep",         "--variant", "gqa", "--hw",      "a100", "--engine",
      "roofline,tile", "--kernel",  "fa2", "--seq-len", "1k"};
  const RunResult csv = run_cli(test_support::with(args, {"--format", "csv"}));
  REQUIRE(csv.exit_code == 0);
  CHECK(roofline_cli::kernel_cells(csv.out) == std::vector<std::string>{"", "fa2"});
  const RunResult jsonl = run_cli(test_support::with(args, {"--format", "jsonl"}));
  REQUIRE(jsonl.exit_code == 0);
  const std::vector<std::string> rows = roofline_cli::lines(jsonl.out);
  REQUIRE(rows.size() == 2);
  CHECK(nlohmann::json::parse(rows[0])["engine"] == "roofline");
  CHECK(nlohmann::json::parse(rows[0])["kernel"].is_null());
  CHECK(nlohmann::json::parse(rows[1])["kernel"] == "fa2");
  const nlohmann::json models =
      run_json({"sweep", "--model", "llama-3.1-8b", "--hw", "a100", "--engine", "roofline",
                "--kernel", "fa2", "--seq-len", "1k", "--format", "json"});
  REQUIRE(models.size() == 1);
  CHECK(models[0]["kernel"].is_null());
}
