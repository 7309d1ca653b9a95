// End-to-end tests of query's multi-device layout flags (--tp, --cp, --cp-strategy, --nodes).
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"
#include "tests/support/profile_helpers.hpp"

namespace {

using nlohmann::json;
using test_support::run_cli;
using test_support::RunResult;
using test_support::with;

const std::vector<std::string> kPrefill = {"query",      "--variant", "gqa",       "--heads", "32",
                                           "--kv-heads", "8",         "--seq-len", "65536"};

}  // namespace

TEST_CASE("query without layout flags prints no per_device (single-device output unchanged)",
          "[cli][parallel]") {
  const RunResult r = run_cli(with(kPrefill, {"--format", "json"}));
  REQUIRE(r.exit_code == 0);
  const json doc = json::parse(r.out);
  CHECK_FALSE(doc["results"][0].contains("per_device"));
  CHECK_FALSE(doc["results"][0].contains("layout"));
}

TEST_CASE("query --tp 8 --cp 4 --nodes 4 reports per_device and cluster with comm per link",
          "[cli][parallel]") {
  const RunResult r =
      run_cli(with(kPrefill, {"--tp", "8", "--cp", "4", "--nodes", "4", "--format", "json"}));
  REQUIRE(r.exit_code == 0);
  const json res = json::parse(r.out)["results"][0];
  CHECK(res["layout"]["devices"] == 32);
  CHECK(res["layout"]["devices_per_node"] == 8);
  CHECK(res["layout"]["heads_per_device"] == 4);
  CHECK(res["layout"]["kv_heads_per_device"] == 1);
  const json& d = res["per_device"];
  // 65536 / 4 = 16384 tokens x 1 KV head x 256 x 2 B = 8 MiB per block, 3 blocks over the network.
  CHECK(d["kv_cache_bytes"].get<double>() == Approx(16384.0 * 256 * 2));
  CHECK(d["comm_bytes"]["scale_out"].get<double>() == Approx(3 * 16384.0 * 256 * 2));
  CHECK(d["comm_bytes"]["scale_up"].get<double>() == 0);
  for (const char* key : {"compute_s", "comm_s", "total_s", "hbm_bytes"}) {
    CHECK(d[key].get<double>() > 0);
  }
  // A 8 MiB block crosses 400 Gb/s in ~170 us, under a 16k x 16k block of 4 heads: hidden.
  CHECK(d["exposed_comm_s"].get<double>() == 0);
  CHECK(d["total_s"].get<double>() == d["compute_s"].get<double>());
  CHECK(res["cluster"]["flops"]["tensor"].get<double>() ==
        Approx(res["flops"]["tensor"].get<double>()));
}

TEST_CASE("the table and CSV show the per-device values too", "[cli][parallel]") {
  const RunResult table = run_cli(with(kPrefill, {"--cp", "4", "--cp-strategy", "zigzag"}));
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("cp_strategy=zigzag"));
  CHECK_THAT(table.out, Catch::Contains("per device"));
  CHECK_THAT(table.out, Catch::Contains("exposed"));
  const RunResult csv = run_cli(with(kPrefill, {"--tp", "2", "--format", "csv"}));
  REQUIRE(csv.exit_code == 0);
  CHECK_THAT(csv.out, Catch::Contains("per_device_comm_bytes_scale_up"));
  CHECK_THAT(csv.out, Catch::Contains("cluster_kv_cache_bytes"));
}

TEST_CASE("impossible layouts exit 2 with a clear message", "[cli][parallel]") {
  const RunResult heads = run_cli(with(kPrefill, {"--tp", "3"}));
  CHECK(heads.exit_code == 2);
  CHECK_THAT(heads.err, Catch::Contains("32 query heads do not split evenly over 3 devices"));
  const RunResult seq = run_cli({"query", "--seq-len", "1000", "--cp", "3"});
  CHECK(seq.exit_code == 2);
  CHECK_THAT(seq.err, Catch::Contains("does not split into 3 equal chunks"));
  const RunResult strategy = run_cli(with(kPrefill, {"--cp", "2", "--cp-strategy", "spiral"}));
  CHECK(strategy.exit_code == 2);
  CHECK_THAT(strategy.err, Catch::Contains("known: ring, zigzag"));
  const RunResult zero = run_cli(with(kPrefill, {"--tp", "0"}));
  CHECK(zero.exit_code == 2);
  const RunResult crowded = run_cli(with(kPrefill, {"--tp", "8", "--cp", "2"}));
  CHECK(crowded.exit_code == 2);
  CHECK_THAT(crowded.err, Catch::Contains("raise --nodes"));
}

