// End-to-end tests of the attnsim binary: output formats, exit codes, error messages, files and
// hardware-profile directories. Every command runs with ATTNSIM_HW_PATH set explicitly, so the
// caller's environment cannot change the catalog.

#include <algorithm>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

const std::vector<std::string> kCanonicalIds = {"a100-sxm4-80gb", "a100-sxm4-40gb",
                                                "a800-sxm4-80gb", "h100-sxm5-80gb",
                                                "h100-pcie-80gb", "h800-sxm5-80gb",
                                                "h200-sxm-141gb", "b200",
                                                "gb200",          "ascend-910b1",
                                                "ascend-910b2",   "ascend-910b3",
                                                "ascend-910b4",   "h20",
                                                "gb300",          "b300",
                                                "a100-pcie-40gb", "a100-pcie-80gb"};

// Memory-bound on every built-in profile: 64 sequences reading a 32k-token GQA KV cache.
const std::vector<std::string> kDecodeArgs = {"query",  "--variant", "gqa",   "--phase",
                                              "decode", "--seq-len", "32768", "--batch",
                                              "64",     "--format",  "json"};

using test_support::first_result;
using test_support::read_file;
using test_support::require_bad_input;
using test_support::run_cli;
using test_support::run_json;
using test_support::RunResult;
using test_support::TempDir;
using test_support::with;
using test_support::write_file;

std::vector<std::string> dir_entries(const fs::path& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

// hwprofiles/h100-sxm5-80gb.json as a user profile `id` with no aliases.
json h100_file_as(const std::string& id) {
  json doc =
      json::parse(read_file(fs::path(ATTNSIM_SOURCE_DIR) / "hwprofiles/h100-sxm5-80gb.json"));
  doc["id"] = id;
  doc["aliases"] = json::array();
  return doc;
}

std::size_t csv_fields(const std::string& line) {
  std::size_t fields = 1;
  bool quoted = false;
  for (char c : line) {
    quoted = quoted != (c == '"');
    fields += (c == ',' && !quoted) ? 1 : 0;
  }
  return fields;
}

}  // namespace

TEST_CASE("a --hw list names each profile once, however many of its names it gives", "[cli]") {
  for (const char* command : {"query", "compare", "sweep"}) {
    INFO(command);
    std::vector<std::string> args = {command, "--hw", "h100,H100-SXM5,a100,h100-sxm5-80gb",
                                     "--format", "json"};
    if (std::string(command) == "compare") args.insert(args.end(), {"--variants", "gqa,mla"});
    const json doc = run_json(args);
    std::vector<std::string> hws;
    const std::string c = command;
    const json& rows = c == "sweep" ? doc : doc.at(c == "query" ? "results" : "comparisons");
    for (const json& r : rows) {
      const std::string hw = r.at("hw");
      if (std::find(hws.begin(), hws.end(), hw) == hws.end()) hws.push_back(hw);
    }
    CHECK(hws == std::vector<std::string>{"h100-sxm5-80gb", "a100-sxm4-80gb"});
    CHECK(rows.size() == (c == "compare" ? 4u : 2u));
  }
}

TEST_CASE("query json has attnsim_version and one full result per --hw, named by canonical id",
          "[cli]") {
  const json doc = run_json({"query", "--format", "json", "--hw", "a100,h100"});
  CHECK_FALSE(doc.at("attnsim_version").get<std::string>().empty());
  REQUIRE(doc.at("results").size() == 2);
  CHECK(doc["results"][0].at("hw") == "a100-sxm4-80gb");
  CHECK(doc["results"][1].at("hw") == "h100-sxm5-80gb");
  for (const json& r : doc["results"]) {
    INFO(r.at("hw"));
    for (const char* key : {"hw", "variant", "params", "workload", "engine", "time_s", "bound",
                            "flops", "bytes", "kv_cache_bytes", "arithmetic_intensity", "launches"})
      CHECK(r.contains(key));
    const json& f = r.at("flops");
    CHECK(f.at("total").get<double>() ==
          Approx(f.at("tensor").get<double>() + f.at("vector").get<double>() +
                 f.at("exp").get<double>()));
    double parts = 0;
    for (const auto& [key, v] : r.at("bytes").items()) parts += key == "hbm" ? 0 : v.get<double>();
    CHECK(r.at("bytes").size() > 1);
    CHECK(r.at("bytes").at("hbm").get<double>() == Approx(parts));
    CHECK(r.at("time_s").get<double>() > 0);
    CHECK_FALSE(r.at("launches").empty());
  }
}

