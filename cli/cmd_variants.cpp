// attnsim variants list | show NAME: the attention variants and their parameters.
#include <algorithm>
#include <cstdint>
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
  // Typed fields: default a number, or null where it is another parameter's value (default_from);
  // default_cap, default_from and allowed a parameter name or rule, or null.
  const auto text_or_null = [](std::string_view text) {
    return text.empty() ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(text);
  };
  for (const models::ParamInfo& p : v.params()) {
    // An integer parameter's numbers are JSON integers (32, not 32.0); a real one's, reals.
    const auto number = [&p](double value) {
      return p.type == models::ParamType::integer
                 ? nlohmann::ordered_json(static_cast<std::int64_t>(value))
                 : nlohmann::ordered_json(value);
    };
    params.push_back(
        {{"name", p.name},
         {"type", p.type == models::ParamType::integer ? "integer" : "real"},
         {"default",
          p.default_from.empty() ? number(p.default_value) : nlohmann::ordered_json(nullptr)},
         {"default_from", text_or_null(p.default_from)},
         {"default_cap", text_or_null(p.capped_by)},
         {"min", number(p.min)},
         {"max", number(p.max)},
         {"allowed", text_or_null(p.allowed)},
         {"unit", p.unit == models::ParamUnit::tokens ? nlohmann::ordered_json("tokens")
                                                      : nlohmann::ordered_json(nullptr)},
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
  write_output(
      print({[&] { return table.str(); },
             [&] { return json_text(nlohmann::ordered_json(rows), WholeNumbers::as_written); },
             csv_of(rows)},
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
  write_output(print({[&] { return variant_table(v); },
                      [&] { return json_text(doc, WholeNumbers::as_written); },
                      csv_of({doc["params"].begin(), doc["params"].end()})},
                     format),
               "");
}

std::string variant_table(const models::Variant& v) {
  std::ostringstream out;
  out << fmt::format("{} ({}): {}\n\n", v.name(), v.family(), v.summary());
  std::size_t range_w = 18;  // the range column fits the longest rule
  for (const models::ParamInfo& p : v.params())
    range_w = std::max(range_w, models::allowed_text(p).size());
  out << fmt::format("{:<16} {:<18} {:<{}} {}\n", "parameter", "default", "range", range_w,
                     "meaning");
  for (const models::ParamInfo& p : v.params()) {
    out << fmt::format("{:<16} {:<18} {:<{}} {}\n", p.name, models::default_text(p),
                       models::allowed_text(p), range_w, p.help);
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
