// What every subcommand shares: the variant registry and the hardware-profile options.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "cli/cli11_fwd.hpp"

#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"

namespace cli {

struct HwOptions {
  std::vector<std::string> dirs;  // --hw-dir (repeatable); $ATTNSIM_HW_PATH is appended
  std::vector<std::string> sets;  // --hw-set key=value (repeatable)
};

struct Context {
  models::Registry registry;
  HwOptions hw;
};

// Adds --hw-dir and --hw-set to a subcommand.
void add_hw_options(CLI::App& command, HwOptions& options);
// Adds --hw-dir alone, to a subcommand that applies no --hw-set (hw list).
void add_hw_dir_option(CLI::App& command, HwOptions& options);
// Built-in profiles plus $ATTNSIM_HW_PATH and --hw-dir directories.
hw::ProfileCatalog load_catalog(const HwOptions& options);
// Resolves one id/alias and applies --hw-set.
hw::Profile resolve_profile(const hw::ProfileCatalog& catalog, const std::string& name,
                            const HwOptions& options);
// What resolve_profiles appends to the id of a profile --hw-set changed ("h100-sxm5-80gb*"), so
// that query, compare and sweep results (table, JSON, CSV, plots) never pass for the stock device.
inline constexpr char kOverriddenMark = '*';
// Whether `id` is letters, digits, '.', '_' and '-' only: a profile id that a sweep row and a
// profile file name can carry as they are.
bool plain_profile_id(std::string_view id);
// The profiles a --hw list names (comma-separated ids or aliases, or `all`), each once, in the
// order first named (h100,H100-SXM5 is one profile), with --hw-set applied (and the id marked
// with kOverriddenMark); an empty item is bad input.
std::vector<hw::Profile> resolve_profiles(const hw::ProfileCatalog& catalog,
                                          const std::string& list, const HwOptions& options);

void add_query_command(CLI::App& app, Context& ctx);
void add_hw_command(CLI::App& app, Context& ctx);
void add_variants_command(CLI::App& app, Context& ctx);
void add_models_command(CLI::App& app, Context& ctx);
void add_sweep_command(CLI::App& app, Context& ctx);
void add_compare_command(CLI::App& app, Context& ctx);
void add_validate_command(CLI::App& app, Context& ctx);

}  // namespace cli
