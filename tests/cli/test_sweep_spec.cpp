// attnsim sweep --spec FILE.json and model sweeps (--model, --hf-config): a spec file is the same
// sweep as its flags, the command line wins over it, and a model row totals the model's layers
// exactly as `query --model` does.
#include <catch2/catch.hpp>

#include <filesystem>

#include <fmt/format.h>

#include <string>

#include <nlohmann/json.hpp>

#include "cli/sweep_spec.hpp"
#include "common/errors.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"

using test_support::read_file;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;

namespace {

std::vector<std::string> values(const std::vector<cli::SweepSpecEntry>& entries,
                                const std::string& key) {
  for (const cli::SweepSpecEntry& e : entries) {
    if (e.key == key) return e.values;
  }
  FAIL("no key " << key);
  return {};
}

}  // namespace

TEST_CASE("sweep spec values become flag text: lists joined, repeatable flags repeated",
          "[cli][sweep][spec]") {
  const auto entries = cli::parse_sweep_spec(
      R"({"variant": ["gqa", "mla"], "seq_len": "1k..8k:x2", "batch": [1, 8], "causal": false,
          "param": {"window": 4096, "chunk": 64}, "hw-set": ["a=1", "b=2"], "layers": 2})",
      "s.json");
  CHECK(values(entries, "variant") == std::vector<std::string>{"gqa,mla"});
  CHECK(values(entries, "seq-len") == std::vector<std::string>{"1k..8k:x2"});
  CHECK(values(entries, "batch") == std::vector<std::string>{"1,8"});
  CHECK(values(entries, "causal") == std::vector<std::string>{"false"});
  CHECK(values(entries, "param") == std::vector<std::string>{"chunk=64", "window=4096"});
  CHECK(values(entries, "hw-set") == std::vector<std::string>{"a=1", "b=2"});
  CHECK(values(entries, "layers") == std::vector<std::string>{"2"});
}

TEST_CASE("sweep spec refuses malformed JSON, non-objects, twice-given keys and fractions",
          "[cli][sweep][spec]") {
  const auto refuses = [](const std::string& text, const std::string& needle) {
    INFO(text);
    try {
      cli::parse_sweep_spec(text, "s.json");
      FAIL("accepted");
    } catch (const common::SpecError& e) {
      CHECK_THAT(e.what(), Catch::Contains("s.json") && Catch::Contains(needle));
    }
  };
  refuses("{\"batch\": ", "not valid JSON");
  refuses("[1, 2]", "a JSON object");
  refuses(R"({"batch": 1, "batch": 2})", "given twice");
  refuses(R"({"seq_len": 1, "seq-len": 2})", "given twice");
  refuses(R"({"batch": 0.5})", "fraction (0.5)");
  refuses(R"({"batch": 1e-3})", "fraction");
  refuses(R"({"batch": null})", "null");
  refuses(R"({"batch": [[1]]})", "array");
  refuses(R"({"batch": []})", "empty list");
  refuses(R"({"param": {}})", "empty object");
  refuses(R"({"seq-len": {}})", "empty object");
  refuses(R"({"param": [0.5]})", "fraction");  // an item of a list is not a name=value pair
}

TEST_CASE(
    "sweep spec passes a whole number held as a double (1e30, 2^64, 4096.0) to the flag in digits",
    "[cli][sweep][spec]") {
  const auto entries = cli::parse_sweep_spec(
      R"({"batch": 18446744073709551616, "seq_len": [4096.0, 1e3], "layers": 1e30})", "s.json");
  CHECK(values(entries, "batch") == std::vector<std::string>{"18446744073709551616"});
  CHECK(values(entries, "seq-len") == std::vector<std::string>{"4096,1000"});
  CHECK(values(entries, "layers") == std::vector<std::string>{"1000000000000000019884624838656"});
}

TEST_CASE("sweep spec refuses a key given twice inside an object, naming the file and the key",
          "[cli][sweep][spec]") {
  for (const char* text : {R"({"hw-set": {"compute.sm_count": 100, "compute.sm_count": 120}})",
                           R"({"param": {"window": 1, "window": 2}})"}) {
    INFO(text);
    try {
      cli::parse_sweep_spec(text, "s.json");
      FAIL("accepted");
    } catch (const common::SpecError& e) {
      CHECK_THAT(e.what(), Catch::StartsWith("s.json: key '") && Catch::Contains("is given twice"));
    }
  }
  // Two objects may each have a key of one name.
  CHECK_NOTHROW(
      cli::parse_sweep_spec(R"({"param": {"window": 1}, "hw-set": {"window": 2}})", "s.json"));
}

