// The optional `op` column of a measurement CSV (validate/data/measured/README.md): a row that
// timed one kernel of a multi-kernel variant (NSA's selected branch alone) is compared with that
// op's prediction only.
#include <catch2/catch.hpp>

#include <fstream>
#include <string>

#include "hwprofiles/catalog.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/temp_dir.hpp"
#include "tests/support/validate_helpers.hpp"
#include "validate/compare.hpp"
#include "validate/measurements.hpp"

using test_support::registry;
using test_support::write_file;

namespace {

const char* kOpCsvHeader =
    "hw,kernel,pass,dtype,batch,heads_q,heads_kv,head_dim,v_head_dim,seq_q,seq_kv,causal,variant,"
    "op,time_ms,source\n";

std::string nsa_row(const std::string& pass, const std::string& op) {
  return "a100-sxm4-80gb,nsa-selected," + pass +
         ",bf16,1,64,4,128,128,8192,8192,1,nsa:top_k=16:select_block=64," + op + ",2.0,test\n";
}

}  // namespace

TEST_CASE("an op column keeps only that op of the variant, in the row's passes", "[validate][op]") {
  // The schedule's own name without an op: the whole variant (nsa-selected names the branch).
  std::string whole_nsa_row = nsa_row("fwd", "");
  whole_nsa_row.replace(whole_nsa_row.find("nsa-selected"), 12, "nsa_triton");
  const auto set =
      test_support::measurements_of(kOpCsvHeader + nsa_row("fwd", "selected_attention") +
                                    nsa_row("fwd+bwd", "selected_attention") + whole_nsa_row);
  REQUIRE(set.cases.size() == 3);
  const models::CostModel fwd = validate::case_cost(set.cases[0]);
  REQUIRE(fwd.ops.size() == 1);
  CHECK(std::string(fwd.ops[0].name) == "selected_attention_fwd");
  const models::CostModel train = validate::case_cost(set.cases[1]);
  REQUIRE(train.ops.size() == 2);
  CHECK(std::string(train.ops[1].name) == "selected_attention_bwd");
  // Without the column (and a kernel name that names no branch) the whole variant is timed: its
  // other branches cost more time.
  const models::CostModel whole = validate::case_cost(set.cases[2]);
  CHECK(whole.ops.size() > 5);
  const hw::Profile a100 = test_support::catalog().resolve("a100-sxm4-80gb");
  CHECK(validate::evaluate_case(set.cases[0], a100).tile_s <
        validate::evaluate_case(set.cases[2], a100).tile_s);
}

TEST_CASE("an op the variant lacks is bad input naming the row and the ops it has",
          "[validate][op]") {
  test_support::TempDir dir;
  const auto path = write_file(dir, kOpCsvHeader + nsa_row("fwd", "selected"));
  try {
    validate::read_measurements(path, registry());
    FAIL("no error");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    CHECK_THAT(what, Catch::Contains("m.csv:2") && Catch::Contains("column 'op'") &&
                         Catch::Contains("'selected'") &&
                         Catch::Contains("selected_attention, window_attention"));
  }
}

TEST_CASE("an op column joins several ops with '+', each of which the variant must have",
          "[validate][op]") {
  const auto set = test_support::measurements_of(
      kOpCsvHeader + nsa_row("fwd", "compressed_attention+block_scores+top_k_select"));
  REQUIRE(set.cases.size() == 1);
  std::string names;
  for (const models::Op& op : validate::case_cost(set.cases[0]).ops)
    names += op.name + std::string(" ");
  CHECK(names == "compressed_attention_fwd block_scores top_k_select ");
  try {
    test_support::measurements_of(kOpCsvHeader +
                                  nsa_row("fwd", "compressed_attention+block_score"));
    FAIL("no error");
  } catch (const std::invalid_argument& e) {
    CHECK_THAT(std::string(e.what()),
               Catch::Contains("no op 'block_score'") && Catch::Contains("joined by '+'"));
  }
}

TEST_CASE(
    "the rows of NSA's compressed branch with its block scores and top-k fit the score kernel's "
    "entry, the branch's own rows the compressed kernels'",
    "[validate][op]") {
  const validate::MeasurementSet set = validate::read_measurements(
      std::string(ATTNSIM_SOURCE_DIR) + "/validate/data/measured/nsa_triton_compressed.csv",
      registry());
  int topk = 0, fitted = 0;
  for (const validate::MeasuredCase& c : set.cases) {
    if (c.kernel == "nsa-compressed-topk") {
      ++topk;
      CHECK(c.fit_eligible);
      CHECK(c.fit_entry == "nsa_triton_scores");
    } else {
      CHECK(c.fit_entry.empty());
      fitted += c.fit_eligible ? 1 : 0;
    }
  }
  CHECK(topk == 14);
  CHECK(fitted == 28);  // the compressed branch's own forward and backward rows
}
