// Every number of a profile has a range (hwprofiles/SCHEMA.md, "Ranges" and "Counts"): each
// field just outside either end is refused, naming the profile, the key, the value and the range,
// and just inside loads, from a profile file and through --hw-set alike. The ranges below are
// the documented ones, written out so that a change to hwprofiles/ranges.hpp shows here.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "hwprofiles/catalog.hpp"
#include "hwprofiles/profile_loader.hpp"
#include "hwprofiles/ranges.hpp"
#include "tests/support/cli_runner.hpp"
#include "tests/support/profile_helpers.hpp"
#include "tests/support/temp_dir.hpp"

// Named, not anonymous: the tests are unity-built, and helpers of one file must not meet another's.
namespace profile_ranges {

struct Field {
  std::string path;  // dotted, as --hw-set names it
  hw::Range range;
  // Fields that a cross-field rule ties to this one, set with it: to the same value (a class
  // peak may not exceed its dense peak, per-block shared memory not the per-SM one) ...
  std::vector<std::string> same = {};
  // ... or to the top of this field's range (this field is the one bounded by the other) ...
  std::vector<std::string> at_top = {};
  // ... or to the lowest value inside this field's range (the boost clock may not be under the
  // tensor clock).
  std::vector<std::string> at_bottom = {};
};

constexpr hw::Range kPeak{1e-4, false, 1e7};
constexpr hw::Range kFraction{1e-4, false, 1};
constexpr hw::Range kCycles{0, true, 1e8};
constexpr hw::Range kFixedCostUs{0, true, 1e4};
constexpr hw::Range kLatencyNs{0.01, false, 1e5};

const std::vector<Field>& fields() {
  static const std::vector<Field> all = {
      {"compute.sm_count", {1, true, 1024}},
      {"compute.tensor_clock_MHz", {1, false, 1e6}, {"compute.max_clock_MHz"}},
      {"compute.max_clock_MHz", {1, false, 1e6}, {}, {}, {"compute.tensor_clock_MHz"}},
      {"compute.tensor_dense_TFLOPS.bf16",
       kPeak,
       {"compute.tensor_dense_TFLOPS_by_class.mma_sync.bf16",
        "compute.tensor_dense_TFLOPS_by_class.wgmma.bf16"}},
      {"compute.tensor_dense_TFLOPS.fp4", kPeak},  // a precision the profile lacks
      {"compute.tensor_dense_TFLOPS_by_class.wgmma.fp8",
       kPeak,
       {},
       {"compute.tensor_dense_TFLOPS.fp8"}},
      {"compute.vector_fp32_TFLOPS", kPeak},
      {"compute.exp_ops_per_clk_per_sm", {1e-4, false, 1e5}},
      {"compute.latency_ns.global", kLatencyNs},
      {"compute.latency_ns.l2", kLatencyNs},
      {"compute.latency_ns.shared", kLatencyNs},
      {"compute.latency_ns.shuffle", kLatencyNs},
      {"compute.latency_ns.exp", kLatencyNs},
      {"compute.latency_ns.mma", kLatencyNs},
      {"memory.hbm_capacity_GB", {1e-3, false, 1e6}},
      {"memory.hbm_bandwidth_GBps", {0.1, false, 1e6}},
      {"memory.l2_MiB", {0.01, false, 1e5}},
      {"memory.smem_per_sm_KiB", {1, false, 1e6}, {"memory.smem_per_block_KiB"}},
      {"memory.smem_per_block_KiB", {1, false, 1e6}, {}, {"memory.smem_per_sm_KiB"}},
      {"memory.registers_per_sm", {1, true, 1048576}},
      {"memory.max_threads_per_sm", {1, true, 65536}},
      {"memory.max_ctas_per_sm", {1, true, 256}},
      {"memory.cache_read_GBps_per_sm", {0.1, false, 1e5}},
      {"calibration.tensor_fraction", kFraction},
      {"calibration.hbm_fraction", kFraction},
      {"calibration.vector_fraction", kFraction},
      {"calibration.exp_fraction", kFraction},
      {"calibration.l2_reuse_fraction", kFraction},
      {"calibration.sm_bandwidth_fraction", kFraction},
      {"calibration.kernel_launch_us", kFixedCostUs},
      {"calibration.caller_floor_us.direct", kFixedCostUs},
      {"calibration.caller_floor_us.pytorch", kFixedCostUs},
      {"calibration.caller_floor_us.torch_npu", kFixedCostUs},
      {"calibration.caller_floor_us.triton", kFixedCostUs},
      {"calibration.caller_floor_us.triton_jit", kFixedCostUs},
      {"calibration.schedules.fa3.mma_fraction", kFraction},
      {"calibration.schedules.fa3.softmax_overlap", {0, true, 1}},
      {"calibration.schedules.fa3.tile_overhead_cycles", kCycles},
      {"calibration.schedules.fa3.cta_overhead_cycles", kCycles},
      {"calibration.schedules.fa3.chain_cycles", kCycles},
      {"links.scale_up.devices_per_node", {1, true, 4096}},
      {"links.scale_up.bandwidth_GBps_per_dir", {0.1, false, 1e5}},
      {"links.scale_up.latency_us", {0, true, 1e4}},
      {"links.scale_out.bandwidth_Gbps_per_dir", {0.1, false, 1e5}},
      {"links.scale_out.latency_us", {0, true, 1e4}},
  };
  return all;
}

// Values just past each end of `r`, and just inside.
std::vector<double> outside(const hw::Range& r) {
  const double below = r.low_included ? (r.low == 0 ? -1e-9 : r.low * (1 - 1e-9)) : r.low;
  return {below, r.high * (1 + 1e-9)};
}
std::vector<double> inside(const hw::Range& r) {
  return {r.low_included ? r.low : r.low * (1 + 1e-9), r.high};
}

std::vector<std::string> split_path(const std::string& dotted) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  for (std::size_t dot = dotted.find('.'); dot != std::string::npos;
       dot = dotted.find('.', start)) {
    parts.push_back(dotted.substr(start, dot - start));
    start = dot + 1;
  }
  parts.push_back(dotted.substr(start));
  return parts;
}

