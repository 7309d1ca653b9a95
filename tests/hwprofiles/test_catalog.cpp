#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "hwprofiles/catalog.hpp"
#include "hwprofiles/profile_loader.hpp"
#include "tests/support/temp_dir.hpp"

TEST_CASE("every required device profile is built in", "[hw]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  for (const char* id : {"a100-sxm4-80gb", "a100-sxm4-40gb", "a800-sxm4-80gb", "h100-sxm5-80gb",
                         "h100-pcie-80gb", "h800-sxm5-80gb", "h200-sxm-141gb", "b200", "gb200",
                         "ascend-910b1", "ascend-910b2", "ascend-910b3", "ascend-910b4", "h20"}) {
    INFO(id);
    const hw::Profile& p = catalog.resolve(id);
    CHECK(p.id == id);
    CHECK_FALSE(p.sources.empty());
  }
}

TEST_CASE("short aliases resolve to one canonical profile each", "[hw]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  CHECK(catalog.resolve("a100").id == "a100-sxm4-80gb");
  CHECK(catalog.resolve("h100").id == "h100-sxm5-80gb");
  CHECK(catalog.resolve("h200").id == "h200-sxm-141gb");
  CHECK(catalog.resolve("b200").id == "b200");
  CHECK(catalog.resolve("910b").id == "ascend-910b2");
}

TEST_CASE("an unknown profile name lists the known ids and aliases", "[hw]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  CHECK_THROWS_WITH(catalog.resolve("h300"), Catch::Contains("unknown hardware profile 'h300'") &&
                                                 Catch::Contains("h100-sxm5-80gb") &&
                                                 Catch::Contains("910b"));
}

TEST_CASE("built-in figures follow docs/hardware.md's trusted values", "[hw]") {
  const hw::ProfileCatalog c = hw::ProfileCatalog::load({});
  // Dense, not sparse, peaks (docs/hardware.md#conflicts 3) and the 1.83 GHz tensor clock
  // (conflict 1).
  CHECK(c.resolve("h100").tensor_peak_flops(hw::Precision::bf16) == Approx(989.4e12));
  CHECK(c.resolve("h100").tensor_peak_flops(hw::Precision::fp8) == Approx(1978.9e12));
  CHECK(c.resolve("h100").exp_peak_ops_per_s() == Approx(3.87e12).epsilon(0.01));
  CHECK(c.resolve("a100").exp_peak_ops_per_s() == Approx(2.44e12).epsilon(0.01));
  CHECK(c.resolve("b200").exp_peak_ops_per_s() == Approx(4.40e12).epsilon(0.01));
  CHECK_FALSE(c.resolve("a100").supports(hw::Precision::fp8));
  CHECK(c.resolve("a100").memory.hbm_bandwidth_Bps == Approx(2039e9));
  CHECK(c.resolve("a100-sxm4-40gb").memory.hbm_bandwidth_Bps == Approx(1555e9));
  CHECK(c.resolve("h200").memory.hbm_bandwidth_Bps == Approx(4800e9));
  CHECK(c.resolve("b200").memory.hbm_bandwidth_Bps == Approx(7700e9));         // conflict 5
  CHECK(c.resolve("b200").compute.sm_count == 148);                            // conflict 10
  CHECK(c.resolve("ascend-910b4").memory.hbm_capacity_bytes == Approx(32e9));  // conflict 16
  // Ascend figures are not vendor-published: the files must say so.
  CHECK_FALSE(c.resolve("910b").unofficial.empty());
}

TEST_CASE("hw-set overrides one field and re-validates the profile", "[hw]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const hw::Profile& h100 = catalog.resolve("h100");
  const hw::Profile faster = hw::with_overrides(
      h100, {"memory.hbm_bandwidth_GBps=4000", "calibration.tensor_fraction=0.5"});
  CHECK(faster.memory.hbm_bandwidth_Bps == Approx(4000e9));
  CHECK(faster.calibration.tensor_fraction == Approx(0.5));
  CHECK(faster.compute.sm_count == h100.compute.sm_count);
  CHECK_THROWS_WITH(hw::with_overrides(h100, {"memory.hbm_bw=1"}),
                    Catch::Contains("unknown key 'hbm_bw'"));
  CHECK_THROWS_WITH(hw::with_overrides(h100, {"calibration.hbm_fraction=2"}),
                    Catch::Contains("(0.0001, 1]"));
  CHECK_THROWS_WITH(hw::with_overrides(h100, {"no-equals-sign"}), Catch::Contains("key=value"));
}

