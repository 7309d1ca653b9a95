#include "models/variant.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "common/errors.hpp"

namespace models {

namespace {

std::string param_names(const Variant& v) {
  std::string names;
  for (const ParamInfo& p : v.params()) {
    if (!names.empty()) names += ", ";
    names += p.name;
  }
  return names;
}

std::size_t index_of(std::span<const ParamInfo> table, std::string_view name) {
  for (std::size_t i = 0; i < table.size(); ++i) {
    if (table[i].name == name) return i;
  }
  return table.size();
}

// The default of table[i], from parameters before it that are already in `values`.
double default_of(std::span<const ParamInfo> table, std::size_t i,
                  const std::array<double, kMaxParams>& values) {
  const ParamInfo& p = table[i];
  auto earlier = [&](std::string_view name) {
    const std::size_t j = index_of(table, name);
    if (j >= i) throw std::logic_error(fmt::format("parameter {} refers to {}", p.name, name));
    return values[j];
  };
  double value = p.default_from.empty() ? p.default_value : earlier(p.default_from);
  if (!p.capped_by.empty()) value = std::min(value, earlier(p.capped_by));
  return value;
}

std::string range_text(const ParamInfo& p) {
  const std::string range = fmt::format(
      "{} in [{}, {}]", p.type == ParamType::integer ? "an integer" : "a number", p.min, p.max);
  return p.allowed.empty() ? range : fmt::format("{} ({})", p.allowed, range);
}

}  // namespace

std::string default_text(const ParamInfo& p) {
  std::string text = p.default_from.empty() ? fmt::format("{}", p.default_value)
                                            : fmt::format("= {}", p.default_from);
  if (!p.capped_by.empty()) text += fmt::format(" (at most {})", p.capped_by);
  return text;
}

std::string allowed_text(const ParamInfo& p) {
  return p.allowed.empty() ? fmt::format("[{}, {}]", p.min, p.max) : std::string(p.allowed);
}

void check_param_value(std::string_view variant, const ParamInfo& p, double value) {
  const bool integral = p.type == ParamType::real || value == std::floor(value);
  if (!integral || !(value >= p.min && value <= p.max)) {
    throw common::SpecError(fmt::format("{} {} ({}) must be {}, got {}", variant, p.name, p.help,
                                        range_text(p), value));
  }
}

std::array<double, kMaxParams> resolve_params(const Variant& variant, const ParamValues& given) {
  const std::span<const ParamInfo> table = variant.params();
  if (table.size() > kMaxParams) {
    throw std::logic_error(
        fmt::format("{} has more than {} parameters", variant.name(), kMaxParams));
  }
  for (std::size_t g = 0; g < given.size(); ++g) {
    const std::string& name = given[g].first;
    if (index_of(table, name) == table.size()) {
      throw common::SpecError(fmt::format("variant '{}' has no parameter '{}'; its parameters: {}",
                                          variant.name(), name, param_names(variant)));
    }
    for (std::size_t h = 0; h < g; ++h) {
      if (given[h].first == name) {
        throw common::SpecError(
            fmt::format("{} parameter '{}' is given twice ({} and {}); give it once",
                        variant.name(), name, given[h].second, given[g].second));
      }
    }
  }
  std::array<double, kMaxParams> values{};
  for (std::size_t i = 0; i < table.size(); ++i) {
    const ParamInfo& p = table[i];
    double value = default_of(table, i, values);
    for (const auto& [name, v] : given) {
      if (name == p.name) value = v;
    }
    check_param_value(variant.name(), p, value);
    values[i] = value;
  }
  return values;
}

AttentionSpec VariantBase::make_spec(const ParamValues& given, const ProjectionConfig& proj) const {
  AttentionSpec spec;
  spec.variant = this;
  if (proj.hidden_size < 0) {
    throw common::SpecError(fmt::format("hidden size must be positive, got {}", proj.hidden_size));
  }
  spec.projections = proj;
  spec.values = resolve_params(*this, given);
  const std::span<const ParamInfo> table = params();
  auto head = [&](std::string_view name, std::int64_t fallback) {
    const std::size_t i = index_of(table, name);
    return i < table.size() ? static_cast<std::int64_t>(spec.values[i]) : fallback;
  };
  HeadConfig& h = spec.heads;
  h.heads = head("heads", 0);
  h.kv_heads = head("kv_heads", h.heads);
  h.head_dim = head("head_dim", 0);
  h.v_head_dim = head("v_head_dim", h.head_dim);
  if (h.heads > 0 && h.kv_heads > 0)
    require_divides(name(), "heads", h.heads, "kv_heads", h.kv_heads);
  finish(spec);
  return spec;
}

double VariantBase::value(const AttentionSpec& spec, std::string_view name) const {
  const std::size_t i = index_of(params(), name);
  if (i == params().size()) {
    throw std::logic_error(fmt::format("{} has no parameter {}", this->name(), name));
  }
  return spec.values[i];
}

void require_divides(std::string_view variant, std::string_view heads_name, std::int64_t heads,
                     std::string_view divisor_name, std::int64_t divisor) {
  if (divisor > 0 && heads % divisor == 0) return;
  throw common::SpecError(
      fmt::format("{}: {} ({}) must be divisible by {} ({}); allowed {}: the divisors "
                  "of {}",
                  variant, heads_name, heads, divisor_name, divisor, divisor_name, heads));
}

double param_value(const AttentionSpec& spec, std::string_view name) {
  const std::span<const ParamInfo> table = spec.variant->params();
  const std::size_t i = index_of(table, name);
  if (i == table.size()) {
    throw common::SpecError(fmt::format("variant '{}' has no parameter '{}'; its parameters: {}",
                                        spec.variant->name(), name, param_names(*spec.variant)));
  }
  return spec.values[i];
}

SequenceSplit Variant::sequence_split(Phase) const {
  return causal_only() ? SequenceSplit::query_chunks : SequenceSplit::blocks;
}

bool effective_causal(const Variant& variant, const Workload& workload) {
  return workload.causal && variant.masking() != Masking::non_causal_only;
}

std::vector<std::pair<std::string_view, double>> resolved_params(const AttentionSpec& spec) {
  std::vector<std::pair<std::string_view, double>> out;
  const std::span<const ParamInfo> table = spec.variant->params();
  for (std::size_t i = 0; i < table.size(); ++i) out.emplace_back(table[i].name, spec.values[i]);
  return out;
}

void require_phase(const Variant& v, Phase phase) {
  if (v.supports(phase)) return;
  std::string allowed;
  for (Phase p : {Phase::prefill, Phase::decode, Phase::fwd, Phase::bwd, Phase::train}) {
    if (v.supports(p)) allowed += (allowed.empty() ? "" : ", ") + std::string(to_string(p));
  }
  throw common::SpecError(
      fmt::format("{} has no {} phase (non-causal: images, video, views); allowed: {}", v.name(),
                  to_string(phase), allowed));
}

}  // namespace models
