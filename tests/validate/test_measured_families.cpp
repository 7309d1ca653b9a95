// A timing row that names no variant (validate/data/measured/README.md): the family its kernel
// prices, with that family's defaults (validate::family_of), never fitted, said once per kernel and
// file.
#include <catch2/catch.hpp>

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "hwprofiles/catalog.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/validate_helpers.hpp"
#include "validate/compare.hpp"
#include "validate/measurements.hpp"

using test_support::registry;
using test_support::resolved_param;

namespace {

const char* kFamilyCsvHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,v_head_dim,seq_q,seq_kv,causal,variant,"
    "time_us,source\n";

}  // namespace

TEST_CASE(
    "a row without a variant on a kernel that prices one family is that family's (Lightning "
    "Attention-2, FLA), not dense attention",
    "[validate]") {
  const auto set = test_support::measurements_of(
      std::string(kFamilyCsvHeader) +
      "a100,Lightning Attention-2,fwd,bf16,8,16,16,128,,8192,8192,1,,100,x\n"
      "h200,fla,fwd,bf16,8,16,16,128,,8192,8192,1,,100,x\n"
      "h100,fa3,fwd,bf16,8,16,16,128,,8192,8192,1,,100,x\n");
  REQUIRE(set.cases.size() == 3);
  CHECK(set.skipped.empty());
  CHECK(set.cases[0].spec.variant->name() == "lightning");
  CHECK(set.cases[1].spec.variant->name() == "linear");
  CHECK(set.cases[2].spec.variant->name() == "gqa");
  // Defaults are a guess: said once per kernel and file, and such rows are never fitted.
  CHECK(resolved_param(set.cases[1].spec, "gate_dim") == 1);  // FLA's simple_gla
  CHECK_FALSE(set.cases[0].fit_eligible);
  CHECK_FALSE(set.cases[1].fit_eligible);
  CHECK(set.cases[2].fit_eligible);
  std::vector<std::string> no_variant;  // (the others say the Triton caller these rows take)
  std::copy_if(set.warnings.begin(), set.warnings.end(), std::back_inserter(no_variant),
               [](const std::string& w) { return w.find("no variant") != std::string::npos; });
  REQUIRE(no_variant.size() == 2);
  CHECK_THAT(no_variant[0], Catch::Contains("m.csv:2") && Catch::Contains("Lightning"));
  CHECK_THAT(no_variant[1], Catch::Contains("m.csv:3") && Catch::Contains("simple_gla"));
}

TEST_CASE(
    "a row without a variant on an NSA or FSA kernel, or on a kernel named NSA alone, is that "
    "sparse family's with the paper's blocks, not dense attention, and never fitted",
    "[validate]") {
  const auto set = test_support::measurements_of(
      std::string(kFamilyCsvHeader) +
      "h800,flash_nsa,fwd,bf16,1,64,4,128,,65536,65536,1,,10000,x\n"
      "h100,nsa-selected,fwd,bf16,1,64,4,128,,65536,65536,1,,10000,x\n"
      "h100,fsa-selected,fwd,bf16,1,64,4,128,,65536,65536,1,,10000,x\n"
      "h800,NSA,fwd,bf16,1,64,4,128,,65536,65536,1,,10000,x\n"
      "h800,fa3,fwd,bf16,1,64,4,128,,65536,65536,1,,10000,x\n");
  REQUIRE(set.cases.size() == 5);
  for (int i : {0, 1, 3}) {
    CHECK(set.cases[i].spec.variant->name() == "nsa");
    CHECK(resolved_param(set.cases[i].spec, "top_k") == 16);
    CHECK(resolved_param(set.cases[i].spec, "select_block") == 64);
    CHECK_FALSE(set.cases[i].fit_eligible);
  }
  CHECK(set.cases[2].spec.variant->name() == "fsa");
  CHECK(set.cases[4].spec.variant->name() == "gqa");
  // The sparse kernels' rows cost less than the dense one's; they cost as much before.
  const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  const double dense_s = validate::evaluate_case(set.cases[4], catalog.resolve("h800")).tile_s;
  CHECK(validate::evaluate_case(set.cases[0], catalog.resolve("h800")).tile_s < 0.7 * dense_s);
}

TEST_CASE(
    "a window column on a no-variant NSA row is NSA's sliding window, not dense sliding-window "
    "attention; on a family without a window it contradicts the row, which is skipped",
    "[validate]") {
  const std::string header =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,window,time_us\n";
  const auto set = test_support::measurements_of(
      header + "h100,nsa-selected,fwd,bf16,1,64,4,128,8192,8192,1,1024,5000\n" +
      "a100,lightning2,fwd,bf16,1,16,16,128,8192,8192,1,1024,5000\n" +
      "h100,fa3,fwd,bf16,1,64,4,128,8192,8192,1,1024,5000\n");
  REQUIRE(set.cases.size() == 2);
  CHECK(set.cases[0].spec.variant->name() == "nsa");
  CHECK(resolved_param(set.cases[0].spec, "window") == 1024);
  CHECK(set.cases[1].spec.variant->name() == "swa");  // a dense kernel's window: SWA
  REQUIRE(set.skipped.size() == 1);
  CHECK_THAT(set.skipped[0], Catch::Contains("m.csv:3"));
}

