// attnsim variants list | show NAME: the attention variants and their parameters.
#include <algorithm>
#include <memory>
#include <sstream>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include "cli/context.hpp"
#include "cli/printer.hpp"
#include "cli/report.hpp"
#include "common/errors.hpp"

namespace cli {

namespace {

struct VariantsOptions {
  std::string format = "table";
  std::string name;
};

nlohmann::ordered_json variant_json(const models::Variant& v) {
  nlohmann::ordered_json params = nlohmann::ordered_json::array();
  for (const models::ParamInfo& p : v.params()) {
    // A numeric default is a number; a derived one ("= head_dim") its text.
    const nlohmann::ordered_json default_value =
        p.default_from.empty() && p.capped_by.empty()
            ? nlohmann::ordered_json(p.default_value)
            : nlohmann::ordered_json(models::default_text(p));
    params.push_back({{"name", p.name},
                      {"default", default_value},
                      {"min", p.min},
                      {"max", p.max},
                      {"help", p.help}});
  }
  return {{"name", v.name()}, {"family", v.family()}, {"summary", v.summary()}, {"params", params}};
}

void run_list(const Context& ctx, const VariantsOptions& o) {
  const Format format = parse_format(o.format);
  std::vector<nlohmann::ordered_json> rows;
  std::ostringstream table;
  std::size_t width = 4;  // the name column fits the longest name
  for (const auto& v : ctx.registry.variants()) width = std::max(width, v->name().size());
  table << fmt::format("{:<{}} {:<10} {}\n", "name", width, "family", "summary");
  for (const auto& v : ctx.registry.variants()) {
    rows.push_back({{"name", v->name()}, {"family", v->family()}, {"summary", v->summary()}});
    table << fmt::format("{:<{}} {:<10} {}\n", v->name(), width, v->family(), v->summary());
  }
  write_output(print({[&] { return table.str(); },
                      [&] { return json_text(nlohmann::ordered_json(rows)); }, csv_of(rows)},
                     format),
               "");
}

std::string variant_table(const models::Variant& v);

void run_show(const Context& ctx, const VariantsOptions& o) {
  const Format format = parse_format(o.format);
  if (o.name.empty()) {  // as `hw show` without an id: say what names there are
    std::vector<std::string_view> names;
    for (const auto& known : ctx.registry.variants()) names.push_back(known->name());
    throw common::SpecError(
        fmt::format("variants show needs a variant name; known: {}", fmt::join(names, ", ")));
  }
  const models::Variant& v = ctx.registry.find(o.name);
  const nlohmann::ordered_json doc = variant_json(v);
  write_output(print({[&] { return variant_table(v); }, [&] { return json_text(doc); },
                      csv_of({doc["params"].begin(), doc["params"].end()})},
                     format),
               "");
}

std::string variant_table(const models::Variant& v) {
  std::ostringstream out;
  out << fmt::format("{} ({}): {}\n\n", v.name(), v.family(), v.summary());
  out << fmt::format("{:<16} {:<18} {:<18} {}\n", "parameter", "default", "range", "meaning");
  for (const models::ParamInfo& p : v.params()) {
    out << fmt::format("{:<16} {:<18} {:<18} {}\n", p.name, models::default_text(p),
                       fmt::format("[{}, {}]", p.min, p.max), p.help);
  }
  std::string phases;
  for (models::Phase ph : {models::Phase::prefill, models::Phase::decode, models::Phase::fwd,
                           models::Phase::bwd, models::Phase::train}) {
    if (v.supports(ph)) phases += (phases.empty() ? "" : ", ") + std::string(models::to_string(ph));
  }
  out << "\nphases: " << phases << "\n";
  return out.str();
}

}  // namespace

void add_variants_command(CLI::App& app, Context& ctx) {
  auto opts = std::make_shared<VariantsOptions>();
  CLI::App* cmd = app.add_subcommand("variants", "list and describe attention variants");
  cmd->require_subcommand(1);
  CLI::App* list = cmd->add_subcommand("list", "list the known variants");
  list->add_option("--format", opts->format, "table | json | csv")->capture_default_str();
  list->callback([&ctx, opts] { run_list(ctx, *opts); });
  CLI::App* show = cmd->add_subcommand("show", "parameters, defaults and ranges of one variant");
  show->add_option("name", opts->name, "variant name (see `attnsim variants list`)");
  show->add_option("--format", opts->format, "table | json | csv")->capture_default_str();
  show->callback([&ctx, opts] { run_show(ctx, *opts); });
}

}  // namespace cli
