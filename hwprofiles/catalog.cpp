#include "hwprofiles/catalog.hpp"

#include <algorithm>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/suggest.hpp"
#include "common/text.hpp"
#include "hwprofiles/profile_files.hpp"
#include "hwprofiles/profile_loader.hpp"

namespace hw {

namespace {

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t end = text.find(sep, start);
    if (end == std::string_view::npos) end = text.size();
    parts.emplace_back(text.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

nlohmann::json parse_override_value(const std::string& assignment, const std::string& text) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error&) {
    return text;  // a bare word is a string (e.g. interconnect.name=NVLink5)
  } catch (const nlohmann::json::out_of_range&) {
    throw ProfileError(
        fmt::format("--hw-set '{}': number out of range: '{}' is larger than a double can hold",
                    assignment, text));
  }
}

// Equality of two profile names regardless of ASCII case and, with `separators`, with spaces and
// underscores read as hyphens (`H100_SXM5`, `A100 80GB`).
bool same_name_loosely(std::string_view a, std::string_view b, bool separators) {
  auto fold = [separators](char c) {
    if (separators && (c == ' ' || c == '_')) return '-';
    return common::ascii_lower(c);
  };
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                            [&](char x, char y) { return fold(x) == fold(y); });
}

// A leading vendor word (`NVIDIA H100 80GB HBM3`, the name the driver and
// torch.cuda.get_device_name() report; `Huawei Ascend 910B2`): the vendor as profiles spell it and
// the rest of the name, or an empty vendor when the name has none.
struct VendorName {
  std::string_view vendor, rest;
};
VendorName split_vendor(std::string_view name) {
  for (std::string_view vendor : {"nvidia", "huawei"}) {
    if (name.size() > vendor.size() + 1 &&
        same_name_loosely(name.substr(0, vendor.size()), vendor, false)) {
      const char sep = name[vendor.size()];
      if (sep == ' ' || sep == '-' || sep == '_') return {vendor, name.substr(vendor.size() + 1)};
    }
  }
  return {};
}

// A memory size written with G for GB at the end of the name (`A100 80G`, `A800-80G`, as
// papers and READMEs print it): the name with the B added; empty when it has no such ending.
std::string with_gigabytes_spelled_out(std::string_view name) {
  const std::size_t n = name.size();
  if (n < 2 || common::ascii_lower(name[n - 1]) != 'g' || name[n - 2] < '0' || name[n - 2] > '9') {
    return "";
  }
  return std::string(name) + "B";
}

}  // namespace

std::vector<std::filesystem::path> ProfileCatalog::split_search_path(std::string_view value) {
  std::vector<std::filesystem::path> dirs;
  for (const std::string& part : split(value, ':')) {
    if (!part.empty()) dirs.emplace_back(part);
  }
  return dirs;
}

std::shared_ptr<ProfileCatalog::Slot> ProfileCatalog::slot_of(Profile profile) {
  auto slot = std::make_shared<Slot>();
  slot->id = profile.id;
  slot->aliases = profile.aliases;
  slot->origin = profile.origin;
  slot->profile = std::move(profile);
  return slot;
}

ProfileCatalog ProfileCatalog::load(const std::vector<std::filesystem::path>& user_dirs) {
  ProfileCatalog catalog;
  for (const EmbeddedFile& file : builtin_profile_files()) {
    auto slot = std::make_shared<Slot>();
    slot->id = file.id;
    slot->aliases.assign(file.aliases.begin(), file.aliases.end());
    slot->text = file.contents;
    slot->origin = "built-in:" + std::string(file.name);
    catalog.add(std::move(slot));
  }
  for (const auto& path : user_profile_files(user_dirs))
    catalog.add(slot_of(load_profile_file(path)));
  // A user profile whose id is a built-in's alias (`h100-sxm`) takes that name over. The reverse,
  // a user's alias that is another profile's id, would be a dead name: refused.
  for (auto& slot : catalog.slots_) {
    for (const std::string& alias : slot->aliases) {
      const auto owner = std::find_if(catalog.slots_.begin(), catalog.slots_.end(),
                                      [&](const auto& other) { return other->id == alias; });
      if (owner == catalog.slots_.end()) continue;
      if (slot->origin.rfind("built-in:", 0) != 0) {
        throw ProfileError(fmt::format(
            "{}: alias '{}' is the id of profile '{}'; a name belongs to one profile: drop it "
            "from the \"aliases\" of '{}'",
            slot->origin, alias, (*owner)->id, slot->id));
      }
      slot->shadowed.push_back(alias);
    }
  }
  catalog.check_aliases();
  return catalog;
}

