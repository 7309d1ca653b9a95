// attnsim compare: several variants (or models) side by side on one workload, on one or more
// profiles, with ratios against the first.
#include <algorithm>
#include <cstdio>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/context.hpp"
#include "cli/flags.hpp"
#include "cli/model_query.hpp"
#include "cli/parallel_flags.hpp"
#include "cli/parallel_report.hpp"
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
  std::string caller = "direct";
  std::string format = "table", output, plot;
  std::optional<std::string> kv_dtype;
  bool causal = true, include_projections = false;
  bool layers_given = false;  // --layers on the command line (a model has its own layers)
  ParallelOptions parallel;
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
    given.push_back(parse_param_assignment("--variants", parts[i], parts[0]));
  }
  return registry.find(parts[0]).make_spec(given, {projections, 0});
}

struct Entry {
  std::string label, hw;
  double time_s = 0, kv_cache_bytes = 0, flops = 0, hbm_bytes = 0;
  nlohmann::ordered_json detail;
  double state_bytes = 0;  // a linear variant's or hybrid model's recurrent state
  // With a layout: `layout`, `per_device` and `cluster`, as query prints them.
  nlohmann::ordered_json parallel = nullptr;
  sim::DeviceCost per_device = {}, cluster = {};
};

struct LayoutHeading {
  sim::ParallelLayout layout;
  int devices_per_node = 1;
};

// value / base; equal when both are 0 (two entries without a KV cache); none when only the base
// is 0 (no multiple of nothing): JSON null, an empty CSV cell, "-" in the table.
std::optional<double> ratio(double value, double base) {
  if (base > 0) return value / base;
  if (value == 0) return 1.0;
  return std::nullopt;
}

nlohmann::ordered_json ratio_json(std::optional<double> r) {
  return r ? nlohmann::ordered_json(*r) : nlohmann::ordered_json(nullptr);
}

std::string ratio_text(std::optional<double> r) {
  return r ? fmt::format("{:.2f}", *r) : std::string("-");
}

// Per device and cluster under the layout, one pair of rows per entry; `x total` is the
// per-device total against the first entry's.
std::string layout_table(const std::vector<Entry>& entries, std::size_t per_hw,
                         const LayoutHeading& h, std::size_t label_w) {
  std::string out = fmt::format("\nlayout: {}\n", describe_layout(h.layout, h.devices_per_node));
  out += device_table_header(
      fmt::format("{:<16} {:<{}} {:<10} {:>7}", "hw", "compared", label_w, "", "x total"));
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const Entry& base = entries[i - i % per_hw];
    out += device_table_row(
        fmt::format("{:<16} {:<{}} {:<10} {:>7}", e.hw, e.label, label_w, "per device",
                    ratio_text(ratio(e.per_device.total_s, base.per_device.total_s))),
        e.per_device);
    out += device_table_row(
        fmt::format("{:<16} {:<{}} {:<10} {:>7}", "", "", label_w, "cluster", ""), e.cluster);
  }
  return out;
}

std::string render(const std::vector<Entry>& entries, std::size_t per_hw, Format format,
                   std::function<std::string()> svg, const std::optional<LayoutHeading>& layout) {
  std::vector<nlohmann::ordered_json> rows;
  std::ostringstream table;
  // The memory a sequence keeps between steps: KV cache and recurrent state, as `fits` and
  // `max_batch` count it. The label column widens for a long label (an --hf-config path).
  std::size_t label_w = 28;
  for (const Entry& e : entries) label_w = std::max(label_w, e.label.size());
  const auto memory = [](const Entry& e) { return e.kv_cache_bytes + e.state_bytes; };
  table << fmt::format("{:<16} {:<{}} {:>10} {:>7} {:>10} {:>7} {:>10} {:>10}\n", "hw", "compared",
                       label_w, "time", "x time", "KV+state", "x mem", "FLOP", "HBM bytes");
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const Entry& e = entries[i];
    const Entry& base = entries[i - i % per_hw];
    rows.push_back({{"hw", e.hw},
                    {"compared", e.label},
                    {"baseline", base.label},
                    {"time_s", e.time_s},
                    {"time_ratio", ratio_json(ratio(e.time_s, base.time_s))},
                    {"kv_cache_bytes", e.kv_cache_bytes},
                    {"kv_cache_ratio", ratio_json(ratio(e.kv_cache_bytes, base.kv_cache_bytes))},
                    {"state_bytes", e.state_bytes},
                    {"memory_bytes", memory(e)},
                    {"memory_ratio", ratio_json(ratio(memory(e), memory(base)))},
                    // query's names: flops.total and bytes.hbm, flattened
                    {"flops_total", e.flops},
                    {"flops_total_ratio", ratio_json(ratio(e.flops, base.flops))},
                    {"bytes_hbm", e.hbm_bytes},
                    {"bytes_hbm_ratio", ratio_json(ratio(e.hbm_bytes, base.hbm_bytes))}});
    if (layout) {
      rows.back().update(e.parallel);
      rows.back()["per_device_time_ratio"] =
          ratio_json(ratio(e.per_device.total_s, base.per_device.total_s));
    }
    rows.back()["detail"] = e.detail;
    table << fmt::format("{:<16} {:<{}} {:>10} {:>7} {:>10} {:>7} {:>10} {:>10}\n", e.hw, e.label,
                         label_w, human_time(e.time_s), ratio_text(ratio(e.time_s, base.time_s)),
                         human_bytes(memory(e)), ratio_text(ratio(memory(e), memory(base))),
                         human_count(e.flops), human_bytes(e.hbm_bytes));
  }
  if (layout) table << layout_table(entries, per_hw, *layout, label_w);
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

