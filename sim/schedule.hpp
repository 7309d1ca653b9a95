// Schedules: how a kernel executes an Op (docs/kernels.md). Each lowers one Op into launches
// that the tile engine prices. One file per schedule family; this table names them all.
//
// Names are resolved once, where they enter (`--kernel`, a measurement row): a KernelChoice holds
// the schedule itself, and the engine hands each lowering the profile's calibration entry for its
// op (forward_calibration, backward_calibration, support_calibration). A lowering that runs another
// library's kernel too (FA2's split kernel is Flash-Decoding's) takes that schedule from the
// registry and its entry through find_calibration, never by an entry key.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "common/static_vector.hpp"
#include "hwprofiles/profile.hpp"
#include "models/cost_model.hpp"
#include "models/workload.hpp"
#include "sim/launch.hpp"

namespace sim {

// At most one op's launches (FSA's selected backward has 20).
using Launches = common::StaticVector<Launch, 24>;

// What the caller fixed about a kernel's launch configuration (a measured run's settings);
// anything left at 0 is the schedule's own choice.
struct ScheduleOptions {
  double splits = 0;                       // split-KV: the split count the kernel was launched with
  hw::Caller caller = hw::Caller::direct;  // whose host floor a call pays
};

struct ScheduleInput {
  const models::Op& op;
  const models::Workload& workload;
  const hw::Profile& profile;
  // The profile's calibration entry that prices every launch of this op (the schedule's own entry
  // for the op's pass, or a support entry), resolved by the engine.
  const hw::ScheduleCalibration& calibration;
  std::string_view name;  // the schedule as reported on its launches and named in errors
  ScheduleOptions options = {};
  hw::MmaClass mma_class = hw::MmaClass::native;  // what the chosen schedule issues
};

using LowerFn = void (*)(const ScheduleInput& in, Launches& out);

struct ScheduleInfo {
  std::string_view name;
  std::string_view summary;
  LowerFn forward;
  LowerFn backward;  // nullptr: backward passes use the device's default schedule
  // Scan ops (linear attention) when this schedule is named; nullptr: chunked_scan prices them.
  LowerFn scan = nullptr;
  // Matrix instructions the kernel issues (its tensor ceiling); native = the device's fastest,
  // for libraries that pick the architecture's own instructions (cuBLAS, FlashMLA-class).
  hw::MmaClass mma_class = hw::MmaClass::native;
  // Selection ops (NSA's block scores and top-k) when this schedule prices them with its kernels,
  // handed its forward entry (a kernel of them may take an entry of its own: kNsaScoresEntry);
  // nullptr: the elementwise kernel prices them.
  LowerFn selection = nullptr;
  // How the kernel is reached where a measurement names no caller: Triton kernels through Triton's
  // launcher, torch_npu's ops through torch_npu, FlashInfer's through its Python wrappers, others
  // directly (validate::default_caller).
  hw::Caller caller = hw::Caller::direct;
  // A library kernel that takes 16-bit (and fp8) inputs only (FlashAttention 2/3/4, cuDNN SDPA,
  // FlashMLA, the split-KV decoders): an fp32 workload runs its tiling on the FP32 pipes, a
  // stand-in for PyTorch's memory-efficient kernel (query warns).
  bool sixteen_bit_inputs = false;
  // The widest head (head_dim or v_head_dim) the library runs, 0 for any: FlashAttention 2/3/4 and
  // cuDNN SDPA stop at 256. Absorbed MLA (values inside the keys) is exempt where the library has
  // an MLA kernel for it (`latent_decode`: FlashInfer's MLA decode, 512 + 64, for split_kv).
  double max_head_dim = 0;
  bool latent_decode = false;
  // The backward runs the forward's own kernels (the unfused math path: cuBLAS GEMMs and ATen's
  // softmax), so it is priced with the forward entry; false: with `<name>_bwd`.
  bool backward_on_forward_entry = false;
};

// Whether `schedule` runs the head dimensions of attention op `op` (ScheduleInfo::max_head_dim).
bool runs_head_dims(const ScheduleInfo& schedule, const models::Op& op);

// Every schedule, in the order `--kernel` lists them.
const std::vector<ScheduleInfo>& schedules();
// Throws common::SpecError naming the known schedules.
const ScheduleInfo& find_schedule(std::string_view name);

// What `--kernel` (or a measurement's kernel) names, resolved once: `auto` (a schedule chosen per
// op by choose_schedule) or one schedule of the table.
class KernelChoice {
 public:
  KernelChoice() = default;  // auto
  explicit KernelChoice(const ScheduleInfo& schedule) : schedule_(&schedule) {}
  // "auto" or a schedule's name; throws common::SpecError naming the known ones.
  static KernelChoice parse(std::string_view name);

