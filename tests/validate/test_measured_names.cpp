#include <catch2/catch.hpp>

#include <algorithm>

#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/validate_helpers.hpp"
#include "validate/compare.hpp"
#include "validate/measured_names.hpp"
#include "validate/measurements.hpp"

TEST_CASE("published kernel names map to schedules regardless of case and separators",
          "[validate]") {
  using validate::schedule_for;
  CHECK(schedule_for("FlashAttention-2") == "fa2");
  CHECK(schedule_for("flash_attn_2") == "fa2");
  CHECK(schedule_for("Flash2") == "fa2");  // the lightning-attention benchmark's provider name
  CHECK(schedule_for("FA2") == "fa2");
  CHECK(schedule_for("flash-attn-v3") == "fa3");
  CHECK(schedule_for("FlashAttention 3") == "fa3");
  CHECK(schedule_for("flash_attn.cute") == "fa4");
  CHECK(schedule_for("cuDNN") == "cudnn");
  CHECK(schedule_for("cudnn_sdpa") == "cudnn");
  CHECK(schedule_for("FlashMLA") == "flashmla");
  CHECK(schedule_for("Flash-Decoding") == "split_kv");
  CHECK(schedule_for("npu_fused_infer_attention_score") == "ascend");
  CHECK(schedule_for("LIGHTNING-ATTENTION-2") == "lightning2");
  CHECK(schedule_for(" lightning_attn2 ") == "lightning2");
  CHECK(schedule_for("eager") == "unfused");
  CHECK(schedule_for("PTO-ISA") == "pto_isa_fa");
  CHECK(schedule_for("PTO") == "pto_isa_fa");        // as a PTO-vs-torch_npu table prints it
  CHECK(schedule_for("jit_flash") == "pto_isa_fa");  // pto-isa's torch_jit demo labels
  CHECK(schedule_for("pto-isa-fa") == "pto_isa_fa");
  CHECK(schedule_for("PTODSL") == "auto");  // pto-dsl's own label is not the PTO-ISA kernel
  CHECK(schedule_for("pto_fa") == "auto");  // the name of pto_dsl_fa's launch: not mapped
  CHECK(schedule_for("npu_fused_attention") == "ascend");
  CHECK(schedule_for("Scalable-Flash-NSA") == "flash_nsa");
  CHECK(schedule_for("scalable_flash_native_sparse_attention") == "flash_nsa");
  CHECK(schedule_for("flash-nsa") == "flash_nsa");
  CHECK(schedule_for("megatron nsa") == "flash_nsa");  // its test.py's provider names
  CHECK(schedule_for("HFNSACore") == "flash_nsa");
}

TEST_CASE("every schedule's own name maps to that schedule, with hyphens or underscores",
          "[validate]") {
  for (const sim::ScheduleInfo& s : sim::schedules()) {
    const std::string name(s.name);
    CHECK(validate::schedule_for(name) == name);
    std::string hyphens = name;
    std::replace(hyphens.begin(), hyphens.end(), '_', '-');
    CHECK(validate::schedule_for(hyphens) == name);
  }
}

TEST_CASE(
    "the no-decay Lightning Attention-2 kernel, as its repository's benchmark labels it, is "
    "lightning2: the same grid, loops, tiles and bytes as the decayed kernel",
    "[validate]") {
  CHECK(validate::schedule_for("Lightning2NoDecay") == "lightning2");
  CHECK(validate::schedule_for("lightning2_no_decay") == "lightning2");
  CHECK(validate::schedule_for("lightning_attn2_no_decay") == "lightning2");
}

TEST_CASE(
    "an NSA branch kernel's name implies the op it times, a schedule's own name and other kernels "
    "none",
    "[validate]") {
  CHECK(validate::implied_op("nsa-selected") == "selected_attention");
  CHECK(validate::implied_op("topk_sparse_attention") == "selected_attention");
  CHECK(validate::implied_op("FSA-selected") == "selected_attention");
  CHECK(validate::implied_op("nsa-compressed") == "compressed_attention");
  CHECK(validate::implied_op("compressed_attention") == "compressed_attention");
  CHECK(validate::implied_op("nsa-compressed-topk") ==
        "compressed_attention+block_scores+top_k_select");
  CHECK(validate::implied_op("nsa_triton").empty());
  CHECK(validate::implied_op("flash_nsa").empty());
  CHECK(validate::implied_op("fa3").empty());
}