TEST_CASE(
    "sweep spec gives a parameter's list as one --param axis; an empty or nested list is refused",
    "[cli][sweep][spec]") {
  const auto entries = cli::parse_sweep_spec(
      R"({"param": {"window": [256, "4k"], "beta": [0.25, 0.5], "chunk": 64}})", "s.json");
  CHECK(values(entries, "param") ==
        std::vector<std::string>{"beta=0.25,0.5", "chunk=64", "window=256,4k"});
  for (const char* text : {R"({"param": {"window": []}})", R"({"param": {"window": [[1]]}})",
                           R"({"param": {"window": ["1,2", 3]}})"}) {
    INFO(text);
    CHECK_THROWS_AS(cli::parse_sweep_spec(text, "s.json"), common::SpecError);
  }
}

TEST_CASE("sweep spec takes fractions where the flag does: a variant parameter, a profile field",
          "[cli][sweep][spec]") {
  const auto entries = cli::parse_sweep_spec(
      R"({"param": {"group_fraction": 0.5}, "hw-set": {"calibration.tensor_fraction": 0.7}})",
      "s.json");
  CHECK(values(entries, "param") == std::vector<std::string>{"group_fraction=0.5"});
  CHECK(values(entries, "hw-set") == std::vector<std::string>{"calibration.tensor_fraction=0.7"});
}

TEST_CASE("sweep --spec writes the same rows as the same flags, and a flag overrides its key",
          "[cli][sweep][spec]") {
  TempDir dir;
  const auto spec = dir.path() / "study.json";
  write_file(spec, R"({"variant": ["gqa", "swa"], "seq_len": "1024..8192:x2", "batch": [1, 8],
                       "phase": "prefill,decode", "hw": ["h100", "b200"], "heads": 32,
                       "kv_heads": 8, "causal": true})");
  const RunResult from_file = run_cli({"sweep", "--spec", spec.string()});
  const RunResult from_flags = run_cli(
      {"sweep", "--variant", "gqa,swa", "--seq-len", "1024..8192:x2", "--batch", "1,8", "--phase",
       "prefill,decode", "--hw", "h100,b200", "--heads", "32", "--kv-heads", "8"});
  REQUIRE(from_file.exit_code == 0);
  REQUIRE(from_flags.exit_code == 0);
  CHECK(from_file.out == from_flags.out);
  const RunResult overridden = run_cli({"sweep", "--spec", spec.string(), "--batch", "4"});
  const RunResult flags_4 = run_cli({"sweep", "--variant", "gqa,swa", "--seq-len", "1024..8192:x2",
                                     "--batch", "4", "--phase", "prefill,decode", "--hw",
                                     "h100,b200", "--heads", "32", "--kv-heads", "8"});
  REQUIRE(overridden.exit_code == 0);
  CHECK(overridden.out == flags_4.out);
  CHECK(overridden.out != from_file.out);
}

TEST_CASE(
    "a --param or --hw-set on the command line wins over the spec's value of that name only; the "
    "file's other names still apply",
    "[cli][sweep][spec]") {
  TempDir dir;
  const auto spec = dir.path() / "swa.json";
  write_file(spec, R"({"variant": "swa", "param": {"window": [256, 512]}, "seq_len": "8k",
                       "hw-set": {"memory.hbm_bandwidth_GBps": 4000}})");
  const auto rows = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"sweep", "--spec", spec.string()};
    args.insert(args.end(), extra.begin(), extra.end());
    const RunResult r = run_cli(args);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  const auto flags = [&](std::vector<std::string> extra) {
    std::vector<std::string> args = {"sweep", "--variant", "swa", "--seq-len", "8k"};
    args.insert(args.end(), extra.begin(), extra.end());
    const RunResult r = run_cli(args);
    REQUIRE(r.exit_code == 0);
    return r.out;
  };
  const std::vector<std::string> bandwidth = {"--hw-set", "memory.hbm_bandwidth_GBps=4000"};
  // Another name adds to the file's: both windows, each with four sinks.
  std::vector<std::string> both = {"--param", "window=256,512", "--param", "n_sink=4"};
  both.insert(both.end(), bandwidth.begin(), bandwidth.end());
  CHECK(rows({"--param", "n_sink=4"}) == flags(both));
  // The same name replaces the file's list.
  std::vector<std::string> one = {"--param", "window=1024"};
  one.insert(one.end(), bandwidth.begin(), bandwidth.end());
  CHECK(rows({"--param", "window=1024"}) == flags(one));
  // A profile field: the command line's value of that field, the file's others.
  CHECK(rows({"--hw-set", "memory.hbm_bandwidth_GBps=3000"}) ==
        flags({"--param", "window=256,512", "--hw-set", "memory.hbm_bandwidth_GBps=3000"}));
}

