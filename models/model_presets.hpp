// Model presets (`--model NAME`): public config.json files of well-known models, shipped as data
// in models/presets/*.json ({"name", "source", "config"}) and embedded in the binary.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "models/hf_config.hpp"

namespace models {

struct PresetFile {
  std::string_view file;  // e.g. "llama-3.1-8b.json"
  std::string_view text;
};

// Defined in the generated builtin_presets.cpp.
std::vector<PresetFile> builtin_preset_files();

struct Preset {
  std::string name;
  std::string source;  // where the config fields come from (a public URL)
  ModelConfig model;
};

// Every built-in preset, parsed, in name order.
std::vector<Preset> builtin_presets();

// The preset `name`; throws SpecError listing the known names.
Preset find_preset(std::string_view name);

}  // namespace models