TEST_CASE("a user directory adds profiles and replaces built-ins with the same id", "[hw]") {
  const test_support::TempDir tmp;
  const auto& dir = tmp.path();
  const hw::ProfileCatalog builtin = hw::ProfileCatalog::load({});
  nlohmann::json mine = hw::to_json(builtin.resolve("h100"));
  mine["id"] = "my-gpu";
  mine["aliases"] = nlohmann::json::array({"mine"});
  std::ofstream(dir / "my-gpu.json") << mine.dump();
  nlohmann::json replaced = hw::to_json(builtin.resolve("b200"));
  replaced["memory"]["hbm_bandwidth_GBps"] = 8000;
  std::ofstream(dir / "b200.json") << replaced.dump();

  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({dir});
  CHECK(catalog.resolve("mine").id == "my-gpu");
  CHECK(catalog.resolve("b200").memory.hbm_bandwidth_Bps == Approx(8000e9));
  CHECK(catalog.profiles().size() == builtin.profiles().size() + 1);

  nlohmann::json clash = mine;
  clash["id"] = "clash";
  clash["aliases"] = nlohmann::json::array({"h100"});
  std::ofstream(dir / "clash.json") << clash.dump();
  CHECK_THROWS_WITH(hw::ProfileCatalog::load({dir}), Catch::Contains("'h100' is claimed by both"));
  // The error names the profile to mend: the user's copy, whichever sorts first.
  CHECK_THROWS_WITH(hw::ProfileCatalog::load({dir}),
                    Catch::Contains("drop it from the \"aliases\" of 'clash'"));
  std::filesystem::remove(dir / "clash.json");
  clash["id"] = "a-clash";
  std::ofstream(dir / "a-clash.json") << clash.dump();
  CHECK_THROWS_WITH(hw::ProfileCatalog::load({dir}),
                    Catch::Contains("drop it from the \"aliases\" of 'a-clash'"));
}

TEST_CASE("the search path splits on colons and skips empty parts", "[hw]") {
  const auto dirs = hw::ProfileCatalog::split_search_path("/a::/b/c:");
  REQUIRE(dirs.size() == 2);
  CHECK(dirs[0] == "/a");
  CHECK(dirs[1] == "/b/c");
}

TEST_CASE("hw-set cannot rename a profile, and 1e999 is 'number out of range' naming the key",
          "[hw]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const hw::Profile& h100 = catalog.resolve("h100");
  CHECK_THROWS_AS(hw::with_overrides(h100, {"id=other"}), hw::ProfileError);
  CHECK_THROWS_WITH(hw::with_overrides(h100, {"id=other"}),
                    Catch::Contains("'id=other'") && Catch::Contains("cannot be overridden"));
  CHECK_THROWS_WITH(hw::with_overrides(h100, {"aliases=[\"x\"]"}),
                    Catch::Contains("cannot be overridden"));
  CHECK_THROWS_AS(hw::with_overrides(h100, {"compute.sm_count=1e999"}), hw::ProfileError);
  CHECK_THROWS_WITH(
      hw::with_overrides(h100, {"compute.sm_count=1e999"}),
      Catch::Contains("compute.sm_count=1e999") && Catch::Contains("number out of range"));
  CHECK_THROWS_WITH(hw::with_overrides(h100, {"compute.sm_count=1.5"}),
                    Catch::Contains("/compute/sm_count") && Catch::Contains("whole number"));
}

