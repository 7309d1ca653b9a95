#include "models/variant.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "models/errors.hpp"

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
}  // namespace

ParamReader::ParamReader(const Variant& variant, const ParamValues& given)
    : variant_(variant), given_(given) {
  for (const auto& [name, value] : given_) {
    (void)value;
    info(name);  // throws for an unknown name
  }
}

const ParamInfo& ParamReader::info(std::string_view name) const {
  for (const ParamInfo& p : variant_.params()) {
    if (p.name == name) return p;
  }
  throw SpecError(fmt::format("variant '{}' has no parameter '{}'; its parameters: {}",
                              variant_.name(), name, param_names(variant_)));
}

bool ParamReader::given(std::string_view name) const {
  for (const auto& [n, v] : given_) {
    if (n == name) return true;
  }
  return false;
}

double ParamReader::number(std::string_view name, double fallback) const {
  const ParamInfo& p = info(name);
  double value = fallback;
  for (const auto& [n, v] : given_) {
    if (n == name) value = v;
  }
  if (!(value >= p.min && value <= p.max)) {
    throw SpecError(fmt::format("{} {} ({}) must be in [{}, {}], got {}", variant_.name(), p.name,
                                p.help, p.min, p.max, value));
  }
  return value;
}

std::vector<std::pair<std::string_view, double>> resolved_params(const AttentionSpec& spec) {
  std::vector<std::pair<std::string_view, double>> out;
  std::size_t extra = 0;
  for (const ParamInfo& p : spec.variant->params()) {
    const HeadConfig& h = spec.heads;
    double value = 0;
    if (p.name == "heads") {
      value = static_cast<double>(h.heads);
    } else if (p.name == "kv_heads") {
      value = static_cast<double>(h.kv_heads);
    } else if (p.name == "head_dim") {
      value = static_cast<double>(h.head_dim);
    } else if (p.name == "v_head_dim") {
      value = static_cast<double>(h.v_head_dim);
    } else {
      value = spec.extra.at(extra++);
    }
    out.emplace_back(p.name, value);
  }
  return out;
}

void require_phase(const Variant& v, Phase phase) {
  if (v.supports(phase)) return;
  std::string allowed;
  for (Phase p : {Phase::prefill, Phase::decode, Phase::fwd, Phase::bwd, Phase::train}) {
    if (v.supports(p)) allowed += (allowed.empty() ? "" : ", ") + std::string(to_string(p));
  }
  throw SpecError(fmt::format("{} has no {} phase (non-causal: images, video, views); allowed: {}",
                              v.name(), to_string(phase), allowed));
}

AttentionSpec heads_spec(const Variant& variant, const ParamReader& r, const ProjectionConfig& proj,
                         std::int64_t default_kv_heads) {
  AttentionSpec spec;
  spec.variant = &variant;
  spec.heads = read_heads(r, variant.name(), default_kv_heads);
  spec.projections = proj;
  return spec;
}

HeadConfig read_heads(const ParamReader& r, std::string_view variant,
                      std::int64_t default_kv_heads) {
  HeadConfig h;
  h.heads = r.integer("heads", 32);
  h.kv_heads = r.integer("kv_heads", std::min(default_kv_heads, h.heads));
  h.head_dim = r.integer("head_dim", 128);
  h.v_head_dim = r.integer("v_head_dim", h.head_dim);
  if (h.heads % h.kv_heads != 0) {
    throw SpecError(fmt::format(
        "{}: heads ({}) must be divisible by kv_heads ({}); allowed kv_heads: the divisors of {}",
        variant, h.heads, h.kv_heads, h.heads));
  }
  return h;
}

std::int64_t ParamReader::integer(std::string_view name, std::int64_t fallback) const {
  const ParamInfo& p = info(name);
  double value = static_cast<double>(fallback);
  for (const auto& [n, v] : given_) {
    if (n == name) value = v;
  }
  if (value != std::floor(value) || value < p.min || value > p.max) {
    throw SpecError(fmt::format("{} {} ({}) must be an integer in [{}, {}], got {}",
                                variant_.name(), p.name, p.help, p.min, p.max, value));
  }
  return static_cast<std::int64_t>(value);
}

}  // namespace models
