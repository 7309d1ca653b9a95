#include "sim/flash_forward.hpp"

#include <algorithm>
#include <cmath>

#include "sim/waves.hpp"

namespace sim {

Launch flash_forward_launch(const ScheduleInput& in, const Geometry& g, FlashTile t,
                            double splits, const char* name) {
  Launch l;
  l.name = name;
  l.schedule = in.name;
  l.calibration = &schedule_calibration(in.profile, std::string(in.name));
  l.cta = {t.smem_bytes, t.threads, 0, t.max_ctas_per_sm};
  l.dispatch = t.dispatch;
  JobStats jobs = row_block_jobs(g, t.m, t.n);
  const models::AttentionShape& a = in.op.attention;
  if (a.selected_blocks > 0) {
    // Content-selected keys: a tile holds only the rows that share a selection, padded to the
    // MMA's 16-row minimum, and visits the selected blocks (fewer for early tokens).
    const double rows = static_cast<double>(a.selection_rows);
    t.m = std::max(rows, kMmaMinRows);
    const double per_query_keys = a.pairs_per_head / static_cast<double>(a.q_len);
    const double tiles = std::max(1.0, std::min(static_cast<double>(a.selected_blocks) *
                                                    ceil_div(a.select_block, t.n),
                                                ceil_div(per_query_keys, t.n)));
    const double query_rows = static_cast<double>(a.batch * a.heads_q * a.q_len);
    jobs = {ceil_div(query_rows, rows), tiles, tiles, ceil_div(query_rows, rows) * tiles};
  }
  if (splits > 1) {
    jobs.count *= splits;
    jobs.min_tiles = std::max(1.0, std::floor(jobs.min_tiles / splits));
    jobs.max_tiles = std::ceil(jobs.max_tiles / splits);
  }
  l.jobs = jobs;
  const double scores = t.m * t.n;
  l.per_tile.tensor_flops = 2 * scores * (g.d + g.dv);
  l.per_tile.exp_ops = scores * (1 - t.exp_emulated_share);
  // Softmax per score, the emulated exps, and the rescale of the O accumulator per tile (a
  // sigmoid keeps no row statistics, so it has neither).
  const bool softmax = g.score == models::ScoreFn::softmax;
  l.per_tile.alu_ops = scores * ((softmax ? kFwdAluPerScore : kSigmoidAluPerScore) +
                                 t.exp_emulated_share * kPolyAluPerExp) +
                       (softmax ? t.m * g.dv : 0);
  // K/V tiles are re-read by every row block (and every unpacked query head) of a KV head;
  // concurrent CTAs share them through L2 while the heads in flight fit.
  const double m_blocks = ceil_div(g.rows, t.m);
  // With a window only the row blocks within window + M of a KV tile read it.
  const double readers =
      g.window > 0 ? std::min(m_blocks, ceil_div(g.window + t.m, t.m)) : m_blocks;
  const double reuse = readers * (g.heads / g.kv_heads);
  const double slots = in.profile.compute.sm_count * ctas_per_sm(l.cta, in.profile);
  // Readers that run in the same wave stream a tile together, so only the tiles in flight must
  // stay in L2; readers spread over waves need the whole range of keys they share to stay there.
  const double keys_read = g.window > 0 ? std::min(g.keys, g.window + t.m + g.sinks) : g.keys;
  const double groups_in_flight = std::max(1.0, slots / m_blocks / (g.heads / g.kv_heads));
  const double working_set = readers <= slots
                                 ? slots * t.n * g.kv_width * g.s_kv
                                 : groups_in_flight * keys_read / splits * g.kv_width * g.s_kv;
  l.per_tile.hbm_bytes =
      t.n * g.kv_width * g.s_kv * hbm_fraction_of_reads(reuse, working_set, in.profile);
  // Q in and O out cover the rows that exist; a decode row block is mostly padding.
  const double rows = std::min(t.m, g.rows);
  const double out_bytes = splits > 1 ? rows * (g.dv + 1) * 4 : rows * g.dv * g.s;
  const double lse_bytes =
      (in.workload.phase == models::Phase::fwd || in.workload.phase == models::Phase::train)
          ? 4 * rows
          : 0;
  l.per_job_hbm_bytes = rows * g.d * g.s + out_bytes + lse_bytes;
  l.per_job_fixed_cycles = l.calibration->cta_overhead_cycles;
  return l;
}

Launch memory_launch(const ScheduleInput& in, const char* name, double bytes, double jobs,
                     const std::string& calibration_key) {
  Launch l;
  l.name = name;
  l.schedule = in.name;
  l.calibration = &schedule_calibration(in.profile, calibration_key);
  l.jobs = {std::max(1.0, jobs), 0, 0, 0};
  l.per_job_hbm_bytes = bytes / l.jobs.count;
  l.per_job_fixed_cycles = l.calibration->cta_overhead_cycles;
  return l;
}

Launch split_combine_launch(const ScheduleInput& in, const Geometry& g, double partial_rows) {
  // Partials: fp32 O plus LSE per row and split; output rows once in the activation type.
  const double out_rows = g.batch * g.heads * g.rows;
  const double bytes = partial_rows * (g.dv + 1) * 4 + out_rows * g.dv * g.s;
  // FA2 combine: 4-16 rows per 128-thread CTA (kernels.md §1.4); 8 is the d = 64/128 middle.
  return memory_launch(in, "combine", bytes, ceil_div(out_rows, 8), std::string(in.name));
}

double splits_for_waves(double row_blocks, double slots, double n_blocks, bool skip_ineligible) {
  if (row_blocks >= 0.8 * slots) return 1;
  const double max_splits = std::min({128.0, slots, n_blocks});
  auto efficiency = [&](double s) {
    const double w = row_blocks * s / slots;
    return w / std::ceil(w);
  };
  auto eligible = [&](double s) {
    return !skip_ineligible || s == 1 || std::ceil(n_blocks / s) != std::ceil(n_blocks / (s - 1));
  };
  double best = 0;
  for (double s = 1; s <= max_splits; ++s) {
    if (eligible(s)) best = std::max(best, efficiency(s));
  }
  for (double s = 1; s <= max_splits; ++s) {
    if (eligible(s) && efficiency(s) >= 0.85 * best) return s;
  }
  return 1;
}

}  // namespace sim