  bool is_auto() const { return schedule_ == nullptr; }
  const ScheduleInfo* schedule() const { return schedule_; }  // nullptr for auto
  std::string_view name() const { return schedule_ ? schedule_->name : "auto"; }

 private:
  const ScheduleInfo* schedule_ = nullptr;
};

// The schedule `kernel` means for this op on this device: `auto` picks flashmla for the absorbed
// MLA decode FlashMLA runs (where the profile calibrates it), split_kv for other decode and the
// profile's default_schedule otherwise. Throws when the device has no calibration for it.
const ScheduleInfo& choose_schedule(const KernelChoice& kernel, const models::Op& op,
                                    const models::Workload& w, const hw::Profile& profile);

// The calibration entries of a schedule: `<name>` prices its forward launches (and scans),
// `<name>_bwd` its backward ones (hwprofiles/SCHEMA.md), or `<name>` for both where its backward
// runs its forward's kernels (ScheduleInfo::backward_on_forward_entry).
// The entry for `pass`, or nullptr where the profile has none (the kernel does not run there).
const hw::ScheduleCalibration* find_calibration(const hw::Profile& profile,
                                                const ScheduleInfo& schedule,
                                                models::Pass pass = models::Pass::forward);
// The same, each throwing common::KernelRefusal (a SpecError: the kernel does not run on this
// device) listing the entries the profile has.
const hw::ScheduleCalibration& forward_calibration(const hw::Profile& profile,
                                                   const ScheduleInfo& schedule);
const hw::ScheduleCalibration& backward_calibration(const hw::Profile& profile,
                                                    const ScheduleInfo& schedule);
// The entry key of a schedule's backward pass (`<schedule>_bwd`), for whoever writes entries.
std::string backward_calibration_key(std::string_view schedule);

// The calibration entry of nsa_triton_compressed's block-score kernel (score_kernel) alone, where a
// profile has one (hwprofiles/SCHEMA.md): fitted on the rows that time the compressed branch with
// its block scores and top-k, while the compressed kernels' entry stays as the branch's own rows
// fit it. Without it the kernel takes the compressed kernels' forward entry.
inline constexpr std::string_view kNsaScoresEntry = "nsa_triton_scores";

// The ops other than attention, each priced by a fixed support entry of calibration.schedules
// (hwprofiles/SCHEMA.md, "Support calibrations"): gemm for GEMMs, unfused for elementwise ops
// (they run as the unfused baseline's memory-bound softmax-class kernels), chunked_scan for scans.
enum class SupportKernel { gemm, elementwise, scan };

// The calibration.schedules key of a support kernel: "gemm", "unfused" or "chunked_scan".
std::string_view support_calibration_key(SupportKernel kernel);
// The name its launches report: "gemm", "elementwise" or "chunked_scan".
std::string_view support_schedule_name(SupportKernel kernel);
// There is no built-in default: a profile without the entry cannot price `op`, and this throws
// common::SpecError naming the entry, the op and the SCHEMA.md section.
const hw::ScheduleCalibration& support_calibration(const hw::Profile& profile, SupportKernel kernel,
                                                   const models::Op& op);

}  // namespace sim