TEST_CASE("two profile directories defining one id are refused naming both files", "[hw]") {
  const test_support::TempDir tmp;
  const auto a = tmp.path() / "a";
  const auto b = tmp.path() / "b";
  std::filesystem::create_directories(a);
  std::filesystem::create_directories(b);
  nlohmann::json mine = hw::to_json(hw::ProfileCatalog::load({}).resolve("h100"));
  mine["id"] = "my-gpu";
  mine["aliases"] = nlohmann::json::array();
  std::ofstream(a / "my-gpu.json") << mine.dump();
  std::ofstream(b / "my-gpu.json") << mine.dump();
  CHECK_THROWS_AS(hw::ProfileCatalog::load({a, b}), hw::ProfileError);
  CHECK_THROWS_WITH(hw::ProfileCatalog::load({a, b}),
                    Catch::Contains("'my-gpu'") && Catch::Contains((a / "my-gpu.json").string()) &&
                        Catch::Contains((b / "my-gpu.json").string()));
  // The same directory named twice (--hw-dir and ATTNSIM_HW_PATH) is one definition.
  CHECK(hw::ProfileCatalog::load({a, a}).resolve("my-gpu").id == "my-gpu");
}

TEST_CASE("the build-time index of each built-in profile (id, aliases) matches its parsed file",
          "[hw][startup]") {
  for (const hw::EmbeddedFile& file : hw::builtin_profile_files()) {
    INFO(file.name);
    const hw::Profile p = hw::parse_profile_text(std::string(file.contents), "test");
    CHECK(p.id == file.id);
    CHECK(p.aliases == std::vector<std::string>(file.aliases.begin(), file.aliases.end()));
  }
}

TEST_CASE("a built-in profile parsed lazily is the one the catalog lists, in copies too",
          "[hw][startup]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const hw::Profile& h100 = catalog.resolve("h100");
  hw::ProfileCatalog copy = catalog;
  hw::Profile extra = h100;
  extra.id = "h100-copy";
  extra.aliases = {};
  copy.insert(extra);
  CHECK(copy.profiles().size() == catalog.profiles().size() + 1);
  CHECK(&copy.resolve("h100") == &h100);  // copies share what was parsed
  CHECK_THROWS_AS(catalog.resolve("h100-copy"), hw::ProfileError);
  bool listed = false;
  for (const hw::Profile& p : catalog.profiles()) listed = listed || p.id == h100.id;
  CHECK(listed);
}

TEST_CASE("profile names resolve regardless of case and separators where that names one profile",
          "[hw]") {
  const hw::ProfileCatalog builtin = hw::ProfileCatalog::load({});
  CHECK(builtin.resolve("H100").id == "h100-sxm5-80gb");
  CHECK(builtin.resolve("B200").id == "b200");
  CHECK(builtin.resolve("Ascend-910B2").id == "ascend-910b2");
  // Spaces and underscores read as hyphens: "A100 80GB" is the alias a100-80gb.
  CHECK(builtin.resolve("A100 80GB").id == "a100-sxm4-80gb");
  CHECK(builtin.resolve("H100_SXM5").id == "h100-sxm5-80gb");
  CHECK_THROWS_WITH(builtin.resolve("H300"), Catch::Contains("unknown hardware profile 'H300'"));

  // Two user profiles whose ids differ only by case: each exact id resolves, a third spelling
  // is ambiguous and names both.
  const test_support::TempDir tmp;
  nlohmann::json mine = hw::to_json(builtin.resolve("h100"));
  mine["aliases"] = nlohmann::json::array();
  mine["id"] = "MyGpu";
  std::ofstream(tmp.path() / "MyGpu.json") << mine.dump();
  mine["id"] = "mygpu";
  std::ofstream(tmp.path() / "mygpu.json") << mine.dump();
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({tmp.path()});
  CHECK(catalog.resolve("MyGpu").id == "MyGpu");
  CHECK(catalog.resolve("mygpu").id == "mygpu");
  CHECK_THROWS_WITH(catalog.resolve("MYGPU"), Catch::Contains("ambiguous") &&
                                                  Catch::Contains("'MyGpu'") &&
                                                  Catch::Contains("'mygpu'"));
}