std::string pointer(const std::string& dotted) {
  std::string out;
  for (const std::string& part : split_path(dotted)) out += "/" + part;
  return out;
}

// The field and the fields tied to it, as `key=value` assignments.
std::vector<std::string> assignments(const Field& f, double value) {
  std::vector<std::string> out = {fmt::format("{}={}", f.path, value)};
  for (const std::string& key : f.same) out.push_back(fmt::format("{}={}", key, value));
  for (const std::string& key : f.at_top) out.push_back(fmt::format("{}={}", key, f.range.high));
  for (const std::string& key : f.at_bottom) {
    out.push_back(fmt::format("{}={}", key, inside(f.range).front()));
  }
  return out;
}

nlohmann::json with_assignments(nlohmann::json doc, const std::vector<std::string>& sets) {
  for (const std::string& set : sets) {
    const auto eq = set.find('=');
    nlohmann::json* node = &doc;
    for (const std::string& part : split_path(set.substr(0, eq))) node = &(*node)[part];
    *node = nlohmann::json::parse(set.substr(eq + 1));
  }
  return doc;
}

// Loads the profile file `doc` (id my-gpu) from a fresh directory: "" or the loader's error.
std::string file_error(const nlohmann::json& doc) {
  const test_support::TempDir dir;
  test_support::write_file(dir.path() / "my-gpu.json", doc.dump(1));
  try {
    hw::load_profile_file(dir.path() / "my-gpu.json");
  } catch (const hw::ProfileError& e) {
    return e.what();
  }
  return "";
}

std::string override_error(const hw::Profile& base, const std::vector<std::string>& sets) {
  try {
    hw::with_overrides(base, sets);
  } catch (const hw::ProfileError& e) {
    return e.what();
  }
  return "";
}

}  // namespace profile_ranges

TEST_CASE(
    "each profile number just outside its range is refused naming the profile, key, value and "
    "range, and just inside loads (file and --hw-set)",
    "[hw][ranges]") {
  nlohmann::json copied = test_support::profile_doc("h100-sxm5-80gb");
  copied["id"] = "my-gpu";
  copied["aliases"] = nlohmann::json::array();
  REQUIRE(profile_ranges::file_error(copied).empty());
  const hw::Profile base = hw::parse_profile(test_support::profile_doc("h100-sxm5-80gb"), "h100");
  for (const profile_ranges::Field& f : profile_ranges::fields()) {
    const std::string range = hw::to_string(f.range);
    for (double value : profile_ranges::outside(f.range)) {
      INFO(f.path << " = " << value);
      const std::vector<std::string> sets = profile_ranges::assignments(f, value);
      // The profile, the key, the value and the range.
      const std::string found = fmt::format("found {}", value);
      CHECK_THAT(profile_ranges::file_error(profile_ranges::with_assignments(copied, sets)),
                 Catch::Contains("my-gpu.json: " + profile_ranges::pointer(f.path) + ": ") &&
                     Catch::Contains(found) && Catch::Contains(range));
      CHECK_THAT(profile_ranges::override_error(base, sets),
                 Catch::Contains(
                     "h100-sxm5-80gb with --hw-set: " + profile_ranges::pointer(f.path) + ": ") &&
                     Catch::Contains(found) && Catch::Contains(range));
    }
    for (double value : profile_ranges::inside(f.range)) {
      INFO(f.path << " = " << value);
      const std::vector<std::string> sets = profile_ranges::assignments(f, value);
      CHECK(profile_ranges::file_error(profile_ranges::with_assignments(copied, sets)).empty());
      CHECK(profile_ranges::override_error(base, sets).empty());
    }
  }
}

TEST_CASE("the old interconnect object's bandwidth has the scale-up range", "[hw][ranges]") {
  nlohmann::json doc = test_support::profile_doc("h100-sxm5-80gb");
  doc.erase("links");
  for (double bad : {0.1, 1e5 * (1 + 1e-9)}) {
    doc["interconnect"] = {{"name", "NVLink"}, {"bandwidth_GBps_per_dir", bad}};
    CHECK_THAT(test_support::profile_parse_error(doc),
               Catch::Contains("/interconnect/bandwidth_GBps_per_dir") &&
                   Catch::Contains("(0.1, 100000]"));
  }
  doc["interconnect"] = {{"name", "NVLink"}, {"bandwidth_GBps_per_dir", 1e5}};
  CHECK(test_support::profile_parse_error(doc).empty());
}
