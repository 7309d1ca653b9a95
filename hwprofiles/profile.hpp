// Typed hardware profile. Everything is in SI units (FLOP/s, B/s, B, s, Hz); the JSON files use the
// units named in their keys and are converted once, in profile_loader.cpp.
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "hwprofiles/links.hpp"

namespace hw {

// Tensor-core (matrix unit) input precisions a profile can list a dense peak for.
enum class Precision { tf32, fp16, bf16, fp8, fp4 };
inline constexpr std::array<Precision, 5> kAllPrecisions = {
    Precision::tf32, Precision::fp16, Precision::bf16, Precision::fp8, Precision::fp4};
std::string_view to_string(Precision p);

// Matrix-instruction class a kernel issues: the tensor rate it can reach depends on it (a Hopper
// or Blackwell SM runs Ampere's warp-level mma.sync well below its dense peak, which needs wgmma
// or tcgen05). `native` is the device's own fastest class (cuBLAS, vendor libraries): the dense
// peak. SCHEMA.md "Instruction classes" has the table and its sources.
enum class MmaClass { mma_sync, wgmma, tcgen05, cube, native };
inline constexpr std::array<MmaClass, 4> kListedMmaClasses = {MmaClass::mma_sync, MmaClass::wgmma,
                                                              MmaClass::tcgen05, MmaClass::cube};
std::string_view to_string(MmaClass c);  // JSON key: mma_sync, wgmma, tcgen05, cube, native

// How the kernel is called, and so the host-side floor (Python dispatch, framework checks, the
// launch itself) under which a benchmark loop cannot go, whatever the kernel's device time
// (hwprofiles/SCHEMA.md, "Fixed costs"): none (direct), PyTorch eager dispatch per call,
// torch_npu's per-call host tiling, Triton's Python launcher (paid per kernel launch), or
// FlashInfer's Python wrappers (a PyTorch extension whose run() does less per call than
// FlashAttention's flash_attn_with_kvcache: hwprofiles/h20.json).
enum class Caller { direct, pytorch, torch_npu, triton, flashinfer };
inline constexpr std::array<Caller, 5> kAllCallers = {
    Caller::direct, Caller::pytorch, Caller::torch_npu, Caller::triton, Caller::flashinfer};
std::string_view to_string(Caller c);  // direct, pytorch, torch_npu, triton, flashinfer
// "direct, pytorch, torch_npu, triton, flashinfer": the names errors list as allowed.
std::string known_callers();
// True for the callers whose host cost is paid per kernel launch (triton) instead of per call.
inline bool caller_per_launch(Caller c) {
  return c == Caller::triton;
}
std::optional<Caller> parse_caller(std::string_view name);

// Dependent-chain latencies measured on the device (compute.latency_ns): one link of a chain of
// loads that miss L2, of L2 hits, of shared-memory loads, of warp shuffles (each with its add),
// of exp2f (with a multiply) and of WMMA 16x16x16 products. Schedules that price a kernel's exposed
// waits from its source (the project_* schedules) use them; without them, published figures.
struct ChainLatencies {
  double global_s = 0, l2_s = 0, shared_s = 0, shuffle_s = 0, exp_s = 0, mma_s = 0;
  std::string source;
};

struct Compute {
  double sm_count = 0;         // SMs (NVIDIA) or AI cube cores (Ascend)
  double tensor_clock_hz = 0;  // clock that reproduces the tensor peak
  double max_clock_hz = 0;     // boost clock
  std::array<double, kAllPrecisions.size()> tensor_dense_flops{};  // 0 = unsupported
  // Dense peak per instruction class and precision (0 = the class has no path for it). Empty
  // (no `tensor_dense_TFLOPS_by_class` in the file): every class runs at tensor_dense_flops.
  std::map<MmaClass, std::array<double, kAllPrecisions.size()>> class_dense_flops;
  std::map<MmaClass, std::string> class_sources;  // where each class's figures come from
  double vector_fp32_flops = 0;                   // non-tensor FP32 peak
  double exp_ops_per_clk_per_sm = 0;
  std::optional<ChainLatencies> latency;
};

struct Memory {
  double hbm_capacity_bytes = 0;
  double hbm_bandwidth_Bps = 0;
  double l2_bytes = 0;
  double smem_per_sm_bytes = 0;
  double smem_per_block_bytes = 0;
  std::optional<double> registers_per_sm;
  std::optional<double> max_threads_per_sm;
  std::optional<double> max_ctas_per_sm;
  // One SM's read rate from the cache that holds what it reads again (a host probe's core and its
  // last-level cache); used where a schedule prices such hits apart (Launch::sm_bytes_from_cache).
  std::optional<double> cache_read_Bps_per_sm;
};

// The scale-up link as profiles described it before `links` existed (a name and a bandwidth).
// Read only from a profile without `links`, for its single-device queries (TPLA's all-reduce);
// `links.scale_up` is the one source of the scale-up bandwidth otherwise.
struct Interconnect {
  std::string name;
  double bandwidth_Bps_per_dir = 0;
};

// Efficiency of one kernel class (schedule) on one device, used by the tile engine.
struct ScheduleCalibration {
  double mma_fraction = 1.0;        // achievable share of the tensor peak inside the main loop
  double softmax_overlap = 0.0;     // share of the shorter of matmul / softmax time hidden, [0, 1]
  double tile_overhead_cycles = 0;  // fixed cycles per tile iteration (barriers, pipeline waits)
  double cta_overhead_cycles = 0;   // fixed cycles per CTA (prologue, epilogue)
  // Cycles of one tile's dependency chain beyond its pipe work (scores -> softmax -> P -> PV:
  // the round trips through tensor memory or shared memory and the barriers between the
  // warps). A tile then takes at least (its matmul + softmax time + these) over the tiles the
  // kernel keeps in flight (Launch::tiles_in_flight). Absent: the overlap rule alone.
  std::optional<double> chain_cycles;

