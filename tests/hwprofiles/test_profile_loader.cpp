#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <string>

#include "hwprofiles/catalog.hpp"
#include "hwprofiles/profile_loader.hpp"
#include "tests/support/profile_helpers.hpp"

using test_support::profile_doc;
using test_support::profile_parse_error;
#include "tests/support/temp_dir.hpp"

TEST_CASE("the reference H100 profile parses into SI units", "[hw]") {
  const hw::Profile p = hw::parse_profile(profile_doc("h100-sxm5-80gb"), "h100.json");
  CHECK(p.id == "h100-sxm5-80gb");
  CHECK(p.tensor_peak_flops(hw::Precision::bf16) == Approx(989.4e12));
  CHECK(p.memory.hbm_bandwidth_Bps == Approx(3350e9));
  CHECK(p.compute.tensor_clock_hz == Approx(1830e6));
  CHECK(p.memory.smem_per_sm_bytes == Approx(228 * 1024.0));
  CHECK(p.calibration.kernel_launch_s == Approx(5e-6));
  CHECK_FALSE(p.sources.empty());
}

TEST_CASE("an unknown key is rejected with its JSON pointer and the allowed keys", "[hw]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc["memory"]["hbm_bw"] = 1;
  const std::string msg = profile_parse_error(doc);
  CHECK_THAT(msg, Catch::Contains("test.json"));
  CHECK_THAT(msg, Catch::Contains("/memory/hbm_bw"));
  CHECK_THAT(msg, Catch::Contains("unknown key"));
  CHECK_THAT(msg, Catch::Contains("hbm_bandwidth_GBps"));
}

TEST_CASE("a missing required key is rejected naming its pointer", "[hw]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc["compute"].erase("sm_count");
  const std::string msg = profile_parse_error(doc);
  CHECK_THAT(msg, Catch::Contains("/compute/sm_count"));
  CHECK_THAT(msg, Catch::Contains("missing required key"));
}

TEST_CASE("a wrong type is rejected saying what was expected, with the allowed range", "[hw]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc["compute"]["sm_count"] = "132";
  CHECK_THAT(profile_parse_error(doc),
             Catch::Contains("expected a whole number in [1, 1024], found string '132'"));
  doc = profile_doc("h100-sxm5-80gb");
  doc["memory"]["hbm_bandwidth_GBps"] = nlohmann::json::array();
  CHECK_THAT(profile_parse_error(doc),
             Catch::Contains("expected a number in (0.1, 1000000], found array"));
}

TEST_CASE("non-positive figures and out-of-range fractions are rejected", "[hw]") {
  nlohmann::json zero_bw = profile_doc("h100-sxm5-80gb");
  zero_bw["memory"]["hbm_bandwidth_GBps"] = 0;
  CHECK_THAT(profile_parse_error(zero_bw), Catch::Contains("expected a number in (0.1, 1000000]"));
  nlohmann::json negative_peak = profile_doc("h100-sxm5-80gb");
  negative_peak["compute"]["tensor_dense_TFLOPS"]["bf16"] = -1;
  CHECK_THAT(profile_parse_error(negative_peak),
             Catch::Contains("/compute/tensor_dense_TFLOPS/bf16"));
  nlohmann::json big_fraction = profile_doc("h100-sxm5-80gb");
  big_fraction["calibration"]["hbm_fraction"] = 1.2;
  CHECK_THAT(profile_parse_error(big_fraction), Catch::Contains("(0.0001, 1]"));
  nlohmann::json unknown_dtype = profile_doc("h100-sxm5-80gb");
  unknown_dtype["compute"]["tensor_dense_TFLOPS"]["int4"] = 1;
  CHECK_THAT(profile_parse_error(unknown_dtype),
             Catch::Contains("allowed: tf32, fp16, bf16, fp8, fp4"));
}

TEST_CASE("a boost clock under the tensor clock is refused naming both; equal clocks load",
          "[hw]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc["compute"]["max_clock_MHz"] = 1500;  // tensor_clock_MHz 1830
  const std::string msg = profile_parse_error(doc);
  CHECK_THAT(msg, Catch::Contains("/compute/max_clock_MHz"));
  CHECK_THAT(msg, Catch::Contains("(1500 MHz) must be at least tensor_clock_MHz (1830 MHz)"));
  doc["compute"]["max_clock_MHz"] = 1830;
  CHECK(profile_parse_error(doc).empty());
}

