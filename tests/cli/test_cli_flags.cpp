// End-to-end tests of how the attnsim binary reads flag values: numbers are decimal and never
// clamped, --hw-set values are checked, and on/off flags take an optional =true/=false.
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "cli/flags.hpp"
#include "models/registry.hpp"
#include "tests/support/cli_runner.hpp"

namespace {

using nlohmann::json;
using test_support::first_result;
using test_support::require_bad_input;
using test_support::run_cli;

}  // namespace

TEST_CASE("hw-set 1e999 is bad input saying 'number out of range' and naming the assignment",
          "[cli]") {
  require_bad_input(run_cli({"query", "--hw-set", "compute.sm_count=1e999"}),
                    {"compute.sm_count=1e999", "number out of range"});
  require_bad_input(run_cli({"query", "--hw-set", "id=other"}),
                    {"id=other", "cannot be overridden"});
}

TEST_CASE(
    "numeric flags are decimal and never clamp: beyond int64, hex, 1e12, nan and 0 are exit 2 "
    "naming the flag and the allowed range",
    "[cli]") {
  struct BadFlag {
    std::vector<std::string> args, mentions;
  };
  const std::string huge = "99999999999999999999";
  // clang-format off
  const std::vector<BadFlag> cases = {
      {{"query", "--seq-len", huge}, {"--seq-len", "out of range", "[1, 1073741824]"}},
      {{"query", "--kv-len", huge}, {"--kv-len", "out of range", "[1, 1073741824]"}},
      {{"query", "--q-len", huge}, {"--q-len", "out of range", "[1, 1073741824]"}},
      {{"query", "--batch", huge}, {"--batch", "out of range", "[1, 16777216]"}},
      {{"query", "--layers", huge}, {"--layers", "out of range", "[1, 65536]"}},
      {{"query", "--hidden-size", huge}, {"--hidden-size", "out of range", "[1, 1048576]"}},
      {{"query", "--heads", huge}, {"--heads", "out of range", "[1, 65536]"}},
      {{"query", "--hidden-size", "0", "--include-projections"}, {"--hidden-size", "'0'", "[1, 1048576]"}},
      {{"query", "--hidden-size", "-1", "--include-projections"}, {"--hidden-size", "'-1'"}},
      {{"query", "--seq-len", "1e12"}, {"--seq-len", "'1e12'", "not a decimal integer", "[1, 1073741824]"}},
      {{"query", "--seq-len", "0x10"}, {"--seq-len", "hexadecimal"}},
      {{"query", "--seq-len", "2G"}, {"--seq-len", "'2G'", "out of range", "[1, 1073741824]", "suffix"}},
      {{"query", "--seq-len", "1.5k"}, {"--seq-len", "'1.5k'", "not a decimal integer", "suffix"}},
      {{"query", "--batch", "0k"}, {"--batch", "'0k'", "out of range", "[1, 16777216]"}},
      {{"query", "--variant", "swa", "--param", "window=0x100"}, {"--param", "window=0x100", "decimal"}},
      {{"hw", "probe", "--budget", "nan"}, {"--budget", "'nan'", "[0.1, 600]"}},
      {{"validate", "--measurements", "x.csv", "--holdout-seq", "-5"}, {"--holdout-seq", "'-5'", "[1, 1073741824]"}},
  };
  // clang-format on
  for (const BadFlag& c : cases) {
    INFO(c.args.at(1) << " " << c.args.at(2));
    require_bad_input(run_cli(c.args), c.mentions);
  }
}

TEST_CASE("a leading zero in --seq-len is decimal: 010 is ten tokens, not octal eight", "[cli]") {
  const json r = first_result({"query", "--seq-len", "010", "--format", "json"});
  CHECK(r.at("workload").at("q_len") == 10);
  CHECK(r.at("workload").at("kv_len") == 10);
}

