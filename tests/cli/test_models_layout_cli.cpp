// `query --model` under a multi-device layout (--tp, --cp, --nodes): each layer group priced per
// device, the memory check per device, and the layouts a group cannot take refused with exit 2.
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"

using nlohmann::json;
using test_support::run_cli;
using test_support::RunResult;

namespace fs = std::filesystem;

TEST_CASE("query --model at tp=1 cp=1 reproduces the no-layout model result exactly",
          "[cli][models][parallel]") {
  for (const char* model : {"gemma-3-27b", "qwen3-next-80b-a3b", "deepseek-v3"}) {
    INFO(model);
    const std::vector<std::string> args = {"query", "--model", model, "--seq-len", "8192"};
    const json plain = test_support::run_json_format(args);
    const json laid =
        test_support::run_json_format(test_support::with(args, {"--tp", "1", "--cp", "1"}));
    const json& p = plain.at("models").at(0);
    const json& l = laid.at("models").at(0);
    CHECK(l.at("layout").at("devices") == 1);
    for (std::size_t g = 0; g < p.at("groups").size(); ++g) {
      CHECK(l.at("groups").at(g).at("time_s") == p.at("groups").at(g).at("time_s"));
      // One device runs the whole group: its cost is the single-device prediction.
      CHECK(l.at("groups").at(g).at("per_device").at("total_s") ==
            p.at("groups").at(g).at("time_s"));
    }
    CHECK(l.at("memory").at("fits") == p.at("memory").at("fits"));
    CHECK(l.at("memory").at("max_batch") == p.at("memory").at("max_batch"));
    const json& total = l.at("total");
    CHECK(total.at("time_s") == p.at("total").at("time_s"));
    CHECK(total.at("per_device").at("total_s").get<double>() ==
          Approx(p.at("total").at("time_s").get<double>()).epsilon(1e-12));
    CHECK(total.at("per_device").at("kv_cache_bytes") == p.at("total").at("kv_cache_bytes"));
    CHECK(total.at("per_device").at("state_bytes") == p.at("total").at("state_bytes"));
    CHECK(total.at("per_device").at("comm_s") == 0.0);
    double flops = 0;
    for (const json& row : plain.at("results")) flops += row.at("flops").at("total").get<double>();
    CHECK(total.at("per_device").at("flops").at("total").get<double>() ==
          Approx(flops).epsilon(1e-12));
    CHECK(total.at("cluster") == total.at("per_device"));
  }
}

TEST_CASE("a model's per-device KV shrinks by TP for a head split until the KV heads replicate",
          "[cli][models][parallel]") {
  // Llama 3.1 405B: 128 query heads, 8 KV heads. GB200 NVL72 puts 72 devices in one NVLink domain,
  // so TP 16 fits one node; from TP 8 on, each device holds one KV head.
  const std::vector<std::string> args = {"query",   "--model", "llama-3.1-405b",
                                         "--phase", "decode",  "--seq-len",
                                         "32768",   "--hw",    "gb200"};
  const double whole = test_support::run_json_format(args)
                           .at("models")
                           .at(0)
                           .at("total")
                           .at("kv_cache_bytes")
                           .get<double>();
  const auto per_device = [&](const char* tp) {
    const json m =
        test_support::run_json_format(test_support::with(args, {"--tp", tp})).at("models").at(0);
    return m.at("total").at("per_device").at("kv_cache_bytes").get<double>();
  };
  CHECK(per_device("2") == whole / 2);
  CHECK(per_device("4") == whole / 4);
  CHECK(per_device("8") == whole / 8);
  const json tp16 =
      test_support::run_json_format(test_support::with(args, {"--tp", "16"})).at("models").at(0);
  CHECK(tp16.at("groups").at(0).at("layout").at("kv_heads_replicated") == true);
  CHECK(tp16.at("total").at("per_device").at("kv_cache_bytes").get<double>() == whole / 8);
  // The cluster holds every replica: 16 devices x 1/8 of the cache.
  CHECK(tp16.at("total").at("cluster").at("kv_cache_bytes").get<double>() == 2 * whole);
}

