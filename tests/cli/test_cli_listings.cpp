// The listings' output types: `hw list` and `variants show` in JSON give typed fields (aliases an
// array of strings; a default a number or null), and `variants show` prints a parameter's rule
// where it accepts fewer values than its range; `models list` gives layers as a number, and
// `validate --devices` in CSV says what its JSON says.
#include <algorithm>
#include <string>

#include <fmt/format.h>
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"

using nlohmann::json;
using test_support::run_cli;
using test_support::run_json;
using test_support::RunResult;
using test_support::TempDir;

TEST_CASE(
    "hw list's JSON gives aliases as an array of strings (the profile file's type); its CSV "
    "joins them with spaces",
    "[cli]") {
  const json list = run_json({"hw", "list", "--format", "json"});
  for (const json& p : list) {
    INFO(p.at("id"));
    REQUIRE(p.at("aliases").is_array());
    for (const json& alias : p.at("aliases")) CHECK(alias.is_string());
    if (p.at("id") == "h100-sxm5-80gb") {
      CHECK(std::find(p.at("aliases").begin(), p.at("aliases").end(), "h100") !=
            p.at("aliases").end());
    }
  }
  const RunResult csv = run_cli({"hw", "show", "a100-sxm4-80gb", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK_THAT(csv.out, Catch::Contains(",a100 a100-80gb a100-sxm-80gb,"));
}

TEST_CASE(
    "hw list lists an alias that a user profile took as its id under that profile only, as "
    "--hw resolves it (table, JSON, CSV)",
    "[cli]") {
  const TempDir dir;
  json mine = run_json({"hw", "show", "h100", "--format", "json"});
  mine["id"] = "h100";
  mine["aliases"] = json::array();
  test_support::write_file(dir.path() / "h100.json", mine.dump(1));
  const std::string hw_dir = dir.path().string();
  REQUIRE(run_json({"hw", "show", "h100", "--hw-dir", hw_dir, "--format", "json"}).at("id") ==
          "h100");
  const json list = run_json({"hw", "list", "--hw-dir", hw_dir, "--format", "json"});
  bool builtin_listed = false;
  for (const json& p : list) {
    if (p.at("id") != "h100-sxm5-80gb") continue;
    builtin_listed = true;
    CHECK(p.at("aliases") == json({"h100-sxm5", "h100-sxm", "h100-80gb-hbm3"}));
  }
  CHECK(builtin_listed);
  const RunResult table = run_cli({"hw", "list", "--hw-dir", hw_dir});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, !Catch::Contains(" h100 h100-sxm5 ") && Catch::Contains(" h100-sxm5 "));
  const RunResult csv = run_cli({"hw", "list", "--hw-dir", hw_dir, "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK_THAT(csv.out, Catch::Contains(",h100-sxm5 h100-sxm h100-80gb-hbm3,"));
  // Without the user profile the built-in keeps its file's aliases.
  CHECK_THAT(run_cli({"hw", "list", "--format", "csv"}).out,
             Catch::Contains(",h100 h100-sxm5 h100-sxm h100-80gb-hbm3,"));
}

TEST_CASE(
    "variants show's JSON types a default as a number, or null where it is another parameter's "
    "value (default_from names it); default_cap and allowed are names/rules or null",
    "[cli]") {
  for (const char* name : {"gqa", "mha", "moh", "linear", "mla", "gqsa"}) {
    INFO(name);
    const json shown = run_json({"variants", "show", name, "--format", "json"});
    for (const json& p : shown.at("params")) {
      INFO(p.at("name"));
      CHECK((p.at("default").is_number() != p.at("default_from").is_string()));
      for (const char* key : {"default_from", "default_cap", "allowed"}) {
        CHECK((p.at(key).is_null() || p.at(key).is_string()));
      }
    }
  }
  const json gqa = run_json({"variants", "show", "gqa", "--format", "json"});
  const json kv = gqa.at("params").at(1), v_dim = gqa.at("params").at(3);
  CHECK(kv.at("name") == "kv_heads");
  CHECK(kv.at("default") == 8);
  CHECK(kv.at("default_cap") == "heads");
  CHECK(v_dim.at("name") == "v_head_dim");
  CHECK(v_dim.at("default").is_null());
  CHECK(v_dim.at("default_from") == "head_dim");
  CHECK(v_dim.at("unit").is_null());
  // A length in tokens says so: swa's window; its head count does not.
  const json swa = run_json({"variants", "show", "swa", "--format", "json"});
  for (const json& p : swa.at("params")) {
    INFO(p.at("name"));
    const bool tokens = p.at("name") == "window" || p.at("name") == "n_sink";
    CHECK(p.at("unit") == (tokens ? json("tokens") : json(nullptr)));
  }
}

TEST_CASE(
    "variants show's JSON writes an integer parameter's default, min and max as integers "
    "and a real one's as reals, and names the type",
    "[cli]") {
  const json gqa = run_json({"variants", "show", "gqa", "--format", "json"});
  const json heads = gqa.at("params").at(0);
  CHECK(heads.at("type") == "integer");
  CHECK(heads.at("default").is_number_integer());
  CHECK(heads.at("min").is_number_integer());
  CHECK(heads.at("max").is_number_integer());
  CHECK(run_cli({"variants", "show", "gqa", "--format", "json"}).out.find("32.0") ==
        std::string::npos);
  // moa's alpha and beta are reals.
  const json moa = run_json({"variants", "show", "moa", "--format", "json"});
  int reals = 0;
  for (const json& p : moa.at("params")) {
    INFO(p.at("name"));
    CHECK((p.at("type") == "integer") == p.at("min").is_number_integer());
    reals += p.at("type") == "real" ? 1 : 0;
  }
  CHECK(reals >= 1);
}

TEST_CASE(
    "variants show prints the rule of a parameter that accepts fewer values than its range: "
    "linear's gate_dim is 1 or head_dim",
    "[cli]") {
  const RunResult r = run_cli({"variants", "show", "linear"});
  REQUIRE(r.exit_code == 0);
  // The range column holds the rule, then the meaning follows.
  CHECK_THAT(r.out, Catch::Contains("1 or head_dim      decay values per token"));
  CHECK_THAT(r.out, !Catch::Contains("[1, 4096]          decay values per token"));
  const json shown = run_json({"variants", "show", "linear", "--format", "json"});
  for (const json& p : shown.at("params")) {
    if (p.at("name") == "gate_dim") CHECK(p.at("allowed") == "1 or head_dim");
    if (p.at("name") == "chunk") CHECK(p.at("allowed").is_null());
  }
}

TEST_CASE("models list gives layers as the count models show gives, the kinds in layer_kinds",
          "[cli][models]") {
  const RunResult r = run_cli({"models", "list", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  const json list = json::parse(r.out);
  for (const json& m : list) {
    INFO(m.dump());
    CHECK(m.at("layers").is_number_integer());
    CHECK(m.at("layer_kinds").is_string());
  }
  const auto gemma = std::find_if(list.begin(), list.end(),
                                  [](const json& m) { return m.at("name") == "gemma-3-27b"; });
  REQUIRE(gemma != list.end());
  const json shown =
      json::parse(run_cli({"models", "show", "gemma-3-27b", "--format", "json"}).out);
  CHECK(gemma->at("layers") == shown.at("layers"));
  CHECK(gemma->at("layer_kinds") == "10 full + 52 window (1024)");
  const RunResult csv = run_cli({"models", "list", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK(csv.out.rfind("name,attention_kind,layers,layer_kinds,source\n", 0) == 0);
  CHECK_THAT(csv.out, Catch::Contains("gemma-3-27b,GQA (group 2),62,10 full + 52 window (1024),"));
}

TEST_CASE("validate --devices --format csv has a header and what JSON says beside the devices",
          "[cli]") {
  const RunResult csv = run_cli({"validate", "--devices", "--format", "csv"});
  const RunResult as_json = run_cli({"validate", "--devices", "--format", "json"});
  INFO("csv: " << csv.out << "\njson: " << as_json.out << "\nstderr: " << csv.err);
  REQUIRE(csv.exit_code == 0);
  REQUIRE(as_json.exit_code == 0);
  CHECK(csv.out.rfind("index,name,sm_count,compute_capability,memory_bytes,kernel_ran\n", 0) == 0);
  const json doc = json::parse(as_json.out);
  CHECK_THAT(csv.out, Catch::Contains(fmt::format("\n# cuda_compiled_in,{}\n",
                                                  doc.at("cuda_compiled_in").get<bool>())));
  const std::string message = doc.at("message").get<std::string>();
  // Without a device the message says why ("CUDA backend unavailable: ...", "no CUDA device").
  if (!message.empty()) {
    CHECK_THAT(csv.out, Catch::Contains("\n# message,") && Catch::Contains(message));
  }
}

TEST_CASE("hw show's table writes whole numbers as every printer does: 148 SMs, not 148.0",
          "[cli][hw]") {
  const test_support::RunResult r = test_support::run_cli({"hw", "show", "b300"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("compute.sm_count                       148\n") != std::string::npos);
  CHECK(r.out.find("148.0") == std::string::npos);
  CHECK(r.out.find("calibration.hbm_fraction               0.9\n") != std::string::npos);
}