TEST_CASE("a user profile whose id is a built-in's alias takes the name over", "[hw]") {
  const hw::ProfileCatalog builtin = hw::ProfileCatalog::load({});
  const test_support::TempDir tmp;
  nlohmann::json mine = hw::to_json(builtin.resolve("h100"));
  mine["id"] = "h100-sxm";  // an alias of the built-in h100-sxm5-80gb
  mine["aliases"] = nlohmann::json::array();
  mine["compute"]["sm_count"] = 100;
  std::ofstream(tmp.path() / "h100-sxm.json") << mine.dump();
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({tmp.path()});
  CHECK(catalog.resolve("h100-sxm").compute.sm_count == 100);
  CHECK(catalog.resolve("h100").id == "h100-sxm5-80gb");  // its other names stay
  CHECK(catalog.resolve("h100-sxm5").id == "h100-sxm5-80gb");
  // The built-in's aliases, as a listing shows them, are those that still resolve to it.
  CHECK(catalog.aliases("h100-sxm5-80gb") ==
        std::vector<std::string>{"h100", "h100-sxm5", "h100-80gb-hbm3"});
  CHECK(builtin.aliases("h100-sxm5-80gb") ==
        std::vector<std::string>{"h100", "h100-sxm5", "h100-sxm", "h100-80gb-hbm3"});
  CHECK(catalog.aliases("none").empty());
}

TEST_CASE("a user profile's alias that is another profile's id is refused (a dead name)", "[hw]") {
  const hw::ProfileCatalog builtin = hw::ProfileCatalog::load({});
  const test_support::TempDir tmp;
  nlohmann::json mine = hw::to_json(builtin.resolve("h100"));
  mine["id"] = "mine";
  mine["aliases"] = {"a100-sxm4-80gb"};
  std::ofstream(tmp.path() / "mine.json") << mine.dump();
  CHECK_THROWS_WITH(
      hw::ProfileCatalog::load({tmp.path()}),
      Catch::Contains("alias 'a100-sxm4-80gb' is the id of profile 'a100-sxm4-80gb'") &&
          Catch::Contains("drop it from the \"aliases\" of 'mine'"));
}

TEST_CASE("a name matching one profile regardless of case wins over one matching by separators",
          "[hw]") {
  const hw::ProfileCatalog builtin = hw::ProfileCatalog::load({});
  const test_support::TempDir tmp;
  nlohmann::json mine = hw::to_json(builtin.resolve("h100"));
  mine["id"] = "h100_sxm";  // folds onto the built-in alias h100-sxm with separators only
  mine["aliases"] = nlohmann::json::array();
  std::ofstream(tmp.path() / "h100_sxm.json") << mine.dump();
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({tmp.path()});
  CHECK(catalog.resolve("H100_SXM").id == "h100_sxm");
  // With separators folded both match: that is ambiguous, and said so.
  CHECK_THROWS_WITH(catalog.resolve("H100 SXM"),
                    Catch::Contains("ambiguous regardless of case and separators"));
}

TEST_CASE(
    "the names drivers and frameworks report resolve: a leading vendor word is dropped, and the "
    "H100 SXM's and Ascend's own spellings are aliases",
    "[hw]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  CHECK(catalog.resolve("NVIDIA H100 80GB HBM3").id == "h100-sxm5-80gb");
  CHECK(catalog.resolve("NVIDIA H100 PCIe").id == "h100-pcie-80gb");
  CHECK(catalog.resolve("NVIDIA A100-SXM4-40GB").id == "a100-sxm4-40gb");
  CHECK(catalog.resolve("NVIDIA A800-SXM4-80GB").id == "a800-sxm4-80gb");
  CHECK(catalog.resolve("NVIDIA A100-PCIE-40GB").id == "a100-pcie-40gb");
  CHECK(catalog.resolve("NVIDIA A100 80GB PCIe").id == "a100-pcie-80gb");
  CHECK(catalog.resolve("NVIDIA GB300").id == "gb300");
  CHECK(catalog.resolve("nvidia_h800").id == "h800-sxm5-80gb");
  CHECK(catalog.resolve("Ascend910B2").id == "ascend-910b2");
  CHECK(catalog.resolve("Huawei Ascend 910B3").id == "ascend-910b3");
  CHECK(catalog.resolve("Ascend 910B").id == "ascend-910b2");
  // Only for a profile of that vendor.
  CHECK_THROWS_WITH(catalog.resolve("Huawei H100"), Catch::Contains("unknown hardware profile"));
  CHECK_THROWS_WITH(catalog.resolve("NVIDIA Ascend910B2"),
                    Catch::Contains("unknown hardware profile"));
  // The vendor word alone, or before a name nothing matches, is still unknown.
  CHECK_THROWS_WITH(catalog.resolve("NVIDIA"), Catch::Contains("unknown hardware profile"));
  CHECK_THROWS_WITH(catalog.resolve("NVIDIA X9"), Catch::Contains("unknown hardware profile"));
}