TEST_CASE("a model's per-device KV shrinks by CP under ring attention, cluster FLOPs unchanged",
          "[cli][models][parallel]") {
  const std::vector<std::string> args = {"query", "--model", "llama-3.1-70b", "--seq-len", "32768"};
  const json plain = test_support::run_json_format(args);
  const json ring = test_support::run_json_format(
      test_support::with(args, {"--cp", "4", "--cp-strategy", "ring"}));
  const json& m = ring.at("models").at(0);
  CHECK(m.at("total").at("per_device").at("kv_cache_bytes").get<double>() ==
        plain.at("models").at(0).at("total").at("kv_cache_bytes").get<double>() / 4);
  // The ring's blocks cover the causal triangle once: the same matrix-unit work, and the same
  // exps plus two per row for each merge of a later block's output (80 layers x 4 ranks x 1.5
  // later blocks a rank, 8192 queries x 64 heads). (Vector work is not compared: each block's
  // epilogue and each merge rescale outputs.)
  const json& single = plain.at("results").at(0).at("flops");
  const json& cluster = m.at("total").at("cluster").at("flops");
  CHECK(cluster.at("tensor").get<double>() == Approx(single.at("tensor").get<double>()));
  CHECK(cluster.at("exp").get<double>() ==
        Approx(single.at("exp").get<double>() + 80 * 4 * 1.5 * 8192.0 * 64 * 2).epsilon(1e-12));
  // Four ring steps of 8192-token blocks: three K/V blocks pass each device per layer.
  CHECK(m.at("total").at("per_device").at("comm_bytes").at("scale_up").get<double>() ==
        80 * 3 * 8192.0 * 8 * 128 * 2 * 2);
}

TEST_CASE("a model under a layout is checked for memory per device", "[cli][models][parallel]") {
  // Llama 3.1 70B decode, 4 x 131072 tokens: 80 x 8 x 256 x 2 B x 524288 = 172 GB of KV cache,
  // more than one 80 GB H100; over TP 8, 21.5 GB per device.
  const std::vector<std::string> args = {"query",   "--model", "llama-3.1-70b", "--phase", "decode",
                                         "--batch", "4",       "--seq-len",     "131072"};
  const json one = test_support::run_json_format(args).at("models").at(0);
  CHECK(one.at("memory").at("fits") == false);
  const json tp8 =
      test_support::run_json_format(test_support::with(args, {"--tp", "8"})).at("models").at(0);
  CHECK(tp8.at("memory").at("per_device_kv_cache_and_state_bytes").get<double>() ==
        one.at("memory").at("kv_cache_and_state_bytes").get<double>() / 8);
  CHECK(tp8.at("memory").at("fits") == true);
  CHECK(tp8.at("memory").at("max_batch") == 14);  // 80 GB / 5.37 GB per sequence per device
  const RunResult table = run_cli(test_support::with(args, {"--tp", "8"}));
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("layout: tp=8 cp=1"));
  CHECK_THAT(table.out, Catch::Contains("total per device"));
  CHECK_THAT(table.out, Catch::Contains("KV cache + state per device"));
  const RunResult csv = run_cli(test_support::with(args, {"--tp", "8", "--format", "csv"}));
  REQUIRE(csv.exit_code == 0);
  CHECK_THAT(csv.out, Catch::Contains("per_device_exposed_comm_s"));
  CHECK_THAT(csv.out, Catch::Contains("cluster_comm_bytes_scale_out"));
}

TEST_CASE("an impossible layout for a model's layer group is exit 2 naming the group",
          "[cli][models][parallel]") {
  RunResult r = run_cli({"query", "--model", "llama-3.1-70b", "--tp", "3"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::Contains("layer group full (gqa), 80 layers"));
  CHECK_THAT(r.err, Catch::Contains("64 query heads do not split evenly over 3 devices"));
  // Qwen3-Next: ring attention passes K/V blocks; its Gated DeltaNet layers keep a state.
  r = run_cli({"query", "--model", "qwen3-next-80b-a3b", "--seq-len", "8192", "--cp", "4"});
  CHECK(r.exit_code == 2);
  CHECK_THAT(r.err, Catch::Contains("layer group linear (linear), 36 layers"));
  CHECK_THAT(r.err, Catch::Contains("use lasp2 or zeco"));
  test_support::TempDir dir;
  // With --cp-state-strategy the state layers take lasp2 and the attention layers the ring.
  r = run_cli({"query", "--model", "qwen3-next-80b-a3b", "--seq-len", "8192", "--cp", "4",
               "--cp-state-strategy", "lasp2"});
  CHECK(r.exit_code == 0);
  CHECK_THAT(r.out, Catch::Contains("cp_strategy=ring cp_state_strategy=lasp2"));
  const fs::path out = dir.path() / "out.json";
  r = run_cli(
      {"query", "--model", "gemma-3-27b", "--tp", "64", "--nodes", "8", "-o", out.string()});
  CHECK(r.exit_code == 2);
  CHECK_FALSE(fs::exists(out));
}