TEST_CASE("size flags take sweep's k/M/G suffixes, powers of two: 32k is 32768 tokens", "[cli]") {
  const json r = first_result({"query", "--seq-len", "32k", "--batch", "2K", "--format", "json"});
  CHECK(r.at("workload").at("q_len") == 32768);
  CHECK(r.at("workload").at("batch") == 2048);
  const json d = first_result(
      {"query", "--phase", "decode", "--kv-len", "1M", "--q-len", "4", "--format", "json"});
  CHECK(d.at("workload").at("kv_len") == 1048576);
  CHECK(d.at("workload").at("q_len") == 4);
  // compare takes the same flags (one add_size_options).
  const test_support::RunResult c =
      run_cli({"compare", "--variants", "gqa,mha", "--seq-len", "8k", "--format", "json"});
  REQUIRE(c.exit_code == 0);
  CHECK(json::parse(c.out).at("comparisons").at(0).at("detail").at("workload").at("q_len") == 8192);
}

TEST_CASE("an on/off flag alone, =true or =false is accepted; --no-causal=true means non-causal",
          "[cli]") {
  const auto causal_of = [](const std::string& flag) {
    INFO(flag);
    return first_result({"query", "--seq-len", "64", "--format", "json", flag})
        .at("workload")
        .at("causal")
        .get<bool>();
  };
  CHECK(causal_of("--causal"));
  CHECK(causal_of("--causal=true"));
  CHECK_FALSE(causal_of("--causal=false"));
  CHECK_FALSE(causal_of("--no-causal"));
  CHECK_FALSE(causal_of("--no-causal=true"));
  CHECK(causal_of("--no-causal=false"));
}

TEST_CASE("a variant parameter reads alike in query, compare and sweep: decimals and size suffixes",
          "[cli]") {
  // s2attn's group_fraction is a real parameter: sweep and compare refused 0.5 as no integer.
  const test_support::RunResult sweep =
      run_cli({"sweep", "--variant", "s2attn", "--param", "group_fraction=0.5", "--phase", "train",
               "--seq-len", "1k,2k", "--format", "json"});
  REQUIRE(sweep.exit_code == 0);
  CHECK(json::parse(sweep.out).size() == 2);
  const test_support::RunResult compare =
      run_cli({"compare", "--variants", "s2attn:group_fraction=0.5,gqa", "--phase", "train",
               "--seq-len", "1k", "--format", "json"});
  REQUIRE(compare.exit_code == 0);
  CHECK(json::parse(compare.out).at("comparisons").size() == 2);
  // A size suffix in any of them: window=4k is 4096 keys.
  const json q =
      first_result({"query", "--variant", "swa", "--param", "window=4k", "--format", "json"});
  CHECK(q.at("params").at("window") == 4096);
  // An integer parameter still refuses a fraction, naming it.
  const test_support::RunResult half =
      run_cli({"sweep", "--variant", "gqa", "--param", "kv_heads=2.5", "--seq-len", "1k"});
  CHECK(half.exit_code == 2);
  CHECK(half.err.find("kv_heads") != std::string::npos);
}

TEST_CASE(
    "a one-value flag given twice says so in words; --plot-x/--plot-y need --plot; variant "
    "names are read in any case, as profile and model names are",
    "[cli]") {
  const test_support::RunResult twice =
      test_support::run_cli({"query", "--hf-config", "a.json", "--hf-config", "b.json"});
  CHECK(twice.exit_code == 2);
  CHECK_THAT(twice.err, Catch::Contains("--hf-config: given 2 times; it takes one value"));
  const test_support::RunResult plot_y = test_support::run_cli({"sweep", "--plot-y", "tflops"});
  CHECK(plot_y.exit_code == 2);
  CHECK_THAT(plot_y.err, Catch::Contains("--plot-y needs --plot FILE.svg"));
  CHECK(test_support::run_cli({"sweep", "--plot-x", "batch"}).exit_code == 2);
  const test_support::RunResult upper =
      test_support::run_cli({"query", "--variant", "GQA", "--format", "json"});
  REQUIRE(upper.exit_code == 0);
  CHECK(nlohmann::json::parse(upper.out).at("results").at(0).at("variant") == "gqa");
  CHECK(test_support::run_cli({"variants", "show", "Mla"}).exit_code == 0);
}

