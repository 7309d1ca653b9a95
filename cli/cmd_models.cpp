// attnsim models list | show NAME | show --hf-config FILE: the built-in model presets, or a
// config file, and their attention stacks.
#include <memory>
#include <sstream>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <CLI/CLI.hpp>

#include "cli/context.hpp"
#include "cli/flags.hpp"
#include "cli/printer.hpp"
#include "cli/report.hpp"
#include "common/errors.hpp"
#include "models/model_presets.hpp"

namespace cli {

namespace {

struct ModelsOptions {
  std::string format = "table";
  std::string name;
  bool name_given = false;  // `models show ''` gives an empty name; it is no name left out
  std::string hf_config;    // show --hf-config FILE: that config's stack, as a preset's
};

std::string layer_summary(const models::ModelConfig& m) {
  std::string text;
  for (const models::LayerGroup& g : m.groups) {
    if (!text.empty()) text += " + ";
    text += fmt::format("{} {}", g.layers(), models::to_string(g.kind));
    if (g.kind == models::LayerKind::window) text += fmt::format(" ({})", m.window);
  }
  return text;
}

nlohmann::ordered_json preset_json(const models::Preset& p) {
  const models::ModelConfig& m = p.model;
  nlohmann::ordered_json groups = nlohmann::ordered_json::array();
  for (const models::LayerGroup& g : m.groups) {
    nlohmann::ordered_json params = nlohmann::ordered_json::object();
    for (const auto& [name, value] : g.params) params[name] = value;
    groups.push_back({{"kind", models::to_string(g.kind)},
                      {"variant", g.variant},
                      {"layers", g.layers()},
                      {"params", params},
                      {"indices", g.indices}});
  }
  nlohmann::ordered_json doc = {{"name", p.name},         {"source", p.source},
                                {"layers", m.layers},     {"hidden_size", m.hidden_size},
                                {"heads", m.heads},       {"kv_heads", m.kv_heads},
                                {"head_dim", m.head_dim}, {"attention_kind", m.attention_kind},
                                {"window", m.window},     {"linear_kind", m.linear_kind}};
  // Always present (0 without linear layers), so every model's rows share one set of columns.
  doc["linear_state_elements"] = m.linear_state_elems;
  doc["linear_conv_state_elements"] = m.linear_conv_state_elems;
  doc["groups"] = groups;
  return doc;
}

// CSV: one row per layer group, the model's fields repeated, the group's parameters and layer
// indices as space-separated text.
std::vector<nlohmann::ordered_json> preset_csv_rows(const nlohmann::ordered_json& doc) {
  nlohmann::ordered_json model = doc;
  model.erase("groups");
  std::vector<nlohmann::ordered_json> rows;
  for (const nlohmann::ordered_json& g : doc.at("groups")) {
    nlohmann::ordered_json row = model;
    std::string params, indices;
    for (const auto& [name, value] : g.at("params").items()) {
      params +=
          fmt::format("{}{}={}", params.empty() ? "" : " ", name, Number{value.get<double>()});
    }
    for (const auto& i : g.at("indices")) {
      indices += fmt::format("{}{}", indices.empty() ? "" : " ", i.get<std::int64_t>());
    }
    row["group_kind"] = g.at("kind");
    row["group_variant"] = g.at("variant");
    row["group_layers"] = g.at("layers");
    row["group_params"] = params;
    row["group_indices"] = indices;
    rows.push_back(row);
  }
  return rows;
}

void run_list(const ModelsOptions& o) {
  const Format format = parse_format(o.format);
  std::vector<nlohmann::ordered_json> rows;
  std::ostringstream table;
  table << fmt::format("{:<20} {:<16} {:<28} {}\n", "name", "attention", "layer kinds", "source");
  for (const models::Preset& p : models::builtin_presets()) {
    // `layers` is the count, as `models show` gives it; the stack it is made of is text of its own.
    rows.push_back({{"name", p.name},
                    {"attention_kind", p.model.attention_kind},
                    {"layers", p.model.layers},
                    {"layer_kinds", layer_summary(p.model)},
                    {"source", p.source}});
    table << fmt::format("{:<20} {:<16} {:<28} {}\n", p.name, p.model.attention_kind,
                         layer_summary(p.model), p.source);
  }
  write_output(print({[&] { return table.str(); },
                      [&] { return json_text(nlohmann::ordered_json(rows)); }, csv_of(rows)},
                     format),
               "");
}

std::string preset_table(const models::Preset& p);

void run_show(const ModelsOptions& o) {
  const Format format = parse_format(o.format);
  if (o.name_given && o.name.empty()) {
    std::vector<std::string> known;
    for (const models::Preset& p : models::builtin_presets()) known.push_back(p.name);
    throw common::SpecError(
        fmt::format("models show: an empty model name; known: {} (or use --hf-config FILE)",
                    fmt::join(known, ", ")));
  }
  if (o.name.empty() == o.hf_config.empty()) {
    throw common::SpecError("models show needs a preset name or --hf-config FILE (one of them)");
  }
  const models::Preset p =
      o.name.empty() ? models::Preset{o.hf_config, o.hf_config, models::load_hf_config(o.hf_config)}
                     : models::find_preset(o.name);
  const nlohmann::ordered_json doc = preset_json(p);
  write_output(print({[&] { return preset_table(p); }, [&] { return json_text(doc); },
                      csv_of(preset_csv_rows(doc))},
                     format),
               "");
}

std::string preset_table(const models::Preset& p) {
  const models::ModelConfig& m = p.model;
  std::ostringstream out;
  out << fmt::format("{}: {} layers, hidden {}, {} ({})\n", p.name, m.layers, m.hidden_size,
                     m.attention_kind, p.source);
  out << fmt::format("heads {} (kv {}), head_dim {} [{}]\n\n", m.heads, m.kv_heads, m.head_dim,
                     m.head_dim_source);
  for (const models::LayerGroup& g : m.groups) {
    std::string params;
    for (const auto& [name, value] : g.params) params += fmt::format(" {}={}", name, value);
    out << fmt::format("{:<7} {:>3} layers  {:<10}{}\n", models::to_string(g.kind), g.layers(),
                       g.variant, params);
  }
  if (!m.linear_kind.empty()) {
    out << fmt::format(
        "\nlinear layers: {}, state {} elements per sequence and layer (short convolution state "
        "{})\n",
        m.linear_kind, m.linear_state_elems, m.linear_conv_state_elems);
  }
  return out.str();
}

}  // namespace

void add_models_command(CLI::App& app, Context& /*ctx*/) {
  CLI::App* cmd = app.add_subcommand("models", "model presets for `query --model NAME`");
  cmd->require_subcommand(1);
  auto opts = std::make_shared<ModelsOptions>();
  CLI::App* list = cmd->add_subcommand("list", "every built-in model preset");
  list->add_option("--format", opts->format, "table | json | csv")->capture_default_str();
  list->callback([opts] { run_list(*opts); });
  CLI::App* show = cmd->add_subcommand("show", "one preset's attention layers");
  CLI::Option* name = show->add_option("name", opts->name, "preset name (see models list)");
  show->add_option("--hf-config", opts->hf_config, "a Hugging Face config.json instead of a preset")
      ->check(non_empty_hf_config());
  show->add_option("--format", opts->format, "table | json | csv")->capture_default_str();
  show->callback([opts, name] {
    opts->name_given = name->count() > 0;
    run_show(*opts);
  });
}

}  // namespace cli