TEST_CASE("a profile needs at least one source and a known vendor", "[hw]") {
  nlohmann::json no_sources = profile_doc("h100-sxm5-80gb");
  no_sources["sources"] = nlohmann::json::array();
  CHECK_THAT(profile_parse_error(no_sources), Catch::Contains("/sources"));
  nlohmann::json vendor = profile_doc("h100-sxm5-80gb");
  vendor["vendor"] = "acme";
  CHECK_THAT(profile_parse_error(vendor), Catch::Contains("allowed: nvidia"));
}

TEST_CASE("malformed JSON text is rejected naming the origin", "[hw]") {
  try {
    hw::parse_profile_text("{\"id\": ", "broken.json");
    FAIL("no error");
  } catch (const hw::ProfileError& e) {
    CHECK_THAT(e.what(), Catch::Contains("broken.json: malformed JSON"));
  }
}

TEST_CASE("a profile file's id must match its file name", "[hw]") {
  const test_support::TempDir tmp;
  const auto& dir = tmp.path();
  std::ofstream(dir / "other-name.json") << profile_doc("h100-sxm5-80gb").dump();
  CHECK_THROWS_WITH(hw::load_profile_file(dir / "other-name.json"),
                    Catch::Contains("must equal the file name"));
}

TEST_CASE("to_json round-trips every built-in profile exactly", "[hw]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  for (const hw::Profile& p : catalog.profiles()) {
    INFO(p.id);
    const nlohmann::json once = hw::to_json(p);
    const nlohmann::json twice = hw::to_json(hw::parse_profile(once, "roundtrip"));
    CHECK(once == twice);
  }
}

TEST_CASE("counts are whole numbers in physically plausible ranges (hwprofiles/SCHEMA.md)",
          "[hw]") {
  struct Bad {
    const char* object;
    const char* key;
    double value;
    const char* range;
  };
  for (const Bad& b :
       {Bad{"compute", "sm_count", 1.5, "[1, 1024]"},
        Bad{"compute", "sm_count", 1e300, "[1, 1024]"}, Bad{"compute", "sm_count", 0, "[1, 1024]"},
        Bad{"memory", "max_ctas_per_sm", 0.5, "[1, 256]"},
        Bad{"memory", "max_threads_per_sm", 2048.5, "[1, 65536]"},
        Bad{"memory", "registers_per_sm", 1e7, "[1, 1048576]"}}) {
    INFO(b.key << " = " << b.value);
    nlohmann::json doc = profile_doc("h100-sxm5-80gb");
    doc[b.object][b.key] = b.value;
    CHECK_THAT(profile_parse_error(doc),
               Catch::Contains(std::string("/") + b.object + "/" + b.key) &&
                   Catch::Contains("whole number") && Catch::Contains(b.range));
  }
  nlohmann::json whole = profile_doc("h100-sxm5-80gb");
  whole["compute"]["sm_count"] = 132.0;
  CHECK(profile_parse_error(whole).empty());
}

TEST_CASE("1e999 in a profile names the file and pointer and says 'number out of range'", "[hw]") {
  std::string text = profile_doc("h100-sxm5-80gb").dump(1);
  const std::string key = "\"sm_count\": 132";
  REQUIRE(text.find(key) != std::string::npos);
  text.replace(text.find(key), key.size(), "\"sm_count\": 1e999");
  CHECK_THROWS_AS(hw::parse_profile_text(text, "big.json"), hw::ProfileError);
  CHECK_THROWS_WITH(hw::parse_profile_text(text, "big.json"),
                    Catch::Contains("big.json: /compute/sm_count: number out of range") &&
                        Catch::Contains("1e999"));
  CHECK_THROWS_WITH(hw::parse_profile_text(R"({"a": [1, {"b": [2, -1e400]}]})", "x.json"),
                    Catch::StartsWith("x.json: /a/1/b/1: number out of range"));
}

TEST_CASE("a key repeated in one object of a profile file is an error naming it", "[hw]") {
  std::string text = profile_doc("h100-sxm5-80gb").dump(1);
  const std::string key = "\"sm_count\": 132";
  text.replace(text.find(key), key.size(), "\"sm_count\": 132, \"sm_count\": 133");
  CHECK_THROWS_WITH(hw::parse_profile_text(text, "dup.json"),
                    Catch::Contains("dup.json: /compute/sm_count: duplicate key 'sm_count'"));
}