// What run_compare's subjects share: the workload, the profiles and the layout.
struct CompareRun {
  const Context& ctx;
  const CompareOptions& o;
  models::Workload w;
  sim::EngineKind engine;
  sim::KernelChoice kernel;  // --kernel, parsed once
  hw::Caller caller;         // --caller
  std::vector<hw::Profile> profiles;
  std::optional<sim::ParallelLayout> layout;
  std::optional<LayoutHeading> heading;  // set by the first entry priced under the layout
  std::vector<Entry> entries;
  RooflineBuilder roofline;
  std::vector<std::string> kernel_warnings;  // printed after the output
};

std::size_t compare_variants(CompareRun& run) {
  std::vector<std::pair<std::string, models::AttentionSpec>> specs;
  for (const std::string& item : parse_word_axis("--variants", run.o.variants)) {
    specs.emplace_back(item, parse_variant(run.ctx.registry, item, run.o.include_projections));
  }
  const models::Workload& w = run.w;
  for (const hw::Profile& profile : run.profiles) {
    for (const auto& [label, spec] : specs) {
      const models::CostModel cost = spec.variant->cost(spec, w);
      const QueryResult r{profile.id,
                          spec,
                          w,
                          run.engine,
                          run.o.kernel,
                          cost,
                          sim::predict(run.engine, cost, w, profile, run.kernel, run.caller),
                          std::nullopt};
      Entry e{label,
              profile.id,
              r.prediction.time_s,
              cost.kv_cache_bytes,
              r.prediction.flops.total(),
              r.prediction.bytes.total(),
              to_json(r)};
      e.state_bytes = cost.state_bytes;
      if (run.layout) {
        const sim::ParallelPrediction p = sim::predict_parallel(
            run.engine, spec, w, profile, run.o.kernel, *run.layout, run.caller);
        e.parallel = parallel_json(p);
        e.per_device = p.per_device;
        e.cluster = p.cluster;
        run.heading = LayoutHeading{p.layout, p.devices_per_node};
      }
      const std::string warning = kernel_not_run_warning(run.o.kernel, run.engine, w, r.prediction,
                                                         fmt::format("{} ({})", profile.id, label));
      if (!warning.empty()) run.kernel_warnings.push_back(warning);
      const std::string fp32 = fp32_kernel_warning(w.dtype, main_schedule(r).value_or(""),
                                                   fmt::format("{} ({})", profile.id, label));
      if (!fp32.empty()) run.kernel_warnings.push_back(fp32);
      const std::string mla = flashmla_dtype_warning(cost, w, main_schedule(r).value_or(""),
                                                     profile, run.kernel.is_auto());
      if (!mla.empty()) run.kernel_warnings.push_back(mla);
      run.entries.push_back(std::move(e));
      run.roofline.add(profile, w.dtype, label, r.prediction.flops.tensor,
                       r.prediction.bytes.total(), r.prediction.time_s);
    }
  }
  return specs.size();
}

std::size_t compare_models(CompareRun& run) {
  std::vector<models::Preset> presets;
  if (!run.o.models.empty()) {
    for (const std::string& m : parse_model_axis("--models", run.o.models)) {
      presets.push_back(models::find_preset(m));
    }
  }
  for (const std::string& path : run.o.hf_configs) {  // labelled with the path as given
    presets.push_back({path, path, models::load_hf_config(path)});
  }
  for (const hw::Profile& profile : run.profiles) {
    for (const models::Preset& p : presets) {
      ModelQuery q{p.model, run.w, run.o.include_projections, run.engine, run.o.kernel};
      q.caller = run.caller;
      q.layout = run.layout;
      const ModelResult r = run_model(run.ctx.registry, q, profile);
      Entry e{p.name,          profile.id,  r.time_s,     r.kv_cache_bytes,
              r.flops.total(), r.hbm_bytes, to_json(q, r)};
      e.state_bytes = r.state_bytes;
      if (r.parallel) {
        e.parallel = {{"layout", layout_json(r.parallel->layout, r.parallel->devices_per_node)},
                      {"per_device", device_json(r.parallel->per_device)},
                      {"cluster", device_json(r.parallel->cluster)}};
        e.per_device = r.parallel->per_device;
        e.cluster = r.parallel->cluster;
        run.heading = LayoutHeading{r.parallel->layout, r.parallel->devices_per_node};
      }
      for (std::string& line : fp32_kernel_warnings(r, run.w.dtype, p.name)) {
        run.kernel_warnings.push_back(std::move(line));
      }
      for (std::string& line : flashmla_dtype_warnings(r, profile, run.o.kernel)) {
        run.kernel_warnings.push_back(std::move(line));
      }
      run.entries.push_back(std::move(e));
      run.roofline.add(profile, run.w.dtype, p.name, r.flops.tensor, r.hbm_bytes, r.time_s);
    }
  }
  return presets.size();
}