  bool operator==(const ScheduleCalibration&) const = default;
};

// Every efficiency factor an engine applies. Defaults come from the profile files (public
// measurements, see their `sources`); `attnsim validate --calibrate` refits them.
struct Calibration {
  double tensor_fraction = 1.0;
  double hbm_fraction = 1.0;
  double vector_fraction = 1.0;
  double exp_fraction = 1.0;
  double kernel_launch_s = 0.0;  // device-side fixed cost of one kernel launch
  // Host-side cost of one call per caller (index: Caller): a floor (a call takes at least this
  // long) unless the caller is listed as in turn, when it adds to the device time.
  std::array<double, kAllCallers.size()> caller_floor_s{};
  // Callers whose host work runs in turn with the device (caller_floor_us.in_turn): the device
  // waits for it inside every call, so it adds instead of hiding under long kernels.
  std::array<bool, kAllCallers.size()> caller_in_turn{};
  // caller_floor_us.triton_jit: what a Triton JIT kernel's launch from Python costs the host beyond
  // the triton floor (argument binding, heuristics and autotuner lookups), per such launch.
  double triton_jit_s = 0;
  // caller_floor_us.extra_launch: what each launch of a call after its first costs a per-call
  // caller's host (a split kernel's combine launch and the buffers allocated for its partials),
  // on top of the per-call floor.
  double caller_extra_launch_s = 0;
  std::string caller_floor_source;     // where the floors come from (required with the floors)
  double l2_reuse_fraction = 1.0;      // share of L2 that keeps K/V re-read by concurrent CTAs
  double sm_bandwidth_fraction = 1.0;  // most of the device's HBM bandwidth one SM can draw
  // Per schedule name (fa2, fa2_bwd, fa3, ...). A schedule is available on a device only when its
  // profile calibrates it.
  std::map<std::string, ScheduleCalibration> schedules;
};

struct Profile {
  std::string id;
  std::string name;
  std::string vendor;
  std::string arch;
  std::vector<std::string> aliases;
  Compute compute;
  Memory memory;
  Calibration calibration;
  std::optional<Links> links;  // multi-device links; absent: single-device use only
  std::optional<Interconnect> legacy_interconnect;  // only in a profile without `links`
  std::map<std::string, std::string> unofficial;    // dotted field path -> why it is not official
  std::vector<std::string> notes;
  std::vector<std::string> sources;
  std::string origin;            // file it was read from, or "built-in:<file>"
  std::string default_schedule;  // forward schedule `--kernel auto` picks for prefill-like work

  bool supports(Precision p) const { return tensor_peak_flops(p) > 0; }
  double tensor_peak_flops(Precision p) const {
    return compute.tensor_dense_flops[static_cast<std::size_t>(p)];
  }
  // Dense peak of instruction class `c` at precision `p`: the class's own entry where the profile
  // lists classes, the device's dense peak for `native` or a profile without the table; 0 where
  // the listed class lacks `p` or the device lacks the class.
  double class_peak_flops(MmaClass c, Precision p) const {
    if (c == MmaClass::native || compute.class_dense_flops.empty()) return tensor_peak_flops(p);
    auto it = compute.class_dense_flops.find(c);
    return it == compute.class_dense_flops.end() ? 0 : it->second[static_cast<std::size_t>(p)];
  }
  // Bytes per second one device sends on its scale-up link (one direction): links.scale_up, or
  // the legacy `interconnect` of an old profile; 0 when the profile has neither.
  double scale_up_bandwidth_Bps() const {
    if (links) return links->scale_up.bandwidth_Bps_per_dir;
    return legacy_interconnect ? legacy_interconnect->bandwidth_Bps_per_dir : 0;
  }
  double caller_floor_s(Caller c) const {
    return calibration.caller_floor_s[static_cast<std::size_t>(c)];
  }
  // The host's extra cost per Triton JIT launch (Launch::host_jit_launches) for caller `c`: the
  // triton caller's caller_floor_us.triton_jit, nothing for the others.
  double caller_jit_s(Caller c) const { return c == Caller::triton ? calibration.triton_jit_s : 0; }
  // The host's cost of each launch after a call's first for caller `c`:
  // caller_floor_us.extra_launch for a per-call framework caller, nothing for a direct call or a
  // per-launch caller (triton, whose floor already counts every launch).
  double caller_extra_launch_s(Caller c) const {
    return c == Caller::direct || caller_per_launch(c) ? 0 : calibration.caller_extra_launch_s;
  }
  bool caller_in_turn(Caller c) const {
    return calibration.caller_in_turn[static_cast<std::size_t>(c)];
  }
  double exp_peak_ops_per_s() const {
    return compute.exp_ops_per_clk_per_sm * compute.sm_count * compute.tensor_clock_hz;
  }
};

// A profile file (or override) that does not follow the schema. Bad input: the CLI exits 2.
class ProfileError : public std::invalid_argument {
 public:
  ProfileError(const std::string& origin, const std::string& pointer, const std::string& problem)
      : std::invalid_argument(origin + ": " + (pointer.empty() ? "/" : pointer) + ": " + problem) {}
  explicit ProfileError(const std::string& message) : std::invalid_argument(message) {}
};

}  // namespace hw