TEST_CASE(
    "FA3's decode entry point is the fa3 schedule, FlashInfer's batch decode flashinfer_decode and "
    "its tensor-core decode flashinfer_prefill",
    "[validate]") {
  CHECK(validate::schedule_for("fa3-kvcache") == "fa3");
  CHECK(validate::schedule_for("FA3_KVCache") == "fa3");
  CHECK(validate::schedule_for("flashinfer-decode") == "flashinfer_decode");
  CHECK(validate::schedule_for("FlashInfer") == "flashinfer_decode");
  for (const char* name :
       {"flashinfer-decode-tc", "FlashInfer TC", "flashinfer_prefill", "flashinfer fa2"}) {
    CHECK(validate::schedule_for(name) == "flashinfer_prefill");
  }
}

TEST_CASE("kernel names attnsim has no schedule for stay auto", "[validate]") {
  CHECK(validate::schedule_for("xformers") == "auto");
  CHECK(validate::schedule_for("ThunderKittens") == "auto");
  CHECK(validate::schedule_for("flash") == "auto");  // which FlashAttention is not said
  CHECK(validate::schedule_for("TileLang") == "auto");
  // "topk" alone names NSA's block selection in this repository, not its selected kernel.
  CHECK(validate::schedule_for("nsa-topk") == "auto");
}

TEST_CASE("passes, element types and flags read the spellings tables use", "[validate]") {
  CHECK(validate::canonical_pass("Forward", "f:2") == "fwd");
  CHECK(validate::canonical_pass("backward", "f:2") == "bwd");
  CHECK(validate::canonical_pass("fwd_bwd", "f:2") == "fwd+bwd");
  CHECK(validate::canonical_pass("decode", "f:2") == "decode");
  CHECK_THROWS_WITH(validate::canonical_pass("prefill", "f:2"),
                    Catch::Contains("f:2: unknown pass 'prefill'") &&
                        Catch::Contains("allowed: fwd, bwd, fwd+bwd, decode"));
  CHECK(validate::canonical_dtype("bfloat16") == "bf16");
  CHECK(validate::canonical_dtype("BF16") == "bf16");
  CHECK(validate::canonical_dtype("half") == "fp16");
  CHECK(validate::canonical_dtype("float8_e4m3fn") == "fp8");
  CHECK(validate::canonical_dtype("torch.bfloat16") == "bf16");  // as torch prints it
  CHECK(validate::canonical_dtype("torch.float16") == "fp16");
  CHECK(validate::canonical_dtype("torch.int8") == "torch.int8");  // named as written when refused
  CHECK(validate::canonical_dtype("int8") == "int8");              // left for parse_dtype to refuse
  CHECK(validate::flag_value("True") == 1);
  CHECK(validate::flag_value("0") == 0);
  CHECK(validate::causal_value("Causal") == 1);  // the words tables print
  CHECK(validate::causal_value("non-causal") == 0);
  CHECK(validate::causal_value("NonCausal") == 0);
  CHECK(validate::causal_value("yes") == 1);
  CHECK(validate::causal_value("sliding") == -1);
  CHECK(validate::flag_value("no") == 0);
  CHECK(validate::flag_value("2") == -1);
}

TEST_CASE("a row written the way a paper prints it reads as the canonical row", "[validate]") {
  const auto set = test_support::measurements_of(
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,time_us,"
      "source\n"
      "h100,FlashAttention-2,Forward,bfloat16,4,32,32,128,4096,4096,true,1000,x\n");
  REQUIRE(set.cases.size() == 1);
  const validate::MeasuredCase& c = set.cases[0];
  CHECK(c.schedule == "fa2");
  CHECK(c.kernel == "FlashAttention-2");  // reported as written
  CHECK(c.pass == "fwd");
  CHECK(c.workload.phase == models::Phase::fwd);
  CHECK(c.workload.dtype == models::DType::bf16);
  CHECK(c.workload.causal);
  CHECK(set.warnings.empty());  // a known kernel: no auto warning
}

