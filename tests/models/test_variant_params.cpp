// The parameter tables of every variant (models/variant.hpp): each default is written once and
// `variants show` prints the value the cost functions use; every parameter a variant lists changes
// its cost somewhere; each is accepted at both ends of its shown range unless it shows a narrower
// rule; a parameter given twice or unknown is an error.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::registry;
using test_support::workload;

using models::Phase;

namespace {

// Everything a cost model says that a report or a schedule reads.
std::vector<double> fingerprint(const models::CostModel& c) {
  std::vector<double> f = {static_cast<double>(c.ops.size()), c.kv_cache_bytes, c.state_bytes,
                           c.parameters_per_layer, c.kv_cache_bytes_per_token_per_layer};
  for (const models::Op& op : c.ops) {
    const models::AttentionShape& a = op.attention;
    for (double x : {op.flops.tensor,
                     op.flops.vector,
                     op.flops.exp,
                     op.bytes.total(),
                     op.link_bytes,
                     static_cast<double>(a.heads_q),
                     static_cast<double>(a.heads_kv),
                     static_cast<double>(a.q_len),
                     static_cast<double>(a.kv_len),
                     static_cast<double>(a.head_dim),
                     static_cast<double>(a.v_head_dim),
                     static_cast<double>(a.window),
                     static_cast<double>(a.sinks),
                     static_cast<double>(a.visits.blocks),
                     static_cast<double>(a.visits.block_keys),
                     static_cast<double>(a.visits.row_group),
                     op.scan.chunk,
                     op.gemm.m,
                     op.gemm.n,
                     op.gemm.k}) {
      f.push_back(x);
    }
    f.push_back(a.grid.dims);
    for (int i = 0; i < 3; ++i) {
      f.insert(f.end(), {a.grid.extent[i], a.grid.window[i], a.grid.stride[i], a.grid.dilation[i],
                         a.grid.causal[i] ? 1.0 : 0.0});
    }
  }
  return f;
}

// Workloads that between them exercise every branch of every variant.
std::vector<models::Workload> probe_workloads() {
  std::vector<models::Workload> out = {
      workload(Phase::prefill, 2, 8192, 8192), workload(Phase::decode, 2, 2, 65536),
      workload(Phase::train, 1, 4096, 4096), workload(Phase::prefill, 1, 4096, 4096, false),
      workload(Phase::train, 1, 4096, 4096, false)};
  return out;
}

// Values to try instead of the default: near it (two up: gna's stride_y from 0 with a stride of
// 1, as 1 is), and the ends of the range.
std::vector<double> alternatives(const models::ParamInfo& p, double current) {
  std::vector<double> out = {current * 2,
                             current + 1,
                             current + 2,
                             std::floor(current / 2),
                             current - 1,
                             p.min,
                             std::min(p.max, 1024.0)};
  if (p.type == models::ParamType::real) out = {current / 2, current * 2, p.min, p.max};
  return out;
}

// The variant's spec for `given`; weight-side variants exist only with projections.
models::AttentionSpec spec_of(const models::Variant& v, const models::ParamValues& given,
                              bool projections = false) {
  try {
    return v.make_spec(given, {projections, 0});
  } catch (const common::SpecError& e) {
    if (projections || std::string(e.what()).find("--include-projections") == std::string::npos) {
      throw;
    }
    return v.make_spec(given, {true, 0});
  }
}

// Whether changing `p` alone to one of its alternatives, on top of `base`, changes a cost.
// `tried` tells whether any alternative made a valid spec.
bool changes_cost(const models::Variant& v, const models::ParamInfo& p,
                  const models::ParamValues& base, bool& tried) {
  const double current = models::param_value(spec_of(v, base), p.name);
  for (double alt : alternatives(p, current)) {
    if (alt == current || alt < p.min || alt > p.max) continue;
    models::ParamValues changed = base;
    changed.emplace_back(std::string(p.name), alt);
    for (bool proj : {false, true}) {
      models::AttentionSpec a, b;
      try {
        a = spec_of(v, base, proj);
        b = spec_of(v, changed, proj);
      } catch (const common::SpecError&) {
        continue;  // the alternative breaks a relation between parameters
      }
      for (const models::Workload& w : probe_workloads()) {
        try {
          tried = true;
          if (fingerprint(v.cost(a, w)) != fingerprint(v.cost(b, w))) return true;
        } catch (const common::SpecError&) {
          // a phase or mask the variant does not have
        }
      }
    }
  }
  return false;
}

// Each other parameter than `name` at each of its valid non-default alternatives, one at a time.
std::vector<models::ParamValues> single_changes(const models::Variant& v, std::string_view name) {
  std::vector<models::ParamValues> out;
  for (const models::ParamInfo& other : v.params()) {
    if (other.name == name) continue;
    const double current = models::param_value(spec_of(v, {}), other.name);
    for (double alt : alternatives(other, current)) {
      if (alt == current || alt < other.min || alt > other.max) continue;
      try {
        (void)spec_of(v, {{std::string(other.name), alt}});
      } catch (const common::SpecError&) {
        continue;
      }
      const models::ParamValues change = {{std::string(other.name), alt}};
      if (std::find(out.begin(), out.end(), change) == out.end()) out.push_back(change);
    }
  }
  return out;
}

}  // namespace