TEST_CASE(
    "GQA decode KV cache via the CLI: 8 kv heads x 256 x 2 B = 4096 B/token/layer, x1000 tokens",
    "[cli]") {
  const json r = first_result({"query", "--variant", "gqa", "--heads", "32", "--kv-heads", "8",
                               "--head-dim", "128", "--phase", "decode", "--seq-len", "1000",
                               "--batch", "1", "--format", "json", "--hw", "h100"});
  CHECK(r.at("kv_cache_bytes_per_token_per_layer").get<double>() == 4096.0);
  CHECK(r.at("kv_cache_bytes").get<double>() == 4096.0 * 1000);
}

TEST_CASE("query csv is one header line plus one row per hw, each row as wide as the header",
          "[cli]") {
  const RunResult r = run_cli({"query", "--format", "csv", "--hw", "a100,h100,b200"});
  REQUIRE(r.exit_code == 0);
  std::istringstream csv(r.out);
  std::vector<std::string> lines, header;
  for (std::string line; std::getline(csv, line);) lines.push_back(line);
  REQUIRE(lines.size() == 4);
  std::istringstream header_line(lines[0]);
  for (std::string cell; std::getline(header_line, cell, ',');) header.push_back(cell);
  for (const char* column :
       {"hw", "variant", "time_s", "bound", "flops_tensor", "bytes_hbm", "kv_cache_bytes"}) {
    INFO(column);
    CHECK(std::find(header.begin(), header.end(), column) != header.end());
  }
  CHECK(lines[1].rfind("a100-sxm4-80gb,", 0) == 0);
  CHECK(lines[2].rfind("h100-sxm5-80gb,", 0) == 0);
  CHECK(lines[3].rfind("b200,", 0) == 0);
  for (std::size_t i = 1; i < lines.size(); ++i)
    CHECK(csv_fields(lines[i]) == csv_fields(lines[0]));
}

TEST_CASE("query prints a table by default that names every requested hw id", "[cli]") {
  const RunResult r = run_cli({"query", "--hw", "a100,h100,gb200"});
  REQUIRE(r.exit_code == 0);
  for (const char* id : {"a100-sxm4-80gb", "h100-sxm5-80gb", "gb200"})
    CHECK_THAT(r.out, Catch::Contains(id));
}

TEST_CASE("bad query input exits 2 with one 'attnsim: error:' line naming problem and choices",
          "[cli]") {
  struct BadInput {
    const char* rule;
    std::vector<std::string> args, mentions;
  };
  TempDir dir;
  const std::string missing = (dir.path() / "no-such-dir").string();
  // clang-format off
  const std::vector<BadInput> cases = {
      {"unknown variant", {"--variant", "nope"}, {"'nope'", "mha", "mqa", "gqa"}},
      {"gqa heads not divisible by kv heads",
       {"--variant", "gqa", "--heads", "32", "--kv-heads", "5"}, {"divisible", "32", "5"}},
      {"negative --seq-len as two words", {"--seq-len", "-5"}, {"--seq-len", "-5", "[1, 1073741824]"}},
      {"negative --seq-len=-5", {"--seq-len=-5"}, {"--seq-len", "-5", "[1, 1073741824]"}},
      {"zero batch", {"--batch", "0"}, {"batch", "[1, 16777216]", "0"}},
      {"causal with kv_len < q_len", {"--seq-len", "100", "--kv-len", "50"},
       {"causal", "kv_len >= q_len", "100", "50"}},
      {"unknown flag", {"--bogus"}, {"--bogus"}},
      {"unknown dtype", {"--dtype", "int4"}, {"'int4'", "fp16", "bf16", "fp8"}},
      {"unknown phase", {"--phase", "sideways"}, {"'sideways'", "prefill", "decode", "train"}},
      {"unknown format", {"--format", "xml"}, {"'xml'", "table", "json", "csv"}},
      {"unknown hw profile", {"--hw", "nope"}, {"'nope'", "h100", "h100-sxm5-80gb"}},
      {"fp8 on a100", {"--hw", "a100", "--dtype", "fp8"}, {"a100-sxm4-80gb", "fp8", "bf16"}},
      {"misspelled --hw-set key", {"--hw", "h100", "--hw-set", "memory.hbm_bandwith_GBps=1"},
       {"unknown key", "hbm_bandwith_GBps", "hbm_bandwidth_GBps"}},
      {"nonexistent --hw-dir", {"--hw-dir", missing}, {missing, "does not exist"}},
  };
  // clang-format on
  for (const BadInput& c : cases) {
    INFO(c.rule);
    require_bad_input(run_cli(with({"query"}, c.args)), c.mentions);
  }
}

