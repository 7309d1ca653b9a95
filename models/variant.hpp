// The Variant interface: one implementation per attention family, each a set of pure functions.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <stdexcept>
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

enum class ParamType { integer, real };

// How a head split over devices (--tp, --cp ulysses) divides a parameter: not at all; as query
// heads (each device gets value / ways, and ways must divide it); or as key/value heads (split, or
// one per device, replicated, when there are fewer than ways). Parameters named "heads" and
// "kv_heads" split as query and key/value heads by name (head_split_of); others say so here.
enum class HeadSplit { none, query, key_value };

// What a parameter counts: tokens (a window, a sink, a chunk, a block, a budget of keys) or
// anything else (heads, dimensions, factors, block counts). A plot with the parameter on its x axis
// labels it in tokens (1k, 4k).
enum class ParamUnit { other, tokens };

// One parameter a variant accepts. Its default is written here once: `default_value`, or the value
// of the earlier parameter `default_from` (v_head_dim = head_dim), optionally capped at the value
// of the earlier parameter `capped_by` (kv_heads: 8, at most heads). `allowed` states the values
// accepted where they are fewer than [min, max] (gate_dim: "1 or head_dim"); the variant's
// make_spec enforces it. `variants show` prints this.
struct ParamInfo {
  std::string_view name;
  std::string_view help;
  double default_value = 0;
  double min = 1;
  double max = 1 << 20;
  ParamType type = ParamType::integer;
  std::string_view default_from = {};
  std::string_view capped_by = {};
  std::string_view allowed = {};
  HeadSplit head_split = HeadSplit::none;
  ParamUnit unit = ParamUnit::other;
};

// `p`, counted in tokens (ParamUnit::tokens).
constexpr ParamInfo in_tokens(ParamInfo p) {
  p.unit = ParamUnit::tokens;
  return p;
}

// How a head split divides `p`: "heads" as query heads, "kv_heads" as key/value heads, any other
// parameter as its `head_split` says.
constexpr HeadSplit head_split_of(const ParamInfo& p) {
  if (p.name == "heads") return HeadSplit::query;
  if (p.name == "kv_heads") return HeadSplit::key_value;
  return p.head_split;
}

// The default as `variants show` prints it: "128", "0.25", "= head_dim", "8 (at most heads)".
std::string default_text(const ParamInfo& p);

// The accepted values as `variants show` prints them: "[1, 4096]", or the `allowed` rule.
std::string allowed_text(const ParamInfo& p);

// Throws common::SpecError ("<variant> <name> (<help>) must be an integer in [1, 4096], got 0")
// unless `value` is one `p` takes alone: whole where it is an integer, within its range.
void check_param_value(std::string_view variant, const ParamInfo& p, double value);

// Most parameters any variant has; AttentionSpec keeps them in a fixed array (specs are copied on
// sweep hot paths).
inline constexpr std::size_t kMaxParams = 18;  // gna's

// A typed handle on one parameter of a variant's table, resolved at compile time by int_param /
// real_param: a misspelt name or a wrong type does not compile.
struct IntParam {
  std::size_t index;
};
struct RealParam {
  std::size_t index;
};

// constexpr rather than consteval: clang 14 (the fuzz build's compiler) rejects a consteval call
// on a consteval function's own parameter; it is still evaluated at compile time, only ever being
// called from the consteval functions below.
template <std::size_t N>
constexpr std::size_t param_index(const std::array<ParamInfo, N>& table, std::string_view name) {
  for (std::size_t i = 0; i < N; ++i) {
    if (table[i].name == name) return i;
  }
  throw std::logic_error("no such parameter in this table");  // a compile error in consteval
}
template <std::size_t N>
consteval IntParam int_param(const std::array<ParamInfo, N>& table, std::string_view name) {
  const std::size_t i = param_index(table, name);
  if (table[i].type != ParamType::integer) throw std::logic_error("not an integer parameter");
  return {i};
}
template <std::size_t N>
consteval RealParam real_param(const std::array<ParamInfo, N>& table, std::string_view name) {
  const std::size_t i = param_index(table, name);
  if (table[i].type != ParamType::real) throw std::logic_error("not a real parameter");
  return {i};
}

// A validated attention configuration. `variant` points into the registry that made it.
struct AttentionSpec {
  const Variant* variant = nullptr;
  HeadConfig heads;  // the head shape the cost functions use (derived for some variants)
  ProjectionConfig projections;
  // Every parameter of the variant's table, resolved (given or default), by table index.
  std::array<double, kMaxParams> values{};

  std::int64_t get(IntParam p) const { return static_cast<std::int64_t>(values[p.index]); }
  double get(RealParam p) const { return values[p.index]; }
};

// Parameters the user gave, by ParamInfo name. Absent ones take their defaults.
using ParamValues = std::vector<std::pair<std::string, double>>;

enum class Masking { either, causal_only, non_causal_only };