TEST_CASE("every variant's shown default is the value its cost functions use",
          "[variants][params]") {
  for (const auto& v : registry().variants()) {
    INFO(v->name());
    const models::AttentionSpec spec = spec_of(*v, {});
    const auto params = v->params();
    for (std::size_t i = 0; i < params.size(); ++i) {
      const models::ParamInfo& p = params[i];
      INFO(p.name << " shown as " << models::default_text(p));
      const double used = models::param_value(spec, p.name);
      if (p.default_from.empty()) {
        double expected = p.default_value;
        if (!p.capped_by.empty()) {
          expected = std::min(expected, models::param_value(spec, p.capped_by));
        }
        CHECK(used == expected);
        CHECK(models::default_text(p).rfind(fmt::format("{}", p.default_value), 0) == 0);
      } else {
        CHECK(used == models::param_value(spec, p.default_from));
      }
    }
  }
}

TEST_CASE(
    "every parameter without an allowed rule is accepted at both ends of its shown range, the "
    "others at their defaults: a narrower set of values is shown as its rule",
    "[variants][params]") {
  for (const auto& v : registry().variants()) {
    for (const models::ParamInfo& p : v->params()) {
      if (!p.allowed.empty()) continue;
      for (double bound : {p.min, p.max}) {
        INFO(v->name() << " " << p.name << "=" << bound << " (shown as " << models::allowed_text(p)
                       << ")");
        const models::ParamValues given = {{std::string(p.name), bound}};
        // Some relations are checked when a cost is asked for (linear's gate_dim): the spec must
        // build and at least one phase must price.
        bool priced = false;
        std::string refusal;
        for (const models::Workload& w : probe_workloads()) {
          try {
            (void)v->cost(spec_of(*v, given), w);
            priced = true;
          } catch (const common::SpecError& e) {
            refusal = e.what();  // a phase or mask the variant does not have, or the value
          }
        }
        INFO(refusal);
        CHECK(priced);
      }
    }
  }
}

TEST_CASE("ccgqa shows and uses kv_group 2, cca's kv_group is 1", "[variants][params]") {
  CHECK(models::param_value(registry().find("ccgqa").make_spec({}, {}), "kv_group") == 2);
  CHECK(registry().find("ccgqa").make_spec({}, {}).heads.kv_heads == 8);  // 32 / 2 / 2
  CHECK(models::param_value(registry().find("cca").make_spec({}, {}), "kv_group") == 1);
  CHECK_THROWS_AS(registry().find("cca").make_spec({{"kv_group", 2}}, {}), common::SpecError);
}

TEST_CASE("s2attn has no n_sink: giving one is an error, sinklora's defaults to 4",
          "[variants][params]") {
  CHECK_THROWS_WITH(registry().find("s2attn").make_spec({{"n_sink", 100}}, {}),
                    Catch::Contains("has no parameter 'n_sink'"));
  CHECK(models::param_value(registry().find("sinklora").make_spec({}, {}), "n_sink") == 4);
}

TEST_CASE("a parameter given twice is an error naming it, even with the same value",
          "[variants][params]") {
  const auto& gqa = registry().find("gqa");
  CHECK_THROWS_WITH(gqa.make_spec({{"heads", 32}, {"heads", 64}}, {}),
                    Catch::Contains("'heads' is given twice"));
  CHECK_THROWS_AS(gqa.make_spec({{"kv_heads", 8}, {"kv_heads", 8}}, {}), common::SpecError);
  CHECK_THROWS_WITH(gqa.make_spec({{"window", 8}}, {}),
                    Catch::Contains("no parameter 'window'") && Catch::Contains("kv_heads"));
}

TEST_CASE("integer parameters reject fractions and every parameter its range",
          "[variants][params]") {
  CHECK_THROWS_WITH(registry().find("swa").make_spec({{"window", 10.5}}, {}),
                    Catch::Contains("must be an integer in [1, "));
  CHECK_THROWS_AS(registry().find("moa").make_spec({{"beta", 2}}, {}), common::SpecError);
  CHECK(models::param_value(registry().find("moa").make_spec({{"beta", 0.5}}, {}), "beta") == 0.5);
}

