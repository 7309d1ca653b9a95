// The timing files as published tables print them: without the `caller` column attnsim's reader
// adds. A row that names no caller is called the way its kernel is reached
// (validate::default_caller), so the repository's files whose callers are the kernels' own ways in
// price the same with the column removed.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "hwprofiles/catalog.hpp"
#include "tests/support/model_helpers.hpp"
#include "tests/support/validate_helpers.hpp"
#include "validate/compare.hpp"
#include "validate/measurements.hpp"

namespace {

// `text` (a CSV) without its column `name`; cells are split on commas outside quotes.
std::string without_column(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  std::string line, out;
  long drop = -1;
  bool header = true;
  while (std::getline(in, line)) {
    std::vector<std::string> cells(1);
    bool quoted = false;
    for (char ch : line) {
      if (ch == '"') quoted = !quoted;
      if (ch == ',' && !quoted) {
        cells.emplace_back();
      } else {
        cells.back() += ch;
      }
    }
    if (header) {
      for (std::size_t i = 0; i < cells.size(); ++i) {
        if (cells[i] == name) drop = static_cast<long>(i);
      }
      header = false;
    }
    REQUIRE(drop >= 0);
    std::string kept;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      if (static_cast<long>(i) == drop) continue;
      kept += (kept.empty() ? "" : ",") + cells[i];
    }
    out += kept + "\n";
  }
  return out;
}

}  // namespace

TEST_CASE(
    "the timing files whose callers are their kernels' own ways in (torch_npu, Triton, the Ascend "
    "kernels' direct launches) price the same without their caller column",
    "[validate][caller]") {
  const hw::ProfileCatalog& catalog = test_support::catalog();
  for (const char* file :
       {"ascend_910b_torch_npu.csv", "ascend_910b_pto_isa_jit.csv", "ascend_910b_pto_dsl.csv",
        "nsa_triton_selected.csv", "nsa_triton_compressed.csv", "lightning_gb200_fla.csv",
        "lightning_gb300_fla.csv"}) {
    INFO(file);
    const std::string path = test_support::measured_csv_path(file);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    const auto given = validate::read_measurements(path, test_support::registry());
    const auto bare = test_support::measurements_of(without_column(text.str(), "caller"));
    REQUIRE(bare.cases.size() == given.cases.size());
    REQUIRE(!given.cases.empty());
    for (std::size_t i = 0; i < given.cases.size(); ++i) {
      const hw::Profile& p = catalog.resolve(given.cases[i].hw);
      CHECK(bare.cases[i].caller == given.cases[i].caller);
      CHECK(validate::evaluate_case(bare.cases[i], p).tile_s ==
            Approx(validate::evaluate_case(given.cases[i], p).tile_s).epsilon(1e-12));
    }
  }
}
