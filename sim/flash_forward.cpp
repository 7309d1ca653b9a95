#include "sim/flash_forward.hpp"

#include <algorithm>
#include <cmath>

#include "sim/row_blocks.hpp"
#include "sim/waves.hpp"

namespace sim {

namespace {

// HBM traffic of a forward launch. What the op must move (models::Op::bytes: Q, K, V, O, the
// log-sum-exp where the pass keeps one) is taken from the op, so there is one rule for it; the
// schedule adds only what its tiling costs on top: K/V re-reads that miss L2, Q re-read by every
// split, and fp32 partials when split.
void set_forward_bytes(const ScheduleInput& in, const Geometry& g, const FlashTile& t,
                       double splits, Launch& l) {
  const models::HbmBytes& need = in.op.bytes;
  const double tile_bytes = t.n * g.kv_width * g.s_kv;
  const double visited = l.jobs.total_tiles * tile_bytes;
  const double kv_need = need.k + need.v;
  // Mean readers of a K/V tile: tile loads over the tiles the op must read. Under a causal mask
  // a tile is read only by the row blocks at or below the diagonal (about half of them), under a
  // window by about (window + M) / M; unpacked query heads of a KV head read it too.
  const double head_share = g.heads / g.kv_heads;
  const double m_blocks = ceil_div(g.rows, t.m);
  const double slots = in.profile.compute.sm_count * ctas_per_sm(l.cta, in.profile);
  // A head's row blocks are adjacent in the grid (FA2, FA3's static and L2-sectioned persistent
  // schedulers), so up to all resident CTAs (of one split each) read one KV head's tiles at once,
  // nearly in step: causal CTAs of adjacent row blocks start one diagonal tile apart and walk the
  // keys together. Among them a tile must stay in L2 only while the window of tiles in flight (one
  // per resident CTA) passes; readers beyond the resident ones come in later passes, a whole sweep
  // over the keys they share later (docs/kernels.md#23-scheduling-and-l2).
  const double keys_read = g.window > 0 ? std::min(g.keys, g.window + t.m + g.sinks) : g.keys;
  const double groups_in_flight = std::max(1.0, slots / m_blocks / head_share);
  const double window = slots * tile_bytes;
  const double pass = groups_in_flight * keys_read / splits * g.kv_width * g.s_kv;
  const double kv_bytes =
      streamed_read_bytes(kv_need, visited, slots / splits, window, pass, in.profile);
  double per_job = 0;
  if (l.jobs.total_tiles > 0) {
    l.per_tile.hbm_bytes = kv_bytes / l.jobs.total_tiles;
  } else {
    per_job += kv_bytes;
  }
  // Every split of a row block loads its Q tile; a split writes O (FlashTile::partial_o_bytes an
  // element) and fp32 LSE partials that the
  // combine launch reduces into O (and the LSE), otherwise the CTA writes them itself.
  const double partials = splits * g.batch * g.heads * g.rows * (g.dv * t.partial_o_bytes + 4);
  const double out = splits > 1 ? partials : need.o + need.lse;
  const double other = need.total() - (need.q + need.k + need.v + need.o + need.lse);
  per_job += need.q * splits + out + std::max(0.0, other);
  l.per_job_hbm_bytes = per_job / std::max(1.0, l.jobs.count);
}

}  // namespace

double whole_tile_scale(const Geometry& g, const FlashTile& t, double row_block_tiles) {
  // The keys the longest row block sees: all of them, or its positions' window (and the sinks).
  const double per_position = g.heads == g.kv_heads ? g.group : 1;
  const double positions = std::max(1.0, std::min(t.m, g.rows) / per_position);
  const double seen = g.window > 0 ? std::min(g.keys, g.window + positions - 1 + g.sinks) : g.keys;
  return seen > 0 ? std::max(1.0, row_block_tiles * t.n / seen) : 1;
}

Launch flash_forward_launch(const ScheduleInput& in, const Geometry& g, FlashTile t, double splits,
                            const char* name) {
  Launch l;
  l.name = name;
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = in.mma_class;
  l.cta = {t.smem_bytes, t.threads, 0, t.max_ctas_per_sm};
  l.dispatch = t.dispatch;
  JobStats jobs = t.round_unit > 0 ? round_row_block_jobs(g, t.m, t.round_unit, t.n)
                                   : row_block_jobs(g, t.m, t.n);
  const models::AttentionShape& a = in.op.attention;
  const models::BlockVisits& v = a.visits;
  // A full job's query rows and all the grid's: a partial last row block (or row group) holds
  // fewer, so the mean job's Q and O are not the longest job's.
  double full_rows = std::min(t.m, g.rows);
  double all_rows = g.batch * g.heads * g.rows;
  if (v.blocks > 0) {
    // Content-chosen blocks: a tile holds only the rows of one row group, padded to the MMA's
    // 16-row minimum, and visits the group's blocks (fewer while a query sees fewer keys). A row
    // group is one sequence's rows of one KV head: FSA's 32 tokens that selected a block are
    // tokens of one sequence, so a decode step (q_len 1) fills a group with its own G heads only.
    const double q_len = static_cast<double>(a.q_len);
    const double query_rows = static_cast<double>(a.batch * a.heads_q) * q_len;
    double rows = std::max(1.0, static_cast<double>(v.row_group));
    double groups = ceil_div(query_rows, rows);
    if (a.heads_kv > 0 && a.heads_q % a.heads_kv == 0) {
      const double sequence_rows = static_cast<double>(a.heads_q / a.heads_kv) * q_len;
      rows = std::min(rows, sequence_rows);
      groups = static_cast<double>(a.batch * a.heads_kv) * ceil_div(sequence_rows, rows);
    }
    t.m = std::max(rows, kMmaMinRows);
    const double per_query_keys = a.pairs_per_head / q_len;
    const double tiles =
        std::max(1.0, std::min(static_cast<double>(v.blocks) * ceil_div(v.block_keys, t.n),
                               ceil_div(per_query_keys, t.n)));
    jobs = {groups, tiles, tiles, groups * tiles};
    full_rows = rows;
    all_rows = query_rows;
  }
  const double unsplit_max_tiles = jobs.max_tiles;
  if (splits > 1) {
    jobs.count *= splits;
    jobs.min_tiles = std::max(1.0, std::floor(jobs.min_tiles / splits));
    jobs.max_tiles = std::ceil(jobs.max_tiles / splits);
  }
  l.jobs = jobs;
  const double scores = t.m * t.n;
  l.per_tile.tensor_flops = 2 * scores * (g.d + g.dv);
  // A soft-capping tanh per score runs on the exp unit (no kernel emulates it).
  l.per_tile.exp_ops = scores * (1 - t.exp_emulated_share) + (g.softcap ? scores : 0);
  l.exp_alu_concurrent = t.exp_alu_concurrent;
  l.tiles_in_flight = t.tiles_in_flight;
  if (t.serial_masked_tiles && g.causal && v.blocks == 0) {
    // The query positions of one CTA's rows (a packed head's rows share positions) span the
    // diagonal from the causal offset's place in its key block: ceil((positions + offset mod N)
    // / N) key blocks, at least one (FA4 masks one step even for a single position); a window
    // masks as many again at its left edge. One split of a row block holds them.
    const double per_position = g.heads == g.kv_heads ? g.group : 1;
    const double positions = std::max(1.0, std::min(t.m, g.rows) / per_position);
    const double diagonal = ceil_div(positions + std::fmod(g.row_offset, t.n), t.n);
    l.serial_tiles_per_job = diagonal * (g.window > 0 ? 2 : 1);
    l.serial_job_share = 1 / splits;
  }
  // Softmax per score, the emulated exps, and the rescale of the O accumulator per tile (a
  // sigmoid keeps no row statistics, so it has neither).
  const bool softmax = g.score == models::ScoreFn::softmax;
  l.per_tile.alu_ops =
      scores * ((softmax ? kFwdAluPerScore : kSigmoidAluPerScore) +
                t.exp_emulated_share * kPolyAluPerExp + (g.softcap ? kSoftcapAluPerScore : 0)) +
      (softmax ? t.m * g.dv : 0);
  set_forward_bytes(in, g, t, splits, l);
  if (l.jobs.total_tiles > 0) {
    // The Q and O of a full row block (or group), where the mean job holds a partial last one's
    // share.
    const double mean_rows = all_rows / (l.jobs.count / splits);
    l.max_job_hbm_bytes = l.per_job_hbm_bytes * std::max(1.0, full_rows / mean_rows);
    if (v.blocks == 0 && splits > 1) {
      l.max_tile_hbm_scale = whole_tile_scale(g, t, unsplit_max_tiles);
    }
  }
  l.per_job_fixed_cycles = l.calibration->cta_overhead_cycles;
  return l;
}

Launch memory_launch(const ScheduleInput& in, const char* name, double bytes, double items,
                     double items_per_job) {
  Launch l;
  l.name = name;
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = in.mma_class;
  l.jobs = {std::max(1.0, ceil_div(items, items_per_job)), 0, 0, 0};
  l.per_job_hbm_bytes = bytes / l.jobs.count;
  l.max_job_hbm_bytes = items > items_per_job ? bytes * items_per_job / items : bytes;
  l.whole_jobs_but_last = true;  // every CTA but the last takes items_per_job items
  l.per_job_fixed_cycles = l.calibration->cta_overhead_cycles;
  return l;
}

Launch torch_launches(const ScheduleInput& in, const char* name, double bytes, double items,
                      double launches, double waits) {
  Launch l = memory_launch(in, name, bytes, items, 1024);
  l.launch_fixed_share = launches;
  l.host_launches = launches;
  l.host_waits = waits;
  return l;
}

Launch split_combine_launch(const ScheduleInput& in, const Geometry& g, double partial_rows) {
  // Partials: fp32 O plus LSE per row and split, read back; O (and the LSE where the op keeps
  // one) written once, as the op counts them.
  const double out_rows = g.batch * g.heads * g.rows;
  const double bytes = partial_rows * (g.dv + 1) * 4 + in.op.bytes.o + in.op.bytes.lse;
  // FA2 combine: 4-16 rows per 128-thread CTA (docs/kernels.md#13-split_kv); 8 is the
  // d = 64/128 middle.
  return memory_launch(in, "combine", bytes, out_rows, 8);
}

void lower_best_split(const ScheduleInput& in, const Geometry& g, const FlashTile& t,
                      double max_splits, const char* name, Launches& out) {
  auto build = [&](double s, Launches& launches) {
    FlashTile tile = t;
    if (s > 1) tile.dispatch = Dispatch::in_order;
    launches.push_back(flash_forward_launch(in, g, tile, s, name));
    if (s > 1) launches.push_back(split_combine_launch(in, g, s * g.batch * g.heads * g.rows));
  };
  lower_fastest_split(in, flash_forward_launch(in, g, t, 1, name).jobs.max_tiles, max_splits, build,
                      out);
}

}  // namespace sim