// A built-in is parsed strictly on first use; its build-time index must agree with the file.
const Profile& ProfileCatalog::parsed(Slot& slot) {
  std::call_once(slot.once, [&slot] {
    if (slot.text.empty()) return;
    Profile p = parse_profile_text(std::string(slot.text), slot.origin);
    if (p.id != slot.id || p.aliases != slot.aliases) {
      throw ProfileError(slot.origin + ": id or aliases differ from the build-time index; rebuild");
    }
    slot.profile = std::move(p);
  });
  return slot.profile;
}

const std::vector<Profile>& ProfileCatalog::profiles() const {
  std::call_once(all_->once, [this] {
    for (const auto& slot : slots_) all_->profiles.push_back(parsed(*slot));
  });
  return all_->profiles;
}

void ProfileCatalog::insert(Profile profile) {
  add(slot_of(std::move(profile)));
  check_aliases();
}

void ProfileCatalog::add(std::shared_ptr<Slot> slot) {
  all_ = std::make_shared<All>();  // profiles() is built again
  auto same_id = [&](const std::shared_ptr<Slot>& s) { return s->id == slot->id; };
  auto it = std::find_if(slots_.begin(), slots_.end(), same_id);
  if (it != slots_.end()) {
    *it = std::move(slot);
  } else {
    slots_.push_back(std::move(slot));
  }
}

std::vector<std::string> ProfileCatalog::live_aliases(const Slot& slot) {
  std::vector<std::string> live;
  for (const std::string& a : slot.aliases) {
    if (std::find(slot.shadowed.begin(), slot.shadowed.end(), a) == slot.shadowed.end())
      live.push_back(a);
  }
  return live;
}

std::vector<std::string> ProfileCatalog::aliases(std::string_view id) const {
  for (const auto& s : slots_) {
    if (s->id == id) return live_aliases(*s);
  }
  return {};
}

void ProfileCatalog::check_aliases() const {
  struct Claim {
    std::string name;
    const Slot* slot;  // the profile that claims it, as its id or an alias
  };
  std::vector<Claim> names;
  for (const auto& s : slots_) {
    names.push_back({s->id, s.get()});
    for (const std::string& a : live_aliases(*s)) names.push_back({a, s.get()});
  }
  std::sort(names.begin(), names.end(),
            [](const Claim& a, const Claim& b) { return a.name < b.name; });
  for (std::size_t i = 1; i < names.size(); ++i) {
    if (names[i].name != names[i - 1].name) continue;
    const Slot& a = *names[i - 1].slot;
    const Slot& b = *names[i].slot;
    // The profile to mend has the name as an alias, not as its id; of two such, a user's file
    // rather than a built-in.
    auto mendable = [&](const Slot& s) { return s.id != names[i].name; };
    auto user = [](const Slot& s) { return s.origin.rfind("built-in:", 0) != 0; };
    const Slot& mend = !mendable(a) ? b : !mendable(b) ? a : user(b) ? b : a;
    throw ProfileError(fmt::format(
        "hardware profile name '{}' is claimed by both '{}' and '{}'; a name belongs to one "
        "profile: drop it from the \"aliases\" of '{}' (a copied profile keeps its original's)",
        names[i].name, a.id, b.id, mend.id));
  }
}

ProfileCatalog::Slot* ProfileCatalog::find_loosely(std::string_view name,
                                                   std::string_view as_given) const {
  for (bool separators : {false, true}) {
    Slot* folded = nullptr;
    for (const auto& s : slots_) {
      bool match = same_name_loosely(s->id, name, separators);
      for (const std::string& a : live_aliases(*s))
        match = match || same_name_loosely(a, name, separators);
      if (!match || folded == s.get()) continue;
      if (folded) {
        throw ProfileError(fmt::format(
            "hardware profile name '{}' is ambiguous regardless of case{}: '{}' or '{}'", as_given,
            separators ? " and separators" : "", folded->id, s->id));
      }
      folded = s.get();
    }
    if (folded) return folded;
  }
  return nullptr;
}

const Profile& ProfileCatalog::resolve(std::string_view name) const {
  for (const auto& s : slots_) {
    if (s->id == name) return parsed(*s);
  }
  for (const auto& s : slots_) {
    const std::vector<std::string> aliases = live_aliases(*s);
    if (std::find(aliases.begin(), aliases.end(), name) != aliases.end()) return parsed(*s);
  }
  // Then regardless of case (`H100`, `B200`), then also of separators (`H100_SXM5`), where that
  // names one profile only; then the same without a leading vendor word (`NVIDIA H800`), for a
  // profile of that vendor; last, all of that with a trailing `80G` read as `80GB`. A name that
  // matches as written (a user's `nvidia-h100`) wins.
  const std::string spelled_out = with_gigabytes_spelled_out(name);
  for (std::string_view candidate : {name, std::string_view(spelled_out)}) {
    if (candidate.empty()) continue;
    if (Slot* s = find_loosely(candidate, name)) return parsed(*s);
    if (const VendorName v = split_vendor(candidate); !v.vendor.empty()) {
      if (Slot* s = find_loosely(v.rest, name); s && parsed(*s).vendor == v.vendor) {
        return parsed(*s);
      }
    }
  }
  std::vector<std::string> known;
  for (const auto& s : slots_) {
    known.push_back(s->id);
    const std::vector<std::string> aliases = live_aliases(*s);
    known.insert(known.end(), aliases.begin(), aliases.end());
  }
  std::sort(known.begin(), known.end());
  throw ProfileError(fmt::format("unknown hardware profile '{}'{}; known: {}", name,
                                 common::did_you_mean(name, known), fmt::join(known, ", ")));
}

