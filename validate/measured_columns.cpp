#include "validate/measured_columns.hpp"

#include <algorithm>
#include <cmath>
#include <optional>
#include <string_view>

#include <fmt/format.h>

namespace validate {

namespace {

bool has_param(const models::Variant& v, std::string_view name) {
  const auto params = v.params();
  return std::any_of(params.begin(), params.end(),
                     [&](const models::ParamInfo& p) { return p.name == name; });
}

// Builds the parameter list: given pairs first, then column-derived ones; a column value that
// disagrees with a given one is a conflict, an equal one is not repeated.
class Merged {
 public:
  Merged(const models::Variant& v, const models::ParamValues& given) : variant_(v), out_(given) {}

  void set(const std::string& name, double value, const std::string& column) {
    for (const auto& [key, given] : out_) {
      if (key != name) continue;
      if (given != value) {
        throw ColumnConflict(fmt::format("column {} says {} = {}, the variant column says {}",
                                         column, name, value, given));
      }
      return;
    }
    out_.emplace_back(name, value);
  }
  std::optional<double> find(std::string_view name) const {
    for (const auto& [key, value] : out_) {
      if (key == name) return value;
    }
    return std::nullopt;
  }
  const models::Variant& variant() const { return variant_; }
  const models::ParamValues& values() const { return out_; }
  models::ParamValues take() { return std::move(out_); }

 private:
  const models::Variant& variant_;
  models::ParamValues out_;
};

[[noreturn]] void conflict(const models::Variant& v, const std::string& why) {
  throw ColumnConflict(fmt::format("rejected for variant '{}': {}", v.name(), why));
}

// MLA: the kernel's view of the cache (one latent shared by all heads, or per-head K/V after
// decompression) translated into latent_dim / rope_dim / nope_dim.
void map_mla(const GenericColumns& c, Merged& m) {
  const models::Variant& v = m.variant();
  m.set("heads", c.heads_q, "heads_q");
  // Absorbed: one latent cache for all heads (heads_kv 1), or a single head the row says is
  // absorbed (mode 1, as a flashmla row is).
  if (c.heads_kv == 1 && (c.heads_q > 1 || m.find("mode") == 1.0)) {
    // Without v_head_dim: the variant column's latent_dim, or for a 576-wide head DeepSeek's
    // layout (kv_lora_rank 512 + rope 64, the one FlashMLA's published runs use); any other
    // width is ambiguous.
    std::optional<double> latent = c.v_head_dim ? c.v_head_dim : m.find("latent_dim");
    if (!latent && c.head_dim == 576) latent = 512;
    if (!latent) {
      conflict(v,
               "absorbed MLA rows (heads_kv 1) need v_head_dim, the latent width (576-wide "
               "heads without it are read as DeepSeek's 512 + 64)");
    }
    if (!(c.head_dim >= *latent)) {
      conflict(v, fmt::format("head_dim {} (latent + rope) is smaller than v_head_dim {} "
                              "(latent)",
                              c.head_dim, *latent));
    }
    m.set("latent_dim", *latent, c.v_head_dim ? "v_head_dim" : "head_dim 576 (DeepSeek's)");
    m.set("rope_dim", c.head_dim - *latent, "head_dim - v_head_dim");
    m.set("mode", 1, "heads_kv");
    return;
  }
  if (c.heads_kv != c.heads_q) {
    conflict(v, fmt::format("heads_kv {} is neither 1 (absorbed: one latent cache) nor heads_q {} "
                            "(non-absorbed: per-head K/V)",
                            c.heads_kv, c.heads_q));
  }
  // Non-absorbed: head_dim = nope + rope, with rope as given (or the variant's default).
  // The rope width the variant resolves (the given one, or its default).
  double rope = 0;
  for (const auto& [key, value] : models::resolved_params(v.make_spec(m.values(), {}))) {
    if (key == "rope_dim") rope = value;
  }
  if (!(c.head_dim > rope)) {
    conflict(v, fmt::format("head_dim {} must exceed rope_dim {} (head_dim = nope + rope)",
                            c.head_dim, rope));
  }
  m.set("nope_dim", c.head_dim - rope, "head_dim - rope_dim");
  m.set("mode", 2, "heads_kv");
  if (c.v_head_dim) m.set("v_head_dim", *c.v_head_dim, "v_head_dim");
}

void map_generic(const GenericColumns& c, Merged& m) {
  const models::Variant& v = m.variant();
  if (!has_param(v, "heads")) conflict(v, "it has no heads parameter");
  m.set("heads", c.heads_q, "heads_q");
  if (has_param(v, "kv_heads")) {
    m.set("kv_heads", c.heads_kv, "heads_kv");
  } else if (c.heads_kv != c.heads_q) {
    conflict(v, fmt::format("it has no KV heads (each head has its own keys and values), so "
                            "heads_kv must equal heads_q ({}), not {}",
                            c.heads_q, c.heads_kv));
  }
  if (!has_param(v, "head_dim")) conflict(v, "it has no head_dim parameter");
  m.set("head_dim", c.head_dim, "head_dim");
  if (c.v_head_dim && *c.v_head_dim != c.head_dim) {
    if (!has_param(v, "v_head_dim"))
      conflict(v, fmt::format("v_head_dim {} != head_dim {} but it has no v_head_dim parameter",
                              *c.v_head_dim, c.head_dim));
    m.set("v_head_dim", *c.v_head_dim, "v_head_dim");
  }
}

}  // namespace

models::ParamValues map_columns(const models::Variant& variant, const GenericColumns& columns,
                                const models::ParamValues& given) {
  Merged merged(variant, given);
  if (variant.name() == "mla") {
    map_mla(columns, merged);
  } else {
    map_generic(columns, merged);
  }
  if (columns.window) {
    if (!has_param(variant, "window"))
      conflict(variant, fmt::format("window {} given but it has no window", *columns.window));
    merged.set("window", *columns.window, "window");
  }
  return merged.take();
}

}  // namespace validate
