// Shared builders for the model tests: the registry, workloads, costs and op lookup.
#pragma once

#include <cstdint>
#include <cstring>

#include <catch2/catch.hpp>

#include "models/registry.hpp"

namespace test_support {

inline const models::Registry& registry() {
  static const models::Registry r;
  return r;
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

// The first op whose name is `name`; fails the test when there is none.
inline const models::Op& op_named(const models::CostModel& c, const char* name) {
  for (const models::Op& op : c.ops) {
    if (std::strcmp(op.name, name) == 0) return op;
  }
  FAIL("no op named " << name);
  return c.ops[0];
}

}  // namespace test_support