TEST_CASE("a malformed JSON profile in --hw-dir exits 2 and names the file", "[cli]") {
  TempDir dir;
  write_file(dir.path() / "broken.json", "{ \"id\": \"broken\", ");
  require_bad_input(run_cli({"query", "--hw", "h100", "--hw-dir", dir.path().string()}),
                    {"broken.json", "malformed JSON"});
}

TEST_CASE("a profile file with an unknown key exits 2 with the key's JSON pointer", "[cli]") {
  TempDir dir;
  json doc = h100_file_as("odd-gpu");
  doc["compute"]["bogus_key"] = 1;
  write_file(dir.path() / "odd-gpu.json", doc.dump(2));
  require_bad_input(run_cli({"query", "--hw", "odd-gpu", "--hw-dir", dir.path().string()}),
                    {"odd-gpu.json", "/compute/bogus_key", "unknown key"});
}

TEST_CASE("query -o with bad input creates neither the output file nor a temporary file", "[cli]") {
  TempDir dir;
  const fs::path target = dir.path() / "out.json";
  const RunResult r =
      run_cli({"query", "--variant", "nope", "--format", "json", "-o", target.string()});
  require_bad_input(r, {"'nope'"});
  CHECK(dir_entries(dir.path()).empty());
}

TEST_CASE("query -o with good input writes the JSON document to the file, nothing to stdout",
          "[cli]") {
  TempDir dir;
  const fs::path target = dir.path() / "out.json";
  const RunResult r = run_cli({"query", "--hw", "h100", "--format", "json", "-o", target.string()});
  INFO("stderr: " << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.empty());
  CHECK(r.err.empty());
  CHECK(dir_entries(dir.path()) == std::vector<std::string>{"out.json"});
  const json doc = json::parse(read_file(target));
  CHECK(doc.at("results").at(0).at("hw") == "h100-sxm5-80gb");
}

TEST_CASE(
    "a user profile is usable by id via --hw-dir and via ATTNSIM_HW_PATH, and half the HBM "
    "bandwidth doubles the HBM term of a memory-bound decode",
    "[cli]") {
  TempDir dir;
  json doc = h100_file_as("my-gpu");
  doc["memory"]["hbm_bandwidth_GBps"] = doc["memory"]["hbm_bandwidth_GBps"].get<double>() / 2;
  write_file(dir.path() / "my-gpu.json", doc.dump(2));

  const json h100 = first_result(with(kDecodeArgs, {"--hw", "h100"}));
  REQUIRE(h100.at("bound") == "hbm");
  const double h100_hbm_s = h100.at("launches").at(0).at("hbm_s").get<double>();

  json r;
  SECTION("via --hw-dir") {
    r = first_result(with(kDecodeArgs, {"--hw", "my-gpu", "--hw-dir", dir.path().string()}));
  }
  SECTION("via ATTNSIM_HW_PATH") {
    r = first_result(with(kDecodeArgs, {"--hw", "my-gpu"}), dir.path().string());
  }
  CHECK(r.at("hw") == "my-gpu");
  CHECK(r.at("bound") == "hbm");
  CHECK(r.at("time_s").get<double>() > h100.at("time_s").get<double>());
  CHECK(r.at("launches").at(0).at("hbm_s").get<double>() == Approx(2 * h100_hbm_s));
}

