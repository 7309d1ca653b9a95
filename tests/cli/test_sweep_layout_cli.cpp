// sweep under a layout: the rows carry what `query --format csv` carries (layout_balance, the
// attention pool), and --cp-strategy is a list axis like --tp and --cp.
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"
#include "tests/support/svg_check.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

using nlohmann::json;
using test_support::run_cli;
using test_support::RunResult;
using test_support::with;

const std::vector<std::string> kGqaArgs = {"--variant", "gqa", "--heads", "32", "--kv-heads", "8"};

std::vector<json> jsonl(const std::string& text) {
  std::vector<json> rows;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
  return rows;
}

// The CSV rows as column -> cell maps.
std::vector<std::vector<std::pair<std::string, std::string>>> csv_row_pairs(
    const std::string& text) {
  std::istringstream in(text);
  std::vector<std::string> header;
  std::vector<std::vector<std::pair<std::string, std::string>>> rows;
  for (std::string line; std::getline(in, line);) {
    std::vector<std::string> cells;
    std::istringstream fields(line);
    for (std::string f; std::getline(fields, f, ',');) cells.push_back(f);
    if (!line.empty() && line.back() == ',') cells.emplace_back();
    if (header.empty()) {
      header = cells;
      continue;
    }
    rows.emplace_back();
    for (std::size_t i = 0; i < header.size(); ++i) {
      rows.back().emplace_back(header[i], i < cells.size() ? cells[i] : "<missing>");
    }
  }
  return rows;
}

std::string cell(const std::vector<std::pair<std::string, std::string>>& row,
                 const std::string& column) {
  for (const auto& [name, value] : row) {
    if (name == column) return value;
  }
  return "<no column " + column + ">";
}

json query_result(const std::vector<std::string>& extra) {
  return test_support::first_result(
      with(with(with({"query"}, kGqaArgs), extra), {"--format", "json"}));
}

}  // namespace

TEST_CASE("sweep rows under a layout carry query's layout_balance and attention_pool columns",
          "[cli][parallel][sweep]") {
  const std::vector<std::string> point = {"--phase", "train", "--seq-len", "65536", "--cp", "4"};
  std::vector<std::string> args = with({"sweep"}, kGqaArgs);
  args = with(args, point);
  const RunResult r = run_cli(with(args, {"--cp-strategy", "cad"}));
  REQUIRE(r.exit_code == 0);
  const auto rows = csv_row_pairs(r.out);
  REQUIRE(rows.size() == 1);
  const json q = query_result(with(point, {"--cp-strategy", "cad"}));
  CHECK(std::stod(cell(rows[0], "layout_balance")) ==
        Approx(q["layout"]["balance"].get<double>()).epsilon(1e-8));
  CHECK(cell(rows[0], "attention_pool_servers") == "4");
  CHECK(std::stod(cell(rows[0], "attention_pool_tasks")) == q["attention_pool"]["tasks"]);
  CHECK(std::stod(cell(rows[0], "attention_pool_shard_tokens")) ==
        q["attention_pool"]["shard_tokens"]);
  CHECK(std::stod(cell(rows[0], "attention_pool_dispatch_bytes")) ==
        Approx(q["attention_pool"]["dispatch_bytes"].get<double>()).epsilon(1e-8));
  CHECK(std::stod(cell(rows[0], "attention_pool_return_bytes")) ==
        Approx(q["attention_pool"]["return_bytes"].get<double>()).epsilon(1e-8));

  // A ring has a balance (a plain causal ring's busiest device does more) and no pool.
  const auto ring = csv_row_pairs(run_cli(args).out);
  REQUIRE(ring.size() == 1);
  const json qr = query_result(point);
  CHECK(std::stod(cell(ring[0], "layout_balance")) ==
        Approx(qr["layout"]["balance"].get<double>()).epsilon(1e-8));
  CHECK(std::stod(cell(ring[0], "layout_balance")) > 1.5);
  CHECK(cell(ring[0], "attention_pool_tasks").empty());
  const auto ring_json = jsonl(run_cli(with(args, {"--format", "jsonl"})).out);
  REQUIRE(ring_json.size() == 1);
  CHECK(ring_json[0].contains("layout_balance"));
  CHECK_FALSE(ring_json[0].contains("attention_pool_tasks"));
}

TEST_CASE("sweep names its per-device columns as query's CSV does, with the same values",
          "[cli][parallel][sweep]") {
  const std::vector<std::string> point = {"--seq-len", "65536", "--tp", "2", "--cp", "4"};
  const auto sweep = csv_row_pairs(run_cli(with(with({"sweep"}, kGqaArgs), point)).out);
  const auto query =
      csv_row_pairs(run_cli(with(with(with({"query"}, kGqaArgs), point), {"--format", "csv"})).out);
  REQUIRE(sweep.size() == 1);
  REQUIRE(query.size() == 1);
  int compared = 0;
  for (const auto& [name, value] : sweep[0]) {
    if (name.rfind("per_device_", 0) != 0) continue;
    INFO(name);
    REQUIRE(cell(query[0], name).rfind("<no column", 0) != 0);
    CHECK(std::stod(value) == Approx(std::stod(cell(query[0], name))).epsilon(1e-8));
    ++compared;
  }
  CHECK(compared == 10);
  CHECK(std::stod(cell(sweep[0], "per_device_comm_bytes_scale_up")) > 0);
}

