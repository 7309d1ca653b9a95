#include "cli/context.hpp"

#include <cstdlib>

#include <CLI/CLI.hpp>

namespace cli {

void add_hw_options(CLI::App& command, HwOptions& options) {
  command.add_option(
      "--hw-dir", options.dirs,
      "directory of extra hardware profile files (repeatable; also $ATTNSIM_HW_PATH)");
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

}  // namespace cli