TEST_CASE("sweep --spec with an unknown key or a bad value exits 2 naming the file and the key",
          "[cli][sweep][spec]") {
  TempDir dir;
  const auto spec = dir.path() / "bad.json";
  write_file(spec, R"({"seq_len": 1024, "frobnicate": 3})");
  RunResult r = run_cli({"sweep", "--spec", spec.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("bad.json") && Catch::Contains("unknown key 'frobnicate'") &&
                        Catch::Contains("seq-len"));
  write_file(spec, R"({"no-causal": true})");
  r = run_cli({"sweep", "--spec", spec.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("unknown key 'no-causal'"));
  r = run_cli({"sweep", "--spec", dir.path().string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("is a directory"));
  // A size the sweep reads later is named by the file and key too; the same flag given on the
  // command line is named as a flag.
  write_file(spec, R"({"batch": 0, "seq_len": "1k,2k"})");
  r = run_cli({"sweep", "--spec", spec.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("bad.json: key 'batch': --batch '0': 0 is outside"));
  r = run_cli({"sweep", "--spec", spec.string(), "--batch", "-1"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::StartsWith("attnsim: error: --batch"));
}

TEST_CASE(
    "sweep --spec: a value out of a flag's range is out of range, naming the file and the range",
    "[cli][sweep][spec]") {
  TempDir dir;
  const auto spec = dir.path() / "big.json";
  for (const char* batch : {"1e30", "18446744073709551616", "-1"}) {
    INFO(batch);
    write_file(spec, fmt::format(R"({{"batch": {}, "seq_len": "1k,2k"}})", batch));
    const RunResult r = run_cli({"sweep", "--spec", spec.string()});
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains("big.json: key 'batch': --batch") &&
                          Catch::Contains("is outside [1, 16777216]"));
    CHECK_THAT(r.err, !Catch::Contains("fraction") && !Catch::Contains("not a decimal integer"));
  }
}

TEST_CASE("sweep --spec: a --hw-set key given twice in the spec's list names the file",
          "[cli][sweep][spec]") {
  TempDir dir;
  const auto spec = dir.path() / "twice.json";
  write_file(spec, R"({"hw-set": ["compute.sm_count=100", "compute.sm_count=120"]})");
  const RunResult r = run_cli({"sweep", "--spec", spec.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("twice.json: key 'hw-set': --hw-set") &&
                        Catch::Contains("'compute.sm_count' is given twice"));
}

TEST_CASE("sweep spec: a value nested where only scalars go says what that key takes",
          "[cli][sweep][spec]") {
  const auto message = [](const char* text) {
    try {
      cli::parse_sweep_spec(text, "s.json");
    } catch (const common::SpecError& e) {
      return std::string(e.what());
    }
    return std::string("accepted");
  };
  // An object in hw-set's object: not "expected ... an object, got object".
  const std::string nested = message(R"({"hw-set": {"memory": {"hbm_bandwidth_GBps": 4000}}})");
  CHECK_THAT(nested, Catch::StartsWith("s.json: key 'hw-set'.memory: 'hw-set' takes name=value") &&
                         Catch::Contains("\"name=value\" strings") &&
                         Catch::EndsWith("got an object"));
  CHECK_THAT(nested, !Catch::Contains("or an object, got"));
  const std::string in_list = message(R"({"batch": [[1]]})");
  CHECK_THAT(in_list,
             Catch::Contains("key 'batch'[0]: a list holds strings, integers or booleans") &&
                 Catch::EndsWith("got an array"));
  CHECK_THAT(in_list, !Catch::Contains("an array or an object"));
}

TEST_CASE("sweep --spec names a key as the file writes it, in a fraction and a range error alike",
          "[cli][sweep][spec]") {
  TempDir dir;
  const auto spec = dir.path() / "k.json";
  write_file(spec, R"({"seq_len": 0.5})");
  RunResult r = run_cli({"sweep", "--spec", spec.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("k.json: key 'seq_len': expected"));
  write_file(spec, R"({"seq_len": 0})");
  r = run_cli({"sweep", "--spec", spec.string()});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("k.json: key 'seq_len': --seq-len"));
  write_file(spec, R"({"frob_nicate": 0})");
  r = run_cli({"sweep", "--spec", spec.string()});
  CHECK_THAT(r.err, Catch::Contains("unknown key 'frob_nicate'"));
}

TEST_CASE("sweep --spec takes progress as a boolean, as the README says booleans are written",
          "[cli][sweep][spec]") {
  TempDir dir;
  const auto spec = dir.path() / "p.json";
  const RunResult plain = run_cli({"sweep", "--variant", "gqa", "--seq-len", "1k"});
  for (const char* value : {"true", "false"}) {
    INFO(value);
    write_file(spec,
               fmt::format(R"({{"progress": {}, "variant": "gqa", "seq_len": "1k"}})", value));
    const RunResult r = run_cli({"sweep", "--spec", spec.string()});
    CHECK(r.exit_code == 0);
    CHECK(r.out == plain.out);
  }
  CHECK(
      run_cli({"sweep", "--variant", "gqa", "--seq-len", "1k", "--progress", "maybe"}).exit_code ==
      2);
}

TEST_CASE("a model sweep row totals every layer exactly as query --model does",
          "[cli][sweep][models]") {
  const RunResult sweep =
      run_cli({"sweep", "--model", "llama-3.1-70b,deepseek-v3", "--phase", "decode", "--seq-len",
               "4096,131072", "--batch", "1,64", "--hw", "h100", "--format", "jsonl"});
  REQUIRE(sweep.exit_code == 0);
  std::istringstream lines(sweep.out);
  std::string line;
  int rows = 0;
  while (std::getline(lines, line)) {
    const auto row = nlohmann::json::parse(line);
    ++rows;
    const RunResult q =
        run_cli({"query", "--model", row["model"], "--phase", "decode", "--seq-len",
                 std::to_string(row["kv_len"].get<int>()), "--batch",
                 std::to_string(row["batch"].get<int>()), "--hw", "h100", "--format", "json"});
    REQUIRE(q.exit_code == 0);
    const auto model = nlohmann::json::parse(q.out)["models"][0];
    CHECK(row["time_s"].get<double>() ==
          Approx(model["total"]["time_s"].get<double>()).epsilon(1e-8));
    CHECK(row["kv_cache_bytes"].get<double>() ==
          Approx(model["total"]["kv_cache_bytes"].get<double>()).epsilon(1e-8));
    CHECK(row["fits"] == model["memory"]["fits"]);
    CHECK(row["max_batch"].get<double>() == model["memory"]["max_batch"].get<double>());
  }
  CHECK(rows == 8);  // 2 models x 2 lengths x 2 batches
}

TEST_CASE("a model sweep reads --hf-config files and labels rows with the path",
          "[cli][sweep][models]") {
  const std::string config =
      std::string(ATTNSIM_SOURCE_DIR) + "/tests/fixtures/hf-configs/llama-2-7b.config.json";
  const RunResult r = run_cli({"sweep", "--hf-config", config, "--seq-len", "1024,2048"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.rfind("hw,model,phase,", 0) == 0);
  CHECK(std::count(r.out.begin(), r.out.end(), '\n') == 3);
  CHECK_THAT(r.out, Catch::Contains("h100-sxm5-80gb," + config + ",prefill,1,1024,1024"));
}

TEST_CASE("a model sweep refuses variant-shape flags with exit 2 naming the flag",
          "[cli][sweep][models]") {
  for (const auto& extra : std::vector<std::vector<std::string>>{
           {"--variant", "gqa"}, {"--heads", "8"}, {"--layers", "4"}, {"--param", "window=8"}}) {
    const RunResult r = run_cli(test_support::with({"sweep", "--model", "llama-3.1-8b"}, extra));
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK_THAT(r.err, Catch::Contains(extra[0]) && Catch::Contains("model sweep"));
  }
}

TEST_CASE("a spec's plot-x/plot-y need a plot from the spec or the command line, as the flags do",
          "[cli][sweep][spec]") {
  TempDir dir;
  const auto lone = dir.path() / "lone.json";
  write_file(lone, R"({"variant": "gqa", "seq_len": "1k,2k", "plot-y": "tflops"})");
  const RunResult refused = run_cli({"sweep", "--spec", lone.string()});
  CHECK(refused.exit_code == 2);
  CHECK_THAT(refused.err, Catch::Contains("--plot-y needs --plot FILE.svg"));
  // The plot from the spec, the measure from the command line.
  const auto with_plot = dir.path() / "plot.json";
  const auto svg = dir.path() / "p.svg";
  write_file(with_plot, fmt::format(R"({{"variant": "gqa", "seq_len": "1k,2k", "plot": "{}"}})",
                                    svg.string()));
  const RunResult ok = run_cli({"sweep", "--spec", with_plot.string(), "--plot-y", "tflops"});
  CHECK(ok.exit_code == 0);
  CHECK(std::filesystem::exists(svg));
}
