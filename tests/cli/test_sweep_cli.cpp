// attnsim sweep: the product of list/range axes, streamed in a fixed order whatever the thread
// count, shards that concatenate to the whole, and the usual bad-input rules.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"

using test_support::read_file;
using test_support::run_cli;
using test_support::RunResult;
using test_support::with;
using json = nlohmann::json;

namespace {

const std::vector<std::string> kSweep = {
    "sweep",      "--variant", "gqa,mla,swa", "--phase", "prefill,decode", "--seq-len",
    "1k..32k:x2", "--batch",   "1,8",         "--hw",    "h100,b200"};

std::size_t lines(const std::string& s) {
  return static_cast<std::size_t>(std::count(s.begin(), s.end(), '\n'));
}

}  // namespace

TEST_CASE("sweep writes one row per point, the same bytes for any thread count", "[cli][sweep]") {
  const RunResult one = run_cli(with(kSweep, {"--threads", "1"}));
  const RunResult two = run_cli(with(kSweep, {"--threads", "2"}));
  REQUIRE(one.exit_code == 0);
  // 3 variants x 2 phases x 6 lengths x 2 batches x 2 profiles = 144 rows plus the header.
  CHECK(lines(one.out) == 145);
  CHECK(one.out == two.out);
  CHECK(one.out.rfind("hw,variant,phase,batch,q_len,kv_len", 0) == 0);
}

TEST_CASE("sweep shards concatenate to the whole sweep, in csv and json", "[cli][sweep]") {
  for (const char* format : {"csv", "json", "jsonl"}) {
    INFO(format);
    const RunResult whole = run_cli(with(kSweep, {"--format", format}));
    REQUIRE(whole.exit_code == 0);
    std::string joined;
    for (const char* shard : {"1/3", "2/3", "3/3"}) {
      const RunResult part = run_cli(with(kSweep, {"--format", format, "--shard", shard}));
      REQUIRE(part.exit_code == 0);
      joined += part.out;
    }
    CHECK(joined == whole.out);
  }
  const auto doc = nlohmann::json::parse(run_cli(with(kSweep, {"--format", "json"})).out);
  CHECK(doc.size() == 144);
  CHECK(doc[0].at("variant") == "gqa");
}

TEST_CASE(
    "sweep shards concatenate to the whole when a shard is empty or all its points are "
    "skipped",
    "[cli][sweep]") {
  // Two points in three shards (the first holds none); gna has no decode, so the first shards of
  // the second sweep give no rows at all.
  const std::vector<std::vector<std::string>> sweeps = {
      {"sweep", "--seq-len", "1k,2k"},
      {"sweep", "--variant", "gna,mha", "--phase", "decode", "--seq-len", "1k,2k"}};
  for (const std::vector<std::string>& sweep : sweeps) {
    for (const char* format : {"csv", "json", "jsonl"}) {
      const RunResult whole = run_cli(with(sweep, {"--format", format}));
      REQUIRE(whole.exit_code == 0);
      for (int n : {2, 3, 4}) {
        INFO(sweep.back() << " " << format << " in " << n);
        std::string joined;
        for (int k = 1; k <= n; ++k) {
          const RunResult part = run_cli(with(
              sweep, {"--format", format, "--shard", std::to_string(k) + "/" + std::to_string(n)}));
          REQUIRE(part.exit_code == 0);
          joined += part.out;
        }
        CHECK(joined == whole.out);
        if (std::string(format) == "json") CHECK(nlohmann::json::parse(joined).size() == 2);
      }
    }
  }
}

TEST_CASE("sweep's head flags apply to the variants that have the parameter, as --param does",
          "[cli][sweep]") {
  // MLA has no kv_heads: it keeps its own shape instead of being left out.
  const RunResult r = run_cli({"sweep", "--variant", "gqa,mla", "--kv-heads", "4,8"});
  REQUIRE(r.exit_code == 0);
  CHECK(lines(r.out) == 4);  // header, gqa at 4 and 8 KV heads, mla once
  CHECK(r.err.empty());
  const RunResult none = run_cli({"sweep", "--variant", "mla", "--kv-heads", "8"});
  CHECK(none.exit_code == 2);
  CHECK_THAT(none.err, Catch::Contains("--kv-heads: none of the variants (mla) has kv_heads"));
}