TEST_CASE(
    "a memory size written with G for GB at the end of a name (A100 80G, as papers print it) "
    "resolves as the GB spelling would, and only where that names a profile",
    "[hw]") {
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  CHECK(catalog.resolve("A100 80G").id == "a100-sxm4-80gb");
  CHECK(catalog.resolve("a100-40g").id == "a100-sxm4-40gb");
  CHECK(catalog.resolve("NVIDIA A800-SXM4-80G").id == "a800-sxm4-80gb");
  CHECK(catalog.resolve("H20 96G").id == "h20");
  // A name whose GB spelling names no profile stays unknown, named as given (an H100 80GB is an
  // SXM5 or a PCIe card, so that is no alias).
  CHECK_THROWS_WITH(catalog.resolve("h100g"), Catch::Contains("unknown hardware profile 'h100g'"));
  CHECK_THROWS_WITH(catalog.resolve("H100 80G"),
                    Catch::Contains("unknown hardware profile 'H100 80G'"));
}

TEST_CASE("the GA100 profiles (A100 SXM4 and PCIe, A800) calibrate the same kernels", "[hw]") {
  // They share SMs, clocks and kernels, and copy their entries from a100-sxm4-80gb; one that
  // lacked an entry (the SXM4 40GB had no fa2_unpacked) refused a kernel its siblings price.
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const auto entries = [&](const char* id) {
    std::set<std::string> names;
    for (const auto& [name, entry] : catalog.resolve(id).calibration.schedules) {
      (void)entry;
      names.insert(name);
    }
    return names;
  };
  const std::set<std::string> reference = entries("a100-sxm4-80gb");
  for (const char* id : {"a100-sxm4-40gb", "a100-pcie-40gb", "a100-pcie-80gb", "a800-sxm4-80gb"}) {
    INFO(id);
    CHECK(entries(id) == reference);
  }
}

TEST_CASE(
    "the Hopper profiles calibrate every kernel the H100 SXM does, so auto runs the same library "
    "kernels on each",
    "[hw]") {
  // `auto` takes a library's kernel (NSA's and FSA's Triton kernels, Lightning's, FLA's, NATTEN's)
  // where the profile has its entry; an H200 without NSA's priced NSA as an ideal dense kernel,
  // 3-5x faster than the H100 for the same work.
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const auto& reference = catalog.resolve("h100-sxm5-80gb").calibration.schedules;
  for (const char* id : {"h100-pcie-80gb", "h200-sxm-141gb", "h800-sxm5-80gb", "h20"}) {
    const auto& entries = catalog.resolve(id).calibration.schedules;
    for (const auto& [name, entry] : reference) {
      (void)entry;
      INFO(id << " " << name);
      CHECK(entries.count(name) == 1);
    }
  }
}

TEST_CASE("every NVIDIA profile calibrates flash-linear-attention's kernels (fla_chunk)", "[hw]") {
  // FLA's Triton kernels run on sm_80 and later; without the entry `auto` priced the linear
  // variant with chunked_scan's ideal scan, which put an A100 2x ahead of an H100.
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  int nvidia = 0;
  for (const hw::Profile& p : catalog.profiles()) {
    if (p.vendor != "nvidia") continue;
    ++nvidia;
    INFO(p.id);
    CHECK(p.calibration.schedules.count("fla_chunk") == 1);
  }
  CHECK(nvidia >= 14);
}
