#include "hwprofiles/profile_loader.hpp"

#include <algorithm>
#include <cctype>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "common/files.hpp"
#include "common/text.hpp"
#include "hwprofiles/calibration_keys.hpp"
#include "hwprofiles/json_object.hpp"
#include "hwprofiles/json_text.hpp"
#include "hwprofiles/profile_compute.hpp"
#include "hwprofiles/ranges.hpp"

namespace hw {

namespace {

constexpr double kTera = 1e12;
constexpr double kGiga = 1e9;
constexpr double kMega = 1e6;
constexpr double kKiB = 1024.0;
constexpr double kMiB = 1024.0 * 1024.0;
constexpr double kMicro = 1e-6;

// Physically plausible counts (hwprofiles/SCHEMA.md, "Counts"): each bound is several times the
// largest device shipping today, so a typo (1e300, 1.5) is an error and a real device is not.
constexpr double kMaxRegistersPerSm = 1 << 20;  // NVIDIA: 65536; AMD CDNA3: 512 KiB VGPR = 131072
constexpr double kMaxThreadsPerSm = 1 << 16;    // NVIDIA: 2048 (cc 8.0, 9.0, 10.0)
constexpr double kMaxCtasPerSm = 256;           // NVIDIA: 32 (cc 8.0, 9.0, 10.0)

const char* const kVendors[] = {"nvidia", "huawei", "amd", "intel", "other"};

Memory parse_memory(JsonObject o) {
  Memory m;
  m.hbm_capacity_bytes = o.in_range("hbm_capacity_GB", ranges::kCapacityGB) * kGiga;
  m.hbm_bandwidth_Bps = o.in_range("hbm_bandwidth_GBps", ranges::kBandwidthGBps) * kGiga;
  m.l2_bytes = o.in_range("l2_MiB", ranges::kCacheMiB) * kMiB;
  m.smem_per_sm_bytes = o.in_range("smem_per_sm_KiB", ranges::kSmemKiB) * kKiB;
  m.smem_per_block_bytes = o.in_range("smem_per_block_KiB", ranges::kSmemKiB) * kKiB;
  if (m.smem_per_block_bytes > m.smem_per_sm_bytes) {
    o.fail("smem_per_block_KiB",
           fmt::format("{} must not exceed smem_per_sm_KiB ({})", m.smem_per_block_bytes / kKiB,
                       m.smem_per_sm_bytes / kKiB));
  }
  m.registers_per_sm = o.optional_count("registers_per_sm", kMaxRegistersPerSm);
  m.max_threads_per_sm = o.optional_count("max_threads_per_sm", kMaxThreadsPerSm);
  m.max_ctas_per_sm = o.optional_count("max_ctas_per_sm", kMaxCtasPerSm);
  if (const auto rate = o.optional_in_range("cache_read_GBps_per_sm", ranges::kCacheReadGBps)) {
    m.cache_read_Bps_per_sm = *rate * kGiga;
  }
  o.finish();
  return m;
}

ScheduleCalibration parse_schedule_calibration(JsonObject o) {
  ScheduleCalibration c;
  c.mma_fraction = o.in_range("mma_fraction", ranges::kFraction);
  c.softmax_overlap = o.unit_interval("softmax_overlap");
  c.tile_overhead_cycles = o.in_range("tile_overhead_cycles", ranges::kCycles);
  c.cta_overhead_cycles = o.in_range("cta_overhead_cycles", ranges::kCycles);
  c.chain_cycles = o.optional_in_range("chain_cycles", ranges::kCycles);
  o.finish();
  return c;
}

Calibration parse_calibration(JsonObject o) {
  Calibration c;
  c.tensor_fraction = o.in_range("tensor_fraction", ranges::kFraction);
  c.hbm_fraction = o.in_range("hbm_fraction", ranges::kFraction);
  c.vector_fraction = o.in_range("vector_fraction", ranges::kFraction);
  c.exp_fraction = o.in_range("exp_fraction", ranges::kFraction);
  c.kernel_launch_s = o.in_range("kernel_launch_us", ranges::kFixedCostUs) * kMicro;
  if (auto floors = o.optional_object("caller_floor_us")) {
    for (Caller caller : kAllCallers) {
      const std::string key(to_string(caller));
      if (floors->has(key)) {
        c.caller_floor_s[static_cast<std::size_t>(caller)] =
            floors->in_range(key, ranges::kFixedCostUs) * kMicro;
      }
    }
    if (const auto jit = floors->optional_in_range("triton_jit", ranges::kFixedCostUs)) {
      c.triton_jit_s = *jit * kMicro;
    }
    if (const auto extra = floors->optional_in_range("extra_launch", ranges::kFixedCostUs)) {
      c.caller_extra_launch_s = *extra * kMicro;
    }
    for (const std::string& name : floors->string_array("in_turn", false)) {
      const std::optional<Caller> caller = parse_caller(name);
      if (!caller) {
        floors->fail("in_turn", "unknown caller '" + name + "'; allowed: " + known_callers());
      }
      c.caller_in_turn[static_cast<std::size_t>(*caller)] = true;
    }
    c.caller_floor_source = floors->string("source");
    floors->finish();
  }
  c.l2_reuse_fraction = o.in_range("l2_reuse_fraction", ranges::kFraction);
  c.sm_bandwidth_fraction = o.in_range("sm_bandwidth_fraction", ranges::kFraction);
  if (auto schedules = o.optional_object("schedules")) {
    for (const std::string& name : schedules->keys()) {
      // A misspelt entry would be read by nothing, and its kernel priced with another's.
      if (!is_calibration_key(name)) {
        schedules->fail(name, fmt::format("unknown calibration entry '{}'; allowed: {} "
                                          "(hwprofiles/SCHEMA.md)",
                                          name, fmt::join(calibration_keys(), ", ")));
      }
      c.schedules[name] = parse_schedule_calibration(schedules->object(name));
    }
    schedules->finish();
  }
  o.finish();
  return c;
}

std::map<std::string, std::string> parse_unofficial(std::optional<JsonObject> o) {
  std::map<std::string, std::string> out;
  if (!o) return out;
  for (const std::string& key : o->keys()) out[key] = o->string(key);
  o->finish();
  return out;
}

// `interconnect` predates `links`: accepted alone (an old profile), ignored when it repeats
// links.scale_up's bandwidth, refused when it contradicts it (one source of truth).
void check_legacy_interconnect(JsonObject& o, Profile& p) {
  if (!p.legacy_interconnect || !p.links) return;
  const double old_Bps = p.legacy_interconnect->bandwidth_Bps_per_dir;
  const double up_Bps = p.links->scale_up.bandwidth_Bps_per_dir;
  if (old_Bps != up_Bps) {
    o.fail(
        "interconnect",
        fmt::format("bandwidth_GBps_per_dir {} contradicts links.scale_up.bandwidth_GBps_per_dir "
                    "{}; 'interconnect' is replaced by links.scale_up (hwprofiles/SCHEMA.md): "
                    "delete it",
                    old_Bps / kGiga, up_Bps / kGiga));
  }
  p.legacy_interconnect.reset();
}

}  // namespace

std::string_view to_string(Precision p) {
  switch (p) {
    case Precision::tf32:
      return "tf32";
    case Precision::fp16:
      return "fp16";
    case Precision::bf16:
      return "bf16";
    case Precision::fp8:
      return "fp8";
    case Precision::fp4:
      return "fp4";
  }
  return "?";
}

std::string_view to_string(MmaClass c) {
  switch (c) {
    case MmaClass::mma_sync:
      return "mma_sync";
    case MmaClass::wgmma:
      return "wgmma";
    case MmaClass::tcgen05:
      return "tcgen05";
    case MmaClass::cube:
      return "cube";
    case MmaClass::native:
      return "native";
  }
  return "?";
}

std::string_view to_string(Caller c) {
  switch (c) {
    case Caller::direct:
      return "direct";
    case Caller::pytorch:
      return "pytorch";
    case Caller::torch_npu:
      return "torch_npu";
    case Caller::triton:
      return "triton";
    case Caller::flashinfer:
      return "flashinfer";
  }
  return "?";
}

std::string known_callers() {
  std::string known;
  for (Caller c : kAllCallers) known += (known.empty() ? "" : ", ") + std::string(to_string(c));
  return known;
}

std::optional<Caller> parse_caller(std::string_view name) {
  for (Caller c : kAllCallers) {
    if (to_string(c) == name) return c;
  }
  return std::nullopt;
}

std::optional<Precision> parse_precision(std::string_view name) {
  for (Precision p : kAllPrecisions) {
    if (to_string(p) == name) return p;
  }
  return std::nullopt;
}

std::string profile_name_problem(std::string_view name) {
  if (name.empty()) return "it is empty";
  const std::string lower = common::ascii_lower(name);
  if (lower == "all") return "--hw all means every profile";
  if (lower.size() >= 5 && lower.compare(lower.size() - 5, 5, ".json") == 0)
    return "it ends in .json, which reads as a file name";
  const auto plain = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '_' || c == '-';
  };
  const auto odd = std::find_if_not(name.begin(), name.end(), plain);
  if (odd == name.end()) return "";
  return *odd == ',' ? "a comma separates profiles in a --hw list"
                     : fmt::format("it holds '{}'", *odd);
}

