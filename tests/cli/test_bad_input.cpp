// The bad-input table: every malformed input attnsim is known to meet, run through the binary.
// Each must exit 2 with nothing on stdout and one "attnsim: error:" line naming the problem. The
// table (input, exit code, message) is docs/bad-input.md; this test fails when that file differs
// from what the binary prints, and rewrites it when ATTNSIM_UPDATE_DOCS=1:
//   ATTNSIM_UPDATE_DOCS=1 ./build/tests/attnsim_tests '[bad-input]'
#include <cstdlib>
#include <filesystem>
#include <sstream>
#include <string>
#include <vector>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "tests/support/bad_input_fixtures.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/temp_dir.hpp"

namespace {

namespace fs = std::filesystem;
using test_support::read_file;
using test_support::run_cli;
using test_support::RunResult;
using test_support::TempDir;
using test_support::write_file;
using test_support::write_fixtures;

struct BadInput {
  std::string what;                   // the rule, in words (the table's first column)
  std::vector<std::string> args;      // "{}" stands for the scratch directory
  std::vector<std::string> mentions;  // the message must contain each
};

// clang-format off
const std::vector<BadInput> kCases = {
    {"no command", {}, {"needs a command", "query"}},
    {"unknown command", {"frobnicate"}, {"'frobnicate'", "query, hw, variants, models, compare, sweep, validate"}},
    {"unknown subcommand", {"hw", "frob"}, {"'frob'", "list, show, probe"}},
    {"integer beyond int64", {"query", "--seq-len", "99999999999999999999"}, {"--seq-len", "[1, 1073741824]"}},
    {"integer beyond int64", {"query", "--kv-len", "99999999999999999999"}, {"--kv-len", "[1, 1073741824]"}},
    {"integer beyond int64", {"query", "--batch", "99999999999999999999"}, {"--batch", "[1, 16777216]"}},
    {"integer beyond int64", {"query", "--layers", "99999999999999999999"}, {"--layers", "[1, 65536]"}},
    {"integer beyond int64", {"query", "--hidden-size", "99999999999999999999"}, {"--hidden-size", "[1, 1048576]"}},
    {"integer beyond int64", {"query", "--heads", "99999999999999999999"}, {"--heads", "[1, 65536]"}},
    {"zero hidden size (absent means heads x head dim)", {"query", "--hidden-size", "0"}, {"--hidden-size", "'0'"}},
    {"exponent where an integer is expected", {"query", "--seq-len", "1e12"}, {"--seq-len", "'1e12'"}},
    {"hexadecimal integer", {"query", "--seq-len", "0x10"}, {"--seq-len", "hexadecimal"}},
    {"negative length", {"query", "--seq-len", "-5"}, {"--seq-len", "'-5'"}},
    {"size beyond the cap", {"query", "--seq-len", "2000000000"}, {"--seq-len", "[1, 1073741824]"}},
    {"on/off flag given a number", {"query", "--causal=7"}, {"--causal", "'7'", "=true or =false"}},
    {"negated on/off flag given a number", {"query", "--no-causal=7"}, {"'7'", "--no-causal", "=true or =false"}},
    {"on/off flag given an empty value", {"query", "--variant", "gqa", "--seq-len", "1k", "--causal="}, {"--causal: an empty flag value", "=true or =false"}},
    {"on/off flag given both ways", {"query", "--variant", "gqa", "--seq-len", "1k", "--causal", "--no-causal"}, {"--causal: given 2 times", "give --causal or --no-causal once"}},
    {"empty sweep shard", {"sweep", "--seq-len", "1k", "--shard", ""}, {"--shard: an empty value", "K/N"}},
    {"empty validate suite", {"validate", "--backend", "cpu", "--suite", ""}, {"--suite: an empty name", "quick, full"}},
    {"on/off flag given a word", {"compare", "--variants", "gqa", "--include-projections=maybe"}, {"--include-projections", "'maybe'", "=true or =false"}},
    {"on/off flag given a number", {"validate", "--strict=2"}, {"--strict", "'2'"}},
    {"causal with fewer keys than queries", {"query", "--seq-len", "100", "--kv-len", "50"}, {"kv_len >= q_len"}},
    {"hexadecimal variant parameter", {"query", "--variant", "swa", "--param", "window=0x100"}, {"window=0x100"}},
    {"variant parameter that is no number", {"query", "--variant", "swa", "--param", "window=wide"}, {"window=wide"}},
    {"measured time without a unit", {"query", "--measured", "1.1"}, {"--measured", "no unit"}},
    {"measured time on several devices", {"query", "--measured", "1ms", "--hw", "h100,b200"}, {"--measured", "one --hw"}},
    {"sweep parameter given twice", {"sweep", "--variant", "swa", "--param", "window=256", "--param", "window=512"}, {"window", "twice"}},
    {"sweep parameter list with an empty item", {"sweep", "--variant", "swa", "--param", "window=256,,512"}, {"empty item"}},
    {"unknown dtype", {"query", "--dtype", "int4"}, {"'int4'", "bf16"}},
    {"dtype the device lacks", {"query", "--hw", "a100", "--dtype", "fp8"}, {"fp8"}},
    {"empty output path", {"query", "-o", ""}, {"--output", "empty"}},
    {"output path that is a directory", {"query", "-o", "{}"}, {"is a directory"}},
    {"output file in a folder that is not there", {"query", "-o", "no-such-dir/q.json"}, {"no directory 'no-such-dir'"}},
    {"output link to a folder that is not there", {"query", "-o", "{}/dangling.json"}, {"--output", "no directory 'nowhere'", "'dangling.json'"}},
    {"output file under a file", {"query", "-o", "{}/good.csv/q.json"}, {"--output", "'good.csv' is not a directory"}},
    {"output link that loops", {"query", "-o", "{}/loop.json"}, {"--output", "'loop.json'", "too many levels of symbolic links"}},
    {"number too large for a double", {"query", "--hw-set", "compute.sm_count=1e999"}, {"number out of range"}},
    {"fractional count", {"query", "--hw-set", "compute.sm_count=1.5"}, {"/compute/sm_count", "whole number"}},
    {"implausible count", {"query", "--hw-set", "compute.sm_count=1e300"}, {"/compute/sm_count", "[1, 1024]"}},
    {"block shared memory above the SM's", {"query", "--hw-set", "memory.smem_per_block_KiB=300"}, {"/memory/smem_per_block_KiB", "300 must not exceed smem_per_sm_KiB (228)"}},
    {"fractional count", {"query", "--hw-set", "memory.max_ctas_per_sm=0.5"}, {"/memory/max_ctas_per_sm"}},
    {"implausible bandwidth", {"query", "--hw-set", "memory.hbm_bandwidth_GBps=1e-300"}, {"with --hw-set", "/memory/hbm_bandwidth_GBps", "found 1e-300", "(0.1, 1000000]"}},
    {"bandwidth that is no number", {"query", "--hw-set", "memory.hbm_bandwidth_GBps=abc"}, {"/memory/hbm_bandwidth_GBps", "found string 'abc'", "(0.1, 1000000]"}},
    {"hexadecimal bandwidth", {"query", "--hw-set", "memory.hbm_bandwidth_GBps=0x10"}, {"/memory/hbm_bandwidth_GBps", "'0x10'", "(0.1, 1000000]"}},
    {"empty bandwidth", {"query", "--hw-set", "memory.hbm_bandwidth_GBps="}, {"/memory/hbm_bandwidth_GBps", "found string ''", "(0.1, 1000000]"}},
    {"implausible clock", {"query", "--hw-set", "compute.tensor_clock_MHz=1e-9"}, {"/compute/tensor_clock_MHz", "found 1e-09", "(1, 1000000]"}},
    {"implausible fixed cost in a profile file", {"query", "--hw", "my-gpu", "--hw-dir", "{}/slow-launch"}, {"my-gpu.json", "/calibration/kernel_launch_us", "found 1e+300", "[0, 10000]"}},
    {"renaming a profile", {"query", "--hw-set", "id=other"}, {"id=other", "cannot be overridden"}},
    {"one --hw-set key twice", {"query", "--hw-set", "compute.sm_count=100", "--hw-set", "compute.sm_count=120"}, {"'compute.sm_count' is given twice"}},
    {"--hw-set into an entry a profile lacks", {"query", "--hw", "a100", "--hw-set", "calibration.schedules.fa3.mma_fraction=0.5"}, {"profile 'a100-sxm4-80gb' has no 'calibration.schedules.fa3'"}},
    {"--hw-set through a value", {"query", "--hw-set", "compute.sm_count.x=1"}, {"'compute.sm_count' is a value"}},
    {"sweep with no point left, an axis value and a variant listed twice (the axes' warnings are not said)", {"sweep", "--variant", "gqa,GQA", "--seq-len", "2k,1k,1k", "--kernel", "flashmla"}, {"no point of the sweep can be priced"}},
    {"unknown progress mode", {"sweep", "--variant", "gqa", "--seq-len", "1024", "--progress", "maybe"}, {"--progress", "'maybe'", "allowed: auto, yes, no"}},
    {"misspelt profile key", {"query", "--hw-set", "memory.hbm_bandwith_GBps=1"}, {"hbm_bandwith_GBps", "hbm_bandwidth_GBps"}},
    {"missing profile directory", {"query", "--hw-dir", "{}/none"}, {"does not exist"}},
    {"profile directory that is a file", {"query", "--hw-dir", "{}/good.csv"}, {"'good.csv': hardware profile directory is a file, not a directory", "allowed: a directory"}},
    {"empty profile directory path", {"query", "--hw-dir", ""}, {"--hw-dir: an empty path", "allowed: a directory"}},
    {"profile directory that is a symbolic link loop", {"query", "--hw-dir", "{}/link-loop"}, {"link-loop': hardware profile directory", "a symbolic link loop"}},
    {"profile file that is a symbolic link loop", {"query", "--hw-dir", "{}/loop-inside"}, {"loop-inside/x.json': hardware profile file", "a symbolic link loop"}},
    {"profile id 'all'", {"hw", "list", "--hw-dir", "{}/id-all"}, {"all.json: /id: 'all' is not a profile name", "--hw all means every profile", "allowed: letters, digits"}},
    {"profile id with a comma", {"hw", "list", "--hw-dir", "{}/id-comma"}, {"/id: 'a,b' is not a profile name", "a comma", "allowed: letters, digits"}},
    {"profile id ending in .json", {"hw", "list", "--hw-dir", "{}/id-json"}, {"/id: 'x.json' is not a profile name", "ends in .json", "allowed: letters, digits"}},
    {"profile alias 'all'", {"hw", "list", "--hw-dir", "{}/alias-all"}, {"/aliases/1: 'ALL' is not a profile name", "allowed: letters, digits"}},
    {"one id in two profile directories", {"query", "--hw-dir", "{}/a", "--hw-dir", "{}/b"}, {"a/my-gpu.json", "b/my-gpu.json"}},
    {"1e999 in a profile file", {"query", "--hw", "my-gpu", "--hw-dir", "{}/big"}, {"/compute/sm_count", "number out of range"}},
    {"misspelt calibration entry in a profile file", {"query", "--hw", "my-gpu", "--hw-dir", "{}/misspelt-entry"}, {"my-gpu.json", "/calibration/schedules/splitkv", "unknown calibration entry 'splitkv'", "allowed: fa2, fa2_bwd,", " split_kv,", " gemm, chunked_scan, nsa_triton_scores"}},
    {"key given twice in a profile file", {"query", "--hw", "my-gpu", "--hw-dir", "{}/dup-key"}, {"duplicate key 'sm_count'"}},
    {"unknown caller", {"query", "--caller", "jax"}, {"--caller", "'jax'", "direct, pytorch, torch_npu, triton, flashinfer"}},
    {"moh heads below its default shared_heads + top_k", {"query", "--variant", "moh", "--param", "heads=1"}, {"shared_heads + top_k", "got 1 + 1", "--param top_k=0"}},
    {"linear gate neither scalar nor per channel", {"query", "--variant", "linear", "--param", "head_dim=64", "--param", "gate_dim=32"}, {"gate_dim must be 1", "head_dim = 64", "got 32"}},
    {"chunked GLA kernel asked for a decode step", {"query", "--hw", "h200", "--variant", "linear", "--param", "gate_dim=128", "--phase", "decode", "--kernel", "tileops_gla"}, {"kernel 'tileops_gla'", "--kernel auto"}},
    {"gna stride on a length that is no square", {"query", "--variant", "gna", "--no-causal", "--seq-len", "4000", "--param", "stride=1"}, {"4000 tokens do not form a 2-D grid", "extent_y=N"}},
    {"gna window wider than its grid dimension", {"query", "--variant", "gna", "--no-causal", "--seq-len", "4096", "--param", "stride=1", "--param", "extent_y=1024"}, {"window_x (13)", "4 tokens", "at most 4"}},
    {"gna stride along one dimension without a stride", {"query", "--variant", "gna", "--no-causal", "--param", "stride_y=8"}, {"stride_y and stride_z refine a stride", "--param stride=N"}},
    {"gna stride on a context-parallel chunk", {"query", "--variant", "gna", "--no-causal", "--seq-len", "1024", "--kv-len", "4096", "--param", "stride=1"}, {"q_len 1024 and kv_len 4096", "stride 0"}},
    {"gna dilation or causal dimension without a stride", {"query", "--variant", "gna", "--no-causal", "--param", "causal_x=1"}, {"needs the token grid", "--param stride=N"}},
    {"natten on a head dim NATTEN's kernels do not run", {"query", "--variant", "gna", "--no-causal", "--param", "stride=1", "--kernel", "natten", "--hw", "b200", "--head-dim", "256"}, {"kernel 'natten'", "at most 128"}},
    {"gna stride wider than its window", {"query", "--variant", "gna", "--no-causal", "--seq-len", "4096", "--param", "stride=16"}, {"stride (16) is wider than window_x (13)", "stride at most 13"}},
    {"gna window times dilation wider than its dimension", {"query", "--variant", "gna", "--no-causal", "--seq-len", "4096", "--param", "stride=1", "--param", "dilation=5"}, {"window_x (13) x dilation (5) = 65", "at most 64"}},
    {"gna causal along a dimension the grid lacks", {"query", "--variant", "gna", "--no-causal", "--param", "stride=1", "--param", "causal_z=1"}, {"causal_z names the grid's dimension 3, and this grid has 2", "window_z"}},
    {"FlashInfer's CUDA-core decode asked for several query tokens", {"query", "--hw", "h100", "--phase", "decode", "--q-len", "2", "--kv-len", "4096", "--kernel", "flashinfer_decode"}, {"kernel 'flashinfer_decode'", "got q_len 2", "--kernel flashinfer_prefill"}},
    {"FlashInfer's CUDA-core decode with a GQA group it has no instance for", {"query", "--hw", "h100", "--variant", "gqa", "--phase", "decode", "--kv-len", "4096", "--heads", "40", "--kv-heads", "8", "--kernel", "flashinfer_decode"}, {"a group of 5", "(1, 2, 3, 4, 6, 8)"}},
    {"TP that does not split a model's heads", {"query", "--model", "llama-3.1-70b", "--tp", "3"}, {"layer group full (gqa), 80 layers", "64 query heads", "3 devices"}},
    {"K/V ring on a model's linear layers", {"query", "--model", "qwen3-next-80b-a3b", "--seq-len", "8192", "--cp", "4"}, {"layer group linear (linear)", "lasp2 or zeco", "--cp-state-strategy"}},
    {"unknown state strategy", {"query", "--model", "qwen3-next-80b-a3b", "--cp", "2", "--cp-state-strategy", "bogus"}, {"--cp-state-strategy 'bogus': an unknown strategy; allowed: lasp2, zeco"}},
    {"a K/V strategy for the state layers", {"query", "--model", "qwen3-next-80b-a3b", "--cp", "2", "--cp-state-strategy", "ring"}, {"--cp-state-strategy", "'ring'", "lasp2, zeco"}},
    {"unknown CP strategy", {"compare", "--variants", "gqa,mla", "--cp", "2", "--cp-strategy", "spiral"}, {"'spiral'", "ring, zigzag, ulysses, allgather, lasp2, zeco"}},
    {"a K/V ring over a pattern sized by the whole sequence", {"query", "--variant", "lga", "--cp", "2"}, {"'lga'", "ring", "ulysses"}},
    {"per-device plot measure without a layout", {"sweep", "--seq-len", "1k,2k", "--plot", "{}/p.svg", "--plot-y", "exposed-comm"}, {"--plot-y exposed-comm", "needs a layout"}},
    {"unknown plot measure", {"sweep", "--seq-len", "1k,2k", "--cp", "2", "--plot", "{}/p.svg", "--plot-y", "exposed_comm_s"}, {"'exposed_comm_s'", "exposed-comm, device-kv-bytes"}},
    {"unknown plot axis", {"sweep", "--seq-len", "1k,2k", "--cp", "2", "--plot", "{}/p.svg", "--plot-x", "nodes"}, {"'nodes'", "seq-len, batch, q-len, kv-len, tp, cp"}},
    {"instruction-class peak above the dense peak", {"query", "--hw-set", "compute.tensor_dense_TFLOPS_by_class.mma_sync.bf16=5000"}, {"/compute/tensor_dense_TFLOPS_by_class/mma_sync/bf16", "cannot exceed the dense peak"}},
    {"profile without the support calibration a variant needs", {"query", "--hw", "my-gpu", "--hw-dir", "{}/no-unfused", "--variant", "nsa"}, {"calibration.schedules.unfused", "elementwise", "Support calibrations"}},
    {"unknown kernel", {"query", "--kernel", "fa9"}, {"unknown kernel 'fa9'", "known: auto, fa2, fa2_unpacked, split_kv"}},
    {"kernel the device does not run", {"query", "--kernel", "fa4", "--hw", "h100"}, {"no calibration for kernel 'fa4'", "it has: "}},
    {"kernel without a matrix path for the dtype", {"query", "--kernel", "fa2", "--hw", "h100", "--dtype", "fp8"}, {"no fp8 path for mma_sync", "classes with fp8: wgmma"}},
    {"unknown kernel", {"sweep", "--kernel", "fa9", "--seq-len", "1024,2048"}, {"unknown kernel 'fa9'", "known: auto, fa2, fa2_unpacked, split_kv"}},
    {"layers given to a model comparison", {"compare", "--models", "llama-3.1-8b,qwen3-8b", "--layers", "4"}, {"--layers does not apply to a model comparison"}},
    {"hexadecimal batch in compare", {"compare", "--variants", "gqa,mla", "--batch", "0x10"}, {"--batch", "hexadecimal is not accepted", "[1, 16777216]"}},
    {"zero length in compare", {"compare", "--variants", "gqa,mla", "--seq-len", "0"}, {"--seq-len", "[1, 1073741824]"}},
    {"plot not named .svg", {"query", "--plot", "{}/chart.png"}, {"--plot", "the chart is SVG", "ending in .svg"}},
    {"projection width without projections", {"query", "--hidden-size", "4096"}, {"--hidden-size", "needs --include-projections"}},
    {"recorded report that is not a CUDA run's", {"validate", "--recorded", "{}/a/my-gpu.json"}, {"not a report of `validate --backend cuda`"}},
    {"probe written under a built-in profile's name", {"hw", "probe", "-o", "{}/H100.json"}, {"'H100' names the built-in profile 'h100-sxm5-80gb'"}},
    {"probe file name that is not an id", {"hw", "probe", "-o", "{}/my gpu.json"}, {"the probe's id", "'my gpu' is not a profile name", "allowed: letters, digits"}},
    {"probe file named all.json", {"hw", "probe", "-o", "{}/all.json"}, {"the probe's id", "'all' is not a profile name", "--hw all means every profile"}},
    {"empty item in a --hw list", {"query", "--hw", ",h100"}, {"--hw ',h100'", "an empty item", "profile ids or aliases (attnsim hw list)"}},
    {"--hw-set with hw list (no profile to apply it to)", {"hw", "list", "--hw-set", "memory.hbm_bandwidth_GBps=4000"}, {"'--hw-set'", "hw list", "allowed: --help, --format, --hw-dir"}},
    {"hw show without an id", {"hw", "show"}, {"hw show needs a profile id", "known: a100-pcie-40gb"}},
    {"variants show without a name", {"variants", "show"}, {"variants show needs a variant name", "known: mha"}},
    {"plot into a missing folder", {"query", "--plot", "{}/missing/p.svg"}, {"--plot", "no directory", "to write it in"}},
    {"plot link to a folder that is not there", {"query", "--plot", "{}/dangling.svg"}, {"--plot", "no directory 'nowhere'", "to write it in"}},
    {"plot under a file", {"query", "--plot", "{}/good.csv/p.svg"}, {"--plot", "'good.csv' is not a directory"}},
    {"plot link that loops", {"query", "--plot", "{}/loop.svg"}, {"--plot", "too many levels of symbolic links"}},
    {"plot and output one file, spelt two ways", {"query", "--plot", "{}/p.svg", "-o", "{}/./p.svg"}, {"--plot", "also the -o file"}},
    {"GPU profile for the CPU kernels", {"validate", "--backend", "cpu", "--profile", "h100"}, {"--profile 'h100'", "not a host-core profile", "arch cpu"}},
    {"kernels run and timings read in one validate", {"validate", "--backend", "cpu", "--measurements", "{}/causal-7.csv"}, {"--backend runs kernels here", "give one"}},
    {"zero length in a sweep range", {"sweep", "--seq-len", "0..1M:+4096"}, {"--seq-len '0..1M:+4096'", "0 is outside [1, 1073741824]"}},
    {"zero layers in a sweep", {"sweep", "--layers", "0"}, {"--layers", "[1, 65536]"}},
    {"tpla decode forced non-absorbed", {"query", "--variant", "tpla", "--phase", "decode", "--param", "mode=2"}, {"tpla: mode 2", "give mode 0 or 1"}},
    {"sweep lengths that vary nothing (decode at a fixed --kv-len)", {"sweep", "--phase", "decode", "--seq-len", "1k,2k", "--kv-len", "8k"}, {"--seq-len 2 values change nothing", "--kv-len"}},
    {"sweep lengths that vary nothing (--q-len and --kv-len given)", {"sweep", "--seq-len", "1k,2k", "--q-len", "1k", "--kv-len", "8k"}, {"--seq-len 2 values change nothing", "--q-len"}},
    {"negative batch in a sweep", {"sweep", "--batch", "-1"}, {"--batch '-1'", "-1 is outside [1, 16777216]"}},
    {"batch beyond int64 in a sweep", {"sweep", "--batch", "99999999999999999999"}, {"is outside [1, 16777216]"}},
    {"empty --progress", {"sweep", "--progress", ""}, {"--progress", "''", "allowed: auto, yes, no"}},
    {"sweep spec number beyond 64 bits", {"sweep", "--spec", "{}/spec-2e64.json"}, {"spec-2e64.json: key 'batch'", "is outside [1, 16777216]"}},
    {"one --hw-set key twice in a sweep spec", {"sweep", "--spec", "{}/spec-hw-set-twice.json"}, {"spec-hw-set-twice.json: key 'hw-set'", "given twice"}},
    {"Mamba hybrid config (Jamba)", {"query", "--hf-config", "{}/jamba.json"}, {"jamba.json", "'attn_layer_period'", "Mamba"}},
    {"Mamba hybrid config (Nemotron-H)", {"query", "--hf-config", "{}/nemotron-h.json"}, {"'hybrid_override_pattern'", "Mamba"}},
    {"Mamba hybrid config (Zamba2)", {"query", "--hf-config", "{}/zamba2.json"}, {"'layers_block_type'", "Mamba"}},
    {"Mamba hybrid config (Bamba)", {"query", "--hf-config", "{}/bamba.json"}, {"'attn_layer_indices'", "Mamba"}},
    {"parallel Mamba hybrid config (Falcon-H1)", {"query", "--hf-config", "{}/falcon-h1.json"}, {"'mamba_d_ssm'", "Falcon-H1", "Mamba"}},
    {"block-sparse config (Phi-3-small)", {"query", "--hf-config", "{}/phi-3-small.json"}, {"'dense_attention_every_n_layers'", "block-sparse"}},
    {"KV-sharing config (Gemma 3n)", {"compare", "--hf-config", "{}/gemma-3n.json"}, {"'num_kv_shared_layers'", "KV cache"}},
    {"cross-attention config (Mllama)", {"sweep", "--hf-config", "{}/mllama.json", "--seq-len", "1k"}, {"'cross_attention_layers'", "cross-attention"}},
    {"config layer count beyond --layers' range", {"query", "--hf-config", "{}/layers-70000.json"}, {"'num_hidden_layers'", "[1, 65536], got 70000"}},
    {"config with a key given twice", {"query", "--hf-config", "{}/heads-twice.json"}, {"heads-twice.json", "'num_attention_heads' is given twice"}},
    {"config layer count beyond int64", {"query", "--hf-config", "{}/layers-2e63.json"}, {"'num_hidden_layers'", "[1, 65536], got 9223372036854775808"}},
    {"empty model name", {"query", "--model", ""}, {"--model", "an empty name", "attnsim models list"}},
    {"empty config path", {"query", "--hf-config", ""}, {"--hf-config", "an empty path", "config.json"}},
    {"empty model name in a sweep", {"sweep", "--model", "", "--seq-len", "1k"}, {"--model", "an empty name"}},
    {"empty config path in a sweep", {"sweep", "--hf-config", "", "--seq-len", "1k"}, {"--hf-config", "an empty path"}},
    {"empty model list in compare", {"compare", "--models", ""}, {"--models", "an empty name"}},
    {"models show without a model", {"models", "show"}, {"models show needs a preset name or --hf-config FILE"}},
    {"models show with a preset and a config", {"models", "show", "llama-3.1-8b", "--hf-config", "{}/jamba.json"}, {"models show needs a preset name or --hf-config FILE"}},
    {"profile without the support calibration projections need", {"query", "--hw", "my-gpu", "--hw-dir", "{}/no-gemm", "--variant", "gqa", "--include-projections"}, {"calibration.schedules.gemm", "GEMM", "Support calibrations"}},
    {"profile without the support calibration a scan needs", {"query", "--hw", "my-gpu", "--hw-dir", "{}/no-chunked_scan", "--variant", "lightnet"}, {"calibration.schedules.chunked_scan", "scan", "Support calibrations"}},
    {"probe budget not a number", {"hw", "probe", "--budget", "nan"}, {"--budget", "[0.1, 600]"}},
    {"negative held-out length", {"validate", "--measurements", "{}/causal-7.csv", "--holdout-seq", "-5"}, {"--holdout-seq"}},
    {"directory as measurements", {"validate", "--measurements", "{}"}, {"is a directory"}},
    {"row wider than the header", {"validate", "--measurements", "{}/extra-cells.csv"}, {"extra-cells.csv:2", "cells"}},
    {"duplicate column", {"validate", "--measurements", "{}/duplicate-column.csv"}, {"duplicate-column.csv:1", "'causal'"}},
    {"causal not a flag", {"validate", "--measurements", "{}/causal-7.csv"}, {"causal-7.csv:2", "allowed: 0, 1, true, false"}},
    {"every row skipped", {"validate", "--measurements", "{}/all-skipped.csv"}, {"no measurement row left to compare: 1 skipped", "all-skipped.csv:2"}},
    {"unknown device in a row", {"validate", "--measurements", "{}/unknown-device.csv"}, {"unknown-device.csv:2", "unknown hardware profile 'h300'", "known:"}},
    {"both time_ms and time_us", {"validate", "--measurements", "{}/two-times.csv"}, {"two-times.csv:2", "both"}},
    {"infinite time", {"validate", "--measurements", "{}/time-inf.csv"}, {"time-inf.csv:2", "'inf'"}},
    {"header without rows", {"validate", "--measurements", "{}/header-only.csv"}, {"no measurement rows"}},
    {"time below 1 ns", {"validate", "--measurements", "{}/time-1e-320.csv"}, {"time-1e-320.csv:2", "'time_ms'", "below 1 ns", "time_ms from 1e-6"}},
    {"time above one hour", {"validate", "--measurements", "{}/time-1e300-us.csv"}, {"time-1e300-us.csv:2", "'time_us'", "'1e300'", "above one hour", "time_us from 0.001 to 3600000000"}},
    {"TFLOP/s giving a time below 1 ns", {"validate", "--measurements", "{}/tflops-1e300.csv"}, {"tflops-1e300.csv:2", "'tflops'", "from 1 ns"}},
    {"TFLOP/s beside a time that is no number", {"validate", "--measurements", "{}/tflops-abc.csv"}, {"tflops-abc.csv:2", "'tflops'", "'abc'"}},
    {"TFLOP/s beside a time that contradicts it", {"validate", "--measurements", "{}/tflops-contradicts.csv"}, {"tflops-contradicts.csv:2", "'16.8' contradicts time_ms '0.01'", "allowed: a TFLOP/s from"}},
    {"CSV of only a byte order mark", {"validate", "--measurements", "{}/bom-only.csv"}, {"bom-only.csv", "empty file"}},
    {"CSV of only blank lines", {"validate", "--measurements", "{}/blank-lines.csv"}, {"blank-lines.csv", "empty file"}},
    {"CSV integer beyond int64", {"validate", "--measurements", "{}/huge-batch.csv"}, {"huge-batch.csv:2", "'batch'"}},
    {"hexadecimal CSV cell", {"validate", "--measurements", "{}/hex-window.csv"}, {"hex-window.csv:2", "hexadecimal"}},
    {"variant parameter that is no number", {"validate", "--measurements", "{}/bad-param.csv"}, {"bad-param.csv:2", "window=abc"}},
    {"unknown caller in a CSV", {"validate", "--measurements", "{}/bad-caller.csv"}, {"bad-caller.csv:2", "'caller'", "'jax'"}},
    {"unknown CSV column under --strict", {"validate", "--measurements", "{}/misspelt-column.csv", "--strict"}, {"misspelt-column.csv:1", "unknown column 'windw' refused under --strict", "allowed: hw, kernel"}},
    {"suite file that is a symbolic link loop", {"validate", "--backend", "cpu", "--suite", "{}/link-loop"}, {"suite file", "link-loop", "a symbolic link loop"}},
    {"--write-profiles a symbolic link loop", {"validate", "--measurements", "{}/good.csv", "--write-profiles", "{}/link-loop/sub"}, {"--write-profiles", "a symbolic link loop"}},
    {"--keep-fixed-costs without --calibrate", {"validate", "--measurements", "{}/good.csv", "--keep-fixed-costs"}, {"--keep-fixed-costs", "--calibrate"}},
    {"profile directory that is a file", {"validate", "--measurements", "{}/good.csv", "--write-profiles", "{}/good.csv"}, {"good.csv", "not a directory"}},
    {"profile directory under a file", {"validate", "--measurements", "{}/good.csv", "--write-profiles", "{}/good.csv/sub"}, {"'good.csv/sub'", "'good.csv' is not a directory"}},
    {"profile file that is a directory", {"validate", "--measurements", "{}/good.csv", "--write-profiles", "{}/fitted"}, {"--write-profiles", "fitted/h100-sxm5-80gb.json", "is a directory"}},
    {"unknown suite before the CUDA device", {"validate", "--backend", "cuda", "--suite", "nosuch"}, {"unknown suite 'nosuch'", "quick"}},
    {"unknown --ceilings with the CPU backend", {"validate", "--backend", "cpu", "--ceilings", "maybe"}, {"--ceilings 'maybe'", "allowed: auto, yes, no"}},
    {"--devices with measurements", {"validate", "--devices", "--measurements", "{}/good.csv"}, {"--measurements is not used with --devices"}},
    {"--profile with measurements", {"validate", "--measurements", "{}/good.csv", "--profile", "a100"}, {"--profile is not used with --measurements", "hw column"}},
};
// clang-format on

std::string replace_all(std::string text, const std::string& from, const std::string& to) {
  for (std::size_t at = text.find(from); at != std::string::npos;
       at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

// The table shows paths relative to the scratch directory, so it does not change between runs.
std::string shown(const std::string& text, const fs::path& dir) {
  return replace_all(replace_all(text, dir.string() + "/", ""), dir.string(), ".");
}

std::string command_line(const std::vector<std::string>& args) {
  std::string line = "attnsim";
  for (const std::string& a : args) {
    line += " ";
    line += a.empty() || a.find(' ') != std::string::npos ? "'" + a + "'" : a;
  }
  return line;
}

std::string table_cell(std::string text) {
  if (!text.empty() && text.back() == '\n') text.pop_back();
  return replace_all(text, "|", "\\|");
}

}  // namespace

TEST_CASE("every known bad input exits 2 with one error line, as docs/bad-input.md lists it",
          "[cli][bad-input]") {
  TempDir dir;
  write_fixtures(dir.path());
  std::ostringstream doc;
  doc << "# Bad input: what attnsim says\n\n"
      << "Every input below is refused with exit code 2, nothing on stdout and one line on stderr. "
         "Paths are relative to the directory holding the test's files "
         "(`tests/cli/test_bad_input.cpp` "
         "writes them; the CSV files have the columns of `validate/data/measured/README.md`). "
         "Unknown "
         "names (a variant, a profile, a flag) are refused the same way, listing the known ones; "
         "they are left out here because those lists grow.\n\n"
      << "Generated by `tests/cli/test_bad_input.cpp`, which fails when this file is out of date. "
         "Regenerate it with\n`ATTNSIM_UPDATE_DOCS=1 ./build/tests/attnsim_tests "
         "'[bad-input]'`.\n\n"
      << "| input | command | exit | message |\n|---|---|---|---|\n";
  for (const BadInput& c : kCases) {
    std::vector<std::string> args;
    for (const std::string& a : c.args) args.push_back(replace_all(a, "{}", dir.path().string()));
    const RunResult r = run_cli(args);
    const std::string err = shown(r.err, dir.path());
    INFO(command_line(args) << "\nstdout: " << r.out << "\nstderr: " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err.rfind("attnsim: error: ", 0) == 0);
    CHECK(std::count(r.err.begin(), r.err.end(), '\n') == 1);
    for (const std::string& m : c.mentions) CHECK_THAT(err, Catch::Contains(m));
    doc << "| " << c.what << " | `" << table_cell(shown(command_line(args), dir.path())) << "` | "
        << r.exit_code << " | " << table_cell(err) << " |\n";
  }
  const fs::path committed = fs::path(ATTNSIM_SOURCE_DIR) / "docs" / "bad-input.md";
  if (const char* update = std::getenv("ATTNSIM_UPDATE_DOCS");
      update && std::string(update) == "1") {
    write_file(committed, doc.str());
  }
  INFO(
      "docs/bad-input.md is out of date; regenerate it with "
      "ATTNSIM_UPDATE_DOCS=1 ./build/tests/attnsim_tests '[bad-input]'");
  CHECK(read_file(committed) == doc.str());
}
