// Shared builders for the model tests: the registry, workloads, costs and op lookup.
#pragma once

#include <cstdint>
#include <cstring>
#include <string_view>
#include <vector>

#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"

namespace test_support {

inline const models::Registry& registry() {
  static const models::Registry r;
  return r;
}

// The built-in profiles, loaded once.
inline const hw::ProfileCatalog& catalog() {
  static const hw::ProfileCatalog c = hw::ProfileCatalog::load({});
  return c;
}

inline models::Workload workload(models::Phase phase, std::int64_t batch, std::int64_t q,
                                 std::int64_t kv, bool causal = true) {
  models::Workload w;
  w.phase = phase;
  w.batch = batch;
  w.q_len = q;
  w.kv_len = kv;
  w.causal = causal;
  return w;
}

inline models::CostModel cost(const models::AttentionSpec& s, const models::Workload& w) {
  return s.variant->cost(s, w);
}

// A variant with its workload, as the engine tests build them.
struct Query {
  models::AttentionSpec spec;
  models::Workload w;
  models::CostModel cost() const { return spec.variant->cost(spec, w); }
};

inline models::AttentionSpec make(const char* variant, const models::ParamValues& p,
                                  models::ProjectionConfig proj = {}) {
  return registry().find(variant).make_spec(p, proj);
}

// `v` with its default parameters, with or without the projections; the weight-side variants
// (gqsa, masa) exist only with their projections and always get them.
inline models::AttentionSpec default_spec(const models::Variant& v, bool projections) {
  try {
    return v.make_spec({}, {projections, 0});
  } catch (const common::SpecError&) {
    return v.make_spec({}, {true, 0});
  }
}

// Non-causal MHA over `len` tokens (as many keys), bf16, `heads` heads of `d`.
inline Query mha_query(models::Phase phase, std::int64_t batch, std::int64_t len,
                       std::int64_t heads = 16, std::int64_t d = 128) {
  Query q{make("mha", {{"heads", heads}, {"head_dim", d}}), {}};
  q.w.phase = phase;
  q.w.batch = batch;
  q.w.q_len = q.w.kv_len = len;
  q.w.causal = false;
  q.w.dtype = q.w.kv_dtype = models::DType::bf16;
  return q;
}

// GQA with 32 query heads, 8 KV heads and head_dim 128, with or without the projections.
inline models::AttentionSpec gqa_32_8_d128(bool projections = false) {
  return make("gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}}, {projections, 0});
}

// Gated linear attention: the linear variant in 64-token chunks with a gate of `gate_dim`
// channels per key.
inline models::AttentionSpec gla(std::int64_t heads, std::int64_t dk, std::int64_t gate_dim) {
  return make("linear", {{"heads", static_cast<double>(heads)},
                         {"head_dim", static_cast<double>(dk)},
                         {"chunk", 64},
                         {"gate_dim", static_cast<double>(gate_dim)}});
}

// Tensor FLOPs of the (dense-)attention ops alone.
inline double attention_flops(const models::CostModel& c) {
  double f = 0;
  for (const models::Op& op : c.ops) {
    if (op.kind == models::OpKind::dense_attention) f += op.flops.tensor;
  }
  return f;
}

// The ops of `c` named in `names` (nothing else), as a model of their own.
inline models::CostModel only(const models::CostModel& c, const std::vector<const char*>& names) {
  models::CostModel out;
  out.layers = c.layers;
  for (const models::Op& op : c.ops) {
    for (const char* n : names) {
      if (std::strcmp(op.name, n) == 0) out.ops.push_back(op);
    }
  }
  return out;
}

// A resolved parameter of `spec` by name (a test fails when the spec has none).
inline double resolved_param(const models::AttentionSpec& spec, std::string_view name) {
  for (const auto& [key, value] : models::resolved_params(spec)) {
    if (key == name) return value;
  }
  FAIL("no parameter " << name);
  return 0;
}

// The first op whose name is `name`; fails the test when there is none.
inline const models::Op& op_named(const models::CostModel& c, const char* name) {
  for (const models::Op& op : c.ops) {
    if (std::strcmp(op.name, name) == 0) return op;
  }
  FAIL("no op named " << name);
  return c.ops[0];
}

// `p` with `name` = `value` added.
inline models::ParamValues with_param(models::ParamValues p, const char* name, double value) {
  p.emplace_back(name, value);
  return p;
}

// Image-style heads: Hq = Hkv = 16, d = dv = 64 (2 Hq (d + dv) = 4096 FLOPs per pair).
inline models::ParamValues image_heads() {
  return {{"heads", 16}, {"kv_heads", 16}, {"head_dim", 64}};
}

// Checks that two models have the same FLOPs of each unit, K and total bytes, and KV cache.
inline void check_same_cost_and_k_bytes(const models::CostModel& a, const models::CostModel& b) {
  CHECK(a.total_flops().tensor == b.total_flops().tensor);
  CHECK(a.total_flops().exp == b.total_flops().exp);
  CHECK(a.total_flops().vector == b.total_flops().vector);
  CHECK(a.total_bytes().k == b.total_bytes().k);
  CHECK(a.total_bytes().total() == b.total_bytes().total());
  CHECK(a.kv_cache_bytes == b.kv_cache_bytes);
}

}  // namespace test_support