Profile parse_profile(const nlohmann::json& doc, const std::string& origin) {
  JsonObject o(doc, "", origin);
  Profile p;
  p.id = o.string("id");
  p.name = o.string("name");
  p.vendor = o.string("vendor");
  if (std::find(std::begin(kVendors), std::end(kVendors), p.vendor) == std::end(kVendors)) {
    o.fail("vendor",
           "unknown vendor '" + p.vendor + "'; allowed: nvidia, huawei, amd, intel, other");
  }
  p.arch = o.string("arch");
  p.aliases = o.string_array("aliases", false);
  const auto check_name = [&o](std::string_view key, const std::string& name) {
    if (const std::string problem = profile_name_problem(name); !problem.empty())
      o.fail(key, fmt::format("'{}' is not a profile name: {}; allowed: {}", name, problem,
                              kProfileNameForm));
  };
  check_name("id", p.id);
  for (std::size_t i = 0; i < p.aliases.size(); ++i)
    check_name(fmt::format("aliases/{}", i), p.aliases[i]);
  p.compute = parse_compute(o.object("compute"));
  p.memory = parse_memory(o.object("memory"));
  if (auto link = o.optional_object("interconnect")) {
    Interconnect old;
    old.name = link->string("name");
    old.bandwidth_Bps_per_dir =
        link->in_range("bandwidth_GBps_per_dir", ranges::kScaleUpGBps) * kGiga;
    link->finish();
    p.legacy_interconnect = old;
  }
  p.calibration = parse_calibration(o.object("calibration"));
  if (auto schedule = o.optional_string("default_schedule")) {
    const auto& kernels = calibrated_kernels();
    if (std::none_of(kernels.begin(), kernels.end(),
                     [&](const CalibratedKernel& k) { return k.name == *schedule; })) {
      std::vector<std::string_view> names;
      for (const CalibratedKernel& k : kernels) names.push_back(k.name);
      o.fail("default_schedule",
             fmt::format("'{}' is not a kernel; allowed: {}", *schedule, fmt::join(names, ", ")));
    }
    if (p.calibration.schedules.count(*schedule) == 0) {
      o.fail("default_schedule", "'" + *schedule + "' has no entry in /calibration/schedules");
    }
    p.default_schedule = *schedule;
  }
  p.unofficial = parse_unofficial(o.optional_object("unofficial"));
  p.notes = o.string_array("notes", false);
  p.sources = o.string_array("sources", true);
  if (auto links = o.optional_object("links")) p.links = parse_links(*links);
  check_legacy_interconnect(o, p);
  o.finish();
  p.origin = origin;
  return p;
}

