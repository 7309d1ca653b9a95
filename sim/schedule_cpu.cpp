// cpu_flash: the host kernels of validate/cpu/cpu_attention.cpp (one core): FlashAttention-2 order
// with 64 x 64 blocks, but a block holds only the rows and keys that exist (Eigen multiplies the
// actual sizes, so a decode row is not padded to a tile as on tensor cores, nor a short last block
// to 64), one block at a time.
#include <algorithm>
#include <cmath>
#include <utility>

#include "sim/flash_forward.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

constexpr double kCpuBlock = 64;  // block_q = block_k = 64 in validate/cpu/cpu_attention.hpp

// What the host kernel computes for one (batch, head): scores, and keys it loads (each row block
// loads its keys once).
struct HostWork {
  double scores = 0, keys = 0;
};

// Keys [lo, hi) query row r sees (validate/cpu/cpu_attention.cpp visible_keys): causal rows are
// aligned to the end of the keys, a window keeps the last `window` of them.
std::pair<double, double> visible_keys(const Geometry& g, double r) {
  if (!g.causal) return {0, g.keys};
  const double last = r + g.row_offset;
  const double hi = std::clamp(last + 1, 0.0, g.keys);
  const double lo = g.window > 0 ? std::clamp(last - g.window + 1, 0.0, hi) : 0;
  return {lo, hi};
}

// flash_attention: each block of up to 64 rows visits the 64-key blocks from the one holding its
// first row's first key to its last row's last key, each block cut short only by the end of the
// keys. split_kv_attention (a decode step): all rows at once over exactly the keys from the first
// row's first to the last row's last, in splits that together cover them once.
HostWork host_work(const Geometry& g, bool split_kv) {
  HostWork w;
  if (split_kv) {
    const double lo = visible_keys(g, 0).first;
    const double keys = std::max(0.0, visible_keys(g, g.rows - 1).second - lo);
    return {g.rows * keys, keys};
  }
  for (double q0 = 0; q0 < g.rows; q0 += kCpuBlock) {
    const double rows = std::min(kCpuBlock, g.rows - q0);
    const double lo = visible_keys(g, q0).first;
    const double hi = visible_keys(g, q0 + rows - 1).second;
    double keys = 0;
    for (double k0 = std::floor(lo / kCpuBlock) * kCpuBlock; k0 < hi; k0 += kCpuBlock)
      keys += std::min(kCpuBlock, g.keys - k0);
    w.scores += rows * keys;
    w.keys += keys;
  }
  return w;
}

void lower_cpu_flash(const ScheduleInput& in, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, false);
  FlashTile t;
  t.m = std::min(kCpuBlock, g.rows);
  t.n = kCpuBlock;
  t.threads = 1;
  t.max_ctas_per_sm = 1;
  t.smem_bytes = (t.m * g.d + t.n * (g.d + g.dv)) * g.s;
  Launch l = flash_forward_launch(in, g, t, 1, "attention_fwd");
  // The launch counts whole t.m x t.n tiles; the kernel's blocks are as large as the rows and keys
  // they hold, so a tile carries the mean block's share of the work. The core runs every block in
  // turn, so the mean is exact for the total. Decode steps run split_kv_attention (validate
  // --backend cpu).
  const HostWork work = host_work(g, in.workload.phase == models::Phase::decode);
  const double tiles = l.jobs.total_tiles / (g.batch * g.heads);
  if (tiles > 0) {
    const double score_fill = work.scores / (tiles * t.m * t.n);
    l.per_tile.tensor_flops *= score_fill;
    l.per_tile.exp_ops *= score_fill;
    l.per_tile.alu_ops *= score_fill;
  }
  // The core loads every K/V block it multiplies through its own load path, last-level cache hits
  // included (each query head reads its KV head's blocks again; a decode row's products are
  // matrix-vector, so the loads bind): one core draws at most its triad rate.
  l.per_tile.sm_bytes = tiles > 0 ? work.keys / tiles * g.kv_width * g.s_kv : 0;
  out.push_back(l);
}

}  // namespace

void add_cpu_schedules(std::vector<ScheduleInfo>& table) {
  table.push_back({"cpu_flash",
                   "host kernel (validate --backend cpu): 64 x 64 blocks of actual rows, one core",
                   lower_cpu_flash, nullptr});
}

}  // namespace sim
