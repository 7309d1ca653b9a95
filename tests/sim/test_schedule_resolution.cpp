// Schedules and calibrations are resolved once, where a name enters (sim/schedule.hpp): a
// KernelChoice holds the schedule itself, and the engine hands each lowering the profile's entry
// for its pass or a support entry (hwprofiles/SCHEMA.md, "Support calibrations").
#include <catch2/catch.hpp>

#include <cmath>
#include <string>

#include "common/errors.hpp"
#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"
#include "sim/engine.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::catalog;
using test_support::Query;
using test_support::registry;

namespace {

Query query(std::string_view variant, models::Phase phase, std::int64_t len) {
  Query q{registry().find(variant).make_spec({}, {}), {}};
  q.w.phase = phase;
  q.w.batch = 2;
  q.w.q_len = phase == models::Phase::decode ? 1 : len;
  q.w.kv_len = len;
  q.w.causal = true;
  return q;
}

// The first op of `kind` in a cost model.
// The first op the support kernel of `kind` prices: a selection op that no schedule's own
// kernels run (here NSA's at its default d_k 192, d_v 128) is an elementwise op.
const models::Op& first_op(const models::CostModel& cost, models::OpKind kind) {
  for (const models::Op& op : cost.ops) {
    const bool as_elementwise =
        kind == models::OpKind::elementwise && op.kind == models::OpKind::selection;
    if (op.kind == kind || as_elementwise) return op;
  }
  FAIL("no op of that kind");
  return cost.ops[0];
}

}  // namespace

TEST_CASE("every schedule name resolves once to its own table entry, and auto to none",
          "[sim][schedule]") {
  for (const sim::ScheduleInfo& s : sim::schedules()) {
    const sim::KernelChoice k = sim::KernelChoice::parse(s.name);
    CHECK(k.schedule() == &s);
    CHECK_FALSE(k.is_auto());
    CHECK(k.name() == s.name);
  }
  const sim::KernelChoice automatic = sim::KernelChoice::parse("auto");
  CHECK(automatic.is_auto());
  CHECK(automatic.schedule() == nullptr);
  CHECK(automatic.name() == "auto");
  CHECK(sim::KernelChoice().is_auto());
}

TEST_CASE("an unknown kernel name is refused where it is parsed, listing auto and every schedule",
          "[sim][schedule]") {
  std::string known = "known: auto";
  for (const sim::ScheduleInfo& s : sim::schedules()) known += ", " + std::string(s.name);
  CHECK_THROWS_AS(sim::KernelChoice::parse("fa9"), common::SpecError);
  CHECK_THROWS_WITH(sim::KernelChoice::parse("fa9"),
                    Catch::Contains("unknown kernel 'fa9'") && Catch::EndsWith(known));
  // Support entries are not schedules: they price ops other than attention, never by name.
  CHECK_THROWS_AS(sim::KernelChoice::parse("gemm"), common::SpecError);
  CHECK_THROWS_AS(sim::KernelChoice::parse("chunked_scan"), common::SpecError);
}

TEST_CASE("a schedule's calibration handles are its own entry forward and <name>_bwd backward",
          "[sim][schedule]") {
  const hw::Profile& h100 = catalog().resolve("h100");
  const sim::ScheduleInfo& fa3 = sim::find_schedule("fa3");
  CHECK(&sim::forward_calibration(h100, fa3) == &h100.calibration.schedules.at("fa3"));
  CHECK(&sim::backward_calibration(h100, fa3) == &h100.calibration.schedules.at("fa3_bwd"));
  CHECK(sim::backward_calibration_key("cudnn") == "cudnn_bwd");
  const hw::Profile& a100 = catalog().resolve("a100");
  CHECK_THROWS_WITH(sim::forward_calibration(a100, fa3),
                    Catch::Contains("no calibration for kernel 'fa3'") &&
                        Catch::Contains("it has: ") && Catch::Contains("fa2"));
  hw::Profile no_bwd = h100;
  no_bwd.calibration.schedules.erase("fa3_bwd");
  CHECK_THROWS_WITH(sim::backward_calibration(no_bwd, fa3),
                    Catch::Contains("no calibration for kernel 'fa3_bwd'"));
}

