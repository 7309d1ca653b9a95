// A result names the form of the computation it priced where the variant has several (README,
// JSON output: `form`): MLA's mode 0 outside decode prices both and reports the faster.
#include <string>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"

using nlohmann::json;
using test_support::first_result;

TEST_CASE("query JSON names the MLA form it priced, and null for a variant of one form",
          "[cli][mla]") {
  // H100, 32k cached tokens: 100 new tokens run absorbed on FlashMLA, 171 and a fresh 4096-token
  // prefill non-absorbed on FA3; the params (mode 0) are the same for all three.
  auto form = [](const char* q_len, const char* kv_len) {
    const json r = first_result({"query", "--variant", "mla", "--phase", "prefill", "--q-len",
                                 q_len, "--kv-len", kv_len, "--hw", "h100", "--format", "json"});
    return r.at("form").get<std::string>();
  };
  CHECK(form("100", "32868") == "absorbed");
  CHECK(form("171", "32939") == "non-absorbed");
  CHECK(form("4096", "4096") == "non-absorbed");
  const json gqa = first_result({"query", "--variant", "gqa", "--format", "json"});
  CHECK(gqa.at("form").is_null());
}
