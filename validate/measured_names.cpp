#include "validate/measured_names.hpp"

#include <algorithm>
#include <map>
#include <stdexcept>

#include <fmt/format.h>

#include "common/text.hpp"
#include "sim/schedule.hpp"

namespace validate {

namespace {

using common::ascii_lower;

// A value as attnsim spells such names: lower case, with hyphens and spaces as underscores
// (`Torch-NPU` -> torch_npu, `float8-e4m3fn` -> float8_e4m3fn).
std::string snake_key(std::string_view text) {
  std::string s = ascii_lower(common::trim_blanks(text));
  std::replace_if(
      s.begin(), s.end(), [](char c) { return c == '-' || c == ' '; }, '_');
  return s;
}

// Keys in kernel_key form: the names papers, READMEs and benchmark scripts print for the kernels
// of attnsim's schedules (each schedule's own name is looked up apart, in schedule_for).
const std::map<std::string, std::string>& kernel_names() {
  static const std::map<std::string, std::string> names = [] {
    std::map<std::string, std::string> m;
    auto add = [&m](const char* schedule, std::initializer_list<const char*> keys) {
      for (const char* k : keys) m.emplace(k, schedule);
    };
    add("fa2", {"fa-2", "fav2", "flash2", "flash-2", "flashattention2", "flashattention-2",
                "flash-attention-2", "flash-attention2", "flash-attn2", "flash-attn-2",
                "flash-attn-v2", "flashattn2", "flashattention-v2", "flash-attention-v2"});
    add("fa3", {"fa-3", "fav3", "flash3", "flash-3", "flashattention3", "flashattention-3",
                "flash-attention-3", "flash-attention3", "flash-attn3", "flash-attn-3",
                "flash-attn-v3", "flashattn3", "flashattention-v3", "flash-attention-v3",
                // FA3's decode entry point (flash_attn_with_kvcache), split-KV by its heuristic:
                // the fa3 schedule's decode, a group of its own in the report.
                "fa3-kvcache"});
    add("fa4", {"fa-4", "flash4", "flashattention4", "flashattention-4", "flash-attention-4",
                "flash-attn4", "flash-attn-4", "flash-attn-cute"});
    add("fa2_unpacked", {"fa2-decode"});
    add("split_kv", {"splitkv", "flash-decoding", "flashdecoding"});
    add("lean", {"lean-attention", "leanattention"});
    add("cudnn", {"cudnn-sdpa", "cudnn-fmha", "cudnn-attention", "cudnn-fa"});
    add("flashmla", {"flash-mla"});
    // torch_npu's fused-attention ops reach FlashAttentionScore (training), PromptFlashAttention
    // (inference prefill) or IncreFlashAttention (decode); the `ascend` schedule prices that class.
    // (npu_fused_attention: the label pto-isa's torch_jit demo benchmark prints for that call.)
    add("ascend", {"torch-npu", "npu-fusion-attention", "npu-fused-infer-attention-score",
                   "npu-prompt-flash-attention", "flashattentionscore", "flash-attention-score",
                   "promptflashattention", "prompt-flash-attention", "fused-infer-attention-score",
                   "npu-fused-attention"});
    add("pto_dsl_fa", {"pto-dsl"});
    // PTO alone is the PTO-ISA manual kernel, as pto-isa's own PTO-vs-torch_npu tables name it
    // (pto-dsl's scripts print PTODSL or "PTO custom FlashAttention", which do not match it);
    // jit_flash is the label of the same template as the torch_jit demo builds it.
    add("pto_isa_fa", {"pto", "pto-isa", "pto-isa-fa", "pto-isa-flash-attention",
                       "pto-isa-flash-atten", "jit-flash"});
    add("unfused", {"eager", "naive-attention", "vanilla-attention", "standard-attention"});
    add("nsa_triton", {"nsa-selected", "topk-sparse-attention"});
    add("nsa_triton_compressed", {"nsa-compressed", "nsa-compressed-topk", "compressed-attention"});
    // The repository's own module names, as its benchmark script (test.py) labels its providers:
    // NSACore ("megatron nsa") and HFNSACore ("hf nsa") run the same kernels.
    add("flash_nsa", {"scalable-flash-nsa", "scalable-flash-native-sparse-attention",
                      "megatron-nsa", "hf-nsa", "nsacore", "hfnsacore"});
    add("fsa_triton", {"fsa-selected"});
    // The no-decay kernel (lightning_attn2_no_decay.py, "Lightning2NoDecay" in the repository's
    // benchmarks/benchmark_lightning2.py) has the decayed kernel's grid, loops, tiles, products and
    // bytes, less its decay multiplies (a few element-wise operations per block): lightning2 prices
    // it as the decayed kernel, which is closer than any softmax kernel auto would choose.
    add("lightning2",
        {"lightning", "lightning-2", "lightning-attn2", "lightning-attn-2", "lightning-attention2",
         "lightning-attention-2", "lightningattention2", "lightning2nodecay", "lightning2-no-decay",
         "lightning-attn2-no-decay", "lightning-attention-2-no-decay"});
    add("fla_chunk", {"fla", "flash-linear-attention"});
    // BatchDecodeWithPagedKVCacheWrapper with use_tensor_cores off (its default). FlashInfer named
    // alone is its decode kernel too: a row of another shape (a prefill, several query tokens) is
    // one it refuses, priced with auto.
    add("flashinfer_decode", {"flashinfer-decode", "flashinfer-batch-decode", "flashinfer"});
    // Its batch prefill kernel's FA2 backend, which BatchDecodeWithPagedKVCacheWrapper runs with
    // use_tensor_cores=True (`fa2_tc` in its benchmarks/flashinfer_benchmark.py). On sm_90 the
    // prefill wrappers default to the FA3 backend (flashinfer/utils.py
    // determine_attention_backend), which this schedule does not price: such a row names fa3.
    add("flashinfer_prefill", {"flashinfer-decode-tc", "flashinfer-tc", "flashinfer-fa2"});
    // NATTEN's profiler backends on Hopper and Blackwell (python -m natten.profiler --backend) and
    // the kernel its traces name; its Ampere backend, cutlass-fna, is another kernel (unknown).
    add("natten", {"hopper-fna", "blackwell-fna", "fnaforward"});
    return m;
  }();
  return names;
}

}  // namespace

std::string kernel_key(std::string_view name) {
  std::string s = ascii_lower(common::trim_blanks(name));
  std::replace_if(
      s.begin(), s.end(), [](char c) { return c == ' ' || c == '_' || c == '.'; }, '-');
  return s;
}

std::string schedule_for(std::string_view kernel) {
  const auto& names = kernel_names();
  const std::string key = kernel_key(kernel);
  auto it = names.find(key);
  if (it != names.end()) return it->second;
  for (const sim::ScheduleInfo& s : sim::schedules()) {
    if (kernel_key(s.name) == key) return std::string(s.name);
  }
  return "auto";
}

std::string canonical_pass(std::string_view pass, const std::string& where) {
  static const std::map<std::string, std::string> names = {
      {"fwd", "fwd"},         {"forward", "fwd"},     {"bwd", "bwd"},
      {"backward", "bwd"},    {"fwd+bwd", "fwd+bwd"}, {"fwd_bwd", "fwd+bwd"},
      {"fwd-bwd", "fwd+bwd"}, {"fwdbwd", "fwd+bwd"},  {"forward+backward", "fwd+bwd"},
      {"decode", "decode"}};
  auto it = names.find(ascii_lower(common::trim_blanks(pass)));
  if (it == names.end()) {
    throw std::invalid_argument(
        fmt::format("{}: unknown pass '{}'; allowed: fwd, bwd, fwd+bwd, decode", where, pass));
  }
  return it->second;
}

std::string_view fit_entry_for(std::string_view kernel) {
  return kernel_key(kernel) == "nsa-compressed-topk" ? sim::kNsaScoresEntry : std::string_view();
}

models::Phase phase_of_pass(const std::string& canonical) {
  if (canonical == "fwd") return models::Phase::fwd;
  if (canonical == "bwd") return models::Phase::bwd;
  if (canonical == "decode") return models::Phase::decode;
  return models::Phase::train;  // fwd+bwd
}

bool forward_is_decode(std::string_view schedule, const models::Workload& w) {
  return schedule == "flashmla" && w.phase == models::Phase::fwd && w.q_len < w.kv_len &&
         w.q_len <= kFlashMlaDecodeQueries;
}

std::string canonical_dtype(std::string_view dtype) {
  static const std::map<std::string, std::string> names = {
      {"bfloat16", "bf16"},     {"float16", "fp16"}, {"half", "fp16"},     {"float32", "fp32"},
      {"float", "fp32"},        {"e4m3", "fp8"},     {"float8", "fp8"},    {"fp8_e4m3", "fp8"},
      {"float8_e4m3fn", "fp8"}, {"e4m3fn", "fp8"},   {"fp8_e4m3fn", "fp8"}};
  const std::string key = snake_key(dtype);
  auto it = names.find(key);
  if (it != names.end()) return it->second;
  // As torch prints a dtype (torch.bfloat16); anything else is returned as written, for the
  // error that names it.
  if (key.rfind("torch.", 0) == 0) {
    const std::string bare = key.substr(6);
    if (auto named = names.find(bare); named != names.end()) return named->second;
    if (bare == "bf16" || bare == "fp16" || bare == "fp32" || bare == "fp8") return bare;
  }
  return key;
}

std::string canonical_caller(std::string_view caller) {
  return snake_key(caller);
}

bool priced_as_a_neighbour(std::string_view kernel) {
  const std::string key = kernel_key(kernel);
  return key.find("no-decay") != std::string::npos || key.find("nodecay") != std::string::npos;
}

std::string_view implied_op(std::string_view kernel) {
  const std::string key = kernel_key(kernel);
  if (key == "nsa-selected" || key == "topk-sparse-attention" || key == "fsa-selected") {
    return "selected_attention";
  }
  if (key == "nsa-compressed" || key == "compressed-attention") return "compressed_attention";
  if (key == "nsa-compressed-topk") return "compressed_attention+block_scores+top_k_select";
  return "";
}

RowFamily family_of(std::string_view schedule, std::string_view kernel) {
  if (schedule == "flashmla") return {"mla", "'mla' absorbed"};
  if (schedule == "lightning2") return {"lightning", "'lightning' (Lightning Attention-2)"};
  if (schedule == "fla_chunk") return {"linear", "'linear' (FLA's simple_gla, gate_dim 1)"};
  const std::string key = kernel_key(kernel);
  if (schedule == "nsa_triton" || schedule == "nsa_triton_compressed" || schedule == "flash_nsa" ||
      (schedule == "auto" && (key == "nsa" || key == "native-sparse-attention"))) {
    return {"nsa", "'nsa' (the paper's blocks: 32 every 16, 16 selected of 64, window 512)"};
  }
  if (schedule == "fsa_triton") {
    return {"fsa", "'fsa' (NSA's blocks: 32 every 16, 16 selected of 64, window 512)"};
  }
  return {};
}

hw::Caller default_caller(std::string_view schedule) {
  for (const sim::ScheduleInfo& s : sim::schedules()) {
    if (s.name == schedule) return s.caller;
  }
  return hw::Caller::direct;  // auto: a library kernel, called directly
}

int causal_value(std::string_view text) {
  const std::string key = snake_key(text);
  if (key == "causal") return 1;
  if (key == "non_causal" || key == "noncausal") return 0;
  return flag_value(text);
}

int flag_value(std::string_view text) {
  const std::string key = ascii_lower(common::trim_blanks(text));
  if (key == "1" || key == "true" || key == "yes") return 1;
  if (key == "0" || key == "false" || key == "no") return 0;
  return -1;
}

}  // namespace validate