TEST_CASE("the support calibrations are the gemm, unfused and chunked_scan entries",
          "[sim][schedule]") {
  const hw::Profile& h100 = catalog().resolve("h100");
  const models::Op op{};
  CHECK(&sim::support_calibration(h100, sim::SupportKernel::gemm, op) ==
        &h100.calibration.schedules.at("gemm"));
  CHECK(&sim::support_calibration(h100, sim::SupportKernel::elementwise, op) ==
        &h100.calibration.schedules.at("unfused"));
  CHECK(&sim::support_calibration(h100, sim::SupportKernel::scan, op) ==
        &h100.calibration.schedules.at("chunked_scan"));
  CHECK(sim::support_schedule_name(sim::SupportKernel::elementwise) == "elementwise");
  CHECK(sim::support_schedule_name(sim::SupportKernel::scan) == "chunked_scan");
  // Every built-in profile that names a default schedule has all three.
  for (const hw::Profile& p : catalog().profiles()) {
    INFO(p.id);
    for (auto k :
         {sim::SupportKernel::gemm, sim::SupportKernel::elementwise, sim::SupportKernel::scan}) {
      CHECK_NOTHROW(sim::support_calibration(p, k, op));
    }
  }
}

TEST_CASE("a profile without a support entry names the entry, the op and the SCHEMA.md section",
          "[sim][schedule]") {
  struct Case {
    const char* entry;
    const char* variant;
    models::OpKind kind;
    const char* what;
  };
  for (const Case& c : {Case{"gemm", "nsa", models::OpKind::gemm, "GEMM"},
                        Case{"unfused", "nsa", models::OpKind::elementwise, "elementwise"},
                        // (LightNet's scans: the linear variant's run as fla_chunk here.)
                        Case{"chunked_scan", "lightnet", models::OpKind::scan, "scan"}}) {
    INFO(c.entry);
    hw::Profile p = catalog().resolve("h100");
    p.calibration.schedules.erase(c.entry);
    const Query q = query(c.variant, models::Phase::prefill, 4096);
    const models::CostModel cost = q.cost();
    const models::Op& op = first_op(cost, c.kind);
    const std::string entry = std::string("calibration.schedules.") + c.entry + " entry";
    std::string quoted = "(here '";
    quoted += op.name;
    quoted += "')";
    // (Catch's combined matchers refer to their parts: built inside the one expression.)
    CHECK_THROWS_WITH(sim::predict_tile(cost, q.w, p, sim::KernelChoice()),
                      Catch::Contains(entry) && Catch::Contains(c.what) &&
                          Catch::Contains(quoted) &&
                          Catch::Contains("hwprofiles/SCHEMA.md, \"Support calibrations\""));
    CHECK_NOTHROW(sim::predict(sim::EngineKind::roofline, cost, q.w, p));
  }
}

TEST_CASE("the engine prices each op with the entry it resolved: support ops with their own",
          "[sim][schedule]") {
  const hw::Profile& h100 = catalog().resolve("h100");
  const Query q = query("nsa", models::Phase::prefill, 8192);
  const sim::Prediction p = sim::predict_tile(q.cost(), q.w, h100, sim::KernelChoice::parse("fa2"));
  bool saw_gemm = false, saw_elementwise = false, saw_fa2 = false;
  for (const sim::LaunchPrediction& l : p.launches) {
    saw_gemm = saw_gemm || l.schedule == "gemm";
    saw_elementwise = saw_elementwise || l.schedule == "elementwise";
    saw_fa2 = saw_fa2 || l.schedule == "fa2";
    CHECK((l.schedule == "gemm" || l.schedule == "elementwise" || l.schedule == "fa2"));
  }
  CHECK((saw_gemm && saw_elementwise && saw_fa2));
}

TEST_CASE("a kernel given by name predicts exactly what its resolved choice predicts",
          "[sim][schedule]") {
  const hw::Profile& h100 = catalog().resolve("h100");
  for (models::Phase phase :
       {models::Phase::prefill, models::Phase::decode, models::Phase::train}) {
    const Query q = query("gqa", phase, 4096);
    for (const char* name : {"auto", "fa2", "fa3", "split_kv", "cudnn"}) {
      INFO(name << " " << models::to_string(phase));
      const double by_name = sim::predict(sim::EngineKind::tile, q.cost(), q.w, h100, name).time_s;
      const double resolved =
          sim::predict(sim::EngineKind::tile, q.cost(), q.w, h100, sim::KernelChoice::parse(name))
              .time_s;
      CHECK(by_name == resolved);
    }
  }
}