TEST_CASE("every parameter a variant lists changes its cost for some workload",
          "[variants][params]") {
  for (const auto& v : registry().variants()) {
    for (const models::ParamInfo& p : v->params()) {
      INFO(v->name() << " " << p.name);
      bool tried = false;
      bool changed = changes_cost(*v, p, {}, tried);
      // Some parameters act only with another one set (moh's head counts with head_sparse 1),
      // or two (gna's extent_y with a stride and a window narrow enough for the extents it
      // makes): try each other parameter at a non-default value too, then each pair of them.
      const std::vector<models::ParamValues> singles = single_changes(*v, p.name);
      for (const models::ParamValues& base : singles) {
        if (changed) break;
        changed = changes_cost(*v, p, base, tried);
      }
      for (std::size_t i = 0; i < singles.size() && !changed; ++i) {
        for (std::size_t j = i + 1; j < singles.size() && !changed; ++j) {
          if (singles[i][0].first == singles[j][0].first) continue;
          const models::ParamValues base = {singles[i][0], singles[j][0]};
          try {
            (void)spec_of(*v, base);
          } catch (const common::SpecError&) {
            continue;
          }
          changed = changes_cost(*v, p, base, tried);
        }
      }
      // mha's kv_heads (= heads) and mqa's (= 1) admit no other value: nothing to change.
      if (tried) CHECK(changed);
    }
  }
}

TEST_CASE("no variant reaches the op capacity in any phase, with or without projections",
          "[variants][params]") {
  for (const auto& v : registry().variants()) {
    for (bool proj : {false, true}) {
      const models::AttentionSpec spec = spec_of(*v, {}, proj);
      for (Phase phase : {Phase::prefill, Phase::decode, Phase::fwd, Phase::bwd, Phase::train}) {
        if (!v->supports(phase)) continue;
        INFO(v->name() << " " << models::to_string(phase) << " projections " << proj);
        const bool decode = phase == Phase::decode;
        const auto w = workload(phase, 1, decode ? 1 : 4096, 4096, true);
        try {
          CHECK(v->cost(spec, w).ops.size() < decltype(models::CostModel::ops)::capacity());
        } catch (const common::SpecError&) {
          // non-causal variants
          const auto nc = workload(phase, 1, 4096, 4096, false);
          CHECK(v->cost(spec, nc).ops.size() < decltype(models::CostModel::ops)::capacity());
        }
      }
    }
  }
}

TEST_CASE(
    "every parameter that counts a variant's heads says how a head split divides it; only "
    "model widths (model_heads) do not split",
    "[variants][params]") {
  int counted = 0;
  for (const auto& v : registry().variants()) {
    for (const models::ParamInfo& p : v->params()) {
      const std::string_view name = p.name;
      const bool counts_heads =
          name.size() >= 5 && name.substr(name.size() - 5) == "heads" && name != "model_heads";
      if (!counts_heads) continue;
      INFO(v->name() << "." << name);
      CHECK(models::head_split_of(p) != models::HeadSplit::none);
      ++counted;
    }
  }
  CHECK(counted > 40);
  // moh's routed heads count heads without the word.
  const models::Variant& moh = registry().find("moh");
  const models::ParamInfo& top_k = moh.params()[2];
  REQUIRE(top_k.name == "top_k");
  CHECK(models::head_split_of(top_k) == models::HeadSplit::query);
}

TEST_CASE(
    "a parameter name counts tokens in every variant that has it or in none, and the lengths "
    "(windows, sinks, chunks, blocks of tokens) are the ones that do",
    "[variants][params]") {
  std::map<std::string, models::ParamUnit, std::less<>> unit;
  for (const auto& v : registry().variants()) {
    for (const models::ParamInfo& p : v->params()) {
      INFO(v->name() << " " << p.name);
      const auto [it, first] = unit.emplace(std::string(p.name), p.unit);
      CHECK(it->second == p.unit);
    }
  }
  for (const char* name :
       {"window", "n_sink", "alpha", "chunk", "block", "select_block", "compress_block",
        "compress_stride", "keep", "budget", "frame_tokens", "latents", "group", "window_x"}) {
    INFO(name);
    CHECK(unit.at(name) == models::ParamUnit::tokens);
  }
  for (const char* name : {"heads", "kv_heads", "head_dim", "top_k", "beta", "clusters", "slots"}) {
    INFO(name);
    CHECK(unit.at(name) == models::ParamUnit::other);
  }
}