TEST_CASE(
    "an fp32 query priced with a library kernel that has no fp32 path says so once per "
    "profile; bf16 and the CPU kernel do not",
    "[cli]") {
  const test_support::RunResult fp32 =
      test_support::run_cli({"query", "--dtype", "fp32", "--hw", "h100,a100"});
  REQUIRE(fp32.exit_code == 0);
  CHECK_THAT(fp32.err, Catch::Contains("--dtype fp32 on h100-sxm5-80gb: 'fa3' has no fp32 path"));
  CHECK_THAT(fp32.err, Catch::Contains("--dtype fp32 on a100-sxm4-80gb: 'fa2' has no fp32 path"));
  CHECK(test_support::run_cli({"query", "--hw", "h100,a100"}).err.empty());
  CHECK(test_support::run_cli({"query", "--dtype", "fp32", "--engine", "roofline"}).err.empty());
}

TEST_CASE(
    "compare, model queries and sweeps at fp32 warn of library kernels without an fp32 path too",
    "[cli]") {
  using test_support::run_cli;
  const auto compare = run_cli({"compare", "--variants", "gqa,mla", "--dtype", "fp32"});
  REQUIRE(compare.exit_code == 0);
  CHECK_THAT(compare.err,
             Catch::Contains("--dtype fp32 on h100-sxm5-80gb (gqa): 'fa3' has no fp32"));
  CHECK_THAT(compare.err,
             Catch::Contains("--dtype fp32 on h100-sxm5-80gb (mla): 'fa3' has no fp32"));
  const auto model = run_cli({"query", "--model", "llama-3.1-8b", "--dtype", "fp32", "--phase",
                              "decode", "--seq-len", "4096"});
  REQUIRE(model.exit_code == 0);
  CHECK_THAT(model.err,
             Catch::Contains("(llama-3.1-8b, full layers): 'split_kv' has no fp32 path"));
  const auto models = run_cli({"compare", "--models", "llama-3.1-8b", "--dtype", "fp32"});
  CHECK_THAT(models.err, Catch::Contains("(llama-3.1-8b, full layers): 'fa3' has no fp32 path"));
  const auto sweep = run_cli({"sweep", "--variant", "gqa", "--dtype", "fp32,bf16"});
  REQUIRE(sweep.exit_code == 0);
  CHECK_THAT(sweep.err, Catch::Contains("--dtype fp32: FlashAttention, cuDNN, FlashMLA and "
                                        "split-KV kernels have no fp32 path"));
  // Not at bf16, not on the roofline, not with a kernel that has an fp32 path.
  CHECK(run_cli({"compare", "--variants", "gqa,mla"}).err.empty());
  CHECK(run_cli({"sweep", "--variant", "gqa", "--dtype", "fp32", "--engine", "roofline"})
            .err.empty());
  CHECK(
      run_cli({"sweep", "--variant", "gqa", "--dtype", "fp32", "--kernel", "unfused"}).err.empty());
}

TEST_CASE(
    "absorbed MLA decode with an fp8 cache says FlashMLA cannot read it and split_kv prices it",
    "[cli]") {
  using test_support::run_cli;
  const std::vector<std::string> decode = {"--variant",  "mla",  "--phase", "decode",
                                           "--seq-len",  "8192", "--batch", "64",
                                           "--kv-dtype", "fp8",  "--hw",    "h100,a100"};
  std::vector<std::string> query = {"query"};
  query.insert(query.end(), decode.begin(), decode.end());
  const auto fp8 = run_cli(query);
  REQUIRE(fp8.exit_code == 0);
  CHECK_THAT(fp8.err, Catch::Contains("--dtype bf16 --kv-dtype fp8 on h100-sxm5-80gb: FlashMLA's "
                                      "dense decode takes 16-bit queries and cache only"));
  // A100 calibrates no FlashMLA: nothing fell back there.
  CHECK_THAT(fp8.err, !Catch::Contains("on a100-sxm4-80gb"));
  const auto compare = run_cli({"compare", "--variants", "mla,gqa", "--phase", "decode",
                                "--kv-dtype", "fp8", "--seq-len", "8192"});
  CHECK_THAT(compare.err, Catch::Contains("--kv-dtype fp8 on h100-sxm5-80gb: FlashMLA's"));
  // bf16, or a kernel named on purpose: no warning.
  CHECK(
      run_cli({"query", "--variant", "mla", "--phase", "decode", "--seq-len", "8192"}).err.empty());
  CHECK(run_cli({"query", "--variant", "mla", "--phase", "decode", "--seq-len", "8192",
                 "--kv-dtype", "fp8", "--kernel", "split_kv"})
            .err.find("FlashMLA") == std::string::npos);
}

