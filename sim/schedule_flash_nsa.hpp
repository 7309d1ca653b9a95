// flash_nsa (sim/schedule_flash_nsa.cpp, sim/schedule_flash_nsa_selection.cpp,
// sim/schedule_flash_nsa_backward.cpp): NSA as the Hopper
// Triton kernels of github.com/mdy666/Scalable-Flash-Native-Sparse-Attention (commit fcf117c; read
// in validate/data/candidates/flash_nsa_notes.md, docs/kernels.md §11.2). Internal to those files.
#pragma once

#include "models/cost_model.hpp"
#include "models/workload.hpp"
#include "sim/schedule.hpp"
#include "sim/schedule_common.hpp"

namespace sim {

// Which build of its kernels runs: the TMA kernels of flash_nsa/ops/*.py on sm_90 (the profile
// lists wgmma), or the fallback of flash_nsa/ops/ampere_ops.py elsewhere, whose warps, stages and
// some tiles differ (UT:200-206); several choices also depend on d <= 128.
struct FlashNsaBuild {
  bool hopper = true;
  bool wide_head = false;  // head_dim above 128
};
FlashNsaBuild flash_nsa_build(const ScheduleInput& in);

// One of its Triton kernels: `warps` warps a program (a program of fewer than four issues to that
// share of the SM, Launch::issue_share), priced with `cal`; its per-tile calibration overhead is
// a wait co-resident programs fill.
Launch flash_nsa_kernel(const ScheduleInput& in, const hw::ScheduleCalibration& cal,
                        const char* name, double warps);
// A launch that only moves bytes (a fill, a cast, delta) over `items` rows, one program per
// `items_per_job`, priced with the device's elementwise entry, reported under flash_nsa.
Launch flash_nsa_memory(const ScheduleInput& in, const char* name, double bytes, double items,
                        double items_per_job = 1024);
// The entry of its 128-row kernels (compressed attention, block probabilities): the device's
// nsa_triton_compressed entries, the same class of Triton tile (docs/kernels.md §11.2).
const hw::ScheduleCalibration& flash_nsa_wide_entry(const hw::Profile& p, bool backward);

// The selected branch as its kernels run it: one program per (sequence, KV head, token), the G
// query heads of the token as the tile's rows (at least 16), one tile per chosen block.
struct FlashNsaSelection {
  double rows = 16;        // BLOCK_H = max(next_pow2(G), 16)
  double block = 64;       // keys per selected block
  double cap = 16;         // top_n
  double mean_blocks = 0;  // blocks a token visits: min(t / block + 1, top_n) for causal
  double blocks = 0;       // selection blocks of the sequence, cdiv(N, block)
  JobStats jobs;           // the forward's and dQ's programs
};
FlashNsaSelection flash_nsa_selection(const ScheduleInput& in);

// Which ops its own kernels run: NSA's selected branch and its compressed branch over a whole
// sequence (a decode step or a chunk after cached keys runs its inference kernels, which are not
// modelled: false). Throws common::KernelRefusal for a branch they cannot run: not bf16/fp16,
// FSA's 32-token groups, a head_dim that is not at most two powers of two (split_d), a v_head_dim
// that is not a power of two, a selected block that is not a power of two of at least 16 keys, a
// stride its config rejects. (Its selection lowering refuses blocks its config rejects.)
bool flash_nsa_selected_runs(const models::Op& op, const models::Workload& w);
bool flash_nsa_compressed_runs(const models::Op& op, const models::Workload& w);

// The window branch and other dense attention: FA3 where the device calibrates it (the repository
// calls flash_attn_interface), FlashAttention-2 otherwise; a decode step's ops as split_kv, as
// auto prices them, where the device calibrates it.
void lower_flash_nsa_dense(const ScheduleInput& in, bool backward, Launches& out);

void lower_flash_nsa_backward(const ScheduleInput& in, Launches& out);
// Its block selection (sim/schedule_flash_nsa_selection.cpp): a whole 16-bit sequence's block
// scores and top-k with its kernels, a decode step's or a chunk's as elementwise work.
void lower_flash_nsa_selection(const ScheduleInput& in, Launches& out);
// split_d (UT:266-275): a head dim its kernels take as at most two powers of two.
bool flash_nsa_splits_head_dim(std::int64_t d);

}  // namespace sim