TEST_CASE("the caller column reads any case, with a hyphen for the underscore", "[validate]") {
  const auto set = test_support::measurements_of(
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,"
      "causal,time_us,caller\n"
      "h100,fa2,fwd,bf16,4,32,32,128,4096,4096,1,1000,PyTorch\n"
      "910b,torch_npu,fwd,fp16,1,1,1,128,1024,1024,0,72,Torch_NPU\n"
      "910b,torch_npu,fwd,fp16,1,1,1,128,1024,1024,0,72,torch-npu\n");
  REQUIRE(set.cases.size() == 3);
  CHECK(set.cases[0].caller == hw::Caller::pytorch);
  CHECK(set.cases[1].caller == hw::Caller::torch_npu);
  CHECK(set.cases[2].caller == hw::Caller::torch_npu);  // a hyphen for the underscore
}

TEST_CASE("a causal cell that is not a flag is bad input naming the row", "[validate]") {
  CHECK_THROWS_WITH(
      test_support::measurements_of("hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,"
                                    "seq_kv,causal,time_us,source\n"
                                    "h100,fa2,fwd,bf16,4,32,32,128,4096,4096,maybe,1000,x\n"),
      Catch::Contains(":2: column 'causal': 'maybe' is not a flag; allowed: 0, 1, true, false"));
}

TEST_CASE(
    "the chain of NSA's compressed branch and top-k fits the score kernel's entry, however spelled",
    "[validate]") {
  CHECK(validate::fit_entry_for("nsa-compressed-topk") == "nsa_triton_scores");
  CHECK(validate::fit_entry_for("NSA_Compressed_TopK") == "nsa_triton_scores");
  CHECK(validate::fit_entry_for("nsa-compressed").empty());
  const auto set = test_support::measurements_of(
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,variant,op,"
      "time_us,source\n"
      "a100,NSA Compressed TopK,fwd,bf16,1,64,4,128,8192,8192,1,nsa,"
      "compressed_attention+block_scores+top_k_select,900,x\n"
      "a100,NSA Compressed TopK,bwd,bf16,1,64,4,128,8192,8192,1,nsa,"
      "compressed_attention,900,x\n");
  REQUIRE(set.cases.size() == 2);
  CHECK(set.cases[0].schedule == "nsa_triton_compressed");
  CHECK(set.cases[0].fit_eligible);
  CHECK(set.cases[0].fit_entry == "nsa_triton_scores");
  // The scores and top-k have no backward: a backward row fits the schedule's own entries.
  CHECK(set.cases[1].fit_entry.empty());
}

TEST_CASE("a flashmla row without a variant is absorbed MLA, the only thing FlashMLA runs",
          "[validate]") {
  const std::string header =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,v_head_dim,seq_q,seq_kv,causal,"
      "variant,time_us\n";
  const std::string row = "h20,flashmla,decode,bf16,128,16,1,576,512,1,4096,1,";
  const auto bare = test_support::measurements_of(header + row + ",601\n");
  const auto named = test_support::measurements_of(header + row + "mla,601\n");
  REQUIRE(bare.cases.size() == 1);
  REQUIRE(named.cases.size() == 1);
  CHECK(bare.cases[0].spec.variant->name() == "mla");
  CHECK(validate::case_cost(bare.cases[0]).total_flops().total() ==
        validate::case_cost(named.cases[0]).total_flops().total());
  // The latent cache of 576 values a token, as MLA keeps it (a dense 576/512 MQA would keep 1088).
  CHECK(validate::case_cost(bare.cases[0]).kv_cache_bytes_per_token_per_layer == 576 * 2);
  // One query head (heads_q = heads_kv = 1) is absorbed too: a flashmla row is nothing else.
  const auto one = test_support::measurements_of(
      header + "h20,flashmla,decode,bf16,128,1,1,576,512,1,4096,1,,50\n");
  REQUIRE(one.cases.size() == 1);
  CHECK(validate::case_cost(one.cases[0]).kv_cache_bytes_per_token_per_layer == 576 * 2);
}