TEST_CASE(
    "auto resolves per op: flashmla for absorbed MLA decode, split_kv for decode, else "
    "the profile's default",
    "[sim][schedule]") {
  const hw::Profile& h100 = catalog().resolve("h100");
  const sim::KernelChoice automatic;
  const Query prefill = query("gqa", models::Phase::prefill, 4096);
  const Query decode = query("gqa", models::Phase::decode, 4096);
  const Query mla = query("mla", models::Phase::decode, 4096);
  const auto chosen = [&](const Query& q) {
    const models::CostModel cost = q.cost();
    return std::string(
        sim::choose_schedule(automatic, first_op(cost, models::OpKind::dense_attention), q.w, h100)
            .name);
  };
  CHECK(chosen(prefill) == h100.default_schedule);
  CHECK(chosen(decode) == "split_kv");
  CHECK(chosen(mla) == "flashmla");
  // A named schedule is taken as it is, wherever the device calibrates it.
  const models::CostModel cost = prefill.cost();
  CHECK(&sim::choose_schedule(sim::KernelChoice::parse("fa2"), cost.ops[0], prefill.w, h100) ==
        &sim::find_schedule("fa2"));
}

TEST_CASE(
    "auto falls back from a missing split_kv to the default schedule for decode, and its launches "
    "name it; nothing is behind the default, so a missing <default>_bwd is refused",
    "[sim][schedule]") {
  hw::Profile no_split = catalog().resolve("h100");
  no_split.calibration.schedules.erase("split_kv");
  const sim::KernelChoice automatic;
  const Query decode = query("gqa", models::Phase::decode, 8192);
  const models::CostModel cost = decode.cost();
  CHECK(sim::choose_schedule(automatic, first_op(cost, models::OpKind::dense_attention), decode.w,
                             no_split)
            .name == "fa3");
  const sim::Prediction p = sim::predict_tile(cost, decode.w, no_split, automatic);
  REQUIRE_FALSE(p.launches.empty());
  for (const sim::LaunchPrediction& l : p.launches) CHECK(l.schedule == "fa3");
  // Training needs the default's backward entry: there is no kernel to fall back to.
  hw::Profile no_bwd = catalog().resolve("h100");
  no_bwd.calibration.schedules.erase("fa3_bwd");
  const Query train = query("gqa", models::Phase::train, 4096);
  CHECK_THROWS_WITH(sim::predict_tile(train.cost(), train.w, no_bwd, automatic),
                    Catch::Contains("fa3_bwd"));
}

TEST_CASE("a block-visit description makes a tile of one row group visiting the group's blocks",
          "[sim][schedule]") {
  const hw::Profile& h100 = catalog().resolve("h100");
  Query q = query("gqa", models::Phase::prefill, 4096);
  models::CostModel cost = q.cost();
  models::Op& op = cost.ops[0];
  const sim::ScheduleInfo& fa2 = sim::find_schedule("fa2");
  const auto lower = [&] {
    sim::Launches out;
    fa2.forward({op, q.w, h100, sim::forward_calibration(h100, fa2), fa2.name}, out);
    REQUIRE(out.size() == 1);
    return out[0];
  };
  const sim::Launch band = lower();  // the causal band: 128-row tiles up to the diagonal
  CHECK(band.jobs.max_tiles > 4);
  // Rows in groups of 8 (padded to the MMA's 16 rows), each visiting 4 blocks of 64 keys.
  op.attention.visits = {8, 4, 64};
  const sim::Launch visits = lower();
  const models::AttentionShape& a = op.attention;
  const double query_rows = static_cast<double>(a.batch * a.heads_q * a.q_len);
  CHECK(visits.jobs.count == std::ceil(query_rows / 8));
  CHECK(visits.jobs.min_tiles == 4);
  CHECK(visits.jobs.max_tiles == 4);
  CHECK(visits.jobs.total_tiles == visits.jobs.count * 4);
  const double d = static_cast<double>(a.head_dim + a.v_head_dim);
  CHECK(visits.per_tile.tensor_flops == 2 * 16 * 64 * d);
  // Blocks of 128 keys take two 64-key tiles each.
  op.attention.visits = {8, 4, 128};
  CHECK(lower().jobs.max_tiles == 8);
}
