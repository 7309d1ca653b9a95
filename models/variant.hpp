// The Variant interface: one implementation per attention family, each a set of pure functions.
#pragma once

#include <array>
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
  // Variant-specific parameters (window, latent_dim, chunk, ...), validated. Convention: the
  // variant's ParamInfo entries other than heads/kv_heads/head_dim/v_head_dim, in order.
  // Fixed size: specs are copied on sweep hot paths.
  std::array<double, 8> extra{};
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
  // Whether the variant has this phase (non-causal image/video variants have no decode). cost()
  // throws SpecError for the others.
  virtual bool supports(Phase) const { return true; }
  // Pure: the cost of `workload` under `spec` (made by this variant's make_spec).
  virtual CostModel cost(const AttentionSpec& spec, const Workload& workload) const = 0;
};

// The name, family, summary and parameter table of a variant, so each family file writes only
// make_spec and cost.
class VariantBase : public Variant {
 public:
  VariantBase(std::string_view name, std::string_view family, std::string_view summary,
              std::span<const ParamInfo> params)
      : name_(name), family_(family), summary_(summary), params_(params) {}
  std::string_view name() const override { return name_; }
  std::string_view family() const override { return family_; }
  std::string_view summary() const override { return summary_; }
  std::span<const ParamInfo> params() const override { return params_; }

 private:
  std::string_view name_, family_, summary_;
  std::span<const ParamInfo> params_;
};

// Reads ParamValues against a variant's ParamInfo list: rejects unknown names, non-integers and
// out-of-range values with a SpecError naming the variant, the parameter and the allowed range.
class ParamReader {
 public:
  ParamReader(const Variant& variant, const ParamValues& given);
  // The given value, or `fallback` when the user gave none. Always range-checked.
  std::int64_t integer(std::string_view name, std::int64_t fallback) const;
  // The same for a real-valued parameter.
  double number(std::string_view name, double fallback) const;
  bool given(std::string_view name) const;

 private:
  const ParamInfo& info(std::string_view name) const;
  const Variant& variant_;
  const ParamValues& given_;
};

// The head parameters every attention variant shares, in the order variants list them.
inline constexpr ParamInfo kHeadsParam = {"heads", "query heads (Hq)", "32", 1, 65536};
inline constexpr ParamInfo kHeadDimParam = {"head_dim", "query/key head dimension (d)", "128", 1,
                                            4096};
inline constexpr ParamInfo kVHeadDimParam = {"v_head_dim", "value head dimension (dv)",
                                             "= head_dim", 1, 4096};
inline constexpr ParamInfo kKvHeadsParam = {"kv_heads", "key/value heads (Hkv); must divide heads",
                                            "8", 1, 65536};

// Reads heads, kv_heads (default `default_kv_heads`, capped at heads), head_dim and v_head_dim, and
// checks that kv_heads divides heads.
HeadConfig read_heads(const ParamReader& r, std::string_view variant,
                      std::int64_t default_kv_heads = 8);

// A spec of `variant` with the shared head parameters read by read_heads and `proj`; the caller
// fills `extra`.
AttentionSpec heads_spec(const Variant& variant, const ParamReader& r, const ProjectionConfig& proj,
                         std::int64_t default_kv_heads = 8);

// Throws SpecError when `v` has no `phase`, naming the phases it has.
void require_phase(const Variant& v, Phase phase);

// Every parameter of the spec by its ParamInfo name, for reports.
std::vector<std::pair<std::string_view, double>> resolved_params(const AttentionSpec& spec);

}  // namespace models