TEST_CASE("a sweep row names each spec's parameters in params_NAME columns, as query does",
          "[cli][sweep]") {
  const RunResult r =
      run_cli({"sweep", "--variant", "gqa,mla", "--kv-heads", "1,8", "--seq-len", "4096"});
  REQUIRE(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains(",caller,causal,include_projections,params_heads,"
                                    "params_kv_heads,params_head_dim,params_v_head_dim,"));
  CHECK_THAT(r.out, Catch::Contains(",direct,true,false,32,1,128,128,"));
  CHECK_THAT(r.out, Catch::Contains(",direct,true,false,32,8,128,128,"));
  CHECK_THAT(r.out, Catch::Contains(",direct,true,false,128,1,192,128,"));  // mla's own shape
  CHECK(r.out.find("head_shape") == std::string::npos);
  const RunResult json =
      run_cli({"sweep", "--variant", "gqa", "--heads", "16,32", "--format", "jsonl"});
  REQUIRE(json.exit_code == 0);
  CHECK_THAT(json.out,
             Catch::Contains("\"params\":{\"heads\":16,\"kv_heads\":8,\"head_dim\":128,"));
}

TEST_CASE("sweep rows record the mask, the projections and the parameters as query gives them",
          "[cli][sweep]") {
  const std::vector<std::string> call = {
      "--variant", "gqa",        "--no-causal", "--include-projections",
      "--param",   "softcap=30", "--seq-len",   "4096",
      "--hw",      "h100"};
  const RunResult csv = run_cli(with(with({"sweep"}, call), {"--format", "csv"}));
  const RunResult jsonl = run_cli(with(with({"sweep"}, call), {"--format", "jsonl"}));
  const RunResult query = run_cli(with(with({"query"}, call), {"--format", "json"}));
  REQUIRE(csv.exit_code == 0);
  REQUIRE(jsonl.exit_code == 0);
  REQUIRE(query.exit_code == 0);
  const json row = json::parse(jsonl.out);
  const json doc = json::parse(query.out);
  const json& result = doc.at("results").at(0);
  CHECK(row.at("causal") == false);
  CHECK(row.at("causal") == result.at("workload").at("causal"));
  CHECK(row.at("include_projections") == true);
  CHECK(row.at("include_projections") == result.at("workload").at("include_projections"));
  CHECK(row.at("params") == result.at("params"));
  CHECK(row.at("params").at("softcap") == 30);
  // The CSV's cells, by column name.
  std::istringstream lines(csv.out);
  std::string header, cells;
  std::getline(lines, header);
  std::getline(lines, cells);
  std::map<std::string, std::string> cell;
  std::istringstream h(header), c(cells);
  for (std::string name, value; std::getline(h, name, ',') && std::getline(c, value, ',');) {
    cell[name] = value;
  }
  CHECK(cell["causal"] == "false");
  CHECK(cell["include_projections"] == "true");
  for (const auto& [name, value] : result.at("params").items()) {
    CHECK(cell["params_" + name] == value.dump());
  }
  // Without the flags the key columns differ, not only the numbers.
  const RunResult plain = run_cli({"sweep", "--variant", "gqa", "--seq-len", "4096"});
  CHECK_THAT(plain.out, Catch::Contains(",direct,true,false,"));
  // A model sweep records the mask and projections too (its layers' parameters are the model's).
  const RunResult model = run_cli({"sweep", "--model", "llama-3.1-8b", "--no-causal", "--seq-len",
                                   "4096", "--format", "jsonl"});
  REQUIRE(model.exit_code == 0);
  CHECK(json::parse(model.out).at("causal") == false);
  CHECK(json::parse(model.out).at("include_projections") == false);
}

