// attnsim sweep --spec FILE: the file's keys applied to the sweep command's options
// (cli/sweep_spec.hpp), and bad input found later named by the key it came from.
#include <algorithm>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include "cli/sweep_spec.hpp"
#include "common/errors.hpp"

namespace cli {

// Applies a --spec file: each key sets the flag of that name unless the command line gave it.
// Returns the entries it set. Messages name a key as the file writes it ('seq_len' or 'seq-len').
std::vector<SweepSpecEntry> apply_spec(CLI::App& command, const std::string& path) {
  std::vector<SweepSpecEntry> applied;
  for (const SweepSpecEntry& entry : load_sweep_spec(path)) {
    CLI::Option* opt = command.get_option_no_throw("--" + entry.key);
    // "no-causal" is the negated name of --causal: a spec says "causal": false instead.
    const auto usable = [](const std::string& k) {
      return k != "spec" && k != "help" && k != "no-causal";
    };
    if (opt == nullptr || !usable(entry.key)) {
      std::string keys;
      for (const CLI::Option* o : command.get_options()) {
        for (const std::string& name : o->get_lnames()) {
          if (usable(name)) keys += (keys.empty() ? "" : ", ") + name;
        }
      }
      throw common::SpecError(
          fmt::format("{}: unknown key '{}'; sweep spec keys are: {}", path, entry.name, keys));
    }
    std::vector<std::string> values = entry.values;
    if (opt->count() > 0) {
      // The command line wins: a whole flag, or for the name=value flags (param, hw-set) each
      // name the command line gives; the file's other names still apply.
      if (entry.key != "param" && entry.key != "hw-set") continue;
      const auto name_of = [](const std::string& pair) { return pair.substr(0, pair.find('=')); };
      std::vector<std::string> given;
      for (const std::string& pair : opt->results()) given.push_back(name_of(pair));
      std::erase_if(values, [&](const std::string& pair) {
        return std::find(given.begin(), given.end(), name_of(pair)) != given.end();
      });
      if (values.empty()) continue;
    }
    for (const std::string& value : values) opt->add_result(value);
    try {
      opt->run_callback();
    } catch (const CLI::Error& e) {
      throw common::SpecError(fmt::format("{}: key '{}': {}", path, entry.name, e.what()));
    }
    applied.push_back(entry);
  }
  return applied;
}

// Bad input found in a flag's value once the sweep reads it (a size axis, a profile, a variant)
// names the spec file and key where the value came from there. Called from a handler: anything
// else is rethrown as it was (a hw::ProfileError keeps its type).
[[noreturn]] void rethrow_naming_spec(const std::invalid_argument& e, const std::string& path,
                                      const std::vector<SweepSpecEntry>& from_spec) {
  const std::string message = e.what();
  for (const SweepSpecEntry& entry : from_spec) {
    const std::string flag = "--" + entry.key;
    if (message.rfind(flag + " ", 0) == 0 || message.rfind(flag + ":", 0) == 0)
      throw common::SpecError(fmt::format("{}: key '{}': {}", path, entry.name, message));
  }
  throw;
}

}  // namespace cli
