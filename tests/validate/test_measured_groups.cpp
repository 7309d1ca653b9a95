// Per-(device, kernel) error of the tile engine on every published timing in
// validate/data/measured (issue #9, item 6): the groups with at least 8 rows that meet the issue's
// targets today (MAPE <= 8 % on the fitted rows, <= 12 % on the held-back rows: kv_len 1024 and
// 8192) are pinned there; the groups that miss are listed by name, so a new file that adds a group
// or moves one across the line fails here until someone decides which list it belongs to.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "hwprofiles/catalog.hpp"
#include "tests/support/validate_helpers.hpp"
#include "validate/compare.hpp"
#include "validate/measurements.hpp"

using test_support::kHoldout;
using test_support::measured_csv_path;

namespace {

// Every timing file (ceilings.csv holds ceilings, not kernel timings).
const char* const kFiles[] = {"fa2_a100_fwd_bwd.csv",      "fa3_h100_fwd.csv",
                              "flash_decoding_a100.csv",   "ascend_910b_torch_npu.csv",
                              "gb200_cudnn_fa2.csv",       "fa3_h100_bwd_independent.csv",
                              "b200_fa2_fa4.csv",          "nsa_repo_flash_gqa.csv",
                              "gla_h200_chunk.csv",        "ascend_910b_pto_dsl.csv",
                              "flashmla_h20_decode.csv",   "b200_fa4_cudnn_fwd.csv",
                              "lightning_gb200_fla.csv",   "nsa_triton_selected.csv",
                              "nsa_triton_compressed.csv", "ascend_910b_pto_isa_jit.csv",
                              "gb300_fa4_cudnn_fwd.csv",   "hopper_cudnn_fa.csv",
                              "lightning_gb300_fla.csv",   "fa3_h20_paged_decode.csv",
                              "flashinfer_h20_decode.csv", "flashinfer_tc_decode.csv",
                              "natten_profiler.csv"};

struct AllRows {
  std::vector<validate::MeasurementSet> sets;
  std::vector<validate::CaseResult> rows;
  std::vector<validate::GroupSummary> groups;
};

const AllRows& all_rows() {
  static const AllRows all = [] {
    static const models::Registry registry;
    const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
    AllRows a;
    for (const char* file : kFiles) {
      a.sets.push_back(validate::read_measurements(measured_csv_path(file), registry));
    }
    for (const validate::MeasurementSet& set : a.sets) {
      for (const validate::MeasuredCase& c : set.cases) {
        validate::CaseResult r = validate::evaluate_case(c, catalog.resolve(c.hw));
        r.held_out = validate::is_held_out(c, kHoldout);
        a.rows.push_back(r);
      }
    }
    a.groups = validate::group_summaries(a.rows);
    return a;
  }();
  return all;
}

const validate::GroupSummary* find_group(const std::string& hw, const std::string& kernel) {
  const auto& groups = all_rows().groups;
  auto it = std::find_if(groups.begin(), groups.end(), [&](const validate::GroupSummary& g) {
    return g.hw == hw && g.kernel == kernel;
  });
  return it == groups.end() ? nullptr : &*it;
}

struct Pinned {
  const char* hw;
  const char* kernel;
  std::size_t rows;
};

// Groups of >= 8 rows within the targets with the built-in calibration.
const Pinned kMeetTargets[] = {{"h100-sxm5-80gb", "fa2", 61},
                               {"h100-sxm5-80gb", "fa3", 51},
                               {"a100-sxm4-80gb", "flash-decoding", 10},
                               {"gb200", "fa2", 18},
                               {"a100-sxm4-80gb", "fa2", 38},
                               {"b200", "fa2", 20},
                               {"gb200", "cudnn", 72},
                               // FlashAttention v2.0.9 decode: fa2 without GQA packing.
                               {"a100-sxm4-80gb", "fa2-decode", 10},
                               // GLA chunk kernels: one parameter each (the in-order step's
                               // latency) fitted on rows of one shape at four lengths.
                               {"h200-sxm-141gb", "fla", 8},
                               {"h200-sxm-141gb", "tileops-gla", 8},
                               // FlashMLA decode, q_len 1-8: one parameter (mma_fraction) fitted
                               // on the 4096-token rows; the 64-head 8192-token rows held back.
                               {"h20", "flashmla", 18},
                               // FA4 forward on B200, fitted on B200's own rows; cuDNN forward on
                               // B200 with GB200's entry (none of its rows fitted), three of its
                               // rows NATTEN's 0.4-135 ms runs (the long two 21-23 % slower).
                               {"b200", "fa4", 22},
                               {"b200", "cudnn", 14},
                               // NSA's selected-branch Triton kernels (nsa_triton), forward
                               // and backward: a grid fit of each entry per device on 12 rows
                               // per pass, 2 per pass held back.
                               {"a100-sxm4-80gb", "nsa-selected", 28},
                               {"h100-sxm5-80gb", "nsa-selected", 28},
                               // NSA's compressed-branch Triton kernels (nsa_triton_compressed),
                               // forward and backward: the same kind of fit on 6 rows per pass,
                               // 1 per pass held back.
                               {"a100-sxm4-80gb", "nsa-compressed", 14},
                               {"h100-sxm5-80gb", "nsa-compressed", 14},
                               // FLA Lightning (simple_gla) on GB200, prefill and decode: the
                               // state kernel's step fitted on the 4k and 16k prefill rows, the
                               // Triton launch's host cost (caller_floor_us.triton_jit) on the
                               // decode rows; the 1k prefill rows held back.
                               {"gb200", "fla", 13},
                               // torch_npu's prefill kernel on a 910B2 (one head, 128-3072 rows,
                               // 1k-32k keys): the ascend entry and the host floor fitted on the
                               // rows of two harnesses (an aarch64 host's back-to-back calls and
                               // pto-dsl's L2-flushing do_bench).
                               {"ascend-910b2", "torch_npu", 23},
                               // The PTO-ISA manual kernel, JIT-built by pto-isa's demo: the
                               // pto_isa_fa entry fitted on its rows at 2k and 4k keys.
                               {"ascend-910b2", "pto-isa", 20},
                               // FA4 (hd 64 and 128) and cuDNN (hd 64, one hd-128 row) forward
                               // on GB300 (Blackwell Ultra): each entry fitted on its own rows
                               // with the fixed costs kept (validate --keep-fixed-costs).
                               {"gb300", "fa4", 18},
                               {"gb300", "cudnn", 11},
                               // FLA Lightning on GB300: GB200's fla_chunk entry, the Triton
                               // launch's host cost refit on GB300's fitted decode rows.
                               {"gb300", "fla", 13},
                               // FA3's paged decode (flash_attn_with_kvcache, page 16) on an H20:
                               // the fa3 entry's (from 4 prefill rows); only the H20's host
                               // costs fitted, on the head_dim-128 rows (pinned below).
                               {"h20", "fa3-kvcache", 66},
                               // FlashInfer's CUDA-core decode on the same H20 and loop: its
                               // kernel entry as shipped (zeros), only the H20's host costs
                               // fitted, on the head_dim-128 rows (pinned below).
                               {"h20", "flashinfer-decode", 66}};

// Groups of >= 8 rows that miss a target today (their numbers are in the validate report under
// validate/results/ and in the README): named, not pinned to a looser bound.
// (GB200's FLA rows, 17.6 % held back until 2026-11-29, met them once the decode rows fitted the
// host cost of a Triton launch, caller_floor_us.triton_jit.)
const std::vector<Pinned> kMissTargets = {
    // (FlashInfer's H20 decode, 14.5 % until 2026-12-03 under the H20's pytorch floor of 25 us,
    // fitted on FA3's heavier wrapper, met them once its rows named the flashinfer caller.)
};

}  // namespace

