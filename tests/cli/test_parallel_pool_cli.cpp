// End-to-end: --cp-strategy cad (attention pool fields), --cp with decode and with
// --include-projections, and the balance figure.
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"

namespace {

using nlohmann::json;
using test_support::run_cli;
using test_support::RunResult;
using test_support::with;

const std::vector<std::string> kGqaQuery = {"query", "--variant",  "gqa", "--heads",
                                            "32",    "--kv-heads", "8"};

json result(const std::vector<std::string>& args) {
  return test_support::first_result(with(args, {"--format", "json"}));
}

}  // namespace

TEST_CASE("query --cp-strategy cad reports the attention pool and its balance in JSON",
          "[cli][parallel]") {
  const json res = result(with(
      kGqaQuery, {"--seq-len", "131072", "--phase", "train", "--cp", "8", "--cp-strategy", "cad"}));
  CHECK(res["layout"]["cp_strategy"] == "cad");
  CHECK(res["layout"]["balance"].get<double>() == Approx(1).epsilon(1e-3));
  const json& pool = res["attention_pool"];
  CHECK(pool["servers"] == 8);
  CHECK(pool["shard_tokens"] == 128);
  CHECK(pool["tasks"] == 1024);
  CHECK(pool["dispatch_bytes"].get<double>() > 0);
  CHECK(pool["return_bytes"].get<double>() > 0);
  CHECK(res["cluster"]["flops"]["tensor"].get<double>() ==
        Approx(res["flops"]["tensor"].get<double>()));
}

TEST_CASE("the table and CSV show the attention pool and balance", "[cli][parallel]") {
  const std::vector<std::string> args =
      with(kGqaQuery, {"--seq-len", "65536", "--cp", "4", "--cp-strategy", "cad"});
  const RunResult table = run_cli(args);
  REQUIRE(table.exit_code == 0);
  CHECK_THAT(table.out, Catch::Contains("attention pool: 512 tasks of 128 tokens"));
  CHECK_THAT(table.out, Catch::Contains("balance 1.000"));
  const RunResult csv = run_cli(with(args, {"--format", "csv"}));
  REQUIRE(csv.exit_code == 0);
  CHECK_THAT(csv.out, Catch::Contains("attention_pool_dispatch_bytes"));
  CHECK_THAT(csv.out, Catch::Contains("layout_balance"));
}

TEST_CASE(
    "query --cp with decode shards the KV cache; ulysses is refused naming ring and "
    "allgather",
    "[cli][parallel]") {
  const std::vector<std::string> decode =
      with(kGqaQuery, {"--phase", "decode", "--batch", "8", "--seq-len", "32768"});
  const json one = result(with(decode, {"--tp", "1"}));
  const json four = result(with(decode, {"--cp", "4"}));
  CHECK(four["per_device"]["kv_cache_bytes"].get<double>() ==
        Approx(one["per_device"]["kv_cache_bytes"].get<double>() / 4));
  CHECK(four["per_device"]["comm_bytes"]["scale_up"].get<double>() > 0);
  const RunResult ulysses = run_cli(with(decode, {"--cp", "4", "--cp-strategy", "ulysses"}));
  CHECK(ulysses.exit_code == 2);
  CHECK_THAT(ulysses.err, Catch::Contains("use ring or allgather"));
}

TEST_CASE("query --cp with --include-projections prices each device's own tokens",
          "[cli][parallel]") {
  const std::vector<std::string> args = with(kGqaQuery, {"--seq-len", "8192", "--cp", "4"});
  const json core = result(args);
  const json proj = result(with(args, {"--include-projections"}));
  // 2048 tokens x 2 x 4096 x (6144 + 4096) projection FLOPs per device.
  CHECK(proj["per_device"]["flops"]["tensor"].get<double>() -
            core["per_device"]["flops"]["tensor"].get<double>() ==
        Approx(2 * 2048.0 * 4096 * 10240));
}