void run_compare(const Context& ctx, const CompareOptions& o) {
  const Format format = parse_format(o.format, true);
  check_plot_path(o.plot, o.output);
  const sim::EngineKind engine = sim::parse_engine(o.engine);
  const sim::KernelChoice kernel = sim::KernelChoice::parse(o.kernel);  // unknown names: exit 2
  const hw::Caller caller = parse_caller_flag(o.caller);
  const bool by_model = !o.models.empty() || !o.hf_configs.empty();
  if (o.variants.empty() == !by_model) {
    throw common::SpecError(
        "compare needs --variants LIST, or --models LIST and/or --hf-config FILE (not both kinds)");
  }
  if (by_model && o.layers_given) {
    throw common::SpecError(
        "--layers does not apply to a model comparison: --models and --hf-config take every "
        "layer's shape from the model");
  }
  // Non-causal-only variants ignore --causal: when every compared variant is one, the workload
  // is checked (kv_len below q_len is fine) and reported as non-causal.
  const models::Variant* non_causal = nullptr;
  if (!o.variants.empty()) {
    const std::vector<std::string> items = parse_word_axis("--variants", o.variants);
    const auto variant_of = [&](const std::string& item) {
      return &ctx.registry.find(item.substr(0, item.find(':')));
    };
    const bool all = std::all_of(items.begin(), items.end(), [&](const std::string& item) {
      return variant_of(item)->masking() == models::Masking::non_causal_only;
    });
    if (all) non_causal = variant_of(items.front());
  }
  CompareRun run{ctx,    o,  workload_from_flags(o, non_causal), engine, kernel,
                 caller, {}, parallel_layout(o.parallel),        {},     {},
                 {},     {}};
  const hw::ProfileCatalog catalog = load_catalog(ctx.hw);
  run.profiles = resolve_profiles(catalog, o.hw, ctx.hw);
  const std::size_t per_hw = o.variants.empty() ? compare_models(run) : compare_variants(run);
  const auto svg = [&] {
    return plot::render_roofline(
        run.roofline.chart(fmt::format("attnsim compare: {} on a roofline",
                                       o.variants.empty() ? "models" : "variants"),
                           describe_workload(run.w)));
  };
  write_with_plot(render(run.entries, per_hw, format, svg, run.heading), o.output, svg, o.plot);
  warn_unpriced_caller(caller, run.profiles);
  for (std::size_t i = 0; i < run.kernel_warnings.size(); ++i) {  // each line once
    const auto& w = run.kernel_warnings;
    if (std::find(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(i), w[i]) != w.begin() + i) {
      continue;
    }
    std::fprintf(stderr, "attnsim: warning: %s\n", w[i].c_str());
  }
}

}  // namespace

void add_compare_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<CompareOptions>();
  CLI::App* c = app.add_subcommand(
      "compare", "variants or models side by side on one workload, with ratios to the first");
  c->add_option("--variants", o->variants,
                "variants to compare, e.g. gqa:kv_heads=8,mla,ccgqa (parameters after ':')");
  c->add_option("--models", o->models,
                "model presets to compare, e.g. llama-3.1-70b,deepseek-v3, or 'all'")
      ->check(non_empty_model());
  c->add_option("--hf-config", o->hf_configs, "a Hugging Face config.json to compare (repeatable)")
      ->check(non_empty_hf_config());
  add_size_options(*c, *o);
  c->add_option("--phase", o->phase, "prefill | decode | fwd | bwd | train")->capture_default_str();
  c->add_flag("--causal,!--no-causal", o->causal, "causal mask (default) or none");
  c->add_option("--dtype", o->dtype, "fp32 | tf32 | fp16 | bf16 | fp8")->capture_default_str();
  c->add_option("--kv-dtype", o->kv_dtype, "K/V element type (default: --dtype)");
  CLI::Option* layers = c->add_option("--layers", o->layers, "attention layers (variants only)")
                            ->transform(decimal_integer(1, models::kMaxLayers))
                            ->capture_default_str();
  c->add_flag("--include-projections", o->include_projections, "also count the projections");
  c->add_option("--hw", o->hw, "comma-separated profiles, or 'all'")->capture_default_str();
  c->add_option("--engine", o->engine, "tile | roofline")->capture_default_str();
  add_kernel_option(*c, o->kernel);
  add_caller_option(*c, o->caller);
  c->add_option("--format", o->format, "table | json | csv | svg (a roofline chart)")
      ->capture_default_str();
  add_output_option(*c, o->output, "write to FILE instead of stdout");
  add_plot_option(*c, o->plot);
  add_hw_options(*c, ctx.hw);
  add_parallel_options(*c, o->parallel);
  c->callback([&ctx, o, layers] {
    o->layers_given = layers->count() > 0;
    run_compare(ctx, *o);
  });
}

}  // namespace cli