TEST_CASE("the group tables read every timing file of validate/data/measured",
          "[validate][groups]") {
  std::vector<std::string> on_disk;
  for (const auto& entry : std::filesystem::directory_iterator(measured_csv_path(""))) {
    const std::string name = entry.path().filename().string();
    if (entry.path().extension() == ".csv" && name != "ceilings.csv") on_disk.push_back(name);
  }
  std::vector<std::string> listed(std::begin(kFiles), std::end(kFiles));
  std::sort(on_disk.begin(), on_disk.end());
  std::sort(listed.begin(), listed.end());
  CHECK(listed == on_disk);
}

TEST_CASE(
    "NATTEN's Hopper and Blackwell FNA rows (7 a device, under the 8-row bar) stay within what "
    "natten gives with its inherited entries and fitted mask cost",
    "[validate][groups][measured]") {
  // Whole calls (the token permutation's copies included on the 2-D and 3-D maps): 4.5 % on H100
  // (worst -7.8 %), 4.4 % on B200 (worst -11.7 %), as of 2026-12-03. The device's FlashAttention
  // schedule, which auto picked before, gave 21.7 % and 20.3 % on the kernel times alone.
  const struct {
    const char* hw;
    const char* kernel;
    double mape, worst;
  } kFna[] = {{"h100-sxm5-80gb", "hopper-fna", 0.05, 0.08}, {"b200", "blackwell-fna", 0.05, 0.12}};
  for (const auto& c : kFna) {
    const validate::GroupSummary* g = find_group(c.hw, c.kernel);
    INFO(c.hw);
    REQUIRE(g != nullptr);
    CHECK(g->schedule == "natten");
    CHECK(g->all.cases == 7);
    CHECK(g->all.mape <= c.mape);
    CHECK(g->all.max_abs <= c.worst);
  }
}