TEST_CASE("hw-set on links changes the communication time", "[cli][parallel]") {
  const std::vector<std::string> args = with(kPrefill, {"--cp", "4", "--format", "json"});
  const RunResult base = run_cli(args);
  const RunResult slow =
      run_cli(with(args, {"--hw-set", "links.scale_up.bandwidth_GBps_per_dir=45"}));
  REQUIRE(base.exit_code == 0);
  REQUIRE(slow.exit_code == 0);
  const double t0 = json::parse(base.out)["results"][0]["per_device"]["comm_s"].get<double>();
  const double t1 = json::parse(slow.out)["results"][0]["per_device"]["comm_s"].get<double>();
  CHECK(t1 > 5 * t0);
}

TEST_CASE("sweep over --tp 1,2,4,8 gives one row per degree with per-device columns",
          "[cli][parallel]") {
  const RunResult r = run_cli({"sweep", "--variant", "gqa", "--heads", "32", "--kv-heads", "8",
                               "--phase", "decode", "--seq-len", "32768", "--tp", "1,2,4,8"});
  REQUIRE(r.exit_code == 0);
  std::vector<std::string> lines;
  std::istringstream in(r.out);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  REQUIRE(lines.size() == 5);
  CHECK_THAT(lines[0],
             Catch::Contains(",tp,cp,cp_strategy,cp_state_strategy,nodes,per_device_flops_tensor"));
  CHECK_THAT(lines[0], Catch::Contains("per_device_total_s,layout_balance,attention_pool_servers"));
  // The cell of a row in the column the header names; the per-device KV cache halves with each
  // step.
  auto cell = [&](std::size_t row, const std::string& column) {
    std::istringstream names(lines[0]), fields(lines[row]);
    std::string name, f;
    while (std::getline(names, name, ',') && std::getline(fields, f, ',')) {
      if (name == column) return f;
    }
    FAIL("no column " << column);
    return std::string();
  };
  CHECK(cell(1, "tp") == "1");
  CHECK(cell(4, "tp") == "8");
  CHECK(std::stod(cell(1, "per_device_kv_cache_bytes")) ==
        Approx(8 * std::stod(cell(4, "per_device_kv_cache_bytes"))));
}

TEST_CASE("sweep without layout flags keeps its single-device columns", "[cli][parallel]") {
  const RunResult r = run_cli({"sweep", "--seq-len", "1024"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, !Catch::Contains("per_device"));
}

TEST_CASE("sweep of exposed communication against context length (jsonl)", "[cli][parallel]") {
  const RunResult r =
      run_cli({"sweep", "--variant", "gqa", "--heads", "32", "--kv-heads", "8", "--seq-len",
               "8192,65536", "--cp", "8", "--nodes", "8", "--format", "jsonl"});
  REQUIRE(r.exit_code == 0);
  std::istringstream in(r.out);
  std::vector<json> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["cp"] == 8);
  CHECK(rows[0]["per_device_exposed_comm_s"].get<double>() >= 0);
  // Longer context: the ring's compute grows as L^2, its transfers as L; less is exposed.
  const auto share = [](const json& row) {
    return row["per_device_exposed_comm_s"].get<double>() / row["per_device_total_s"].get<double>();
  };
  CHECK(share(rows[1]) <= share(rows[0]));
}

TEST_CASE("sweep --model over --tp gives model totals per device; tp=1 is the model's time",
          "[cli][parallel][models]") {
  const RunResult r = run_cli({"sweep", "--model", "llama-3.1-8b", "--phase", "decode", "--seq-len",
                               "32768", "--tp", "1,2,4,8", "--format", "jsonl"});
  REQUIRE(r.exit_code == 0);
  std::istringstream in(r.out);
  std::vector<json> rows;
  for (std::string line; std::getline(in, line);) rows.push_back(json::parse(line));
  REQUIRE(rows.size() == 4);
  CHECK(rows[0]["per_device_total_s"].get<double>() ==
        Approx(rows[0]["time_s"].get<double>()).epsilon(1e-9));
  CHECK(rows[0]["per_device_kv_cache_bytes"] == rows[0]["kv_cache_bytes"]);
  // 8 KV heads: each step halves a device's share of the 32 layers' cache.
  CHECK(rows[3]["tp"] == 8);
  // (Rows print 9 significant digits.)
  CHECK(rows[3]["per_device_kv_cache_bytes"].get<double>() ==
        Approx(rows[0]["kv_cache_bytes"].get<double>() / 8).epsilon(1e-8));
}

TEST_CASE("query --caller pytorch puts the host floor in each device's time under a layout",
          "[cli][parallel][caller]") {
  // A short decode: PyTorch's per-call floor (calibration.caller_floor_us) sets the time.
  const std::vector<std::string> decode = {
      "query",  "--variant", "gqa",  "--heads",  "32", "--kv-heads", "8",   "--phase",
      "decode", "--seq-len", "1024", "--layers", "4",  "--format",   "json"};
  const auto result = [&](std::vector<std::string> extra) {
    return test_support::first_result(with(decode, extra));
  };
  const json one = result({"--caller", "pytorch", "--tp", "1"});
  CHECK(one["per_device"]["total_s"].get<double>() == Approx(one["time_s"].get<double>()));
  const json two = result({"--caller", "pytorch", "--tp", "2"});
  const json direct = result({"--tp", "2"});
  // Four layers, one call each, on every device: each device takes the single device's floor.
  CHECK(two["per_device"]["total_s"].get<double>() == Approx(one["time_s"].get<double>()));
  CHECK(two["per_device"]["compute_s"] == direct["per_device"]["compute_s"]);
  CHECK(two["per_device"]["total_s"].get<double>() >
        1.5 * direct["per_device"]["total_s"].get<double>());
}