enum class SequenceSplit {
  // A run of a block of queries against a block of keys is that block of the pattern (dense
  // attention, a mask by position): a ring sums (query chunk x key chunk) blocks.
  blocks,
  // Only a chunk of queries against every key it may see (its causal prefix, or all keys) is its
  // share of the pattern (a window, a fixed number of keys per query, a selection among earlier
  // blocks): each rank runs its chunk(s) once.
  query_chunks,
  // The pattern is cut by the whole sequence (groups, frames, clusters or spans sized by its
  // length), which one rank's chunk does not see: only a head split (ulysses) keeps it whole.
  heads_only,
};

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
  // The masks the variant is defined under. causal_only (a window over the past, a selection among
  // earlier blocks): cost() refuses a non-causal workload, so a layout cannot price one of its
  // blocks as a non-causal block (sim/parallel_layouts.cpp ring). non_causal_only (image, video
  // and multi-view variants): cost() ignores the workload's causal flag, and reports print the
  // workload as non-causal (effective_causal).
  virtual Masking masking() const { return Masking::either; }
  bool causal_only() const { return masking() == Masking::causal_only; }
  // How context parallelism may cut this variant's work in `phase` between ranks that each hold
  // chunks of the sequence (ring, zig-zag, all-gather). By default a causal-only variant splits by
  // query chunks and any other by blocks.
  virtual SequenceSplit sequence_split(Phase phase) const;
  // Pure: the cost of `workload` under `spec` (made by this variant's make_spec).
  virtual CostModel cost(const AttentionSpec& spec, const Workload& workload) const = 0;
};

// The workload's causal flag as `variant` prices it: false for a non-causal-only variant, which
// ignores the flag (the CLI's default is causal).
bool effective_causal(const Variant& variant, const Workload& workload);

// Resolves `given` against a variant's table: every parameter in table order, given or default.
// Throws SpecError for an unknown name, a name given twice, a non-integer for an integer
// parameter, a value outside [min, max], naming the variant, parameter and allowed range.
std::array<double, kMaxParams> resolve_params(const Variant& variant, const ParamValues& given);

// The name, family, summary and parameter table of a variant, and one make_spec for all: it
// resolves the table, fills the head shape from heads / kv_heads / head_dim / v_head_dim where the
// table has them (kv_heads absent: = heads; v_head_dim absent: = head_dim), checks that kv_heads
// divides heads, then lets the family derive and check the rest in finish().
class VariantBase : public Variant {
 public:
  VariantBase(std::string_view name, std::string_view family, std::string_view summary,
              std::span<const ParamInfo> params)
      : name_(name), family_(family), summary_(summary), params_(params) {}
  std::string_view name() const override { return name_; }
  std::string_view family() const override { return family_; }
  std::string_view summary() const override { return summary_; }
  std::span<const ParamInfo> params() const override { return params_; }
  AttentionSpec make_spec(const ParamValues& given, const ProjectionConfig& proj) const final;

 protected:
  // Derives what the table does not give directly (head shapes of compressed variants, model
  // widths) and checks relations between parameters; throws SpecError.
  virtual void finish(AttentionSpec&) const {}
  // The value of a parameter by name, for finish(); throws std::logic_error if the table lacks it.
  double value(const AttentionSpec& spec, std::string_view name) const;

 private:
  std::string_view name_, family_, summary_;
  std::span<const ParamInfo> params_;
};

// The head parameters most attention variants share, in the order variants list them.
inline constexpr ParamInfo kHeadsParam = {"heads", "query heads (Hq)", 32, 1, 65536};
inline constexpr ParamInfo kHeadDimParam = {"head_dim", "query/key head dimension (d)", 128, 1,
                                            4096};
inline constexpr ParamInfo kVHeadDimParam = {
    "v_head_dim", "value head dimension (dv)", 0, 1, 4096, ParamType::integer, "head_dim"};
inline constexpr ParamInfo kKvHeadsParam = {"kv_heads",
                                            "key/value heads (Hkv); must divide heads",
                                            8,
                                            1,
                                            65536,
                                            ParamType::integer,
                                            {},
                                            "heads",
                                            "a divisor of heads"};

// Throws SpecError unless `divisor` divides `heads`, naming both parameters and the allowed values.
void require_divides(std::string_view variant, std::string_view heads_name, std::int64_t heads,
                     std::string_view divisor_name, std::int64_t divisor);

// Throws SpecError when `v` has no `phase`, naming the phases it has.
void require_phase(const Variant& v, Phase phase);

// One resolved parameter by name, for reports and tests; throws SpecError naming the parameters
// when the variant has no such parameter.
double param_value(const AttentionSpec& spec, std::string_view name);

// Every parameter of the spec by its ParamInfo name, for reports.
std::vector<std::pair<std::string_view, double>> resolved_params(const AttentionSpec& spec);

}  // namespace models
