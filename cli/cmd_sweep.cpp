// attnsim sweep: the query flags as lists or ranges; one row per point and profile, streamed in a
// fixed order whatever the thread count.
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <optional>
#include <set>
#include <stdexcept>
#include <thread>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/context.hpp"
#include "cli/flags.hpp"
#include "cli/output.hpp"
#include "cli/parallel_flags.hpp"
#include "cli/plot_output.hpp"
#include "cli/plot_sweep.hpp"
#include "cli/printer.hpp"
#include "cli/sweep_axes.hpp"
#include "cli/sweep_options.hpp"
#include "cli/sweep_points.hpp"
#include "cli/sweep_spec.hpp"
#include "common/errors.hpp"
#include "models/model_presets.hpp"
#include "sim/schedule.hpp"
#include "sim/sweep.hpp"

namespace cli {

namespace {

constexpr std::int64_t kMaxThreads = 4096;  // --threads: more than any machine has cores

SweepFormat parse_sweep_format(const std::string& name) {
  if (name == "csv") return SweepFormat::csv;
  if (name == "json") return SweepFormat::json;
  if (name == "jsonl") return SweepFormat::jsonl;
  throw common::SpecError(
      fmt::format("unknown format '{}'; sweep writes csv, json or jsonl", name));
}

// The K-th of N contiguous slices of the points (K 1-based): the 1st writes the opening of the
// output (CSV header, "["), the N-th its closing, whichever points they hold, so that an empty
// slice cannot take them from its neighbour.
struct Shard {
  std::size_t first = 0, count = 0;
  bool opens = true, closes = true;
};

Shard shard_range(const std::string& shard, std::size_t count) {
  if (shard.empty()) return {0, count, true, true};
  const auto bad = [&] {
    return common::SpecError(
        fmt::format("--shard '{}': expected K/N with 1 <= K <= N, e.g. 2/8", shard));
  };
  const auto slash = shard.find('/');
  if (slash == std::string::npos) throw bad();
  std::vector<std::int64_t> k, n;
  try {
    k = parse_int_axis("--shard", shard.substr(0, slash));
    n = parse_int_axis("--shard", shard.substr(slash + 1));
  } catch (const common::SpecError&) {
    throw bad();  // K and N are plain integers: the axis syntax the parser names does not apply
  }
  if (k.size() != 1 || n.size() != 1 || k[0] < 1 || k[0] > n[0]) throw bad();
  const auto part = [&](std::int64_t i) {
    return static_cast<std::size_t>(static_cast<double>(count) * static_cast<double>(i) /
                                    static_cast<double>(n[0]));
  };
  return {part(k[0] - 1), part(k[0]) - part(k[0] - 1), k[0] == 1, k[0] == n[0]};
}

// Whether any point before `first` gives a row (JSON: this shard's first row then follows a
// separator). Walks back from `first` in growing blocks, each evaluated on `threads`: the nearest
// points usually run; after a long run of skipped points it costs at most those points once.
bool rows_before(const SweepAxes& axes, std::size_t first, unsigned threads) {
  std::size_t end = first, span = 64;
  while (end > 0) {
    const std::size_t begin = end > span ? end - span : 0;
    bool any = false;
    sim::run_sweep(
        {begin, end - begin, threads, 4096},
        [&](std::size_t i, std::string& row) {
          std::string why;
          if (!format_point(axes, i, SweepFormat::jsonl, row, why)) row.clear();
        },
        [&](const std::string& row) { any = any || !row.empty(); });
    if (any) return true;
    end = begin;
    span *= 8;
  }
  return false;
}

// --plot: what the chart needs to know about the axes before the sweep starts.
std::optional<SweepPlot> make_plot(const SweepOptions& o, const SweepAxes& a, std::size_t count) {
  if (o.plot.empty()) return std::nullopt;
  check_plot_path(o.plot, o.output);
  SweepAxisSizes sizes;
  sizes.batch = a.batches.size();
  sizes.seq_len = a.seq_lens.size();
  sizes.q_len = a.q_lens.size();
  sizes.kv_len = a.kv_lens.size();
  sizes.points = count;
  sizes.tp = a.tps.size();
  sizes.cp = a.cps.size();
  sizes.parallel = a.parallel;
  for (std::size_t i = 0; i < a.param_names.size(); ++i) {
    const std::string& name = a.param_names[i];
    if (std::find(a.swept_params.begin(), a.swept_params.end(), name) == a.swept_params.end()) {
      continue;  // a default, or a parameter that follows a swept one (v_head_dim)
    }
    std::set<double> values;
    for (const auto& spec_values : a.param_values) {
      if (spec_values[i]) values.insert(*spec_values[i]);
    }
    // Counted in tokens where a variant's table says so (every variant that has a name agrees).
    const bool tokens = std::any_of(a.specs.begin(), a.specs.end(), [&](const auto& spec) {
      for (const models::ParamInfo& p : spec.variant->params()) {
        if (p.name == name) return p.unit == models::ParamUnit::tokens;
      }
      return false;
    });
    sizes.params.push_back({name, values.size(), tokens});
  }
  return SweepPlot(plan_sweep_plot(sizes, o.plot_x, o.plot_y), csv_header(a));
}

// --plot: a sweep whose rows would draw more series than a chart holds is refused before its first
// row. The axes bound the series (one per combination of the axes other than x); only when that
// bound is over the limit are the points priced once, to count the series their rows draw.
void check_plot_series(const SweepAxes& axes, const SweepPlot& plot, std::size_t first,
                       std::size_t count, unsigned threads) {
  const std::size_t bound = std::min(count, point_count(axes) / plot.plan().x_values);
  if (bound <= kMaxPlotSeries) return;
  SweepPlot trial = plot;  // add() throws at the first series over the limit
  sim::run_sweep(
      {first, count, threads, 4096},
      [&](std::size_t i, std::string& row) {
        std::string why;
        if (!format_point(axes, i, SweepFormat::csv, row, why)) row.clear();
      },
      [&](const std::string& row) {
        if (!row.empty()) trial.add(row);
      });
}

// A sweep's kernel column is the kernel asked for, not the one `auto` ran, so fp32 points priced
// with a library kernel that has no fp32 path (fp32_kernel_warning) draw one warning for the
// sweep when the tile engine prices fp32 with `auto` or with such a kernel.
void warn_fp32_sweep(const SweepAxes& axes) {
  const auto has = [](const auto& list, auto value) {
    return std::find(list.begin(), list.end(), value) != list.end();
  };
  const sim::KernelChoice kernel = sim::KernelChoice::parse(axes.kernel);
  if (!has(axes.dtypes, models::DType::fp32) || !has(axes.engines, sim::EngineKind::tile) ||
      (!kernel.is_auto() && !kernel.schedule()->sixteen_bit_inputs)) {
    return;
  }
  std::fprintf(
      stderr,
      "attnsim: warning: --dtype fp32: FlashAttention, cuDNN, FlashMLA and split-KV kernels "
      "have no fp32 path; fp32 points run with them are priced with their tiling on the "
      "FP32 pipes (attnsim query --dtype fp32 names a point's kernel)\n");
}

// Streams the rows to stdout or -o and draws --plot. Both outputs are opened before the first
// point is priced, and the chart is put in place before the -o file is: a chart that cannot be
// written leaves no new -o file.
void run_sweep_command(const Context& ctx, const SweepOptions& o) {
  const SweepFormat format = parse_sweep_format(o.format);
  const SweepAxes axes = make_axes(ctx, o);
  const std::size_t total = point_count(axes);
  const Shard shard = shard_range(o.shard, total);
  const std::size_t first = shard.first, count = shard.count;
  std::optional<SweepPlot> plot = make_plot(o, axes, count);
  const bool plot_csv = plot && format != SweepFormat::csv;  // rows for the plot, beside the output
  const bool show_progress =
      o.progress == "yes" || (o.progress == "auto" && isatty(STDERR_FILENO) != 0);
  const unsigned threads =
      o.threads > 0 ? o.threads : std::max(1u, std::thread::hardware_concurrency());
  if (plot) check_plot_series(axes, *plot, first, count, threads);
  OutputFile sink = open_output(o.output);
  std::optional<OutputFile> chart;
  if (plot) chart.emplace(o.plot);
  RowPrinter printer(format, csv_header(axes), shard.opens, shard.closes,
                     format == SweepFormat::json && rows_before(axes, first, threads));
  // The opening (CSV header, '[') goes out with the first row, so that a sweep whose every point
  // is refused prints nothing on stdout either.
  bool opened = false;
  const auto open = [&] {
    if (!opened) sink.write(printer.begin());
    opened = true;
  };
  std::size_t skipped = 0;
  std::string first_skip;
  SweepWarnings warnings;
  sim::run_sweep(
      {first, count, threads, 4096},
      [&](std::size_t i, std::string& row) {
        std::string why;
        if (!format_point(axes, i, format, row, why, &warnings)) {
          row = "\x01" + why;  // marks a skipped point
        }
        if (plot_csv && row[0] != '\x01') {
          row += '\x02';  // the plot's CSV row follows the output row
          format_point(axes, i, SweepFormat::csv, row, why);
        }
      },
      [&](const std::string& row) {
        if (!row.empty() && row[0] == '\x01') {
          if (skipped++ == 0) first_skip = row.substr(1);
          return;
        }
        const std::size_t csv_at = plot_csv ? row.find('\x02') : std::string::npos;
        if (plot) plot->add(std::string_view(row).substr(csv_at == row.npos ? 0 : csv_at + 1));
        const std::string_view out = std::string_view(row).substr(0, csv_at);
        open();
        sink.write(printer.before_row());
        sink.write(out);
      },
      [&](std::size_t done) {
        if (show_progress) {
          std::fprintf(stderr, "\r[%-30s] %zu/%zu points",
                       std::string(30 * done / std::max<std::size_t>(1, count), '=').c_str(), done,
                       count);
        }
      });
  if (show_progress) std::fprintf(stderr, "\n");
  // A sweep with no point left is bad input, as a query of that point is: exit 2, no output
  // file and nothing on stdout. (A shard keeps its opening and closing for the shards to
  // concatenate, and warns.)
  if (o.shard.empty() && count > 0 && skipped == count) {
    throw common::SpecError(fmt::format(
        "no point of the sweep can be priced: all {} skipped (first: {})", count, first_skip));
  }
  open();
  sink.write(printer.end());
  bool empty_chart = false;
  if (chart) {
    const plot::SeriesChart drawn = plot->chart();
    empty_chart = drawn.series.empty();
    chart->write(plot::render_series(drawn));
    chart->commit();
  }
  sink.commit();
  if (empty_chart) {
    std::fprintf(stderr,
                 "attnsim: warning: --plot: no row of this sweep%s has a value on the x axis "
                 "(%s); the chart is empty\n",
                 o.shard.empty() ? "" : " shard", plot->plan().x_flag.c_str());
  }
  for (const std::string& line : axes.warnings)
    std::fprintf(stderr, "attnsim: warning: %s\n", line.c_str());
  if (skipped > 0) {
    std::fprintf(stderr, "attnsim: warning: %zu of %zu points skipped (first: %s)\n", skipped,
                 count, first_skip.c_str());
  }
  warn_unpriced_caller(axes.caller, axes.profiles);
  warn_fp32_sweep(axes);
  for (const std::string& line : warnings.lines()) {
    std::fprintf(stderr, "attnsim: warning: %s\n", line.c_str());
  }
}

}  // namespace

void add_sweep_command(CLI::App& app, Context& ctx) {
  auto o = std::make_shared<SweepOptions>();
  CLI::App* s = app.add_subcommand(
      "sweep", "many workloads: any query flag as a list (1,8,64) or range (1024..131072:x2)");
  s->add_option("--variant", o->variant, "variants, comma-separated")->capture_default_str();
  s->add_option("--heads", o->heads, "query heads (list or range)");
  s->add_option("--kv-heads", o->kv_heads, "key/value heads (list or range)");
  s->add_option("--head-dim", o->head_dim, "head dimension (list or range)");
  s->add_option("--param", o->params,
                "variant parameter name=values for the variants that have it: one value, a list "
                "or a range (window=256,1k,4k; top_k=4..32:x2); repeatable");
  s->add_option("--phase", o->phase, "phases, comma-separated")->capture_default_str();
  s->add_option("--batch", o->batch, "batch sizes")->capture_default_str();
  s->add_option("--seq-len", o->seq_len, "sequence lengths (k = 1024, M = 2^20)")
      ->capture_default_str();
  s->add_option("--q-len", o->q_len, "query tokens (default: --seq-len; decode 1)");
  s->add_option("--kv-len", o->kv_len, "key/value tokens (default: --seq-len)");
  s->add_flag("--causal,!--no-causal", o->causal, "causal mask (default) or none");
  s->add_option("--dtype", o->dtype, "element types")->capture_default_str();
  s->add_option("--kv-dtype", o->kv_dtype, "K/V element type (default: --dtype)");
  s->add_option("--layers", o->layers, "attention layers")
      ->transform(decimal_integer(1, models::kMaxLayers))
      ->capture_default_str();
  s->add_flag("--include-projections", o->include_projections, "also count the projections");
  s->add_option("--hw", o->hw, "profiles, or 'all'")->capture_default_str();
  s->add_option("--engine", o->engine,
                "engines, comma-separated: tile, roofline (both: tile,roofline)")
      ->capture_default_str();
  add_kernel_option(*s, o->kernel);
  add_caller_option(*s, o->caller);
  s->add_option("--format", o->format, "csv | json | jsonl")->capture_default_str();
  add_output_option(*s, o->output, "write to FILE instead of stdout");
  add_plot_option(*s, o->plot);
  s->add_option("--plot-x", o->plot_x,
                "the plot's x axis when several vary: seq-len | batch | q-len | kv-len | tp | cp");
  s->add_option("--plot-y", o->plot_y,
                "the plot's measure: time | tflops | kv-bytes; with a layout also device-time | "
                "compute | comm | exposed-comm | device-kv-bytes (per device)")
      ->capture_default_str();
  s->add_option("--threads", o->threads, "worker threads (default: all cores)")
      ->transform(decimal_integer(1, kMaxThreads));
  s->add_option("--shard", o->shard, "K/N: the K-th of N equal slices, for parallel jobs")
      ->check(non_empty("an empty value; allowed: K/N with 1 <= K <= N, e.g. 2/8", "K/N"));
  // true/false too: a spec file's boolean ({"progress": true}) arrives as that text.
  s->add_option("--progress", o->progress,
                "auto (when stderr is a terminal) | yes | no (true | false)")
      ->transform(CLI::Validator(
          [](std::string& value) -> std::string {
            if (value == "true" || value == "false") value = value == "true" ? "yes" : "no";
            if (value == "auto" || value == "yes" || value == "no") return "";
            return fmt::format("'{}' is not a choice; allowed: auto, yes, no (or true, false)",
                               value);
          },
          "auto|yes|no"))
      ->capture_default_str();
  s->add_option("--model", o->model, "model presets, comma-separated, or 'all': whole models")
      ->check(non_empty_model());
  s->add_option("--hf-config", o->hf_configs, "a Hugging Face config.json (repeatable)")
      ->check(non_empty_hf_config());
  s->add_option("--spec", o->spec, "a JSON file of these flags (the command line wins)");
  add_hw_options(*s, ctx.hw);
  add_layout_axis_options(*s, o->layout);
  s->callback([&ctx, o, s] {
    std::vector<SweepSpecEntry> from_spec;
    if (!o->spec.empty()) from_spec = apply_spec(*s, o->spec);
    for (const char* flag : kVariantShapeFlags) {
      if (o->variant_flag.empty() && s->get_option(flag)->count() > 0) o->variant_flag = flag;
    }
    // The plot's axis and measure mean nothing without a plot (from the command line or the
    // spec file alike).
    for (const char* flag : {"--plot-x", "--plot-y"}) {
      if (o->plot.empty() && s->get_option(flag)->count() > 0) {
        throw common::SpecError(fmt::format("{} needs --plot FILE.svg", flag));
      }
    }
    try {
      run_sweep_command(ctx, *o);
    } catch (const std::invalid_argument& e) {  // common::SpecError, hw::ProfileError
      rethrow_naming_spec(e, o->spec, from_spec);
    }
  });
}

}  // namespace cli