TEST_CASE(
    "a row of the no-decay Lightning Attention-2 kernel is never fitted, even with its variant "
    "given, since lightning2 prices it as the decayed kernel it is not",
    "[validate]") {
  const auto set = test_support::measurements_of(
      std::string(kFamilyCsvHeader) +
      "a100,Lightning2NoDecay,fwd,bf16,4,32,32,128,,4096,4096,1,lightning,"
      "1500,x\n"
      "a100,lightning2,fwd,bf16,4,32,32,128,,4096,4096,1,lightning,1500,x\n");
  REQUIRE(set.cases.size() == 2);
  CHECK(set.cases[0].schedule == "lightning2");
  CHECK_FALSE(set.cases[0].fit_eligible);
  CHECK(set.cases[1].fit_eligible);  // the decayed kernel's own row, with its variant given
}

TEST_CASE(
    "a row of one NSA branch's kernel with an empty op cell times that branch alone, as the "
    "kernel's name says, where the row's variant has it (not for the schedule's own name, nor a "
    "dense variant), and prices as the row that names the op",
    "[validate]") {
  const std::string header =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,variant,op,time_"
      "us\n";
  const std::string nsa = "nsa:top_k=16";
  const auto set = test_support::measurements_of(
      header + "h100,nsa-selected,fwd,bf16,1,64,4,128,8192,8192,1," + nsa + ",,3000\n" +
      "h100,nsa-selected,fwd,bf16,1,64,4,128,8192,8192,1," + nsa + ",selected_attention,3000\n" +
      "h100,nsa-compressed,fwd,bf16,1,64,4,128,8192,8192,1," + nsa + ",,3000\n" +
      "h100,nsa_triton,fwd,bf16,1,64,4,128,8192,8192,1," + nsa + ",,3000\n" +
      "h100,nsa-selected,fwd,bf16,1,64,4,128,8192,8192,1,gqa,,3000\n");
  REQUIRE(set.cases.size() == 5);
  CHECK(set.skipped.empty());
  CHECK(set.cases[4].op.empty());  // a dense variant has no such op: the whole variant
  CHECK(set.cases[0].op == "selected_attention");
  CHECK(set.cases[2].op == "compressed_attention");
  CHECK(set.cases[3].op.empty());  // the schedule's own name: the whole variant
  const hw::Profile& h100 = test_support::catalog().resolve("h100");
  CHECK(validate::evaluate_case(set.cases[0], h100).tile_s ==
        Approx(validate::evaluate_case(set.cases[1], h100).tile_s).epsilon(1e-12));
  CHECK(validate::evaluate_case(set.cases[0], h100).tile_s <
        0.8 * validate::evaluate_case(set.cases[3], h100).tile_s);
}

TEST_CASE(
    "a branch kernel's implied ops are those its row's passes have (an nsa-compressed-topk "
    "backward times the compressed attention alone), said once per kernel and op; a row the "
    "variant cannot build is skipped with file:line",
    "[validate]") {
  const std::string header =
      "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,seq_q,seq_kv,causal,variant,time_us\n";
  const auto set = test_support::measurements_of(
      header + "h100,nsa-compressed-topk,bwd,bf16,1,64,4,128,8192,8192,1,nsa,3000\n" +
      "h100,nsa-compressed-topk,fwd,bf16,1,64,4,128,8192,8192,1,nsa,3000\n" +
      "h100,nsa-compressed-topk,fwd,bf16,1,64,4,128,4096,4096,1,nsa,3000\n" +
      "h100,nsa-selected,fwd,bf16,1,64,4,128,8192,8192,0,nsa,3000\n");
  REQUIRE(set.cases.size() == 3);
  CHECK(set.cases[0].op == "compressed_attention");
  CHECK(set.cases[1].op == "compressed_attention+block_scores+top_k_select");
  CHECK(set.cases[2].op == set.cases[1].op);
  const auto said = std::count_if(set.warnings.begin(), set.warnings.end(), [](const auto& w) {
    return w.find("no op") != std::string::npos;
  });
  CHECK(said == 2);  // the backward's op and the forward's, once each
  // NSA is causal: the non-causal row is skipped, naming its line, not the end of the run.
  REQUIRE(set.skipped.size() == 1);
  CHECK_THAT(set.skipped[0], Catch::Contains("m.csv:5") && Catch::Contains("causal"));
}

TEST_CASE(
    "absorbed MLA's shape is read from the head cells' values, not their text: heads_kv 01, "
    "head_dim 0576 and v_head_dim 0512 are that shape",
    "[validate]") {
  const auto set = test_support::measurements_of(
      std::string(kFamilyCsvHeader) +
      "h800,flash_infer,decode,bf16,128,128,01,576,512,1,4096,1,,300,x\n"
      "h800,flash_infer,decode,bf16,128,128,1,0576,0512,1,8192,1,,300,x\n"
      "h800,flash_infer,decode,bf16,128,128,001,576,,1,2048,1,,300,x\n");
  REQUIRE(set.cases.size() == 3);
  for (const auto& c : set.cases) {
    CHECK(c.spec.variant->name() == "mla");
    CHECK(validate::case_cost(c).kv_cache_bytes_per_token_per_layer == 576 * 2);
  }
}