TEST_CASE("a schedule entry's chain_cycles is optional, at least 0, and named when misspelt",
          "[hw]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  const hw::Profile plain = hw::parse_profile(doc, "test.json");
  CHECK_FALSE(plain.calibration.schedules.at("fa3").chain_cycles.has_value());
  doc["calibration"]["schedules"]["fa3"]["chain_cycles"] = 1500;
  const hw::Profile chained = hw::parse_profile(doc, "test.json");
  REQUIRE(chained.calibration.schedules.at("fa3").chain_cycles.has_value());
  CHECK(*chained.calibration.schedules.at("fa3").chain_cycles == 1500);
  CHECK(hw::to_json(chained)["calibration"]["schedules"]["fa3"]["chain_cycles"] == 1500);
  CHECK_FALSE(hw::to_json(plain)["calibration"]["schedules"]["fa3"].contains("chain_cycles"));
  doc["calibration"]["schedules"]["fa3"]["chain_cycles"] = -1;
  CHECK_THAT(profile_parse_error(doc), Catch::Contains("/calibration/schedules/fa3/chain_cycles"));
  doc["calibration"]["schedules"]["fa3"].erase("chain_cycles");
  doc["calibration"]["schedules"]["fa3"]["chain_cycle"] = 1500;
  const std::string msg = profile_parse_error(doc);
  CHECK_THAT(msg, Catch::Contains("unknown key"));
  CHECK_THAT(msg, Catch::Contains("chain_cycles"));
  // Beside a present chain_cycles, the allowed keys name it once.
  doc["calibration"]["schedules"]["fa3"]["chain_cycles"] = 1500;
  const std::string both = profile_parse_error(doc);
  const auto named = both.find("chain_cycles", both.find("allowed"));
  CHECK(named != std::string::npos);
  CHECK(both.find("chain_cycles", named + 1) == std::string::npos);
}

TEST_CASE("memory.cache_read_GBps_per_sm is optional, positive, and round-trips", "[hw]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  CHECK_FALSE(hw::parse_profile(doc, "x").memory.cache_read_Bps_per_sm.has_value());
  doc["memory"]["cache_read_GBps_per_sm"] = 22.5;
  const hw::Profile p = hw::parse_profile(doc, "x");
  REQUIRE(p.memory.cache_read_Bps_per_sm.has_value());
  CHECK(*p.memory.cache_read_Bps_per_sm == Approx(22.5e9));
  CHECK(hw::to_json(p)["memory"]["cache_read_GBps_per_sm"] == Approx(22.5));
  for (double bad : {0.0, -1.0, 1e300}) {
    doc["memory"]["cache_read_GBps_per_sm"] = bad;
    CHECK_THAT(profile_parse_error(doc), Catch::Contains("/memory/cache_read_GBps_per_sm"));
  }
}

TEST_CASE("an unknown key's error lists each allowed key once", "[hw]") {
  // caller_floor_us asks for its callers with has() and then reads them: each is named once.
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  doc["calibration"]["caller_floor_us"]["bogus"] = 3;
  CHECK_THAT(profile_parse_error(doc),
             Catch::EndsWith("/calibration/caller_floor_us/bogus: unknown key 'bogus'; allowed: "
                             "direct, pytorch, torch_npu, triton, flashinfer, triton_jit, "
                             "extra_launch, in_turn, source"));
}

TEST_CASE("a calibration entry that is no kernel's is refused naming its pointer and the entries",
          "[hw]") {
  // A misspelt entry would be read by nothing: split_kv's kernel would be priced as another's.
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  auto& entries = doc["calibration"]["schedules"];
  REQUIRE(entries.contains("split_kv"));
  entries["splitkv"] = entries["split_kv"];
  entries.erase("split_kv");
  const std::string msg = profile_parse_error(doc);
  CHECK_THAT(msg, Catch::Contains("test.json: /calibration/schedules/splitkv: unknown calibration "
                                  "entry 'splitkv'; allowed: fa2, fa2_bwd, fa2_unpacked,"));
  CHECK_THAT(msg, Catch::Contains(" split_kv,") && Catch::Contains(" fa3_bwd,") &&
                      Catch::Contains("gemm, chunked_scan, nsa_triton_scores"));
  // A `_bwd` entry of a kernel without a backward model of its own is read by nothing either.
  entries["split_kv"] = entries["splitkv"];
  entries.erase("splitkv");
  entries["split_kv_bwd"] = entries["split_kv"];
  CHECK_THAT(profile_parse_error(doc), Catch::Contains("unknown calibration entry 'split_kv_bwd'"));
  entries.erase("split_kv_bwd");
  CHECK(profile_parse_error(doc).empty());
}

TEST_CASE("default_schedule names a kernel, not a backward or support entry", "[hw]") {
  nlohmann::json doc = profile_doc("h100-sxm5-80gb");
  for (const char* entry : {"fa3_bwd", "gemm"}) {
    doc["default_schedule"] = entry;
    CHECK_THAT(profile_parse_error(doc),
               Catch::Contains("/default_schedule: '" + std::string(entry) +
                               "' is not a kernel; allowed: fa2, fa2_unpacked, split_kv,"));
  }
}