TEST_CASE("a variant none of whose head shapes a sweep can make is named in a warning, with why",
          "[cli][sweep]") {
  const RunResult mha = run_cli({"sweep", "--variant", "mha,gqa", "--kv-heads", "4,8"});
  REQUIRE(mha.exit_code == 0);
  CHECK(lines(mha.out) == 3);  // header, gqa at 4 and 8
  CHECK_THAT(mha.err, Catch::Contains("warning: a variant left out of the sweep: mha needs "
                                      "kv_heads == heads"));
  CHECK_THAT(mha.err, !Catch::Contains("combinations left out"));
  const RunResult masa = run_cli({"sweep", "--variant", "gqa,masa"});
  CHECK_THAT(masa.err, Catch::Contains("left out of the sweep: masa changes only the projection "
                                       "weights; add --include-projections"));
  // A variant that keeps some shapes counts the others.
  const RunResult some = run_cli({"sweep", "--variant", "gqa", "--kv-heads", "8,3"});
  CHECK_THAT(some.err, Catch::Contains("1 head or parameter combinations left out"));
}

TEST_CASE("a value an axis lists twice is swept once, with a warning naming it", "[cli][sweep]") {
  // 1k and 1024, gqa and GQA, a model in two spellings: each would only repeat rows.
  const RunResult r = run_cli({"sweep", "--variant", "gqa,GQA,mla", "--seq-len", "1k,1024,2k",
                               "--phase", "prefill,prefill", "--kv-heads", "8,8"});
  REQUIRE(r.exit_code == 0);
  CHECK(lines(r.out) == 1 + 2 * 2);  // gqa and mla at 1024 and 2048
  CHECK_THAT(r.err,
             Catch::Contains("warning: --variant lists gqa more than once; it is swept once"));
  CHECK_THAT(r.err, Catch::Contains("--seq-len lists 1024 more than once"));
  CHECK_THAT(r.err, Catch::Contains("--phase lists prefill more than once"));
  CHECK_THAT(r.err, Catch::Contains("--kv-heads lists 8 more than once"));
  const RunResult m =
      run_cli({"sweep", "--model", "llama-3.1-8b,LLAMA-3.1-8B", "--engine", "tile,tile"});
  REQUIRE(m.exit_code == 0);
  CHECK(lines(m.out) == 2);
  CHECK_THAT(m.err, Catch::Contains("--model lists llama-3.1-8b more than once"));
  CHECK_THAT(m.err, Catch::Contains("--engine lists tile more than once"));
  // Distinct values keep their order and draw no warning.
  const RunResult d = run_cli({"sweep", "--variant", "gqa", "--seq-len", "2k,1k"});
  CHECK(d.err.empty());
  CHECK(d.out.find(",2048,") < d.out.find(",1024,"));
}

TEST_CASE("sweep skips points a variant lacks with one warning, and rejects bad axes",
          "[cli][sweep]") {
  RunResult r = run_cli({"sweep", "--variant", "gqa,gna", "--phase", "prefill,decode"});
  CHECK(r.exit_code == 0);
  CHECK(lines(r.out) == 4);  // header + 3 rows: gna has no decode
  CHECK(r.err.find("1 of 4 points skipped") != std::string::npos);
  for (const std::vector<std::string>& bad :
       {std::vector<std::string>{"sweep", "--seq-len", "1..0"},
        {"sweep", "--batch", "1,,2"},
        {"sweep", "--variant", "gqa,nope"},
        {"sweep", "--shard", "4/3"},
        {"sweep", "--shard", "1/4/"},
        {"sweep", "--format", "table"},
        // Sizes start at 1: a zero or out-of-range size is bad input, not a skipped point.
        {"sweep", "--seq-len", "0"},
        {"sweep", "--seq-len", "0..1M:+4096"},
        {"sweep", "--batch", "0"},
        {"sweep", "--kv-len", "2G"},
        {"sweep", "--layers", "0"},
        {"sweep", "--layers", "-1"},
        {"sweep", "--tp", "0"},
        {"sweep", "--cp", "0,2"},
        {"sweep", "--threads", "0"},
        {"sweep", "--heads", "0"},
        {"sweep", "--kv-heads", "0,8"},
        {"sweep", "--head-dim", "0..128:+64"}}) {
    r = run_cli(bad);
    CHECK(r.exit_code == 2);
    CHECK(lines(r.err) == 1);
  }
}