TEST_CASE("query --hw-set memory.hbm_bandwidth_GBps=6700 halves the HBM term of h100 decode",
          "[cli]") {
  const json base = first_result(with(kDecodeArgs, {"--hw", "h100"}));
  const json fast = first_result(
      with(kDecodeArgs, {"--hw", "h100", "--hw-set", "memory.hbm_bandwidth_GBps=6700"}));
  REQUIRE(base.at("bound") == "hbm");
  CHECK(fast.at("hw") == "h100-sxm5-80gb*");  // marked as not the stock device
  CHECK(fast.at("time_s").get<double>() < base.at("time_s").get<double>());
  CHECK(fast.at("launches").at(0).at("hbm_s").get<double>() ==
        Approx(base.at("launches").at(0).at("hbm_s").get<double>() / 2));
}

TEST_CASE("hw list --format json lists exactly the 18 built-in canonical ids", "[cli]") {
  const json list = run_json({"hw", "list", "--format", "json"});
  REQUIRE(list.is_array());
  std::vector<std::string> ids, expected = kCanonicalIds;
  for (const json& p : list) ids.push_back(p.at("id").get<std::string>());
  std::sort(ids.begin(), ids.end());
  std::sort(expected.begin(), expected.end());
  CHECK(ids == expected);
}

TEST_CASE("hw list's table keeps its columns aligned: every row is as long as the header",
          "[cli]") {
  const RunResult r = run_cli({"hw", "list"});
  REQUIRE(r.exit_code == 0);
  std::istringstream lines(r.out);
  std::string header, line;
  REQUIRE(std::getline(lines, header));
  int rows = 0;
  while (std::getline(lines, line)) {
    INFO(line);
    CHECK(line.size() == header.size());
    ++rows;
  }
  CHECK(rows == static_cast<int>(kCanonicalIds.size()));
}

TEST_CASE("hw show json resolves aliases and is a profile file that loads back unchanged",
          "[cli]") {
  CHECK(run_json({"hw", "show", "h100", "--format", "json"}).at("id") == "h100-sxm5-80gb");
  TempDir dir;
  for (const std::string& id : kCanonicalIds) {
    INFO(id);
    json shown = run_json({"hw", "show", id, "--format", "json"});
    CHECK(shown.at("id") == id);
    shown["id"] = "copy-of-" + id;
    shown["aliases"] = json::array();
    write_file(dir.path() / ("copy-of-" + id + ".json"), shown.dump(2));
    const json loaded = run_json(
        {"hw", "show", "copy-of-" + id, "--format", "json", "--hw-dir", dir.path().string()});
    CHECK(loaded == shown);
  }
}

TEST_CASE("hw show and variants show with an unknown name exit 2", "[cli]") {
  require_bad_input(run_cli({"hw", "show", "nope"}), {"'nope'", "h100"});
  require_bad_input(run_cli({"variants", "show", "nope"}), {"'nope'", "mha", "gqa"});
}

TEST_CASE("variants list --format json includes mha, mqa and gqa", "[cli]") {
  const json list = run_json({"variants", "list", "--format", "json"});
  std::vector<std::string> names;
  for (const json& v : list) names.push_back(v.at("name").get<std::string>());
  for (const char* name : {"mha", "mqa", "gqa"})
    CHECK(std::find(names.begin(), names.end(), name) != names.end());
}