TEST_CASE("every path that prices absorbed MLA decode with an fp8 cache warns once of FlashMLA",
          "[cli]") {
  using test_support::run_cli;
  const std::vector<std::string> decode = {"--phase", "decode",     "--seq-len", "32k",  "--batch",
                                           "64",      "--kv-dtype", "fp8",       "--hw", "h100"};
  const std::string line =
      "--dtype bf16 --kv-dtype fp8 on h100-sxm5-80gb: FlashMLA's dense decode takes 16-bit "
      "queries and cache only";
  const std::vector<std::vector<std::string>> paths = {
      {"query", "--model", "deepseek-v3"},
      {"compare", "--models", "deepseek-v3,llama-3.1-8b"},
      {"sweep", "--model", "deepseek-v3"},
      {"sweep", "--variant", "mla", "--kv-len", "16k,32k"},
  };
  for (std::vector<std::string> args : paths) {
    args.insert(args.end(), decode.begin(), decode.end());
    INFO(args[0] << " " << args[1] << " " << args[2]);
    const auto r = run_cli(args);
    REQUIRE(r.exit_code == 0);
    CHECK_THAT(r.err, Catch::Contains(line));
    // Once, however many points, models or layer groups fell back.
    CHECK(r.err.find(line) == r.err.rfind(line));
  }
}

TEST_CASE("query's head flags refuse beyond the widest range any variant takes, giving it",
          "[cli]") {
  // The flags' bound must not refuse what some variant allows.
  const models::Registry registry;
  for (const auto& v : registry.variants()) {
    for (const models::ParamInfo& p : v->params()) {
      INFO(v->name() << " " << p.name);
      if (p.name == "heads" || p.name == "kv_heads") CHECK(p.max <= cli::kMaxHeadsFlag);
      if (p.name == "head_dim" || p.name == "v_head_dim") CHECK(p.max <= cli::kMaxHeadDimFlag);
    }
  }
  require_bad_input(run_cli({"query", "--heads", "99999999999999999999"}),
                    {"--heads", "[1, 65536]"});
  require_bad_input(run_cli({"query", "--kv-heads", "99999999999999999999"}),
                    {"--kv-heads", "[1, 65536]"});
  require_bad_input(run_cli({"query", "--head-dim", "99999999999999999999"}),
                    {"--head-dim", "[1, 4096]"});
  require_bad_input(run_cli({"query", "--v-head-dim", "99999999999999999999"}),
                    {"--v-head-dim", "[1, 4096]"});
}

TEST_CASE("an unexpected argument is named first as given, with the command it was given to",
          "[cli]") {
  // CLI11 listed the arguments last first ("0 --heads"); compare takes heads in --variants.
  const test_support::RunResult r = run_cli({"compare", "--variants", "gqa", "--heads", "0"});
  require_bad_input(r,
                    {"unknown flag '--heads' for attnsim compare", "--variants", "gqa:heads=32"});
  CHECK(r.err.find("0 --heads") == std::string::npos);
  require_bad_input(run_cli({"query", "stray"}),
                    {"unexpected argument 'stray' for attnsim query", "allowed: --help"});
}
