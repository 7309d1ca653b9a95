// docs/hardware.md "Profiles at a glance" states each built-in profile's headline figures; the
// profiles are the data the model runs on. The table must list every built-in device profile and
// agree with its file, so that an edit to one is an edit to both.
#include <catch2/catch.hpp>

#include <cmath>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "hwprofiles/catalog.hpp"
#include "tests/support/file_helpers.hpp"
#include "tests/support/model_helpers.hpp"

namespace {

std::vector<std::string> cells(const std::string& line) {
  std::vector<std::string> out;
  std::istringstream in(line);
  std::string cell;
  std::getline(in, cell, '|');  // before the first bar
  while (std::getline(in, cell, '|')) {
    const auto first = cell.find_first_not_of(" `");
    const auto last = cell.find_last_not_of(" `");
    out.push_back(first == std::string::npos ? "" : cell.substr(first, last - first + 1));
  }
  if (!out.empty() && out.back().empty()) out.pop_back();  // after the last bar
  return out;
}

// The table's number: "-" is 0 (no such path), "512 (L1)" is 512.
double number(const std::string& cell) {
  if (cell == "-") return 0;
  return std::stod(cell);
}

// The "Profiles at a glance" rows, by profile id.
std::map<std::string, std::vector<std::string>> glance_rows() {
  const std::string text =
      test_support::read_file(std::string(ATTNSIM_SOURCE_DIR) + "/docs/hardware.md");
  std::istringstream in(text.substr(text.find("## Profiles at a glance")));
  std::map<std::string, std::vector<std::string>> rows;
  bool in_table = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("| id |", 0) == 0) {
      in_table = true;
      continue;
    }
    if (!in_table || line.rfind("|---", 0) == 0) continue;
    if (line.rfind("|", 0) != 0) break;
    const std::vector<std::string> c = cells(line);
    rows[c.at(0)] = c;
  }
  return rows;
}

}  // namespace

TEST_CASE(
    "docs/hardware.md's profile table lists every built-in device profile with its "
    "file's figures",
    "[docs][hwprofiles]") {
  const auto rows = glance_rows();
  REQUIRE_FALSE(rows.empty());
  int checked = 0;
  for (const hw::Profile& p : test_support::catalog().profiles()) {
    INFO(p.id);
    const auto row = rows.find(p.id);
    REQUIRE(row != rows.end());
    const std::vector<std::string>& c = row->second;
    REQUIRE(c.size() == 11);
    const auto bf16 = static_cast<std::size_t>(hw::Precision::bf16);
    const auto fp8 = static_cast<std::size_t>(hw::Precision::fp8);
    CHECK(number(c[1]) == p.compute.sm_count);
    CHECK(number(c[2]) == Approx(p.compute.tensor_clock_hz / 1e6));
    CHECK(number(c[3]) == Approx(p.compute.tensor_dense_flops[bf16] / 1e12));
    CHECK(number(c[4]) == Approx(p.compute.tensor_dense_flops[fp8] / 1e12));
    CHECK(number(c[5]) == Approx(p.compute.vector_fp32_flops / 1e12));
    CHECK(number(c[6]) == Approx(p.memory.hbm_capacity_bytes / 1e9));
    CHECK(number(c[7]) == Approx(p.memory.hbm_bandwidth_Bps / 1e9));
    CHECK(number(c[8]) == Approx(p.memory.l2_bytes / (1024.0 * 1024.0)));
    CHECK(number(c[9]) == Approx(p.memory.smem_per_sm_bytes / 1024.0));
    REQUIRE(p.links);
    CHECK(number(c[10]) == Approx(p.links->scale_up.bandwidth_Bps_per_dir / 1e9));
    ++checked;
  }
  CHECK(checked == static_cast<int>(rows.size()));
}