TEST_CASE("sweep -o writes the whole file, and nothing on bad input", "[cli][sweep]") {
  test_support::TempDir dir;
  const auto out = dir.path() / "sweep.csv";
  RunResult r = run_cli(with(kSweep, {"-o", out.string()}));
  REQUIRE(r.exit_code == 0);
  CHECK(lines(read_file(out)) == 145);
  const auto none = dir.path() / "none.csv";
  r = run_cli({"sweep", "--variant", "nope", "-o", none.string()});
  CHECK(r.exit_code == 2);
  CHECK_FALSE(std::filesystem::exists(none));
  CHECK(test_support::entries(dir.path()) == std::vector<std::string>{"sweep.csv"});
}

TEST_CASE("a sweep none of whose points can be priced is bad input: exit 2, no -o or --plot file",
          "[cli][sweep]") {
  test_support::TempDir dir;
  const auto out = dir.path() / "none.csv";
  const auto svg = dir.path() / "none.svg";
  // gna has no decode: both points are refused, as `query` refuses each.
  const RunResult r = run_cli({"sweep", "--variant", "gna", "--phase", "decode", "--seq-len",
                               "1k,2k", "-o", out.string(), "--plot", svg.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("no point of the sweep can be priced: all 2 skipped (first:"));
  CHECK(lines(r.err) == 1);
  CHECK_FALSE(std::filesystem::exists(out));
  CHECK_FALSE(std::filesystem::exists(svg));
  // On stdout as well: no header, no brackets.
  for (const char* format : {"csv", "json"}) {
    const RunResult to_stdout = run_cli({"sweep", "--variant", "gna", "--phase", "decode",
                                         "--seq-len", "1k,2k", "--format", format});
    CHECK(to_stdout.exit_code == 2);
    CHECK(to_stdout.out.empty());
  }
  CHECK(std::filesystem::is_empty(dir.path()));
  // A shard of such a sweep still writes its part (the shards concatenate) and warns.
  const RunResult shard = run_cli(
      {"sweep", "--variant", "gna", "--phase", "decode", "--seq-len", "1k,2k", "--shard", "1/2"});
  CHECK(shard.exit_code == 0);
  CHECK_THAT(shard.err, Catch::Contains("1 of 1 points skipped"));
}

TEST_CASE("a sweep --param applies to the variants that have it, and must fit one of them",
          "[cli][sweep]") {
  RunResult r = run_cli({"sweep", "--variant", "gqa,swa", "--param", "window=512"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find(",gqa,") != std::string::npos);
  CHECK(r.out.find(",swa,") != std::string::npos);
  r = run_cli({"sweep", "--variant", "gqa", "--param", "window=512"});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("none of the variants") != std::string::npos);
}

TEST_CASE("a sweep killed while writing -o leaves neither the file nor its temporary file",
          "[cli][sweep]") {
  test_support::TempDir dir;
  const auto out = dir.path() / "big.csv";
  // Millions of points: still running when the signal arrives half a second later.
  const std::string cmd = test_support::attnsim_binary() +
                          " sweep --seq-len 1..4000000 --engine roofline --threads 1 -o '" +
                          out.string() + "' & pid=$!; sleep 0.5; kill -TERM $pid; wait $pid";
  CHECK(std::system(cmd.c_str()) != 0);
  CHECK_FALSE(std::filesystem::exists(out));
  CHECK(std::filesystem::is_empty(dir.path()));
}

TEST_CASE("sweep --caller applies that caller's host floor to every point",
          "[cli][sweep][caller]") {
  const std::vector<std::string> sweep = {"sweep",  "--variant", "gqa",    "--phase",
                                          "decode", "--seq-len", "1k,64k", "--hw",
                                          "h100",   "--format",  "jsonl"};
  auto times = [&](const std::string& caller) {
    const RunResult r = run_cli(with(sweep, {"--caller", caller}));
    REQUIRE(r.exit_code == 0);
    std::vector<double> out;
    std::size_t start = 0;
    while (start < r.out.size()) {
      const std::size_t end = r.out.find('\n', start);
      out.push_back(nlohmann::json::parse(r.out.substr(start, end - start)).at("time_s"));
      start = end + 1;
    }
    return out;
  };
  const std::vector<double> direct = times("direct");
  const std::vector<double> pytorch = times("pytorch");
  REQUIRE(pytorch.size() == 2);
  // 1k context: a few microseconds, raised to the 25 us floor; 64k: above it, unchanged.
  CHECK(pytorch[0] == Approx(25e-6));
  CHECK(direct[0] < pytorch[0]);
  CHECK(pytorch[1] == direct[1]);
  CHECK(run_cli(with(sweep, {"--caller", "jax"})).exit_code == 2);
}

TEST_CASE("query, sweep and model outputs name the caller whose host floor applies",
          "[cli][sweep][caller]") {
  const RunResult table = run_cli({"query", "--variant", "gqa", "--caller", "pytorch"});
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("kernel=auto caller=pytorch"));
  const RunResult direct = run_cli({"query", "--variant", "gqa"});
  CHECK_THAT(direct.out, !Catch::Contains("caller="));
  const RunResult json =
      run_cli({"query", "--variant", "gqa", "--caller", "triton", "--format", "json"});
  REQUIRE(json.exit_code == 0);
  const nlohmann::json result = nlohmann::json::parse(json.out).at("results").at(0);
  CHECK(result.at("caller") == "triton");
  CHECK(result.at("caller_floor_s").get<double>() > 0);
  const RunResult csv = run_cli(
      {"sweep", "--variant", "gqa", "--seq-len", "1k", "--caller", "pytorch", "--format", "csv"});
  REQUIRE(csv.exit_code == 0);
  CHECK_THAT(csv.out,
             Catch::Contains(",kernel,caller,causal,") && Catch::Contains(",auto,pytorch,"));
  const RunResult model = run_cli({"query", "--model", "llama-2-7b", "--caller", "pytorch"});
  REQUIRE(model.exit_code == 0);
  CHECK_THAT(model.out, Catch::Contains("caller=pytorch"));
}

