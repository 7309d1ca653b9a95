// attnsim hw list | show ID: the hardware profiles a run can name.
#include <algorithm>
#include <cctype>
#include <ctime>
#include <filesystem>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include "cli/context.hpp"
#include "cli/flags.hpp"
#include "cli/printer.hpp"
#include "cli/report.hpp"
#include "common/errors.hpp"
#include "common/text.hpp"
#include "hwprofiles/catalog.hpp"
#include "hwprofiles/profile_loader.hpp"
#include "validate/cpu/cpu_ceilings.hpp"
#include "validate/cpu/cpu_probe.hpp"

namespace cli {

namespace {

struct HwCommandOptions {
  std::string format = "table";
  std::string id;
  double budget_s = 2;
  std::string output;
};

// `aliases`: the names that resolve to `p` (ProfileCatalog::aliases), not its file's list, which
// may hold one a user profile took over as its id.
nlohmann::ordered_json summary_row(const hw::Profile& p, const std::vector<std::string>& aliases) {
  nlohmann::ordered_json row = {
      {"id", p.id}, {"name", p.name}, {"aliases", aliases}, {"sm_count", p.compute.sm_count}};
  for (hw::Precision prec : hw::kAllPrecisions) {
    row[std::string(hw::to_string(prec)) + "_TFLOPS"] =
        p.supports(prec) ? nlohmann::ordered_json(p.tensor_peak_flops(prec) / 1e12) : nullptr;
  }
  row["hbm_GBps"] = p.memory.hbm_bandwidth_Bps / 1e9;
  row["hbm_GB"] = p.memory.hbm_capacity_bytes / 1e9;
  row["origin"] = p.origin;
  return row;
}

std::string list_table(const hw::ProfileCatalog& catalog) {
  // Columns as wide as their longest entry, so that long names and alias lists stay aligned.
  std::size_t id_w = 2, name_w = 4, alias_w = 7;
  std::vector<std::string> aliases;
  for (const hw::Profile& p : catalog.profiles()) {
    aliases.push_back(fmt::format("{}", fmt::join(catalog.aliases(p.id), " ")));
    id_w = std::max(id_w, p.id.size());
    name_w = std::max(name_w, p.name.size());
    alias_w = std::max(alias_w, aliases.back().size());
  }
  std::ostringstream out;
  out << fmt::format("{:<{}} {:<{}} {:<{}} {:>5} {:>9} {:>9} {:>9}\n", "id", id_w, "name", name_w,
                     "aliases", alias_w, "SMs", "bf16 TF", "HBM GB/s", "HBM GB");
  std::size_t i = 0;
  for (const hw::Profile& p : catalog.profiles()) {
    out << fmt::format("{:<{}} {:<{}} {:<{}} {:>5} {:>9.1f} {:>9.0f} {:>9.0f}\n", p.id, id_w,
                       p.name, name_w, aliases[i++], alias_w, p.compute.sm_count,
                       p.tensor_peak_flops(hw::Precision::bf16) / 1e12,
                       p.memory.hbm_bandwidth_Bps / 1e9, p.memory.hbm_capacity_bytes / 1e9);
  }
  return out.str();
}

void show_table_rows(const nlohmann::json& value, const std::string& prefix,
                     std::ostringstream& out) {
  for (const auto& [key, v] : value.items()) {
    const std::string name = prefix.empty() ? key : prefix + "." + key;
    if (v.is_object()) {
      show_table_rows(v, name, out);
    } else if (v.is_array()) {
      for (std::size_t i = 0; i < v.size(); ++i) {
        out << fmt::format("{:<38} {}\n", i == 0 ? name : "", v[i].get<std::string>());
      }
    } else {
      // Numbers as every printer writes them (cli::Number): a count of SMs is 148, not 148.0.
      const std::string text = v.is_string()         ? v.get<std::string>()
                               : v.is_number_float() ? fmt::format("{}", Number{v.get<double>()})
                                                     : v.dump();
      out << fmt::format("{:<38} {}\n", name, text);
    }
  }
}

// A summary row as a CSV row: a cell holds one value, so the aliases are joined by spaces.
nlohmann::ordered_json csv_row(const hw::Profile& p, const std::vector<std::string>& aliases) {
  nlohmann::ordered_json row = summary_row(p, aliases);
  row["aliases"] = fmt::format("{}", fmt::join(aliases, " "));
  return row;
}

void run_list(const Context& ctx, const HwCommandOptions& o) {
  const Format format = parse_format(o.format);
  const hw::ProfileCatalog catalog = load_catalog(ctx.hw);
  const auto rows = [&](auto row_of) {
    std::vector<nlohmann::ordered_json> out;
    for (const hw::Profile& p : catalog.profiles()) out.push_back(row_of(p, catalog.aliases(p.id)));
    return out;
  };
  write_output(print({[&] { return list_table(catalog); },
                      [&] { return json_text(nlohmann::ordered_json(rows(summary_row))); },
                      [&] { return csv_from_objects(rows(csv_row)); }},
                     format),
               "");
}

void run_show(const Context& ctx, const HwCommandOptions& o) {
  const Format format = parse_format(o.format);
  const hw::ProfileCatalog catalog = load_catalog(ctx.hw);
  if (o.id.empty()) {
    std::vector<std::string> ids;
    for (const hw::Profile& known : catalog.profiles()) ids.push_back(known.id);
    throw common::SpecError(
        fmt::format("hw show needs a profile id or alias; known: {}", fmt::join(ids, ", ")));
  }
  const hw::Profile p = resolve_profile(catalog, o.id, ctx.hw);
  const nlohmann::json doc = hw::to_json(p);
  const auto table = [&] {
    std::ostringstream out;
    out << fmt::format("{:<38} {}\n", "origin", p.origin);
    show_table_rows(doc, "", out);
    return out.str();
  };
  write_output(
      print({table, [&] { return json_text(doc); }, csv_of({csv_row(p, catalog.aliases(p.id))})},
            format),
      "");
}

// The id `hw probe -o FILE` writes: FILE's name without .json (--hw-dir requires that of a profile
// file), else host-cpu. Checked before the measurement: a folder, a name that is not an id, or a
// built-in profile's id or alias (the probe would replace or shadow it) is bad input.
std::string probe_id(const std::string& output) {
  if (output.empty() || output == "-") return validate::kProbeProfileId;
  const std::filesystem::path file(output);
  std::error_code ec;
  if (std::filesystem::is_directory(file, ec) || output.back() == '/')
    throw common::SpecError(fmt::format("-o '{}' is a directory; give DIR/NAME.json", output));
  if (file.extension() != ".json" || file.stem().empty()) return validate::kProbeProfileId;
  const std::string id = file.stem().string();
  if (const std::string problem = hw::profile_name_problem(id); !problem.empty())
    throw common::SpecError(
        fmt::format("-o '{}': the file name without .json is the probe's id, and '{}' is not a "
                    "profile name: {}; allowed: {}",
                    output, id, problem, hw::kProfileNameForm));
  for (const hw::EmbeddedFile& f : hw::builtin_profile_files()) {
    std::vector<std::string_view> names = f.aliases;
    names.push_back(f.id);
    for (std::string_view name : names) {
      if (common::ascii_lower(name) == common::ascii_lower(id))
        throw common::SpecError(
            fmt::format("-o '{}': '{}' names the built-in profile '{}'; give the probe a name of "
                        "its own",
                        output, id, f.id));
    }
  }
  return id;
}

// Measures this machine's core and prints (or writes) its profile; load it with --hw-dir.
void run_probe(const HwCommandOptions& o) {
  const std::string id = probe_id(o.output);
  const validate::cpu::CpuCeilings ceilings = validate::cpu::measure_cpu_ceilings(o.budget_s);
  const std::time_t now = std::time(nullptr);
  char date[16];
  std::strftime(date, sizeof(date), "%Y-%m-%d", std::gmtime(&now));
  const hw::Profile p = validate::probe_profile(ceilings, date, id);
  write_output(hw::to_json(p).dump(2) + "\n", o.output);
}

}  // namespace

void add_hw_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<HwCommandOptions>();
  CLI::App* hw_cmd = app.add_subcommand("hw", "list and show hardware profiles");
  hw_cmd->require_subcommand(1);
  CLI::App* list = hw_cmd->add_subcommand("list", "list the known hardware profiles");
  list->add_option("--format", opts->format, "table | json | csv")->capture_default_str();
  // No --hw-set: it changes one profile's field for a run, and a list of every profile has none
  // to apply it to (hw show ID --hw-set shows one profile with it).
  add_hw_dir_option(*list, ctx.hw);
  list->callback([&ctx, opts] { run_list(ctx, *opts); });
  CLI::App* show = hw_cmd->add_subcommand("show", "show every field of one profile");
  show->add_option("id", opts->id, "profile id or alias (see hw list)");
  show->add_option("--format", opts->format, "table | json | csv")->capture_default_str();
  add_hw_options(*show, ctx.hw);
  show->callback([&ctx, opts] { run_show(ctx, *opts); });
  CLI::App* probe = hw_cmd->add_subcommand(
      "probe",
      "measure this machine (one core) and write its profile as JSON (id host-cpu, or NAME for "
      "-o DIR/NAME.json, so that --hw-dir DIR loads it)");
  probe->add_option("--budget", opts->budget_s, "seconds to spend measuring")
      ->check(decimal_number(0.1, 600.0))
      ->capture_default_str();
  add_output_option(*probe, opts->output, "write to FILE (e.g. DIR/host-cpu.json)");
  probe->callback([opts] { run_probe(*opts); });
}

}  // namespace cli