TEST_CASE(
    "a row of another kernel with absorbed MLA's shape (heads_kv 1, head_dim 576, v_head_dim 512 "
    "or none) and no variant is absorbed MLA, never fitted, said once per kernel however many "
    "rows; other shapes stay dense",
    "[validate]") {
  const std::string header =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,v_head_dim,seq_q,seq_kv,causal,"
      "variant,time_us\n";
  const auto set = test_support::measurements_of(
      header +
      "h800,flash_infer,decode,bf16,128,128,1,576,512,1,4096,1,,"
      "300\n"
      "h800,flash_mla_triton,decode,bf16,128,128,1,576,,1,4096,1,,"
      "300\n"
      "h800,flash_infer,decode,bf16,128,128,8,128,,1,4096,1,,300\n"
      "h800,flash_infer,decode,bf16,128,128,1,576,576,1,4096,1,,300\n"
      "h800,flash_infer,decode,bf16,64,128,1,576,512,1,8192,1,,300\n");
  REQUIRE(set.cases.size() == 5);
  for (int i : {0, 1, 4}) {
    CHECK(set.cases[i].spec.variant->name() == "mla");
    CHECK(validate::case_cost(set.cases[i]).kv_cache_bytes_per_token_per_layer == 576 * 2);
    CHECK_FALSE(set.cases[i].fit_eligible);
  }
  CHECK(set.cases[2].spec.variant->name() == "gqa");
  // Values as wide as the keys are not MLA's (its values are the first 512 latent columns).
  CHECK(set.cases[3].spec.variant->name() == "gqa");
  const auto said = std::count_if(set.warnings.begin(), set.warnings.end(), [](const auto& w) {
    return w.find("'mla' absorbed") != std::string::npos;
  });
  CHECK(said == 2);  // flash_infer (two rows) and flash_mla_triton, once each
}

TEST_CASE(
    "a flashmla row whose pass is fwd over more keys than queries is a decode step, as FlashMLA "
    "runs it; other kernels' fwd rows keep their pass",
    "[validate]") {
  const std::string header =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,v_head_dim,seq_q,seq_kv,causal,"
      "time_us\n";
  const auto set =
      test_support::measurements_of(header +
                                    "h800,FlashMLA,fwd,bf16,64,16,1,576,512,2,8192,1,90\n"
                                    "h800,FlashMLA,decode,bf16,64,16,1,576,512,2,8192,1,90\n"
                                    "h100,fa3,fwd,bf16,1,16,16,128,128,512,8192,1,90\n");
  REQUIRE(set.cases.size() == 3);
  CHECK(set.cases[0].workload.phase == models::Phase::decode);
  CHECK(set.cases[0].pass == "fwd");  // reported as the table names it
  const hw::Profile& h800 = test_support::catalog().resolve("h800");
  CHECK(validate::evaluate_case(set.cases[0], h800).tile_s ==
        validate::evaluate_case(set.cases[1], h800).tile_s);
  CHECK(set.cases[2].workload.phase == models::Phase::fwd);
  // Only a short forward over more keys: at most 16 queries (a chunk or a prefill stays one), and
  // only FlashMLA's.
  models::Workload w = set.cases[2].workload;
  w.q_len = 16;
  CHECK(validate::forward_is_decode("flashmla", w));
  CHECK_FALSE(validate::forward_is_decode("fa3", w));
  w.q_len = 17;
  CHECK_FALSE(validate::forward_is_decode("flashmla", w));
  w.q_len = w.kv_len;
  CHECK_FALSE(validate::forward_is_decode("flashmla", w));
}

TEST_CASE("a row without a caller is called the way its schedule's kernels are reached",
          "[validate][caller]") {
  using hw::Caller;
  using validate::default_caller;
  CHECK(default_caller("ascend") == Caller::torch_npu);
  for (const char* triton : {"nsa_triton", "nsa_triton_compressed", "fsa_triton", "flash_nsa",
                             "lightning2", "fla_chunk"}) {
    INFO(triton);
    CHECK(default_caller(triton) == Caller::triton);
  }
  for (const char* direct : {"fa2", "fa3", "fa4", "cudnn", "flashmla", "split_kv", "pto_isa_fa",
                             "flashinfer_decode", "tileops_gla", "project_flash", "auto"}) {
    INFO(direct);
    CHECK(default_caller(direct) == Caller::direct);
  }
  // Every schedule says it: only those seven are reached other than directly (FlashInfer's
  // decode rows are kernel times unless they name the flashinfer caller).
  int indirect = 0;
  for (const sim::ScheduleInfo& s : sim::schedules()) indirect += s.caller != Caller::direct;
  CHECK(indirect == 7);
}
