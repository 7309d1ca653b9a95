// The set of hardware profiles a run can name: the built-in files (hwprofiles/*.json, embedded at
// build time) plus any directory given with --hw-dir or ATTNSIM_HW_PATH. A user file with the id of
// a built-in profile replaces it; two user files with one id are an error naming both.
//
// Start-up: a built-in profile is parsed (strictly) only when a run resolves it or lists all
// profiles; its id and aliases come from an index generated at build time, so that a query on one
// profile does not parse the others.
#pragma once

#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "hwprofiles/profile.hpp"

namespace hw {

struct EmbeddedFile {
  std::string_view name;      // file name, e.g. "h100-sxm5-80gb.json"
  std::string_view contents;  // JSON text
  std::string_view id;        // its "id" and "aliases", read at build time
  std::vector<std::string_view> aliases;
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

  // Id or alias; throws ProfileError listing the known ids and aliases (or the profile's own
  // error, if it is a built-in that fails to parse).
  const Profile& resolve(std::string_view id_or_alias) const;
  // Every profile, parsed.
  const std::vector<Profile>& profiles() const;
  // The aliases that resolve to profile `id`: its file's, less those a user profile took as its
  // id (that profile owns the name). Empty for an unknown id.
  std::vector<std::string> aliases(std::string_view id) const;
  // Adds (or replaces, by id) a profile built at run time, e.g. by `attnsim hw probe`.
  void insert(Profile profile);

 private:
  // One profile, parsed on first use (thread-safe); copies of the catalog share it.
  struct Slot {
    std::string id;
    std::vector<std::string> aliases;
    // A built-in's aliases that a user profile took as its id: that profile owns the name.
    std::vector<std::string> shadowed;
    std::string_view text;  // embedded JSON not yet parsed ("" once given a parsed profile)
    std::string origin;
    std::once_flag once;
    Profile profile;
  };
  struct All {
    std::once_flag once;
    std::vector<Profile> profiles;
  };
  static const Profile& parsed(Slot& slot);
  // The one profile `name` names regardless of case, then also of separators (spaces and
  // underscores read as hyphens); nullptr for none; ProfileError, quoting `as_given` (the name
  // as the user wrote it), when it names two.
  Slot* find_loosely(std::string_view name, std::string_view as_given) const;
  static std::shared_ptr<Slot> slot_of(Profile profile);
  void add(std::shared_ptr<Slot> slot);
  void check_aliases() const;
  // The names a slot answers to besides its id: its aliases less the shadowed ones.
  static std::vector<std::string> live_aliases(const Slot& slot);
  std::vector<std::shared_ptr<Slot>> slots_;
  std::shared_ptr<All> all_ = std::make_shared<All>();
};

// Applies `key=value` overrides (dotted paths into the profile schema, e.g.
// "memory.hbm_bandwidth_GBps=4000") and re-validates the result strictly. `id` and `aliases` name
// the profile and cannot be overridden. `missing_entry_advice` ends the error for a key the profile
// lacks (an object entry such as a schedule's calibration): what the caller can do instead.
Profile with_overrides(const Profile& base, const std::vector<std::string>& assignments,
                       std::string_view missing_entry_advice = "leave that profile out");

}  // namespace hw
