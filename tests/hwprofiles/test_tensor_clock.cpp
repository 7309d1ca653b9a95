// hwprofiles/SCHEMA.md defines compute.tensor_clock_MHz as the clock that reproduces the vendor's
// tensor peak: SMs x the tensor cores' dense FLOP per SM per clock x the clock. Those rates are
// powers of two (A100 2048 bf16 FLOP/clk/SM, H100 4096, B200 and the Ascend cube 8192: [FA3],
// [FA4], docs/hardware.md), so a clock rounded away from the peak shows as a rate off its power of
// two. A part whose peak is capped below what its SMs issue (the H20) cannot meet this; its file
// says so in unofficial."compute.tensor_clock_MHz" (the word "capped"), and only that exempts it.
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "hwprofiles/catalog.hpp"
#include "tests/support/model_helpers.hpp"

TEST_CASE(
    "every profile's tensor clock reproduces its bf16 peak within 0.1 % unless it records a "
    "capped peak",
    "[hw][tensor-clock]") {
  const auto bf16 = static_cast<std::size_t>(hw::Precision::bf16);
  int checked = 0;
  int capped = 0;
  for (const hw::Profile& p : test_support::catalog().profiles()) {
    INFO(p.id);
    const double peak = p.compute.tensor_dense_flops[bf16];
    if (peak <= 0) continue;  // no bf16 path: nothing to reproduce
    const double per_sm_clk = peak / (p.compute.sm_count * p.compute.tensor_clock_hz);
    const double power_of_two = std::exp2(std::round(std::log2(per_sm_clk)));
    const double rebuilt = p.compute.sm_count * power_of_two * p.compute.tensor_clock_hz;
    INFO("peak " << peak / 1e12 << " TF; SMs x " << power_of_two
                 << " FLOP/clk x clock = " << rebuilt / 1e12 << " TF");
    const auto note = p.unofficial.find("compute.tensor_clock_MHz");
    if (note != p.unofficial.end() && note->second.find("capped") != std::string::npos) {
      ++capped;
      continue;
    }
    CHECK(std::abs(rebuilt / peak - 1) <= 1e-3);
    ++checked;
  }
  CHECK(checked >= 15);
  CHECK(capped <= 1);  // the H20; a second capped part should be a deliberate edit here too
}