namespace {

// A what-if on a dense tensor peak (compute.tensor_dense_TFLOPS or one precision of it) moves the
// instruction classes' peaks at that precision by the same factor, unless the overrides set a
// class peak themselves: kernels are priced at their class's peak, so a dense peak changed alone
// moved only the reported utilisation (and a lower one than a class's was refused).
void scale_class_peaks(const nlohmann::json& before, const std::vector<std::string>& keys,
                       nlohmann::json& doc) {
  const std::string dense = "compute.tensor_dense_TFLOPS";
  const std::string by_class = "compute.tensor_dense_TFLOPS_by_class";
  for (const std::string& key : keys) {
    if (key.rfind(by_class, 0) == 0) return;  // the user sets the classes
  }
  nlohmann::json& classes = doc["compute"][by_class.substr(8)];
  if (!classes.is_object()) return;
  const nlohmann::json& old_peaks = before["compute"]["tensor_dense_TFLOPS"];
  const nlohmann::json& new_peaks = doc["compute"]["tensor_dense_TFLOPS"];
  for (const std::string& key : keys) {
    if (key != dense && key.rfind(dense + ".", 0) != 0) continue;
    for (const auto& [precision, value] : new_peaks.items()) {
      if (key != dense && key != dense + "." + precision) continue;
      if (!value.is_number() || !old_peaks.contains(precision) ||
          !old_peaks[precision].is_number() || old_peaks[precision].get<double>() <= 0) {
        continue;
      }
      const double factor = value.get<double>() / old_peaks[precision].get<double>();
      for (auto& [cls, peaks] : classes.items()) {
        (void)cls;
        if (peaks.is_object() && peaks.contains(precision) && peaks[precision].is_number()) {
          peaks[precision] = peaks[precision].get<double>() * factor;
        }
      }
    }
  }
}

}  // namespace

Profile with_overrides(const Profile& base, const std::vector<std::string>& assignments,
                       std::string_view missing_entry_advice) {
  if (assignments.empty()) return base;
  nlohmann::json doc = to_json(base);
  std::vector<std::string> keys;  // given so far: one key twice is a slip, not an override
  for (const std::string& assignment : assignments) {
    auto eq = assignment.find('=');
    if (eq == std::string::npos || eq == 0) {
      throw ProfileError(
          fmt::format("--hw-set '{}': expected key=value with a dotted key, e.g. "
                      "memory.hbm_bandwidth_GBps=4000",
                      assignment));
    }
    const std::string key = assignment.substr(0, eq);
    if (std::find(keys.begin(), keys.end(), key) != keys.end()) {
      throw ProfileError(
          fmt::format("--hw-set '{}': '{}' is given twice; give it once", assignment, key));
    }
    keys.push_back(key);
    if (key == "id" || key == "aliases") {
      throw ProfileError(fmt::format(
          "--hw-set '{}': '{}' names the profile and cannot be overridden; to add a device, "
          "write a profile file with that id and load it with --hw-dir",
          assignment, key));
    }
    nlohmann::json* node = &doc;
    std::string walked;  // the dotted path so far
    for (const std::string& part : split(key, '.')) {
      if (part.empty()) {
        throw ProfileError(
            fmt::format("--hw-set '{}': '{}' is not a path into the profile", assignment, key));
      }
      if (node->is_null()) {  // an entry this profile lacks
        throw ProfileError(fmt::format(
            "--hw-set '{}': profile '{}' has no '{}' (give the whole object, e.g. {}={{...}}, or "
            "{})",
            assignment, base.id, walked, walked, missing_entry_advice));
      }
      if (!node->is_object()) {
        throw ProfileError(fmt::format(
            "--hw-set '{}': in profile '{}', '{}' is a value, not an object with fields",
            assignment, base.id, walked));
      }
      walked += (walked.empty() ? "" : ".") + part;
      node = &(*node)[part];
    }
    *node = parse_override_value(assignment, assignment.substr(eq + 1));
  }
  scale_class_peaks(to_json(base), keys, doc);
  Profile p = parse_profile(doc, base.id + " with --hw-set");
  p.origin = base.origin + " (with --hw-set)";
  return p;
}

}  // namespace hw
