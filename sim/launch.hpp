// What a schedule lowers an Op into: kernel launches described as a grid of CTAs ("jobs"), each a
// run of equal-cost tile iterations, plus the resources one CTA holds. The tile engine prices them.
#pragma once

#include <string_view>

#include "hwprofiles/profile.hpp"

namespace sim {

// How CTAs reach SMs. in_order: the hardware dispatches the grid in index order as slots free up
// (FA2). persistent_lpt: persistent CTAs take the longest remaining job first (FA3/FA4 causal), or
// an in-order grid whose index order puts the longest jobs first.
// persistent_static: persistent CTAs stride over equal jobs (FA3/FA4 non-causal).
enum class Dispatch { in_order, persistent_lpt, persistent_static };

// Work of one tile iteration (one M x N block of scores, or one GEMM tile) on one SM.
struct TileWork {
  double tensor_flops = 0;
  double exp_ops = 0;    // on the special-function unit
  double alu_ops = 0;    // FP32-pipe lane instructions (an FMA is one)
  double hbm_bytes = 0;  // after L2 reuse
  // Operand bytes the SM loads, whether from HBM or from L2 after another CTA fetched them: a CTA
  // that shares a tile with others still waits for all of it (0 = only hbm_bytes).
  double sm_bytes = 0;
  // Cycles one CTA waits per tile iteration with nothing of its own to issue (global loads used
  // right after they are issued, dependent shuffle chains), beyond its pipe time. Co-resident CTAs
  // fill that wait with their work, so a tile takes max(stacked x pipe time, latency + pipe time)
  // (0: the kernel's pipelining hides them even alone, as FA2/FA3/FA4 are priced).
  double latency_cycles = 0;
  // SM cycles of integer and warp-vote issue (compares, ballots, popcounts, block barriers) per
  // tile, for a kernel bound by them rather than by its FP32 or tensor work: priced with the FP32
  // work as the vector term, and shared by stacked CTAs like any pipe time (torch.topk's radix
  // select, sim/schedule_nsa_scores.cpp).
  double int_cycles = 0;
  // Warp instructions one CTA issues per tile, every pipe's (counted from the kernel's SASS), for
  // a kernel bound by issue rather than by one pipe: an SM's four schedulers issue one a clock
  // each, a floor under the FP32 and integer time above (0: not counted).
  double issue_slots = 0;
};

// The distribution of tile iterations over the grid's CTAs.
struct JobStats {
  double count = 0;  // CTAs (jobs)
  double min_tiles = 0;
  double max_tiles = 0;
  double total_tiles = 0;  // over all jobs
};

struct CtaResources {
  double smem_bytes = 0;
  double threads = 128;
  double regs_per_thread = 0;  // 0 = not limiting
  double max_ctas_per_sm = 0;  // 0 = no kernel-imposed limit (e.g. 1 for persistent kernels)
};

struct Launch {
  const char* name = "";
  std::string_view schedule;
  JobStats jobs;
  TileWork per_tile;
  double per_job_hbm_bytes = 0;  // loaded/stored once per CTA (Q tile in, O tile out): mean
  // The largest CTA's share when jobs are unequal: a grid of fixed-size chunks gives every CTA a
  // whole chunk but the last, so the longest job never shrinks as the data grows (0 = the mean).
  double max_job_hbm_bytes = 0;
  // The longest CTA's tile bytes over the mean tile's: a split of the keys gives every split but
  // the last whole key tiles, while the mean tile holds the partial last one's share (1 = equal).
  double max_tile_hbm_scale = 1;
  // Every job but the last holds max_tiles and the largest share of the bytes (a grid of whole
  // chunks and a partial last one): a full wave runs whole jobs, not the mean's share of the
  // partial one.
  bool whole_jobs_but_last = false;
  double per_job_fixed_cycles = 0;  // prologue and epilogue beyond the bytes
  // Cycles the device takes to start each CTA where it starts them one after another, paid once
  // per CTA by the launch as a whole (pto_isa_fa's block dispatch); 0 where a wave starts at once.
  double serial_cycles_per_job = 0;
  // Share of the device's per-launch fixed cost (kernel_launch_us) this launch pays: 0 when
  // programmatic dependent launch starts it under the previous kernel, hiding its latency.
  double launch_fixed_share = 1;
  // Launches the host issues for it (several small torch launches priced as one, or a kernel a
  // Python loop repeats): what a per-launch caller floor counts (hw::caller_per_launch). PDL does
  // not change it (the host still issues the launch).
  double host_launches = 1;
  // Of those, the Triton JIT kernels launched from Python: binding their arguments, their
  // heuristics and autotuner lookups cost the host more than an ATen op's dispatch, and a
  // per-launch caller pays calibration.caller_floor_us.triton_jit more for each
  // (hw::Profile::caller_jit_s).
  double host_jit_launches = 0;
  // Times the host waits for the device while issuing them (a `.item()`, a Python `if` on a
  // device tensor), a whole number: each wait lets every earlier launch finish before the host
  // goes on, so the device then idles until the next launch is issued. The launch's host
  // launches are split into this many pieces of whole launches, each after a wait (at most one
  // per launch; sim::host_wait_excess_s).
  double host_waits = 0;
  CtaResources cta;
  Dispatch dispatch = Dispatch::in_order;
  const hw::ScheduleCalibration* calibration = nullptr;  // efficiency of this kernel class
  // Matrix instructions the kernel issues: its tensor ceiling is the profile's peak for them.
  hw::MmaClass mma_class = hw::MmaClass::native;
  // The calibration's tile_overhead_cycles is a wait (a dependent step's latency) that CTAs
  // sharing the SM fill with their own work, as TileWork::latency_cycles; false: fixed cycles
  // the SM's pipes spend per tile (barriers), paid by every stacked CTA in turn.
  bool overhead_is_wait = false;
  // Share of the SM's four sub-partitions (schedulers, tensor and FP32 pipes) one CTA issues to:
  // warps / 4 for a CTA of fewer than four warps, whose tile then takes its pipe time divided by
  // this when it runs alone; co-resident CTAs issue to the rest (1: a CTA of four warps or more).
  double issue_share = 1;
  // Every CTA runs the same tiles (a decode grid, its last chunks aside): an in-order grid runs
  // in the hardware's waves at its occupancy, the CTAs of a short last wave fewer to an SM (alone
  // where there are fewer than SMs, at their own pace: TileWork::latency_cycles), as priced.
  // Otherwise the span is also priced at fewer CTAs per SM and the least taken, which bounds the
  // overstated span of uneven jobs (price_launch).
  bool equal_jobs = false;
  // The exps (MUFU) and the FP32 softmax work (FMA pipes) run side by side: the kernel gives them
  // to different warps and balances the two pipes (FA4 moves a share of the exps to polynomials
  // on the FMA pipes for that reason, docs/kernels.md#3-fa4), so a tile takes the longer of the
  // two rather than their sum; false: one warp issues both in turn (FA2, FA3).
  bool exp_alu_concurrent = false;
  // The CTA's waits are its own chain of dependent instructions (synchronous loads, shuffles, one
  // tile at a time; set by project_flash, this project's flash kernel): the CTAs sharing its SM
  // take issue slots and pipe cycles from that chain, so a tile takes at least its waits plus the
  // pipe time of every CTA stacked there; false: stacked CTAs fill each other's waits.
  bool chain_shares_issue = false;
  // The kernel converts its tiles to fp32 before each matrix product, which Triton's default
  // runs as TF32: its tensor ceiling is the TF32 peak for a 16-bit or fp8 workload.
  bool tf32_operands = false;
  // Independent tiles one CTA keeps in flight, whose dependency chains overlap (FA4's two
  // 128-row query tiles, FA3's two consumer warpgroups): a tile takes at least its chain over
  // this (ScheduleCalibration::chain_cycles).
  double tiles_in_flight = 1;
  // Tiles of a CTA's job that cross the causal diagonal (or a window's edge) and that the kernel
  // runs with its pipes in turn (FA4's masked steps, one tile in flight): each costs its matmul +
  // softmax time (+ chain) instead of its overlapped time. 0: masked tiles cost as the others.
  // The longest job holds them all; `serial_job_share` of the jobs hold them (1 / splits where
  // the keys are split: one split of a row block holds its diagonal).
  double serial_tiles_per_job = 0;
  double serial_job_share = 1;
  // One host core (cpu_flash, cpu_linear): with no asynchronous copies, a block's loads run before
  // its products rather than beside them, so a tile takes its pipe time plus its byte times.
  bool loads_in_turn = false;
  // The matrix products of an fp32 workload (no tensor path) are instructions of their own on the
  // FP32 pipes (a host core's Eigen block products: cpu_flash, cpu_linear), which run at the
  // schedule's mma_fraction of the FP32 rate and which the softmax overlaps by softmax_overlap, as
  // a tensor pipe's; false: they are FP32 lane work priced with the softmax's (CUDA cores).
  bool fp32_products_calibrated = false;
  // TileWork::sm_bytes are re-reads that hit the cache holding them, loaded at the profile's
  // memory.cache_read_GBps_per_sm (where absent, at what one SM draws, as for other launches).
  bool sm_bytes_from_cache = false;
};

}  // namespace sim