TEST_CASE("group summaries split each (device, kernel) into fitted and held-back rows",
          "[validate][groups]") {
  const AllRows& all = all_rows();
  std::size_t rows = 0;
  for (const validate::GroupSummary& g : all.groups) {
    CHECK(g.fitted.cases + g.held.cases == g.all.cases);
    REQUIRE(g.worst != nullptr);
    CHECK(g.worst->measured->hw == g.hw);
    CHECK(std::fabs(g.worst->tile_error()) == Approx(g.all.max_abs));
    rows += g.all.cases;
  }
  CHECK(rows == all.rows.size());  // every row is in exactly one group
  for (const validate::MeasurementSet& set : all.sets) CHECK(set.skipped.empty());
}

TEST_CASE("every (device, kernel) group with 8 rows or more meets 8% fitted and 12% held-back",
          "[validate][groups][measured]") {
  for (const Pinned& p : kMeetTargets) {
    const validate::GroupSummary* g = find_group(p.hw, p.kernel);
    INFO(p.hw << " " << p.kernel);
    REQUIRE(g != nullptr);
    CHECK(g->all.cases == p.rows);
    CHECK(g->fitted.mape <= 0.08);
    CHECK(g->held.mape <= 0.12);
  }
}

TEST_CASE("groups of 8 rows or more are either pinned to the targets or named as missing them",
          "[validate][groups][measured]") {
  for (const Pinned& p : kMissTargets) {
    const validate::GroupSummary* g = find_group(p.hw, p.kernel);
    INFO(p.hw << " " << p.kernel);
    REQUIRE(g != nullptr);
    CHECK(g->all.cases == p.rows);
    // A group that now meets the targets moves to kMeetTargets.
    CHECK((g->fitted.mape > 0.08 || g->held.mape > 0.12));
  }
  auto listed = [](const validate::GroupSummary& g) {
    auto same = [&](const Pinned& p) { return g.hw == p.hw && g.kernel == p.kernel; };
    return std::any_of(std::begin(kMeetTargets), std::end(kMeetTargets), same) ||
           std::any_of(kMissTargets.begin(), kMissTargets.end(), same);
  };
  for (const validate::GroupSummary& g : all_rows().groups) {
    INFO(g.hw << " " << g.kernel << ": " << g.all.cases << " rows");
    if (g.all.cases >= 8) CHECK(listed(g));
  }
}

