// The files the bad-input table (tests/cli/test_bad_input.cpp) points its commands at: malformed
// profiles, measurement CSVs, suites, Hugging Face configs and spec files, written into the test's
// scratch directory.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"

namespace test_support {

inline const char* kCsvHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,window,variant,"
    "time_ms,source\n";
inline const char* kCsvRowStart = "h100-sxm5-80gb,fa3,fwd,bf16,";

// Config files whose attention attnsim does not model (field names as in each model's public
// config.json), and layer counts beyond --layers' range.
inline void write_hf_configs(const std::filesystem::path& dir) {
  const nlohmann::json base = {{"hidden_size", 4096},
                               {"num_attention_heads", 32},
                               {"num_key_value_heads", 8},
                               {"num_hidden_layers", 32}};
  const auto config = [&](const char* name, const nlohmann::json& extra) {
    nlohmann::json c = base;
    c.update(extra);
    write_file(dir / name, c.dump());
  };
  config("jamba.json", {{"attn_layer_period", 8}, {"attn_layer_offset", 4}});
  config("nemotron-h.json", {{"hybrid_override_pattern", "M-M-M-M*-M-M-M-M*-M-M-M-M*-M-M-M-M*"}});
  config("zamba2.json", {{"layers_block_type", {"mamba", "hybrid"}}});
  config("bamba.json", {{"attn_layer_indices", {9, 18, 27}}});
  config("falcon-h1.json", {{"mamba_d_ssm", 1536}, {"mamba_n_heads", 24}});
  config("phi-3-small.json",
         {{"dense_attention_every_n_layers", 2}, {"blocksparse_vert_stride", 8}});
  config("gemma-3n.json", {{"text_config", {{"num_kv_shared_layers", 15}}}});
  config("mllama.json", {{"text_config", {{"cross_attention_layers", {3, 8, 13}}}}});
  config("layers-70000.json", {{"num_hidden_layers", 70000}});
  config("layers-2e63.json", {{"num_hidden_layers", std::uint64_t{1} << 63}});
  // nlohmann would keep the last of the two (16).
  write_file(dir / "heads-twice.json",
             R"({"hidden_size": 4096, "num_attention_heads": 32, "num_attention_heads": 16, )"
             R"("num_key_value_heads": 8, "num_hidden_layers": 32})");
}

// The files the cases read, written into `dir`.
inline void write_fixtures(const std::filesystem::path& dir) {
  const std::string h = kCsvHeader;
  const std::string r = kCsvRowStart;
  write_file(dir / "good.csv", h + r + "1,8,8,128,64,64,1,,,0.01,x\n");
  write_file(dir / "extra-cells.csv", h + r + "1,8,8,128,64,64,1,,,0.01,x,surplus\n");
  write_file(dir / "duplicate-column.csv",
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,causal,"
             "time_ms\n");
  write_file(dir / "causal-7.csv", h + r + "1,8,8,128,64,64,7,,,0.01,x\n");
  write_file(dir / "unknown-device.csv", h + "h300,fa3,fwd,bf16,1,8,8,128,64,64,1,,,0.01,x\n");
  // 8 query heads over 3 KV heads: no variant can be built, so the row is skipped.
  write_file(dir / "all-skipped.csv", h + "h100,fa3,fwd,bf16,1,8,3,128,64,64,1,,,0.01,x\n");
  write_file(dir / "two-times.csv",
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms,"
             "time_us\n" +
                 r + "1,8,8,128,64,64,1,0.01,10\n");
  write_file(dir / "time-inf.csv", h + r + "1,8,8,128,64,64,1,,,inf,x\n");
  write_file(dir / "header-only.csv", h);
  write_file(dir / "time-1e-320.csv", h + r + "1,8,8,128,64,64,1,,,1e-320,x\n");
  write_file(dir / "tflops-1e300.csv",
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,tflops\n" +
                 r + "1,8,8,128,64,64,1,1e300\n");
  const std::string time_and_tflops =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_ms,tflops\n" +
      r;
  write_file(dir / "tflops-abc.csv", time_and_tflops + "1,8,8,128,64,64,0,0.01,abc\n");
  // 4 x 8 x 64^2 x 128 = 1.68e7 FLOPs in 0.01 ms is 1.68 TFLOP/s, not 16.8.
  write_file(dir / "tflops-contradicts.csv", time_and_tflops + "1,8,8,128,64,64,0,0.01,16.8\n");
  write_file(dir / "time-1e300-us.csv",
             "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_us\n" +
                 r + "1,8,8,128,64,64,1,1e300\n");
  write_file(dir / "misspelt-column.csv",
             std::string(kCsvHeader).replace(std::string(kCsvHeader).size() - 1, 1, ",windw\n") +
                 r + "1,8,8,128,64,64,1,,,0.01,x,512\n");
  write_file(dir / "bom-only.csv", "\xEF\xBB\xBF");
  write_file(dir / "blank-lines.csv", "\n \n\t\r\n");
  write_file(dir / "huge-batch.csv", h + r + "99999999999999999999,8,8,128,64,64,1,,,0.01,x\n");
  write_file(dir / "hex-window.csv", h + r + "1,8,8,128,64,64,1,0x100,,0.01,x\n");
  write_file(dir / "bad-param.csv", h + r + "1,8,8,128,64,64,1,,swa:window=abc,0.01,x\n");
  write_file(dir / "bad-caller.csv",
             std::string(kCsvHeader).replace(std::string(kCsvHeader).size() - 1, 1, ",caller\n") +
                 r + "1,8,8,128,64,64,1,,,0.01,x,jax\n");
  fs::create_symlink("link-loop", dir / "link-loop");
  fs::create_directories(dir / "loop-inside");
  fs::create_symlink("x.json", dir / "loop-inside" / "x.json");
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  fs::create_directories(dir / "big");
  fs::create_directories(dir / "dup-key");
  fs::create_directories(dir / "no-unfused");
  nlohmann::json doc =
      nlohmann::json::parse(read_file(fs::path(ATTNSIM_SOURCE_DIR) / "hwprofiles/b200.json"));
  doc["id"] = "my-gpu";
  doc["aliases"] = nlohmann::json::array();
  write_file(dir / "a" / "my-gpu.json", doc.dump(1));
  write_file(dir / "b" / "my-gpu.json", doc.dump(1));
  nlohmann::json no_unfused = doc;
  no_unfused["calibration"]["schedules"].erase("unfused");
  write_file(dir / "no-unfused" / "my-gpu.json", no_unfused.dump(1));
  // The other two support entries (hwprofiles/SCHEMA.md, "Support calibrations").
  for (const char* entry : {"gemm", "chunked_scan"}) {
    nlohmann::json without = doc;
    without["calibration"]["schedules"].erase(entry);
    fs::create_directories(dir / ("no-" + std::string(entry)));
    write_file(dir / ("no-" + std::string(entry)) / "my-gpu.json", without.dump(1));
  }
  // Names a --hw list cannot name: `all`, one with a comma, one read as a file name; and an alias.
  for (const auto& [folder, id] :
       {std::pair{"id-all", "all"}, std::pair{"id-comma", "a,b"}, std::pair{"id-json", "x.json"}}) {
    nlohmann::json named = doc;
    named["id"] = id;
    fs::create_directories(dir / folder);
    write_file(dir / folder / (std::string(id) + ".json"), named.dump(1));
  }
  nlohmann::json alias_all = doc;
  alias_all["aliases"] = {"mine", "ALL"};
  fs::create_directories(dir / "alias-all");
  write_file(dir / "alias-all" / "my-gpu.json", alias_all.dump(1));
  // An entry whose name is no kernel's: nothing would read it (split_kv spelt without its _).
  nlohmann::json misspelt = doc;
  auto& entries = misspelt["calibration"]["schedules"];
  REQUIRE(entries.contains("split_kv"));
  entries["splitkv"] = entries["split_kv"];
  entries.erase("split_kv");
  fs::create_directories(dir / "misspelt-entry");
  write_file(dir / "misspelt-entry" / "my-gpu.json", misspelt.dump(1));
  write_hf_configs(dir);
  std::string text = doc.dump(1);
  const std::string key = "\"sm_count\": 148";
  REQUIRE(text.find(key) != std::string::npos);
  std::string big = text;
  write_file(dir / "big" / "my-gpu.json",
             big.replace(big.find(key), key.size(), "\"sm_count\": 1e999"));
  fs::create_directories(dir / "slow-launch");
  nlohmann::json slow_launch = doc;
  slow_launch["calibration"]["kernel_launch_us"] = 1e300;
  write_file(dir / "slow-launch" / "my-gpu.json", slow_launch.dump(1));
  write_file(dir / "spec-2e64.json", R"({"batch": 18446744073709551616})");
  write_file(dir / "spec-hw-set-twice.json",
             R"({"hw-set": {"compute.sm_count": 100, "compute.sm_count": 120}})");
  // A link to a file in a folder that is not there, as -o and --plot would follow it.
  fs::create_symlink("nowhere/x.json", dir / "dangling.json");
  fs::create_symlink("nowhere/p.svg", dir / "dangling.svg");
  fs::create_symlink("loop.json", dir / "loop.json");
  fs::create_symlink("loop.svg", dir / "loop.svg");
  // Where --write-profiles would write the H100's profile: a directory.
  fs::create_directories(dir / "fitted" / "h100-sxm5-80gb.json");
  write_file(dir / "dup-key" / "my-gpu.json",
             text.replace(text.find(key), key.size(), key + ", \"sm_count\": 150"));
}

}  // namespace test_support
