// attnsim compare: several variants (or models) side by side on one workload, on one or more
// profiles, with ratios against the first.
#include <functional>
#include <memory>
#include <sstream>

#include <fmt/format.h>

#include "cli/context.hpp"
#include "cli/flags.hpp"
#include "cli/model_query.hpp"
#include "cli/plot_output.hpp"
#include "cli/printer.hpp"
#include "cli/report.hpp"
#include "cli/sweep_axes.hpp"
#include "cli/workload_flags.hpp"
#include "common/errors.hpp"
#include "models/model_presets.hpp"
#include "sim/schedule.hpp"

namespace cli {

namespace {

struct CompareOptions {
  std::string variants, models;
  std::vector<std::string> hf_configs;  // --hf-config FILE (repeatable), compared like presets
  std::int64_t batch = 1, seq_len = 4096, layers = 1;
  std::optional<std::int64_t> q_len, kv_len;
  std::string phase = "prefill", dtype = "bf16", hw = "h100", engine = "tile", kernel = "auto";
  std::string format = "table", output, plot;
  std::optional<std::string> kv_dtype;
  bool causal = true, include_projections = false;
};

// "gqa:kv_heads=8:head_dim=64" -> gqa with those parameters.
models::AttentionSpec parse_variant(const models::Registry& registry, const std::string& item,
                                    bool projections) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t colon = item.find(':', start);
    parts.push_back(item.substr(start, colon == std::string::npos ? colon : colon - start));
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  models::ParamValues given;
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const auto eq = parts[i].find('=');
    const auto value = eq == std::string::npos
                           ? std::vector<std::int64_t>{}
                           : parse_int_axis("--variants", parts[i].substr(eq + 1));
    if (eq == 0 || value.size() != 1) {
      throw common::SpecError(fmt::format(
          "--variants '{}': expected name or name:param=value[:param=value], e.g. gqa:kv_heads=8",
          item));
    }
    given.emplace_back(parts[i].substr(0, eq), static_cast<double>(value[0]));
  }
  return registry.find(parts[0]).make_spec(given, {projections, 0});
}

struct Entry {
  std::string label, hw;
  double time_s = 0, kv_cache_bytes = 0, flops = 0, hbm_bytes = 0;
  nlohmann::ordered_json detail;
};

double ratio(double value, double base) {
  return base > 0 ? value / base : 0;
}

std::string render(const std::vector<Entry>& entries, std::size_t per_hw, Format format,
                   std::function<std::string()> svg) {
  std::vector<nlohmann::ordered_json> rows;
  std::ostringstream table;
  table << fmt::format("{:<16} {:<28} {:>10} {:>7} {:>10} {:>7} {:>10} {:>10}\n", "hw", "compared",
                       "time", "x time", "KV cache", "x KV", "FLOP", "HBM bytes");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const Entry& base = entries[i - i % per_hw];
    rows.push_back({{"hw", e.hw},
                    {"compared", e.label},
                    {"baseline", base.label},
                    {"time_s", e.time_s},
                    {"time_ratio", ratio(e.time_s, base.time_s)},
                    {"kv_cache_bytes", e.kv_cache_bytes},
                    {"kv_cache_ratio", ratio(e.kv_cache_bytes, base.kv_cache_bytes)},
                    {"flops", e.flops},
                    {"flops_ratio", ratio(e.flops, base.flops)},
                    {"hbm_bytes", e.hbm_bytes},
                    {"hbm_bytes_ratio", ratio(e.hbm_bytes, base.hbm_bytes)},
                    {"detail", e.detail}});
    table << fmt::format("{:<16} {:<28} {:>10} {:>7.2f} {:>10} {:>7.2f} {:>10} {:>10}\n", e.hw,
                         e.label, human_time(e.time_s), ratio(e.time_s, base.time_s),
                         human_bytes(e.kv_cache_bytes),
                         ratio(e.kv_cache_bytes, base.kv_cache_bytes), human_count(e.flops),
                         human_bytes(e.hbm_bytes));
  }
  return print({[&] { return table.str() + "ratios (x) are against the first entry\n"; },
                [&] {
                  return json_text(nlohmann::ordered_json{{"attnsim_version", ATTNSIM_VERSION},
                                                          {"comparisons", rows}});
                },
                [&] {
                  for (auto& r : rows) r.erase("detail");
                  return csv_from_objects(rows);
                },
                std::move(svg)},
               format);
}

