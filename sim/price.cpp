#include "sim/price.hpp"

#include <algorithm>
#include <cmath>

#include "sim/rates.hpp"
#include "sim/schedule.hpp"
#include "sim/waves.hpp"

namespace sim {

namespace {

// Throughput of one SM for one kernel class.
struct SmRates {
  double tensor = 0;  // FLOP/s; 0 = no tensor path (fp32): matmuls go to the FP32 pipes
  double exp = 0;     // exp/s
  double alu = 0;     // FP32 lane instructions/s
  double hbm = 0;     // B/s: the SM's share of achievable HBM bandwidth
  double clock = 0;   // Hz, for cycle counts
  double issue = 0;   // warp instructions/s: four schedulers, one a clock each, at boost
};

// The tensor pipe runs at the launch's schedule-calibrated share of the ceiling of the matrix
// instructions it issues (FA2's mma.sync on Hopper: two thirds of the dense peak).
SmRates sm_rates(const hw::Profile& p, const models::Workload& w, const Launch& l) {
  const hw::Calibration& c = p.calibration;
  const double sms = p.compute.sm_count;
  SmRates r;
  r.tensor = sm_tensor_flops(p, w, l);
  r.exp = p.compute.exp_ops_per_clk_per_sm * p.compute.tensor_clock_hz * c.exp_fraction;
  r.alu = p.compute.vector_fp32_flops / 2 / sms * c.vector_fraction;  // an FMA is 2 FLOPs
  r.hbm = p.memory.hbm_bandwidth_Bps * c.hbm_fraction / sms;  // fair share when all SMs stream
  r.clock = p.compute.tensor_clock_hz;
  // Every NVIDIA SM since Volta: four sub-partitions, each a scheduler issuing one warp
  // instruction a clock (CUDA C++ Programming Guide, compute capabilities 7.x-10.x), at the boost
  // clock (which every profile gives), by vector_fraction as the FP32 rate.
  r.issue = 4 * p.compute.max_clock_hz * c.vector_fraction;
  return r;
}

// CTAs stacked on one SM: the block scheduler spreads a small grid over SMs before stacking, so
// co-residency only reaches the occupancy limit when the grid needs it.
double sm_stacking(double ctas, double sms, double occupancy) {
  return std::clamp(std::ceil(ctas / sms), 1.0, occupancy);
}

// One SM's HBM bandwidth when `busy_sms` stream: its fair share, or more when few are busy, up to
// what one SM can draw.
double sm_bandwidth(const hw::Profile& p, double busy_sms) {
  const double total = p.memory.hbm_bandwidth_Bps * p.calibration.hbm_fraction;
  const double sms = p.compute.sm_count;
  return std::max(total / sms, std::min(total / std::max(1.0, busy_sms), sm_load_Bps(p)));
}

// Times of one tile iteration on one SM.
struct TileTimes {
  double tensor = 0, exp = 0, alu = 0;
  // The softmax pipes together: exp + FP32 where one warp issues both in turn, the longer of the
  // two where they run side by side (Launch::exp_alu_concurrent).
  double softmax = 0;
  double compute = 0;  // the pipes with the schedule's overlap, plus per-tile fixed cycles
  // One CTA's tile when its dependency chain binds (calibration chain_cycles): the pipes and the
  // chain over the tiles it keeps in flight, plus the same fixed cycles; 0 without a chain.
  double chain = 0;
  // One tile with its pipes in turn: matmul + softmax (+ the chain), plus the same fixed cycles.
  double serial = 0;
  double sm_load = 0;  // the tile's operand loads at what one SM's load path draws
};

TileTimes tile_times(const Launch& l, const hw::Profile& p, const SmRates& r) {
  const TileWork& t = l.per_tile;
  const hw::ScheduleCalibration& cal = *l.calibration;
  TileTimes tt;
  // Products on the FP32 pipes at the schedule's share of their rate (Launch::
  // fp32_products_calibrated), or with the softmax's lane work (an FMA is 2 FLOPs).
  const bool own_products = r.tensor <= 0 && l.fp32_products_calibrated;
  if (r.tensor > 0) {
    tt.tensor = t.tensor_flops / r.tensor;
  } else if (own_products) {
    tt.tensor = t.tensor_flops / (2 * r.alu * cal.mma_fraction);
  }
  tt.exp = t.exp_ops / r.exp;
  const double lane_products = r.tensor > 0 || own_products ? 0 : t.tensor_flops / 2;
  tt.alu = std::max((t.alu_ops + lane_products) / r.alu + t.int_cycles / r.clock,
                    t.issue_slots / r.issue);
  tt.softmax = l.exp_alu_concurrent ? std::max(tt.exp, tt.alu) : tt.exp + tt.alu;
  const double fixed = l.overhead_is_wait ? 0 : cal.tile_overhead_cycles / r.clock;
  tt.compute =
      l.jobs.total_tiles > 0 ? overlapped(tt.tensor, tt.softmax, cal.softmax_overlap) + fixed : 0;
  const double chain_s = cal.chain_cycles ? *cal.chain_cycles / r.clock : 0;
  if (cal.chain_cycles && l.jobs.total_tiles > 0) {
    tt.chain = (tt.tensor + tt.softmax + chain_s) / l.tiles_in_flight + fixed;
  }
  tt.serial = tt.tensor + tt.softmax + chain_s + fixed;
  // One SM loads at most what its load path draws, L2 hits included (cache hits at the cache's
  // read rate where the launch says its loads hit and the profile gives that rate).
  const double load_Bps = l.sm_bytes_from_cache && p.memory.cache_read_Bps_per_sm
                              ? *p.memory.cache_read_Bps_per_sm
                              : sm_load_Bps(p);
  tt.sm_load = t.sm_bytes / load_Bps;
  return tt;
}

// Cycles one CTA waits per tile with nothing of its own to issue (TileWork::latency_cycles, plus
// the calibration's tile overhead where the launch declares it a wait).
double wait_cycles(const Launch& l) {
  return l.per_tile.latency_cycles + (l.overhead_is_wait ? l.calibration->tile_overhead_cycles : 0);
}

// A tile's time on one SM when `stacked` CTAs share it, whose bandwidth share is `hbm`: the
// stacked pipe and byte times, one CTA's waits plus its pipe time, or one CTA's dependency chain,
// whichever is longer (a CTA that waits on its own loads and chains takes at least that, however
// few CTAs share the SM, while CTAs sharing it fill each other's waits; a CTA of fewer than four
// warps issues its pipe work to that share of the SM, Launch::issue_share); for a launch whose
// waits are its own instruction chain (Launch::chain_shares_issue), at least its waits plus the
// pipe time of every CTA stacked on the SM.
double tile_span(const Launch& l, const SmRates& r, const TileTimes& tt, double stacked, double hbm,
                 double bytes_scale = 1) {
  const double wait_s = wait_cycles(l) / r.clock;
  const double alone_s = wait_s + tt.compute / l.issue_share;
  const double shared_s = l.chain_shares_issue ? wait_s + tt.compute * stacked : 0;
  const double bytes_s = l.per_tile.hbm_bytes * bytes_scale / hbm;
  const double busy_s = l.loads_in_turn ? tt.compute + bytes_s + tt.sm_load
                                        : std::max({tt.compute, bytes_s, tt.sm_load});
  return std::max({busy_s * stacked, alone_s, tt.chain, shared_s});
}

// Makespan of the grid: `k` CTAs stacked per SM (at most `occupancy`), each SM drawing `r.hbm`.
double grid_span(const Launch& l, const hw::Profile& p, const SmRates& r, const TileTimes& tt,
                 double k, double occupancy) {
  const double sms = p.compute.sm_count;
  // Duration of a job of `tiles` iterations when `stacked` CTAs share an SM whose bandwidth
  // share is `hbm`; the mean job moves the mean per-job bytes, the longest its own share.
  auto job_s = [&](double tiles, double stacked, double hbm, double job_bytes,
                   double tile_scale = 1) {
    const double tile_s = tile_span(l, r, tt, stacked, hbm, tile_scale);
    return tiles * tile_s + l.per_job_fixed_cycles / r.clock + job_bytes / hbm * stacked;
  };
  // Tiles run in turn (Launch::serial_tiles_per_job) take their pipes one after the other, and
  // their chain, where that is longer than the tile's time: extra time for a job of `tiles`
  // holding them (the mean job holds its share). Kept out of the shortest job, whose half
  // longest-first packing adds (sim::makespan).
  auto serial_s = [&](double tiles, double stacked, double hbm, double tile_scale = 1) {
    if (l.serial_tiles_per_job <= 0) return 0.0;  // most launches: no tile span to redo
    return std::min(tiles, l.serial_tiles_per_job) *
           std::max(0.0, tt.serial - tile_span(l, r, tt, stacked, hbm, tile_scale));
  };
  const double max_bytes = std::max(l.per_job_hbm_bytes, l.max_job_hbm_bytes);
  const double mean_bytes = l.whole_jobs_but_last ? max_bytes : l.per_job_hbm_bytes;
  const double mean_tiles = l.whole_jobs_but_last ? l.jobs.max_tiles
                            : l.jobs.count > 0    ? l.jobs.total_tiles / l.jobs.count
                                                  : 0;
  // The partial last wave runs on fewer SMs, each drawing more bandwidth (in-order and static
  // persistent dispatch; longest-first has no such tail).
  const double slots = sms * k;
  const double tail_ctas = l.jobs.count - (waves(l.jobs.count, slots) - 1) * slots;
  const double tail_k = sm_stacking(tail_ctas, sms, occupancy);
  const double tail_hbm = sm_bandwidth(p, std::min(sms, std::ceil(tail_ctas / tail_k)));
  const double scale = l.max_tile_hbm_scale;  // the longest job's whole key tiles
  const double tail_s = job_s(l.jobs.max_tiles, tail_k, tail_hbm, max_bytes, scale) +
                        serial_s(l.jobs.max_tiles, tail_k, tail_hbm, scale);
  // The shortest job of a grid whose jobs differ in tiles is its first row block (a causal or
  // windowed grid's), which holds a full block's Q and O; a partial last block, the longest
  // job, would otherwise pull it down through the mean.
  const double min_bytes = l.jobs.min_tiles < l.jobs.max_tiles ? max_bytes : mean_bytes;
  const double min_s = job_s(l.jobs.min_tiles, k, r.hbm, min_bytes);
  const double mean_s =
      job_s(mean_tiles, k, r.hbm, mean_bytes) + l.serial_job_share * serial_s(mean_tiles, k, r.hbm);
  const double full_s = job_s(l.jobs.max_tiles, k, r.hbm, max_bytes, scale) +
                        serial_s(l.jobs.max_tiles, k, r.hbm, scale);
  if (l.dispatch == Dispatch::persistent_lpt) {
    return makespan(l.dispatch, l.jobs.count, min_s, mean_s, full_s, slots);
  }
  const double span = makespan(l.dispatch, l.jobs.count, min_s, mean_s, tail_s, slots);
  // More CTAs of the same jobs never finish sooner: a light last wave runs its longest job
  // nearly alone, which can price below the same jobs filling one wave fewer (the longest job
  // stacked), so that grid is a floor.
  const double full_waves = waves(l.jobs.count, slots) - 1;
  if (full_waves < 1) return span;
  return std::max(span, makespan(l.dispatch, full_waves * slots, min_s, mean_s, full_s, slots));
}

}  // namespace

double sm_tensor_flops(const hw::Profile& p, const models::Workload& w, const Launch& l) {
  // TF32 operands: the kernel's fp32 tiles go through the TF32 path where the workload's dtype
  // has a tensor path at all (an fp32 workload is priced on the FP32 pipes, as the roofline does).
  auto precision = tensor_precision(p, w.dtype);
  if (precision && l.tf32_operands) precision = hw::Precision::tf32;
  if (!precision || l.per_tile.tensor_flops <= 0) return 0;  // no MMAs need no class
  return class_peak_flops(p, l.mma_class, *precision) / p.compute.sm_count *
         l.calibration->mma_fraction;
}

double sm_load_Bps(const hw::Profile& p) {
  return p.memory.hbm_bandwidth_Bps * p.calibration.hbm_fraction *
         p.calibration.sm_bandwidth_fraction;
}

LaunchPrediction price_launch(const Launch& l, const hw::Profile& p, const models::Workload& w,
                              std::int64_t count) {
  SmRates r = sm_rates(p, w, l);
  const double sms = p.compute.sm_count;
  const double occupancy = ctas_per_sm(l.cta, p);
  const double k = sm_stacking(l.jobs.count, sms, occupancy);
  const double busy_sms = std::min(sms, std::ceil(l.jobs.count / k));
  r.hbm = sm_bandwidth(p, busy_sms);
  const TileWork& t = l.per_tile;
  const TileTimes tt = tile_times(l, p, r);
  // A stacked SM is priced as if its longest job shared the pipes with equally long ones the
  // whole time, which overstates a grid of uneven jobs (a causal grid's longest row block beside a
  // short one). More resident slots never slow a block-scheduled grid down (a scheduler with fewer
  // slots is one the SM could run), so its span is the least over every occupancy up to the real
  // one; a grid of equal jobs (Launch::equal_jobs) has no such overstatement and runs in the
  // hardware's waves. A persistent grid is sized to its slots: it runs as launched. The report
  // keeps the hardware's occupancy (CTAs per SM, waves): the lower caps only bound the overstated
  // span.
  double span = grid_span(l, p, r, tt, k, occupancy);
  for (double cap = 1; l.dispatch == Dispatch::in_order && !l.equal_jobs && cap < k; ++cap) {
    SmRates fewer = r;
    const double stacked = sm_stacking(l.jobs.count, sms, cap);
    fewer.hbm = sm_bandwidth(p, std::min(sms, std::ceil(l.jobs.count / stacked)));
    span = std::min(span, grid_span(l, p, fewer, tt, stacked, cap));
  }

  LaunchPrediction out;
  out.name = l.name;
  out.schedule = l.schedule;
  out.count = count;
  out.jobs = l.jobs.count;
  // A persistent kernel launches what the SMs hold at once and loops over the work units.
  out.ctas = l.dispatch == Dispatch::in_order ? l.jobs.count : std::min(l.jobs.count, sms * k);
  out.ctas_per_sm = k;
  out.waves = waves(l.jobs.count, sms * k);
  out.tiles = l.jobs.total_tiles;
  out.job_tiles_min = l.jobs.min_tiles;
  out.job_tiles_max = l.jobs.max_tiles;
  out.flops.tensor = l.jobs.total_tiles * t.tensor_flops;
  out.flops.exp = l.jobs.total_tiles * t.exp_ops;
  out.flops.vector = l.jobs.total_tiles * t.alu_ops * 2;
  out.hbm_bytes = l.jobs.total_tiles * t.hbm_bytes + l.jobs.count * l.per_job_hbm_bytes;
  // Each resource's time alone on the SMs the grid occupies (all of them for a grid of a wave or
  // more), at the rates the span uses: a 32-CTA grid's tensor time is its work on 32 SMs, its
  // HBM time what 32 SMs draw.
  out.tensor_s = l.jobs.total_tiles * tt.tensor / busy_sms;
  out.exp_s = l.jobs.total_tiles * tt.exp / busy_sms;
  out.vector_s = l.jobs.total_tiles * tt.alu / busy_sms;
  out.compute_s = l.jobs.total_tiles * tt.compute / busy_sms;
  out.hbm_s = out.hbm_bytes / (r.hbm * busy_sms);
  out.fixed_s = p.calibration.kernel_launch_s * l.launch_fixed_share +
                l.jobs.count * l.serial_cycles_per_job / r.clock;
  out.host_launches = l.host_launches;
  out.host_jit_launches = l.host_jit_launches;
  out.host_waits = l.host_waits;
  out.time_s = span + out.fixed_s;
  // Compute-bound, named after the larger of the tensor and softmax (exp and FP32) pipes, when
  // the launch's compute (the pipes with the schedule's overlap and per-tile cycles, as the span
  // combines them: compute_s) outlasts its bytes (hbm_s, each job's own included: a split's
  // partials, a decode step's query; or its tiles' loads through the SM); memory-bound otherwise.
  // A decode step whose matmuls and softmax barely overlap is compute-bound even where its bytes
  // outlast either pipe alone: fewer bytes would not make it faster.
  const double tiles = l.jobs.total_tiles;
  const double memory_s = std::max(out.hbm_s, tiles * tt.sm_load / busy_sms);
  if (tiles <= 0 || memory_s >= out.compute_s) {
    out.bound = Resource::hbm;
  } else if (tt.tensor >= tt.softmax) {
    out.bound = Resource::tensor;
  } else {
    out.bound = tt.exp >= tt.alu ? Resource::exp : Resource::vector;
  }
  // Latency-bound: one CTA's waits or dependency chain set the tile's time, beyond what the
  // stacked CTAs' pipes and bytes take.
  const double stacked_s =
      std::max({tt.compute, l.jobs.total_tiles > 0 ? t.hbm_bytes / r.hbm : 0, tt.sm_load}) * k;
  if (l.jobs.total_tiles > 0 && tile_span(l, r, tt, k, r.hbm) > stacked_s) {
    out.bound = Resource::latency;
  }
  if (out.fixed_s > span) out.bound = Resource::launch;
  return out;
}

double launches_time(const Launches& launches, const hw::Profile& p, const models::Workload& w) {
  double time = 0;
  for (const Launch& l : launches) time += price_launch(l, p, w, 1).time_s;
  return time;
}

}  // namespace sim
