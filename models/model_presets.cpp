#include "models/model_presets.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "common/errors.hpp"
#include "common/suggest.hpp"
#include "common/text.hpp"

namespace models {

namespace {

Preset parse_preset(const PresetFile& file) {
  const std::string where = fmt::format("preset {}", file.file);
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(file.text);
  } catch (const nlohmann::json::parse_error& e) {
    throw common::SpecError(fmt::format("{}: not valid JSON: {}", where, e.what()));
  }
  if (!doc.is_object() || !doc.contains("name") || !doc.contains("source") ||
      !doc.contains("config")) {
    throw common::SpecError(fmt::format("{}: needs \"name\", \"source\" and \"config\"", where));
  }
  Preset p;
  p.name = doc.at("name").get<std::string>();
  p.source = doc.at("source").get<std::string>();
  p.model = parse_hf_config(doc.at("config"), where);
  p.model.name = p.name;
  p.model.source = p.source;
  return p;
}

}  // namespace

std::vector<Preset> builtin_presets() {
  std::vector<Preset> presets;
  for (const PresetFile& f : builtin_preset_files()) presets.push_back(parse_preset(f));
  std::sort(presets.begin(), presets.end(),
            [](const Preset& a, const Preset& b) { return a.name < b.name; });
  return presets;
}

Preset find_preset(std::string_view name) {
  std::vector<std::string> known;
  for (const PresetFile& f : builtin_preset_files()) {
    const std::string stem(f.file.substr(0, f.file.rfind(".json")));
    // Preset names, like profile ids, resolve in any case: LLAMA-3.1-8B is llama-3.1-8b.
    if (common::ascii_lower(stem) == common::ascii_lower(name)) return parse_preset(f);
    known.push_back(stem);
  }
  throw common::SpecError(fmt::format("unknown model '{}'{}; known: {} (or use --hf-config FILE)",
                                      name, common::did_you_mean(name, known),
                                      fmt::join(known, ", ")));
}

}  // namespace models
