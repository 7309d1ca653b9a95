#include "cli/sweep_options.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>

#include <fmt/format.h>

#include "cli/flags.hpp"
#include "cli/report.hpp"
#include "cli/sweep_axes.hpp"
#include "common/errors.hpp"
#include "models/model_presets.hpp"
#include "sim/schedule.hpp"

namespace cli {

namespace {

bool has_param(const models::Variant& v, std::string_view name) {
  for (const models::ParamInfo& p : v.params()) {
    if (p.name == name) return true;
  }
  return false;
}

// A parameter axis: `--param name=VALUES`, where VALUES is one value, a comma list or an integer
// range as the size axes take it (window=256,1024,4k; top_k=4..32:x2; beta=0.125,0.25). Each value
// is read as a single --param value is (cli/flags.hpp parse_param_assignment); repeats are dropped
// with a warning.
struct ParamAxis {
  std::string name;
  std::vector<double> values;
};

ParamAxis parse_param_axis(std::string_view text, std::vector<std::string>& warnings) {
  const std::size_t eq = text.find('=');
  if (eq == std::string_view::npos || eq == 0 || eq + 1 == text.size()) {
    // The single-value reader's message: name=number, with an example.
    (void)parse_param_assignment("--param", text, "");
    throw common::SpecError(fmt::format("--param '{}': expected name=values", text));
  }
  ParamAxis axis{std::string(text.substr(0, eq)), {}};
  const std::string_view list = text.substr(eq + 1);
  const std::string flag = "--param " + axis.name;
  if (list.front() == ',' || list.back() == ',' || list.find(",,") != std::string_view::npos) {
    throw common::SpecError(fmt::format("--param '{}': an empty item", text));
  }
  for (const std::string& item : parse_word_axis(flag, list)) {
    if (item.find("..") != std::string::npos) {
      for (std::int64_t v : parse_int_axis(flag, item)) {
        axis.values.push_back(static_cast<double>(v));
      }
    } else {
      axis.values.push_back(parse_param_assignment("--param", axis.name + "=" + item, "").second);
    }
  }
  axis.values = drop_repeats(
      flag, axis.values, [](double v) { return fmt::format("{}", v); }, warnings);
  return axis;
}

// Each value of `axis` is one `v` takes alone: a whole number where the parameter is an integer,
// within its range. A value out of range is bad input (exit 2), as a single --param value is; a
// combination the variant refuses (kv_heads that do not divide heads) is left out with a warning.
void check_axis_values(const models::Variant& v, const ParamAxis& axis) {
  for (const models::ParamInfo& p : v.params()) {
    if (p.name != axis.name) continue;
    for (double value : axis.values) {
      try {
        models::check_param_value(v.name(), p, value);
      } catch (const common::SpecError& e) {
        throw common::SpecError(fmt::format("--param {}: {} (see `attnsim variants show {}`)",
                                            axis.name, e.what(), v.name()));
      }
    }
  }
}

// Most variant shapes a sweep builds (one spec each, before any point runs): lists that multiply
// past it are refused rather than exhausting memory.
constexpr double kMaxSweepSpecs = 1 << 20;

// Every combination of the axes' values that `v` has (one empty combination for none).
std::vector<models::ParamValues> param_combinations(const models::Variant& v,
                                                    const std::vector<ParamAxis>& axes) {
  std::vector<models::ParamValues> out(1);
  for (const ParamAxis& axis : axes) {
    if (!has_param(v, axis.name)) continue;
    std::vector<models::ParamValues> next;
    for (const models::ParamValues& given : out) {
      for (double value : axis.values) {
        next.push_back(given);
        next.back().emplace_back(axis.name, value);
      }
    }
    out = std::move(next);
  }
  return out;
}

// One spec per variant x heads x kv_heads x head_dim x each --param's values. A --param, --heads,
// --kv-heads or --head-dim applies to the variants that have the parameter (an error if none has
// it); combinations a variant rejects (kv_heads that do not divide heads) are left out with a
// warning, and an error when nothing is left.
std::vector<models::AttentionSpec> make_specs(const models::Registry& registry,
                                              const SweepOptions& o,
                                              std::vector<std::string>& swept,
                                              std::vector<std::string>& warnings) {
  // A head count or dimension, when given, is a size: 0 stands for "not given" (the variant's
  // default), never for a value. 2^16 bounds every variant's head parameters; each variant checks
  // its own range.
  const auto ints = [&warnings](const char* flag, const std::string& text) {
    return text.empty() ? std::vector<std::int64_t>{0}
                        : parse_size_axis(flag, text, std::int64_t{1} << 16, warnings);
  };
  std::vector<ParamAxis> params;
  for (const std::string& p : o.params) {
    params.push_back(parse_param_axis(p, warnings));
    for (std::size_t i = 0; i + 1 < params.size(); ++i) {
      if (params[i].name == params.back().name) {
        throw common::SpecError(
            fmt::format("--param {} is given twice; give its values in one list ({}=A,B)",
                        params[i].name, params[i].name));
      }
    }
  }
  std::vector<const models::Variant*> variants;
  for (const std::string& name : parse_word_axis("--variant", o.variant)) {
    variants.push_back(&registry.find(name));
  }
  variants = drop_repeats(
      "--variant", variants, [](const models::Variant* v) { return v->name(); }, warnings);
  for (const ParamAxis& p : params) {
    if (std::none_of(variants.begin(), variants.end(),
                     [&p](const models::Variant* v) { return has_param(*v, p.name); })) {
      throw common::SpecError(fmt::format("--param {}: none of the variants has it", p.name));
    }
    for (const models::Variant* v : variants) check_axis_values(*v, p);
    if (p.values.size() > 1) swept.push_back(p.name);
  }
  // --heads, --kv-heads and --head-dim apply, as a --param does, to the variants that have the
  // parameter (MLA has no kv_heads or head_dim: it keeps its own); one no variant has is an error.
  struct ShapeFlag {
    const char* param;
    const char* flag;
    const std::string& text;
  };
  const ShapeFlag shape_flags[] = {{"heads", "--heads", o.heads},
                                   {"kv_heads", "--kv-heads", o.kv_heads},
                                   {"head_dim", "--head-dim", o.head_dim}};
  for (const ShapeFlag& f : shape_flags) {
    if (!f.text.empty() && std::none_of(variants.begin(), variants.end(),
                                        [&](const auto* v) { return has_param(*v, f.param); })) {
      std::string names;
      for (const models::Variant* v : variants)
        names += (names.empty() ? "" : ", ") + std::string(v->name());
      throw common::SpecError(
          fmt::format("{}: none of the variants ({}) has {} (see attnsim "
                      "variants show NAME)",
                      f.flag, names, f.param));
    }
  }
  // Each flag's values, read once (a repeat is named in one warning).
  std::vector<std::vector<std::int64_t>> flag_values;
  for (const ShapeFlag& f : shape_flags) {
    flag_values.push_back(ints(f.flag, f.text));
    if (flag_values.back().size() > 1) swept.emplace_back(f.param);
  }
  const auto axis = [&](const models::Variant* v, const ShapeFlag& f) {
    const auto i = static_cast<std::size_t>(&f - shape_flags);
    return has_param(*v, f.param) ? flag_values[i] : std::vector<std::int64_t>{0};
  };
  // The shapes the lists make, counted before any is built.
  double shapes = 0;
  for (const models::Variant* v : variants) {
    double n = 1;
    for (const ShapeFlag& f : shape_flags) n *= static_cast<double>(axis(v, f).size());
    for (const ParamAxis& p : params) {
      if (has_param(*v, p.name)) n *= static_cast<double>(p.values.size());
    }
    shapes += n;
  }
  if (shapes > kMaxSweepSpecs) {
    throw common::SpecError(fmt::format(
        "--param, --heads, --kv-heads and --head-dim lists make {:.0f} variant shapes; a sweep "
        "takes at most {:.0f} (sweep fewer values, or split the sweep)",
        shapes, kMaxSweepSpecs));
  }
  std::vector<models::AttentionSpec> specs;
  std::size_t rejected = 0;
  std::string last_error;
  std::vector<std::string> dropped;  // variants none of whose shapes could be made, with why
  std::string counted_error;         // the last refusal of a variant that kept a shape
  for (const models::Variant* v : variants) {
    const std::size_t before = specs.size(), rejected_before = rejected;
    std::string variant_error;
    for (std::int64_t h : axis(v, shape_flags[0])) {
      for (std::int64_t kv : axis(v, shape_flags[1])) {
        for (std::int64_t d : axis(v, shape_flags[2])) {
          for (models::ParamValues given : param_combinations(*v, params)) {
            if (d > 0) given.emplace(given.begin(), "head_dim", static_cast<double>(d));
            if (kv > 0) given.emplace(given.begin(), "kv_heads", static_cast<double>(kv));
            if (h > 0) given.emplace(given.begin(), "heads", static_cast<double>(h));
            try {
              specs.push_back(v->make_spec(given, {o.include_projections, 0}));
            } catch (const common::SpecError& e) {
              ++rejected;
              last_error = variant_error = e.what();
            }
          }
        }
      }
    }
    if (specs.size() == before) {
      dropped.push_back(variant_error);
      rejected = rejected_before;  // named below, not counted
    } else if (rejected > rejected_before) {
      counted_error = variant_error;
    }
  }
  if (specs.empty()) throw common::SpecError(last_error);
  // A variant none of whose shapes could be made is named (a flag it needs, a head count it
  // refuses); other refused shapes are counted.
  for (const std::string& why : dropped)
    warnings.push_back("a variant left out of the sweep: " + why);
  if (rejected > 0) {
    warnings.push_back(fmt::format("{} head or parameter combinations left out (last: {})",
                                   rejected, counted_error));
  }
  return specs;
}

// The params columns: the union of the specs' parameter names (cli/report.hpp spec_params) and
// each spec's value of each.
void add_param_columns(SweepAxes& a) {
  std::vector<std::vector<std::pair<std::string, double>>> per_spec;
  for (const models::AttentionSpec& spec : a.specs) {
    per_spec.push_back(spec_params(spec));
    for (const auto& [name, value] : per_spec.back()) {
      (void)value;
      if (std::find(a.param_names.begin(), a.param_names.end(), name) == a.param_names.end()) {
        a.param_names.push_back(name);
      }
    }
  }
  for (const auto& params : per_spec) {
    std::vector<std::optional<double>> values(a.param_names.size());
    for (const auto& [name, value] : params) {
      const auto it = std::find(a.param_names.begin(), a.param_names.end(), name);
      values[static_cast<std::size_t>(it - a.param_names.begin())] = value;
    }
    a.param_values.push_back(std::move(values));
  }
}

// A list of names parsed into values (engines, phases, dtypes, strategies), repeats dropped.
template <typename T, typename Parse, typename Name>
std::vector<T> words(const char* flag, const std::string& text, Parse parse, Name name,
                     std::vector<std::string>& warnings) {
  std::vector<T> out;
  for (const std::string& w : parse_word_axis(flag, text)) out.push_back(parse(w));
  return drop_repeats(flag, out, name, warnings);
}

// --model LIST (or 'all') and --hf-config FILE...: the subject axis of a model sweep. A preset's
// row label is its name, a config file's is its path as given.
void add_models(const Context& ctx, const SweepOptions& o, SweepAxes& a) {
  if (!o.variant_flag.empty()) {
    throw common::SpecError(fmt::format(
        "{} does not apply to a model sweep: --model and --hf-config take every layer's shape from "
        "the model",
        o.variant_flag));
  }
  if (!o.model.empty()) {
    std::vector<models::Preset> presets;
    for (const std::string& name : parse_model_axis("--model", o.model))
      presets.push_back(models::find_preset(name));
    // Labelled as the preset spells it; one named twice (in any case) is swept once.
    presets = drop_repeats(
        "--model", presets, [](const models::Preset& p) { return p.name; }, a.warnings);
    for (models::Preset& preset : presets) {
      a.models.push_back(std::move(preset.model));
      a.model_labels.push_back(preset.name);
    }
  }
  for (const std::string& path : drop_repeats(
           "--hf-config", o.hf_configs, [](const std::string& p) { return p; }, a.warnings)) {
    a.models.push_back(models::load_hf_config(path));
    a.model_labels.push_back(path);
  }
  a.registry = &ctx.registry;
  a.include_projections = o.include_projections;
}

// Several --seq-len values where --kv-len and the query length are fixed (given with --q-len, or
// decode's one token in every phase swept) would sweep one point again and again: refused, naming
// the flag that does vary the length.
void check_seq_len_axis(const SweepAxes& a) {
  if (a.seq_lens.size() < 2 || a.kv_lens.empty()) return;
  const bool decode_only = std::all_of(a.phases.begin(), a.phases.end(),
                                       [](models::Phase p) { return p == models::Phase::decode; });
  if (!a.q_lens.empty() || decode_only) {
    throw common::SpecError(fmt::format(
        "--seq-len {} values change nothing: --kv-len and {} fix both lengths; sweep the context "
        "with --kv-len (a list) instead",
        a.seq_lens.size(), a.q_lens.empty() ? "decode's one query token" : "--q-len"));
  }
}

}  // namespace

SweepAxes make_axes(const Context& ctx, const SweepOptions& o) {
  SweepAxes a;
  const hw::ProfileCatalog catalog = load_catalog(ctx.hw);
  a.profiles = resolve_profiles(catalog, o.hw, ctx.hw);
  for (const hw::Profile& profile : a.profiles) {
    std::string_view id = profile.id;
    if (!ctx.hw.sets.empty()) id.remove_suffix(1);  // kOverriddenMark
    if (!plain_profile_id(id)) {
      throw common::SpecError(fmt::format(
          "profile id '{}': a sweep needs ids of letters, digits, '.', '_', '-'", profile.id));
    }
  }
  if (!o.model.empty() || !o.hf_configs.empty()) {
    add_models(ctx, o, a);
  } else {
    a.specs = make_specs(ctx.registry, o, a.swept_params, a.warnings);
    add_param_columns(a);
  }
  const auto name = [](auto v) { return to_string(v); };
  a.engines = words<sim::EngineKind>("--engine", o.engine, sim::parse_engine, name, a.warnings);
  a.phases = words<models::Phase>("--phase", o.phase, models::parse_phase, name, a.warnings);
  a.dtypes = words<models::DType>("--dtype", o.dtype, models::parse_dtype, name, a.warnings);
  if (!o.kv_dtype.empty()) a.kv_dtype = models::parse_dtype(o.kv_dtype);
  a.batches = parse_size_axis("--batch", o.batch, models::kMaxBatch, a.warnings);
  a.seq_lens = parse_size_axis("--seq-len", o.seq_len, models::kMaxTokens, a.warnings);
  if (!o.q_len.empty())
    a.q_lens = parse_size_axis("--q-len", o.q_len, models::kMaxTokens, a.warnings);
  if (!o.kv_len.empty())
    a.kv_lens = parse_size_axis("--kv-len", o.kv_len, models::kMaxTokens, a.warnings);
  check_seq_len_axis(a);
  a.layers = o.layers;
  a.causal = o.causal;
  a.kernel = o.kernel;
  sim::KernelChoice::parse(a.kernel);  // unknown names: exit 2 before any point runs
  a.caller = parse_caller_flag(o.caller);
  const LayoutAxisOptions& l = o.layout;
  if (!l.tp.empty()) a.tps = parse_size_axis("--tp", l.tp, kMaxParallelDegree, a.warnings);
  if (!l.cp.empty()) a.cps = parse_size_axis("--cp", l.cp, kMaxParallelDegree, a.warnings);
  if (!l.cp_strategy.empty()) {
    a.cp_strategies = words<sim::CpStrategy>("--cp-strategy", l.cp_strategy, sim::parse_cp_strategy,
                                             name, a.warnings);
  }
  if (!l.cp_state_strategy.empty()) a.cp_state_strategy = parse_state_strategy(l.cp_state_strategy);
  if (l.nodes > 0) a.nodes = l.nodes;
  a.parallel = l.any();
  return a;
}

}  // namespace cli
