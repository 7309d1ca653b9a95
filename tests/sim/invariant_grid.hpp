// Helpers of the invariant grid (tests/sim/test_invariant_grid.cpp): one grid point, the
// collection of violations by kind, the per-point checks and the KV-cache laws.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hwprofiles/profile.hpp"
#include "models/variant.hpp"
#include "models/workload.hpp"
#include "sim/engine.hpp"

namespace grid {

struct Point {
  std::string_view variant;
  models::Phase phase;
  std::string_view profile;
  sim::EngineKind engine;
  std::int64_t batch, q_len, kv_len;
  models::DType dtype;
};

// "batch=4 q_len=1 kv_len=4096 dtype=bf16"
std::string describe_shape(const Point& p);
// "variant=nsa phase=decode profile=h100-sxm5-80gb engine=tile batch=... "
std::string describe(const Point& p);

// Violations counted by kind, with the first few of each kind kept for the report; skips counted
// by reason.
class Violations {
 public:
  explicit Violations(bool verbose) : verbose_(verbose) {}
  void add(const std::string& kind, const Point& p, const std::string& detail);
  void add(const std::string& kind, const std::string& where, const std::string& detail);
  void skip(const std::string& reason) { ++skips_[reason]; }
  // One Catch2 CHECK per kind (with its count and first examples), and the skips as a WARN.
  void report() const;

 private:
  struct Kind {
    std::size_t count = 0;
    std::vector<std::string> examples;
  };
  bool verbose_;
  std::map<std::string, Kind> kinds_;
  std::map<std::string, std::size_t> skips_;
};

// Prices `p` with its engine and checks the per-point rules. Returns the predicted time, or
// nothing when the point was skipped for a principled reason or failed. `sm_seconds`, when given,
// receives the machine time the launches hold: each launch's time times the SMs its grid keeps
// busy (the whole device where the engine has no grid).
std::optional<double> evaluate(const models::AttentionSpec& spec, const Point& p,
                               const hw::Profile& profile, Violations& out,
                               double* sm_seconds = nullptr);

// KV cache linear in batch; in context nondecreasing, not superlinear, and following the
// variant's law; state constant in context.
void check_cache_laws(const models::AttentionSpec& spec, models::Phase phase, Violations& out);

}  // namespace grid