void run_compare(const Context& ctx, const CompareOptions& o) {
  const Format format = parse_format(o.format, true);
  check_plot_path(o.plot, o.output);
  const sim::EngineKind engine = sim::parse_engine(o.engine);
  const sim::KernelChoice kernel = sim::KernelChoice::parse(o.kernel);  // unknown names: exit 2
  const bool by_model = !o.models.empty() || !o.hf_configs.empty();
  if (o.variants.empty() == !by_model) {
    throw common::SpecError(
        "compare needs --variants LIST, or --models LIST and/or --hf-config FILE (not both kinds)");
  }
  const models::Workload w = workload_from_flags(o);
  const hw::ProfileCatalog catalog = load_catalog(ctx.hw);
  std::vector<std::string> names = parse_word_axis("--hw", o.hw);
  if (names.size() == 1 && names[0] == "all") {
    names.clear();
    for (const hw::Profile& p : catalog.profiles()) names.push_back(p.id);
  }
  std::vector<Entry> entries;
  RooflineBuilder roofline;
  std::size_t per_hw = 0;
  if (!o.variants.empty()) {
    std::vector<std::pair<std::string, models::AttentionSpec>> specs;
    for (const std::string& item : parse_word_axis("--variants", o.variants)) {
      specs.emplace_back(item, parse_variant(ctx.registry, item, o.include_projections));
    }
    per_hw = specs.size();
    for (const std::string& name : names) {
      const hw::Profile profile = resolve_profile(catalog, name, ctx.hw);
      for (const auto& [label, spec] : specs) {
        const models::CostModel cost = spec.variant->cost(spec, w);
        const QueryResult r{profile.id,
                            spec,
                            w,
                            engine,
                            o.kernel,
                            cost,
                            sim::predict(engine, cost, w, profile, kernel)};
        entries.push_back({label, profile.id, r.prediction.time_s, cost.kv_cache_bytes,
                           r.prediction.flops.total(), r.prediction.bytes.total(), to_json(r)});
        roofline.add(profile, w.dtype, label, r.prediction.flops.tensor, r.prediction.bytes.total(),
                     r.prediction.time_s);
      }
    }
  } else {
    std::vector<models::Preset> presets;
    if (!o.models.empty()) {
      for (const std::string& m : parse_word_axis("--models", o.models)) {
        presets.push_back(models::find_preset(m));
      }
    }
    for (const std::string& path : o.hf_configs) {  // labelled with the path as given
      presets.push_back({path, path, models::load_hf_config(path)});
    }
    per_hw = presets.size();
    for (const std::string& name : names) {
      const hw::Profile profile = resolve_profile(catalog, name, ctx.hw);
      for (const models::Preset& p : presets) {
        const ModelQuery q{p.model, w, o.include_projections, engine, o.kernel};
        const ModelResult r = run_model(ctx.registry, q, profile);
        double flops = 0, bytes = 0, tensor = 0;
        for (const GroupResult& g : r.groups) {
          flops += g.result.prediction.flops.total();
          bytes += g.result.prediction.bytes.total();
          tensor += g.result.prediction.flops.tensor;
        }
        entries.push_back(
            {p.name, profile.id, r.time_s, r.kv_cache_bytes, flops, bytes, to_json(q, r)});
        roofline.add(profile, w.dtype, p.name, tensor, bytes, r.time_s);
      }
    }
  }
  const auto svg = [&] {
    return plot::render_roofline(
        roofline.chart(fmt::format("attnsim compare: {} on a roofline",
                                   o.variants.empty() ? "models" : "variants"),
                       describe_workload(w)));
  };
  write_output(render(entries, per_hw, format, svg), o.output);
  if (!o.plot.empty()) write_plot(svg(), o.plot);
}

}  // namespace

void add_compare_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<CompareOptions>();
  CLI::App* c = app.add_subcommand(
      "compare", "variants or models side by side on one workload, with ratios to the first");
  c->add_option("--variants", o->variants,
                "variants to compare, e.g. gqa:kv_heads=8,mla,ccgqa (parameters after ':')");
  c->add_option("--models", o->models, "model presets to compare, e.g. llama-3.1-70b,deepseek-v3");
  c->add_option("--hf-config", o->hf_configs, "a Hugging Face config.json to compare (repeatable)");
  c->add_option("--batch", o->batch, "batch size")->capture_default_str();
  c->add_option("--seq-len", o->seq_len, "query tokens (context for decode)")
      ->capture_default_str();
  c->add_option("--q-len", o->q_len, "query tokens (default: --seq-len; decode 1)");
  c->add_option("--kv-len", o->kv_len, "key/value tokens (default: --seq-len)");
  c->add_option("--phase", o->phase, "prefill | decode | fwd | bwd | train")->capture_default_str();
  c->add_flag("--causal,!--no-causal", o->causal, "causal mask (default) or none");
  c->add_option("--dtype", o->dtype, "fp32 | tf32 | fp16 | bf16 | fp8")->capture_default_str();
  c->add_option("--kv-dtype", o->kv_dtype, "K/V element type (default: --dtype)");
  c->add_option("--layers", o->layers, "attention layers (variants only)")
      ->transform(decimal_integer(1, models::kMaxLayers))
      ->capture_default_str();
  c->add_flag("--include-projections", o->include_projections, "also count the projections");
  c->add_option("--hw", o->hw, "comma-separated profiles, or 'all'")->capture_default_str();
  c->add_option("--engine", o->engine, "tile | roofline")->capture_default_str();
  c->add_option("--kernel", o->kernel, "tile-engine schedule")->capture_default_str();
  c->add_option("--format", o->format, "table | json | csv | svg (a roofline chart)")
      ->capture_default_str();
  c->add_option("-o,--output", o->output, "write to FILE instead of stdout");
  add_plot_option(*c, o->plot);
  add_hw_options(*c, ctx.hw);
  c->callback([&ctx, o] { run_compare(ctx, *o); });
}

}  // namespace cli