TEST_CASE(
    "the chain of NSA's compressed branch with its scores and top-k (7 rows a device) stays "
    "within what its fitted score-kernel entry gives",
    "[validate][groups][measured]") {
  // Fitted on 6 rows per device (nsa_triton_scores), the 8192-token row held back: 10.1 % / 13.7 %
  // on A100, 12.1 % / 19.2 % on H100 (24.6 % / 29.5 % and 21.6 % / 28.2 % with the compressed
  // attention's entry). Below the 8-row bar, so pinned to what the fit gives.
  const struct {
    const char* hw;
    double fitted, held;
  } kChain[] = {{"a100-sxm4-80gb", 0.11, 0.14}, {"h100-sxm5-80gb", 0.13, 0.20}};
  for (const auto& c : kChain) {
    const validate::GroupSummary* g = find_group(c.hw, "nsa-compressed-topk");
    INFO(c.hw);
    REQUIRE(g != nullptr);
    CHECK(g->all.cases == 7);
    CHECK(g->fitted.mape <= c.fitted);
    CHECK(g->held.mape <= c.held);
  }
}

TEST_CASE("no published timing appears twice across the measured files", "[validate][measured]") {
  // A row repeated in two files (one source quoted by both) would count twice in its group: the
  // same case with the same time, or the same case from the same source (its first word, the
  // URL) recorded twice, whatever precision or unit each copy kept.
  std::map<std::string, std::string> by_time, by_source;
  for (const validate::MeasurementSet& set : all_rows().sets) {
    for (const validate::MeasuredCase& c : set.cases) {
      const models::Workload& w = c.workload;
      const models::HeadConfig& h = c.spec.heads;
      // The variant with all its parameters (NSA rows differ only in top_k) and the timed op.
      const std::string shape = fmt::format(
          "{} {} {} {}({}) {} {} b{} h{}/{} d{}/{} q{} k{} c{}", c.hw, c.kernel, c.pass,
          c.spec.variant->name(), fmt::join(c.spec.values, ","), c.op, models::to_string(w.dtype),
          w.batch, h.heads, h.kv_heads, h.head_dim, h.v_head_dim, w.q_len, w.kv_len, w.causal);
      const std::string where = fmt::format("{}:{}", c.file, c.line);
      const std::string url = c.source.substr(0, c.source.find(' '));
      INFO(shape << " at " << where);
      CHECK(by_time.emplace(fmt::format("{} {:.4g}", shape, c.measured_s), where).second);
      CHECK(by_source.emplace(shape + " " + url, where).second);
    }
  }
}

TEST_CASE(
    "the H20's host costs, fitted on the head_dim-128 decode rows of FA3 and FlashInfer, carry "
    "to their head_dim-256 rows, which the fit did not see",
    "[validate][groups][measured]") {
  // caller_floor_us pytorch 24, flashinfer 18, extra_launch 3.5 (hwprofiles/h20.json), as of
  // 2026-12-03: FA3 5.9 % and FlashInfer 5.8 % on the 33 head_dim-128 rows each, which they were
  // fitted on; 7.1 % and 7.8 % on the 33 head_dim-256 rows each (8.2 % and 8.3 % with the
  // floors as they were before: pytorch 25 and flashinfer 19 without extra_launch). With the
  // decode kernel's registers in its occupancy, its loop priced from its SASS (issue-bound at a
  // group of 8, kSustainedIssue fitted on the head_dim-128 rows) and a partial last wave's CTAs
  // waiting a memory latency an iteration, FlashInfer 5.4 % and 4.8 % (its MHA rows at head_dim
  // 256 and one wave of CTAs were 14-17 % fast without that wait).
  const struct {
    const char* kernel;
    double narrow, wide;
  } kCeilings[] = {{"fa3-kvcache", 0.06, 0.075}, {"flashinfer-decode", 0.06, 0.055}};
  for (const auto& k : kCeilings) {
    double sum[2] = {0, 0};
    int rows[2] = {0, 0};
    for (const validate::CaseResult& r : all_rows().rows) {
      if (r.measured->hw != "h20" || r.measured->kernel != k.kernel) continue;
      const int wide = r.measured->row_head_dim == 256 ? 1 : 0;
      sum[wide] += std::abs(r.tile_error());
      ++rows[wide];
    }
    INFO(k.kernel);
    REQUIRE(rows[0] == 33);
    REQUIRE(rows[1] == 33);
    CHECK(sum[0] / rows[0] <= k.narrow);
    CHECK(sum[1] / rows[1] <= k.wide);
  }
}