TEST_CASE("sweep --cp-strategy takes a list: one row per strategy, impossible points skipped",
          "[cli][parallel][sweep]") {
  std::vector<std::string> args = with({"sweep"}, kGqaArgs);
  args = with(args, {"--phase", "prefill,decode", "--seq-len", "16384", "--cp", "2",
                     "--cp-strategy", "ring,cad", "--format", "jsonl"});
  const RunResult r = run_cli(args);
  REQUIRE(r.exit_code == 0);
  const std::vector<json> rows = jsonl(r.out);
  // prefill x {ring, cad}, decode x ring; decode x cad is not a layout decode can take.
  REQUIRE(rows.size() == 3);
  CHECK(rows[0]["phase"] == "prefill");
  CHECK(rows[0]["cp_strategy"] == "ring");
  CHECK(rows[1]["phase"] == "prefill");
  CHECK(rows[1]["cp_strategy"] == "cad");
  CHECK(rows[1].contains("attention_pool_tasks"));
  CHECK(rows[2]["phase"] == "decode");
  CHECK(rows[2]["cp_strategy"] == "ring");
  CHECK_THAT(r.err, Catch::Contains("1 of 4 points skipped"));
  CHECK_THAT(r.err, Catch::Contains("--cp-strategy cad does not apply to decode"));
  // An unknown name in the list is still exit 2 before any point runs.
  const RunResult bad = run_cli(with(with({"sweep"}, kGqaArgs), {"--seq-len", "16384", "--cp", "2",
                                                                 "--cp-strategy", "ring,spiral"}));
  CHECK(bad.exit_code == 2);
  CHECK_THAT(bad.err, Catch::Contains("unknown --cp-strategy 'spiral'"));
}

TEST_CASE("a sweep's cp 1 rows carry only the strategies the variant takes at cp 2",
          "[cli][parallel][sweep]") {
  // lga is sized by the whole sequence: ring is refused at cp 2, so its cp 1 row would label a
  // strategy the variant cannot take; ulysses keeps both rows.
  const RunResult r = run_cli({"sweep", "--variant", "lga", "--seq-len", "8192", "--cp", "1,2",
                               "--cp-strategy", "ring,ulysses", "--format", "jsonl"});
  REQUIRE(r.exit_code == 0);
  const std::vector<json> rows = jsonl(r.out);
  REQUIRE(rows.size() == 2);
  for (const json& row : rows) CHECK(row["cp_strategy"] == "ulysses");
  CHECK(rows[0]["cp"] == 1);
  CHECK(rows[1]["cp"] == 2);
  CHECK_THAT(r.err, Catch::Contains("2 of 4 points skipped (first: --cp 1 --cp-strategy ring"));
  // Without --cp-strategy the default (ring) names nothing: a cp 1 row is priced.
  const RunResult plain = run_cli({"sweep", "--variant", "lga", "--seq-len", "8192", "--tp", "2"});
  CHECK(plain.exit_code == 0);
  CHECK(plain.err.empty());
  // query: a named strategy is refused at cp 1 as at cp 2.
  const RunResult q =
      run_cli({"query", "--variant", "gqa", "--seq-len", "8192", "--cp-strategy", "lasp2"});
  CHECK(q.exit_code == 2);
  CHECK_THAT(q.err, Catch::Contains("--cp-strategy lasp2 is for linear attention"));
}

TEST_CASE("sweep --plot over several strategies draws one series per strategy",
          "[cli][parallel][sweep][plot]") {
  test_support::TempDir dir;
  const std::string svg = (dir.path() / "strategies.svg").string();
  std::vector<std::string> args = with({"sweep"}, kGqaArgs);
  args = with(args, {"--seq-len", "16k,32k", "--cp", "4", "--cp-strategy", "ring,zigzag", "--plot",
                     svg, "--plot-y", "device-time"});
  const RunResult r = run_cli(args);
  REQUIRE(r.exit_code == 0);
  const auto root = test_support::parse_xml(test_support::read_file(svg));
  std::vector<std::string> series;
  for (const auto* e : root->all("g", "series")) series.push_back(e->attr("data-series"));
  CHECK(series == std::vector<std::string>{"ring", "zigzag"});
}

TEST_CASE(
    "sweep rows name --cp-state-strategy in their own column, empty (and no JSON member) when it "
    "is not set",
    "[cli][parallel][sweep]") {
  const std::vector<std::string> hybrid = {
      "sweep", "--model", "qwen3-next-80b-a3b", "--seq-len", "8192", "--cp", "2"};
  const RunResult r = run_cli(with(hybrid, {"--cp-state-strategy", "zeco"}));
  REQUIRE(r.exit_code == 0);
  const auto rows = csv_row_pairs(r.out);
  REQUIRE(rows.size() == 1);
  CHECK(cell(rows[0], "cp_strategy") == "ring");
  CHECK(cell(rows[0], "cp_state_strategy") == "zeco");
  const auto lasp =
      jsonl(run_cli(with(hybrid, {"--cp-state-strategy", "lasp2", "--format", "jsonl"})).out);
  REQUIRE(lasp.size() == 1);
  CHECK(lasp[0]["cp_state_strategy"] == "lasp2");
  // A dense variant's layout has no state strategy.
  std::vector<std::string> dense = with({"sweep"}, kGqaArgs);
  dense = with(dense, {"--seq-len", "8192", "--cp", "2"});
  const auto plain = csv_row_pairs(run_cli(dense).out);
  REQUIRE(plain.size() == 1);
  CHECK(cell(plain[0], "cp_state_strategy").empty());
  const auto plain_json = jsonl(run_cli(with(dense, {"--format", "jsonl"})).out);
  REQUIRE(plain_json.size() == 1);
  CHECK_FALSE(plain_json[0].contains("cp_state_strategy"));
}
