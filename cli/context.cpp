#include "cli/context.hpp"

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include <CLI/CLI.hpp>

#include "cli/flags.hpp"
#include "cli/sweep_axes.hpp"

namespace cli {

void add_hw_dir_option(CLI::App& command, HwOptions& options) {
  command
      .add_option("--hw-dir", options.dirs,
                  "directory of extra hardware profile files (repeatable; also $ATTNSIM_HW_PATH)")
      ->check(
          non_empty("an empty path; allowed: a directory of hardware profile .json files", "DIR"));
}

void add_hw_options(CLI::App& command, HwOptions& options) {
  add_hw_dir_option(command, options);
  command.add_option("--hw-set", options.sets,
                     "override a profile field for this run, e.g. memory.hbm_bandwidth_GBps=4000 "
                     "(repeatable)");
}

hw::ProfileCatalog load_catalog(const HwOptions& options) {
  std::vector<std::filesystem::path> dirs;
  if (const char* env = std::getenv("ATTNSIM_HW_PATH")) {
    dirs = hw::ProfileCatalog::split_search_path(env);
  }
  for (const std::string& d : options.dirs) dirs.emplace_back(d);
  return hw::ProfileCatalog::load(dirs);
}

hw::Profile resolve_profile(const hw::ProfileCatalog& catalog, const std::string& name,
                            const HwOptions& options) {
  return hw::with_overrides(catalog.resolve(name), options.sets);
}

bool plain_profile_id(std::string_view id) {
  return std::all_of(id.begin(), id.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  });
}

std::vector<hw::Profile> resolve_profiles(const hw::ProfileCatalog& catalog,
                                          const std::string& list, const HwOptions& options) {
  std::vector<std::string> names = parse_word_axis("--hw", list);
  if (names.size() == 1 && names[0] == "all") {
    names.clear();
    for (const hw::Profile& p : catalog.profiles()) names.push_back(p.id);
  }
  std::vector<hw::Profile> profiles;
  for (const std::string& name : names) {
    hw::Profile p = resolve_profile(catalog, name, options);
    // A profile --hw-set changed is not the stock device: every output names it with a '*'.
    if (!options.sets.empty()) p.id += kOverriddenMark;
    const bool seen = std::any_of(profiles.begin(), profiles.end(),
                                  [&](const hw::Profile& q) { return q.id == p.id; });
    if (!seen) profiles.push_back(std::move(p));
  }
  return profiles;
}

}  // namespace cli