TEST_CASE("query --model --caller pytorch applies the floor per group on each device",
          "[cli][parallel][caller][models]") {
  const std::vector<std::string> q = {"query",     "--model", "llama-3.1-8b", "--phase", "decode",
                                      "--seq-len", "1024",    "--format",     "json",    "--tp",
                                      "2"};
  const json direct = json::parse(run_cli(q).out)["models"][0]["total"]["per_device"];
  const json torch = json::parse(
      run_cli(with(q, {"--caller", "pytorch"})).out)["models"][0]["total"]["per_device"];
  CHECK(torch["compute_s"] == direct["compute_s"]);
  CHECK(torch["total_s"].get<double>() > direct["total_s"].get<double>());
}

TEST_CASE(
    "a non-causal-only variant's workload reads non-causal in the header and the JSON, "
    "whatever --causal says",
    "[cli][parallel]") {
  const RunResult table = run_cli({"query", "--variant", "lga", "--seq-len", "8192"});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("kv_len=8192 non-causal"));
  const RunResult doc =
      run_cli({"compare", "--variants", "gna,gqa", "--seq-len", "8192", "--format", "json"});
  REQUIRE(doc.exit_code == 0);
  const json rows = json::parse(doc.out)["comparisons"];
  REQUIRE(rows.size() == 2);
  CHECK(rows[0]["detail"]["workload"]["causal"] == false);
  CHECK(rows[1]["detail"]["workload"]["causal"] == true);
}

TEST_CASE("query --tp names --tp when a variant's own head counts do not split",
          "[cli][parallel]") {
  const RunResult r =
      run_cli({"query", "--variant", "gda", "--seq-len", "4096", "--hw", "h100", "--tp", "3"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("--tp 3: gda's 8 noise_heads do not split evenly"));
}

TEST_CASE(
    "a non-causal-only variant takes kv_len below q_len whatever --causal says; a hybrid "
    "model decodes at cp 1 with a state strategy named",
    "[cli][parallel]") {
  CHECK(run_cli({"query", "--variant", "gna", "--q-len", "4096", "--kv-len", "1024"}).exit_code ==
        0);
  CHECK(run_cli({"sweep", "--variant", "gna", "--q-len", "4096", "--kv-len", "1024"}).exit_code ==
        0);
  const RunResult hybrid =
      run_cli({"query", "--model", "qwen3-next-80b-a3b", "--phase", "decode", "--tp", "2",
               "--cp-strategy", "ring", "--cp-state-strategy", "lasp2"});
  CHECK(hybrid.exit_code == 0);
  CHECK(hybrid.err.empty());
}

TEST_CASE("a --tp above the node size says tp may not exceed it (a TP group stays in one node)",
          "[cli][parallel]") {
  const RunResult r = run_cli(with(kPrefill, {"--tp", "16"}));
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("tp may be at most 8"));
  CHECK_THAT(r.err, !Catch::Contains("raise --nodes"));
}

TEST_CASE("a profile without links names the --hw-set form that adds them, and that form works",
          "[cli][parallel]") {
  const test_support::TempDir dir;
  json doc = test_support::profile_doc("h100-sxm5-80gb");
  doc.erase("links");
  doc["id"] = "my-gpu";
  doc.erase("aliases");
  test_support::write_file(dir, doc.dump(), "my-gpu.json");
  const std::vector<std::string> args =
      with(kPrefill, {"--tp", "2", "--hw-dir", dir.path().string(), "--hw", "my-gpu"});
  const RunResult refused = run_cli(args);
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("--hw-set 'links={\"scale_up\": {...}}'"));
  const RunResult given =
      run_cli(with(args, {"--hw-set",
                          "links={\"scale_up\": {\"name\": \"NVLink\", \"topology\": \"nvswitch\", "
                          "\"devices_per_node\": 8, \"bandwidth_GBps_per_dir\": 450, "
                          "\"latency_us\": 3.4, \"source\": \"test\"}}"}));
  CHECK(given.exit_code == 0);
  CHECK(given.err.empty());
}

TEST_CASE("the layout line counts one device in the singular", "[cli][parallel]") {
  const RunResult one = run_cli(with(kPrefill, {"--tp", "1"}));
  REQUIRE(one.exit_code == 0);
  CHECK_THAT(one.out, Catch::Contains("(1 device, 1 on each node)"));
  const RunResult four = run_cli(with(kPrefill, {"--cp", "4"}));
  CHECK_THAT(four.out, Catch::Contains("(4 devices, 4 on each node)"));
}