TEST_CASE("variants show gqa documents the kv_heads parameter", "[cli]") {
  const RunResult r = run_cli({"variants", "show", "gqa"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("kv_heads") && Catch::Contains("must divide heads"));
}

TEST_CASE("attnsim --version names attnsim and the state of the CUDA backend", "[cli]") {
  const RunResult r = run_cli({"--version"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("attnsim") && Catch::Contains("CUDA backend"));
}

TEST_CASE("validate --devices exits 0 and reports either no CUDA device or device 0", "[cli]") {
  const RunResult r = run_cli({"validate", "--devices"});
  INFO("stdout: " << r.out << "\nstderr: " << r.err);
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("no CUDA device") || Catch::Contains("device 0"));
}

TEST_CASE("attnsim without a subcommand exits 2 with one error line listing the commands",
          "[cli]") {
  require_bad_input(run_cli({}), {"needs a command", "query", "hw", "variants", "validate"});
}

TEST_CASE("an unknown command is named and the commands at that level are listed", "[cli]") {
  require_bad_input(run_cli({"frobnicate"}),
                    {"unknown command 'frobnicate'", "query", "hw", "variants", "validate"});
  require_bad_input(run_cli({"hw", "frob"}),
                    {"unknown command 'frob'", "attnsim hw", "list", "show", "probe"});
  require_bad_input(run_cli({"hw"}), {"attnsim hw needs a command", "list", "show", "probe"});
}

TEST_CASE("a named --kernel that prices none of the workload, or not its backward, is warned about",
          "[cli]") {
  auto warning_of = [](std::vector<std::string> args) {
    const test_support::RunResult r = test_support::run_cli(args);
    REQUIRE(r.exit_code == 0);
    return r.err;
  };
  // NSA's Triton kernel does not take its default head dim 192: every launch is FA2's.
  CHECK_THAT(warning_of({"query", "--variant", "nsa", "--kernel", "nsa_triton", "--hw", "h100"}),
             Catch::Contains("--kernel nsa_triton on h100-sxm5-80gb: no launch of this workload "
                             "runs it (priced with fa2"));
  // A scan on a softmax kernel.
  CHECK_THAT(warning_of({"query", "--variant", "linear", "--kernel", "fa4", "--hw", "b200"}),
             Catch::Contains("no launch of this workload runs it (priced with"));
  // TPLA's all-reduce is a transfer priced on the links, not a kernel that priced the step.
  const std::string tpla = warning_of({"query", "--variant", "tpla", "--phase", "decode",
                                       "--kernel", "nsa_triton", "--hw", "h100"});
  CHECK_THAT(tpla, Catch::Contains("(priced with fa2)"));
  CHECK_THAT(tpla, !Catch::Contains("roofline"));
  // A split-KV decoder has no backward model: training prices its backward with FA3's.
  CHECK_THAT(warning_of({"query", "--variant", "gqa", "--phase", "train", "--kernel", "split_kv",
                         "--hw", "h100"}),
             Catch::Contains("it has no backward model"));
  // The unfused math path has one (autograd over its own kernels): nothing to say.
  CHECK(warning_of({"query", "--variant", "gqa", "--phase", "train", "--kernel", "unfused", "--hw",
                    "h100"})
            .empty());
  CHECK_THAT(warning_of({"compare", "--variants", "gqa,linear", "--kernel", "fa3", "--hw", "h100"}),
             Catch::Contains("--kernel fa3 on h100-sxm5-80gb (linear): no launch"));
  // The kernel named runs it all: nothing to say.
  CHECK(warning_of(
            {"query", "--variant", "gqa", "--phase", "train", "--kernel", "fa3", "--hw", "h100"})
            .empty());
  CHECK(warning_of({"query", "--variant", "nsa", "--kernel", "nsa_triton", "--hw", "h100",
                    "--engine", "roofline"})
            .empty());
}

TEST_CASE("a profile --hw-set changed is named with a '*' by query, compare and sweep",
          "[cli][hw-set]") {
  const std::vector<std::string> set = {"--hw", "h100", "--hw-set",
                                        "memory.hbm_bandwidth_GBps=4800"};
  const std::vector<std::string> decode = {"--phase", "decode",  "--seq-len",
                                           "65536",   "--batch", "32"};
  const auto run = [&](std::vector<std::string> args, bool with_set) {
    args.insert(args.end(), decode.begin(), decode.end());
    if (with_set) args.insert(args.end(), set.begin(), set.end());
    if (!with_set) args.insert(args.end(), {"--hw", "h100"});
    const RunResult r = run_cli(args);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  const json q = json::parse(run({"query", "--format", "json"}, true));
  CHECK(q.at("results").at(0).at("hw") == "h100-sxm5-80gb*");
  CHECK(json::parse(run({"query", "--format", "json"}, false)).at("results").at(0).at("hw") ==
        "h100-sxm5-80gb");
  CHECK_THAT(run({"query"}, true), Catch::Contains("h100-sxm5-80gb* "));
  CHECK_THAT(run({"query", "--format", "csv"}, true), Catch::Contains("\nh100-sxm5-80gb*,"));
  const json c = json::parse(run({"compare", "--variants", "gqa,mla", "--format", "json"}, true));
  CHECK(c.at("comparisons").at(0).at("hw") == "h100-sxm5-80gb*");
  const json m = json::parse(run({"query", "--model", "llama-3.1-8b", "--format", "json"}, true));
  CHECK(m.at("models").at(0).at("hw") == "h100-sxm5-80gb*");
  CHECK_THAT(run({"sweep"}, true), Catch::Contains("\nh100-sxm5-80gb*,"));
}
