// The set of hardware profiles a run can name: the built-in files (hwprofiles/*.json, embedded at
// build time) plus any directory given with --hw-dir or ATTNSIM_HW_PATH. A user file with the id of
// a built-in profile replaces it; two user files with one id are an error naming both.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "hwprofiles/profile.hpp"

namespace hw {

struct EmbeddedFile {
  std::string_view name;      // file name, e.g. "h100-sxm5-80gb.json"
  std::string_view contents;  // JSON text
};
// Defined in the generated builtin_profiles.cpp.
std::vector<EmbeddedFile> builtin_profile_files();

class ProfileCatalog {
 public:
  // Built-in profiles, then each directory's files (which replace built-ins of the same id; two
  // user files with one id throw ProfileError naming both paths).
  static ProfileCatalog load(const std::vector<std::filesystem::path>& user_dirs);
  // Directories named by a PATH-like string (':'-separated), e.g. $ATTNSIM_HW_PATH.
  static std::vector<std::filesystem::path> split_search_path(std::string_view value);

  // Id or alias; throws ProfileError listing the known ids and aliases.
  const Profile& resolve(std::string_view id_or_alias) const;
  const std::vector<Profile>& profiles() const { return profiles_; }
  // Adds (or replaces, by id) a profile built at run time, e.g. by `attnsim hw probe`.
  void insert(Profile profile);

 private:
  void add(Profile profile);
  void check_aliases() const;
  std::vector<Profile> profiles_;
};

// Applies `key=value` overrides (dotted paths into the profile schema, e.g.
// "memory.hbm_bandwidth_GBps=4000") and re-validates the result strictly. `id` and `aliases` name
// the profile and cannot be overridden.
Profile with_overrides(const Profile& base, const std::vector<std::string>& assignments);

}  // namespace hw
