// attnsim query: one workload, one variant, one or more hardware profiles.
#include <memory>
#include <optional>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/context.hpp"
#include "cli/flags.hpp"
#include "cli/model_query.hpp"
#include "cli/parallel_flags.hpp"
#include "cli/parallel_report.hpp"
#include "cli/plot_output.hpp"
#include "cli/report.hpp"
#include "cli/workload_flags.hpp"
#include "common/errors.hpp"
#include "common/numbers.hpp"
#include "models/model_presets.hpp"
#include "sim/schedule.hpp"

namespace cli {

namespace {

struct QueryOptions {
  std::string variant = "mha";
  std::optional<std::int64_t> heads, kv_heads, head_dim, v_head_dim;
  std::vector<std::string> params;  // --param key=value
  std::int64_t batch = 1;
  std::int64_t seq_len = 4096;
  std::optional<std::int64_t> q_len, kv_len;
  std::string phase = "prefill";
  bool causal = true;
  std::string dtype = "bf16";
  std::optional<std::string> kv_dtype;
  std::int64_t layers = 1;
  bool include_projections = false;
  std::optional<std::int64_t> hidden_size;  // absent: heads x head dim
  std::string hw = "h100";
  std::string engine = "tile";
  std::string kernel = "auto";
  std::string caller = "direct";
  std::string format = "table";
  std::string output;
  std::string model;      // --model PRESET
  std::string hf_config;  // --hf-config FILE
  ParallelOptions parallel;
  std::string plot;      // --plot FILE.svg
  std::string measured;  // --measured TIME: a kernel's measured time on the one --hw
};

models::AttentionSpec make_spec(const models::Registry& registry, const QueryOptions& o) {
  const models::Variant& variant = registry.find(o.variant);
  models::ParamValues given;
  auto put = [&](const char* name, const std::optional<std::int64_t>& v) {
    if (v) given.emplace_back(name, static_cast<double>(*v));
  };
  put("heads", o.heads);
  put("kv_heads", o.kv_heads);
  put("head_dim", o.head_dim);
  put("v_head_dim", o.v_head_dim);
  for (const std::string& kv : o.params) {
    given.push_back(parse_param_assignment("--param", kv, o.variant));
  }
  if (o.hidden_size && !o.include_projections)
    throw common::SpecError(
        "--hidden-size is the width of the Q/K/V/O projections: it needs --include-projections");
  return variant.make_spec(given, {o.include_projections, o.hidden_size.value_or(0)});
}

// --model or --hf-config: every layer group of the model on each profile.
void run_model_query(const Context& ctx, const QueryOptions& o, const models::Workload& workload,
                     const std::vector<hw::Profile>& profiles,
                     const std::optional<sim::ParallelLayout>& layout) {
  ModelQuery query;
  if (o.model.empty()) {
    query.model = models::load_hf_config(o.hf_config);
    query.model.name = o.hf_config;  // labelled with the path as given, as sweep, compare and
                                     // models show label a config
  } else {
    query.model = models::find_preset(o.model).model;
  }
  query.workload = workload;
  query.include_projections = o.include_projections;
  query.engine = sim::parse_engine(o.engine);
  query.kernel = o.kernel;
  query.caller = parse_caller_flag(o.caller);
  query.layout = layout;
  std::vector<ModelResult> results;
  RooflineBuilder roofline;
  for (const hw::Profile& profile : profiles) {
    results.push_back(run_model(ctx.registry, query, profile));
    for (const GroupResult& g : results.back().groups) {
      const sim::Prediction& p = g.result.prediction;
      roofline.add(profile, workload.dtype,
                   fmt::format("{} ({})", models::to_string(g.group->kind), g.group->variant),
                   p.flops.tensor, p.bytes.total(), p.time_s);
    }
  }
  const auto svg = [&] {
    return plot::render_roofline(
        roofline.chart(fmt::format("attnsim roofline: {} attention layers", query.model.name),
                       describe_workload(workload)));
  };
  write_with_plot(render_models(query, results, parse_format(o.format, true), svg), o.output, svg,
                  o.plot);
  for (std::size_t i = 0; i < results.size(); ++i) {
    for (const std::string& line :
         fp32_kernel_warnings(results[i], workload.dtype, query.model.name)) {
      std::fprintf(stderr, "attnsim: warning: %s\n", line.c_str());
    }
    for (const std::string& line : flashmla_dtype_warnings(results[i], profiles[i], o.kernel)) {
      std::fprintf(stderr, "attnsim: warning: %s\n", line.c_str());
    }
  }
}

void run_query(const Context& ctx, const QueryOptions& o) {
  const Format format = parse_format(o.format, true);
  check_plot_path(o.plot, o.output);
  const sim::EngineKind engine = sim::parse_engine(o.engine);
  const hw::Caller caller = parse_caller_flag(o.caller);
  const sim::KernelChoice kernel = sim::KernelChoice::parse(o.kernel);  // unknown names: exit 2
  const bool model = !o.model.empty() || !o.hf_config.empty();
  // The variant first: its causal flag (header, JSON, plot) is the one the workload checks.
  const std::optional<models::AttentionSpec> variant_spec =
      model ? std::nullopt : std::optional<models::AttentionSpec>(make_spec(ctx.registry, o));
  const models::Workload workload =
      workload_from_flags(o, variant_spec ? variant_spec->variant : nullptr);
  const hw::ProfileCatalog catalog = load_catalog(ctx.hw);
  const std::vector<hw::Profile> profiles = resolve_profiles(catalog, o.hw, ctx.hw);
  const std::optional<sim::ParallelLayout> layout = parallel_layout(o.parallel);
  std::optional<double> measured;
  if (!o.measured.empty()) {
    measured = parse_measured_time("--measured", o.measured);
    if (profiles.size() != 1) {
      throw common::SpecError(
          fmt::format("--measured is one kernel's time on one device; give one --hw (got {})",
                      profiles.size()));
    }
    if (model || layout) {
      throw common::SpecError(fmt::format(
          "--measured compares one kernel call on one device with its floor; it does not take "
          "{} (give the layer's --variant and shape)",
          model ? (o.model.empty() ? "--hf-config" : "--model") : "a multi-device layout"));
    }
  }
  if (model) {
    run_model_query(ctx, o, workload, profiles, layout);
    warn_unpriced_caller(caller, profiles);
    return;
  }
  const models::AttentionSpec& spec = *variant_spec;
  const models::CostModel cost = spec.variant->cost(spec, workload);
  std::vector<QueryResult> results;
  std::vector<sim::ParallelPrediction> parallel;
  RooflineBuilder roofline;
  for (const hw::Profile& profile : profiles) {
    results.push_back({profile.id, spec, workload, engine, o.kernel, cost,
                       sim::predict(engine, cost, workload, profile, kernel, caller),
                       std::nullopt});
    const sim::Prediction& p = results.back().prediction;
    if (measured) {
      // The speed of light of the work: the roofline at the datasheet peaks, no fixed costs.
      hw::Profile peak = profile;
      hw::Calibration& c = peak.calibration;
      c.tensor_fraction = c.hbm_fraction = c.vector_fraction = c.exp_fraction = 1;
      c.kernel_launch_s = 0;
      const sim::Prediction floor =
          sim::predict(sim::EngineKind::roofline, cost, workload, peak, kernel, hw::Caller::direct);
      results.back().measured =
          MeasuredComparison{*measured, floor.time_s, std::string(sim::to_string(floor.bound))};
    }
    roofline.add(profile, workload.dtype, std::string(spec.variant->name()), p.flops.tensor,
                 p.bytes.total(), p.time_s);
    if (layout) {
      parallel.push_back(
          sim::predict_parallel(engine, spec, workload, profile, o.kernel, *layout, caller));
    }
  }
  const auto svg = [&] {
    return plot::render_roofline(roofline.chart(
        fmt::format("attnsim roofline: {}", spec.variant->name()), describe_workload(workload)));
  };
  write_with_plot(layout ? render_parallel_results(results, parallel, format)
                         : render_results(results, format, svg),
                  o.output, svg, o.plot);
  warn_unpriced_caller(caller, profiles);
  for (const QueryResult& r : results) {
    warn_kernel_not_run(o.kernel, engine, workload, r.prediction, r.hw);
    const std::string fp32 =
        fp32_kernel_warning(workload.dtype, main_schedule(r).value_or(""), r.hw);
    if (!fp32.empty()) std::fprintf(stderr, "attnsim: warning: %s\n", fp32.c_str());
  }
  for (const QueryResult& r : results) {
    if (r.measured && r.measured->measured_s < r.measured->floor_s) {
      std::fprintf(stderr,
                   "attnsim: warning: the measured %s is below the floor of this work on %s (%s): "
                   "check the shape, dtypes and device the time was measured with\n",
                   human_time(r.measured->measured_s).c_str(), r.hw.c_str(),
                   human_time(r.measured->floor_s).c_str());
    }
  }
  for (std::size_t i = 0; i < results.size(); ++i) {
    const std::string mla = flashmla_dtype_warning(
        cost, workload, main_schedule(results[i]).value_or(""), profiles[i], kernel.is_auto());
    if (!mla.empty()) std::fprintf(stderr, "attnsim: warning: %s\n", mla.c_str());
  }
}

}  // namespace

void add_query_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<QueryOptions>();
  CLI::App* q = app.add_subcommand(
      "query", "predict FLOPs, bytes, KV cache and time for one workload on one or more devices");
  std::vector<CLI::Option*> shape_options = {
      q->add_option("--variant", opts->variant, "attention variant (see `attnsim variants list`)")
          ->capture_default_str(),
      // The widest range any variant allows (models/variant.hpp; tests/cli/test_cli_flags.cpp
      // checks every variant against it): a value beyond it is refused with that range here, and
      // the variant checks its own range (`attnsim variants show NAME`).
      q->add_option("--heads", opts->heads, "query heads")
          ->transform(decimal_integer(1, kMaxHeadsFlag)),
      q->add_option("--kv-heads", opts->kv_heads, "key/value heads")
          ->transform(decimal_integer(1, kMaxHeadsFlag)),
      q->add_option("--head-dim", opts->head_dim, "query/key head dimension")
          ->transform(decimal_integer(1, kMaxHeadDimFlag)),
      q->add_option("--v-head-dim", opts->v_head_dim, "value head dimension (default: head dim)")
          ->transform(decimal_integer(1, kMaxHeadDimFlag)),
      q->add_option("--param", opts->params,
                    "variant parameter name=value, e.g. window=4096 (repeatable; see variants "
                    "show)"),
      q->add_option("--layers", opts->layers, "attention layers (totals are multiplied)")
          ->transform(decimal_integer(1, models::kMaxLayers))
          ->capture_default_str(),
      q->add_option("--hidden-size", opts->hidden_size,
                    "model width for projections (default: heads x head dim)")
          ->transform(decimal_integer(1, models::kMaxHiddenSize))};
  CLI::Option* model =
      q->add_option("--model", opts->model,
                    "a model preset: all its attention layers (see `attnsim models list`)")
          ->check(non_empty_model());
  CLI::Option* hf = q->add_option("--hf-config", opts->hf_config,
                                  "a Hugging Face config.json: all the model's attention layers")
                        ->check(non_empty_hf_config());
  model->excludes(hf);
  for (CLI::Option* shape : shape_options) {
    model->excludes(shape);
    hf->excludes(shape);
  }
  add_size_options(*q, *opts);
  q->add_option("--phase", opts->phase, "prefill | decode | fwd | bwd | train")
      ->capture_default_str();
  q->add_flag("--causal,!--no-causal", opts->causal, "causal mask (default) or none");
  q->add_option("--dtype", opts->dtype, "fp32 | tf32 | fp16 | bf16 | fp8")->capture_default_str();
  q->add_option("--kv-dtype", opts->kv_dtype, "K/V element type (default: --dtype)");
  q->add_flag("--include-projections", opts->include_projections,
              "also count the Q/K/V/O projection GEMMs");
  q->add_option("--hw", opts->hw, "comma-separated profile ids or aliases, or 'all'")
      ->capture_default_str();
  q->add_option("--engine", opts->engine, "tile | roofline")->capture_default_str();
  add_kernel_option(*q, opts->kernel);
  add_caller_option(*q, opts->caller);
  q->add_option("--format", opts->format, "table | json | csv | svg (a roofline chart)")
      ->capture_default_str();
  add_output_option(*q, opts->output, "write to FILE instead of stdout");
  add_plot_option(*q, opts->plot);
  q->add_option("--measured", opts->measured,
                "a kernel's measured time on the one --hw, with its unit (812us, 1.2ms): how far "
                "it is from the floor of its work (every FLOP and compulsory HBM byte at the "
                "profile's peak rates, no launch cost) and from the prediction");
  add_hw_options(*q, ctx.hw);
  add_parallel_options(*q, opts->parallel);
  q->callback([&ctx, opts] { run_query(ctx, *opts); });
}

}  // namespace cli