TEST_CASE("a caller a profile has no host floor for is priced as direct there, with one warning",
          "[cli][sweep][caller]") {
  // torch_npu is measured on Ascend only, pytorch on NVIDIA only (calibration.caller_floor_us).
  for (const std::vector<std::string>& args :
       {std::vector<std::string>{"query", "--caller", "torch_npu", "--hw", "h100,910b2"},
        {"compare", "--variants", "gqa,mla", "--caller", "torch_npu", "--hw", "h100,910b2"},
        {"sweep", "--seq-len", "1k,2k", "--caller", "torch_npu", "--hw", "h100,910b2"}}) {
    INFO(args[0]);
    const RunResult r = run_cli(args);
    REQUIRE(r.exit_code == 0);
    CHECK(r.err ==
          "attnsim: warning: no torch_npu host floor on h100-sxm5-80gb "
          "(calibration.caller_floor_us.torch_npu): calls there pay no host cost\n");
  }
  CHECK(run_cli({"query", "--caller", "pytorch", "--hw", "h100"}).err.empty());
}

TEST_CASE("every --engine value sweep --help offers is one the sweep accepts", "[cli][sweep]") {
  const RunResult help = run_cli({"sweep", "--help"});
  REQUIRE(help.exit_code == 0);
  const std::size_t at = help.out.find("--engine");
  REQUIRE(at != std::string::npos);
  const std::string line = help.out.substr(at, help.out.find('\n', at) - at);
  CHECK_THAT(line, !Catch::Contains("or both"));
  CHECK_THAT(line, Catch::Contains("tile,roofline"));
  const RunResult both = run_cli({"sweep", "--engine", "tile,roofline", "--seq-len", "1k"});
  REQUIRE(both.exit_code == 0);
  CHECK(lines(both.out) == 3);
}
