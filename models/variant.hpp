// The Variant interface: one implementation per attention family, each a set of pure functions.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "models/cost_model.hpp"
#include "models/workload.hpp"

namespace models {

class Variant;

struct HeadConfig {
  std::int64_t heads = 0;       // query heads (Hq)
  std::int64_t kv_heads = 0;    // key/value heads (Hkv)
  std::int64_t head_dim = 0;    // q/k head dim (d)
  std::int64_t v_head_dim = 0;  // value head dim (dv)
};

struct ProjectionConfig {
  bool include = false;          // count the Q/K/V/O projection GEMMs too
  std::int64_t hidden_size = 0;  // model width D; 0 = heads x head_dim
};

// A validated attention configuration. `variant` points into the registry that made it.
struct AttentionSpec {
  const Variant* variant = nullptr;
  HeadConfig heads;
  ProjectionConfig projections;
};

// One parameter a variant accepts, for `variants show` and validation.
struct ParamInfo {
  std::string_view name;
  std::string_view help;
  std::string_view default_text;  // human-readable default, e.g. "128" or "= heads"
  double min = 1;
  double max = 1 << 20;
};

// Parameters the user gave, by ParamInfo name. Absent ones take their defaults.
using ParamValues = std::vector<std::pair<std::string, double>>;

class Variant {
 public:
  virtual ~Variant() = default;
  virtual std::string_view name() const = 0;
  virtual std::string_view family() const = 0;
  virtual std::string_view summary() const = 0;
  virtual std::span<const ParamInfo> params() const = 0;
  // Applies defaults, checks ranges and relations between parameters; throws SpecError.
  virtual AttentionSpec make_spec(const ParamValues& given, const ProjectionConfig& proj) const = 0;
  // Pure: the cost of `workload` under `spec` (made by this variant's make_spec).
  virtual CostModel cost(const AttentionSpec& spec, const Workload& workload) const = 0;
};

// Reads ParamValues against a variant's ParamInfo list: rejects unknown names, non-integers and
// out-of-range values with a SpecError naming the variant, the parameter and the allowed range.
class ParamReader {
 public:
  ParamReader(const Variant& variant, const ParamValues& given);
  // The given value, or `fallback` when the user gave none. Always range-checked.
  std::int64_t integer(std::string_view name, std::int64_t fallback) const;
  bool given(std::string_view name) const;

 private:
  const ParamInfo& info(std::string_view name) const;
  const Variant& variant_;
  const ParamValues& given_;
};

}  // namespace models