Profile parse_profile_text(const std::string& text, const std::string& origin) {
  return parse_profile(parse_json_strictly(text, origin), origin);
}

Profile load_profile_file(const std::filesystem::path& path) {
  const std::optional<std::string> text = common::read_file(path);
  if (!text) throw ProfileError(path.string() + ": cannot open profile file");
  Profile p = parse_profile_text(*text, path.string());
  if (p.id != path.stem().string()) {
    throw ProfileError(path.string(), "/id",
                       "id '" + p.id + "' must equal the file name '" + path.stem().string() + "'");
  }
  return p;
}

nlohmann::json to_json(const Profile& p) {
  nlohmann::json peaks = nlohmann::json::object();
  for (Precision prec : kAllPrecisions) {
    if (p.supports(prec)) peaks[std::string(to_string(prec))] = p.tensor_peak_flops(prec) / kTera;
  }
  nlohmann::json memory = {{"hbm_capacity_GB", p.memory.hbm_capacity_bytes / kGiga},
                           {"hbm_bandwidth_GBps", p.memory.hbm_bandwidth_Bps / kGiga},
                           {"l2_MiB", p.memory.l2_bytes / kMiB},
                           {"smem_per_sm_KiB", p.memory.smem_per_sm_bytes / kKiB},
                           {"smem_per_block_KiB", p.memory.smem_per_block_bytes / kKiB}};
  if (p.memory.registers_per_sm) memory["registers_per_sm"] = *p.memory.registers_per_sm;
  if (p.memory.max_threads_per_sm) memory["max_threads_per_sm"] = *p.memory.max_threads_per_sm;
  if (p.memory.max_ctas_per_sm) memory["max_ctas_per_sm"] = *p.memory.max_ctas_per_sm;
  if (p.memory.cache_read_Bps_per_sm) {
    memory["cache_read_GBps_per_sm"] = *p.memory.cache_read_Bps_per_sm / kGiga;
  }
  nlohmann::json doc = {{"id", p.id},
                        {"name", p.name},
                        {"vendor", p.vendor},
                        {"arch", p.arch},
                        {"aliases", p.aliases},
                        {"compute",
                         {{"sm_count", p.compute.sm_count},
                          {"tensor_clock_MHz", p.compute.tensor_clock_hz / kMega},
                          {"max_clock_MHz", p.compute.max_clock_hz / kMega},
                          {"tensor_dense_TFLOPS", peaks},
                          {"vector_fp32_TFLOPS", p.compute.vector_fp32_flops / kTera},
                          {"exp_ops_per_clk_per_sm", p.compute.exp_ops_per_clk_per_sm}}},
                        {"memory", memory},
                        {"calibration",
                         {{"tensor_fraction", p.calibration.tensor_fraction},
                          {"hbm_fraction", p.calibration.hbm_fraction},
                          {"vector_fraction", p.calibration.vector_fraction},
                          {"exp_fraction", p.calibration.exp_fraction},
                          {"kernel_launch_us", p.calibration.kernel_launch_s / kMicro},
                          {"l2_reuse_fraction", p.calibration.l2_reuse_fraction},
                          {"sm_bandwidth_fraction", p.calibration.sm_bandwidth_fraction}}},
                        {"sources", p.sources}};
  if (p.compute.latency) doc["compute"]["latency_ns"] = to_json(*p.compute.latency);
  if (!p.compute.class_dense_flops.empty()) {
    nlohmann::json by_class = nlohmann::json::object();
    for (const auto& [mma, flops] : p.compute.class_dense_flops) {
      nlohmann::json peaks_of_class = nlohmann::json::object();
      for (Precision prec : kAllPrecisions) {
        const double f = flops[static_cast<std::size_t>(prec)];
        if (f > 0) peaks_of_class[std::string(to_string(prec))] = f / kTera;
      }
      peaks_of_class["source"] = p.compute.class_sources.at(mma);
      by_class[std::string(to_string(mma))] = peaks_of_class;
    }
    doc["compute"]["tensor_dense_TFLOPS_by_class"] = by_class;
  }
  nlohmann::json floors = nlohmann::json::object();
  for (Caller caller : kAllCallers) {
    const double f = p.caller_floor_s(caller);
    if (f > 0) floors[std::string(to_string(caller))] = f / kMicro;
  }
  if (p.calibration.triton_jit_s > 0) floors["triton_jit"] = p.calibration.triton_jit_s / kMicro;
  if (p.calibration.caller_extra_launch_s > 0) {
    floors["extra_launch"] = p.calibration.caller_extra_launch_s / kMicro;
  }
  nlohmann::json in_turn = nlohmann::json::array();
  for (Caller caller : kAllCallers) {
    if (p.caller_in_turn(caller)) in_turn.push_back(std::string(to_string(caller)));
  }
  if (!in_turn.empty()) floors["in_turn"] = in_turn;
  if (!p.calibration.caller_floor_source.empty()) {
    floors["source"] = p.calibration.caller_floor_source;
    doc["calibration"]["caller_floor_us"] = floors;
  }
  if (!p.calibration.schedules.empty()) {
    nlohmann::json schedules = nlohmann::json::object();
    for (const auto& [name, s] : p.calibration.schedules) {
      schedules[name] = calibration_entry_json<nlohmann::json>(s);
    }
    doc["calibration"]["schedules"] = schedules;
  }
  if (!p.default_schedule.empty()) doc["default_schedule"] = p.default_schedule;
  if (!p.unofficial.empty()) doc["unofficial"] = p.unofficial;
  if (!p.notes.empty()) doc["notes"] = p.notes;
  if (p.links) doc["links"] = to_json(*p.links);
  if (p.legacy_interconnect) {
    doc["interconnect"] = {
        {"name", p.legacy_interconnect->name},
        {"bandwidth_GBps_per_dir", p.legacy_interconnect->bandwidth_Bps_per_dir / kGiga}};
  }
  return doc;
}

}  // namespace hw
