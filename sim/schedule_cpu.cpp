// cpu_flash: the host kernels of validate/cpu/cpu_attention.cpp (one core): FlashAttention-2 order
// with 64 x 64 blocks, but a block holds only the rows and keys that exist (Eigen multiplies the
// actual sizes, so a decode row is not padded to a tile as on tensor cores, nor a short last block
// to 64), one block at a time.
#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/flash_forward.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

constexpr double kCpuBlock = 64;  // block_q = block_k = 64 in validate/cpu/cpu_attention.hpp

// masked_scores (validate/cpu/cpu_attention.cpp) applies the mask in a scalar loop, one score at a
// time: a key index, two range compares, the block-sparse test and a conditional store. Timed
// alone on a 64 x 64 block (Xeon, 2.3 GHz, the project's x86-64 build): 1.13 ns, 2.6 cycles a
// score. It is not vectorised, so it costs cycles, not SIMD lanes.
constexpr double kMaskCyclesPerScore = 2.6;

// What the host kernel computes for one (batch, head): scores, keys it loads (each row block
// loads its keys once) and the distinct keys among them.
struct HostWork {
  double scores = 0, keys = 0, distinct = 0;
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
    return {g.rows * keys, keys, keys};
  }
  w.distinct = g.keys;  // the row blocks together reach every key (a window's too, in turn)
  for (double q0 = 0; q0 < g.rows; q0 += kCpuBlock) {
    const double rows = std::min(kCpuBlock, g.rows - q0);
    const double lo = visible_keys(g, q0).first;
    const double hi = visible_keys(g, q0 + rows - 1).second;
    // Whole blocks from the one holding `lo` past `hi`, the last cut at the end of the keys.
    const double first = std::floor(lo / kCpuBlock) * kCpuBlock;
    const double end = first + std::ceil(std::max(0.0, hi - first) / kCpuBlock) * kCpuBlock;
    const double keys = std::max(0.0, std::min(end, g.keys) - first);
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
    l.per_tile.int_cycles = work.scores / tiles * kMaskCyclesPerScore;
  }
  // K and V: after validate's cache flush the first load of each block comes from DRAM; the other
  // loads (the group's other query heads, later row blocks) hit the last-level cache while a KV
  // head's blocks fit it, and come from DRAM again when they do not. The core loads a block before
  // multiplying it (Eigen packs its operands; nothing copies asynchronously), so the byte times
  // add to the products' (Launch::loads_in_turn).
  const double loaded = g.batch * g.heads * work.keys * g.kv_width * g.s_kv;
  const double unique = std::min(loaded, in.op.bytes.k + in.op.bytes.v);
  const bool fits = l2_miss_fraction(work.distinct * g.kv_width * g.s_kv, in.profile) == 0;
  const double from_cache = fits ? loaded - unique : 0;
  if (l.jobs.total_tiles > 0) {
    l.per_tile.hbm_bytes = (loaded - from_cache) / l.jobs.total_tiles;
    l.per_tile.sm_bytes = from_cache / l.jobs.total_tiles;
  }
  l.loads_in_turn = true;
  l.sm_bytes_from_cache = true;
  l.fp32_products_calibrated = true;  // Eigen's block products (calibration mma_fraction)
  out.push_back(l);
}

// Why the host's linear-attention kernel does not compute this scan, or "" when it does (one rule
// for lower_cpu_linear's refusal and for auto, cpu_linear_runs).
std::string cpu_linear_refusal(const models::Op& op, const models::Workload& w) {
  const models::ScanShape& x = op.scan;
  if (x.gate_dim > 1 || x.block_decay || x.normaliser)
    return "runs plain linear attention only (no decay, gates or normaliser)";
  if (w.phase == models::Phase::decode)
    return "runs chunked prefill only (the host has no recurrent decode kernel)";
  if (op.pass != models::Pass::forward)
    return "has no backward model (the host has no backward linear-attention kernel); use "
           "--engine roofline for bwd/train there";
  return "";
}

void lower_cpu_linear_attention(const ScheduleInput& in, Launches&) {
  throw common::SpecError(fmt::format(
      "kernel '{}' prices the host's chunked linear-attention kernel (scan ops) only; use "
      "cpu_flash for softmax attention",
      in.name));
}

// chunked_linear_attention (validate/cpu/cpu_attention.cpp linear_head), one (batch, head) after
// another, its chunks in turn. A chunk of c tokens computes the whole c x c score block before
// zeroing its upper triangle (2 c^2 dk), its product with V (2 c^2 dv), the earlier chunks
// through the state (2 c dk dv) and the state update (2 dk c dv), all Eigen products on the FP32
// pipes; besides them it scales a copy of its queries (c dk) and zeroes the triangle (c^2 / 2).
// A short last chunk is priced at its size: the launch's tile is the mean chunk.
void lower_cpu_linear(const ScheduleInput& in, Launches& out) {
  const models::ScanShape& x = in.op.scan;
  if (const std::string why = cpu_linear_refusal(in.op, in.workload); !why.empty())
    throw common::SpecError(fmt::format("kernel '{}' on {} {}", in.name, in.profile.id, why));
  const double n = x.chunk, dk = x.key_dim, dv = x.value_dim;
  const double full = std::floor(x.tokens / n), rest = x.tokens - full * n;
  const double chunks = std::max(1.0, full + (rest > 0 ? 1 : 0));
  const double squares = full * n * n + rest * rest;  // sum of c^2 over the chunks
  const double jobs = std::max(1.0, x.batch * x.heads);
  Launch l;
  l.name = "linear_attention";
  l.schedule = in.name;
  l.calibration = &in.calibration;
  l.mma_class = in.mma_class;
  l.cta = {0, 1, 0, 1};
  l.jobs = {jobs, chunks, chunks, jobs * chunks};
  l.per_tile.tensor_flops = (2 * squares * (dk + dv) + 4 * x.tokens * dk * dv) / chunks;
  l.per_tile.alu_ops = (x.tokens * dk + squares / 2) / chunks;  // no decay: no exps
  // Q, K and V in, O out; the state stays in the kernel (the op's final-state write is not done).
  const double s = models::bytes_per_element(in.workload.dtype);
  l.per_tile.hbm_bytes = x.batch * x.heads * x.tokens * 2 * (dk + dv) * s / l.jobs.total_tiles;
  l.loads_in_turn = true;  // as cpu_flash's blocks: each chunk is loaded, then multiplied
  l.fp32_products_calibrated = true;
  l.per_job_fixed_cycles = l.calibration->cta_overhead_cycles;
  out.push_back(l);
}

}  // namespace

bool cpu_linear_runs(const models::Op& op, const models::Workload& w) {
  return cpu_linear_refusal(op, w).empty();
}

void add_cpu_schedules(std::vector<ScheduleInfo>& table) {
  table.push_back({"cpu_flash",
                   "host kernel (validate --backend cpu): 64 x 64 blocks of actual rows, one core",
                   lower_cpu_flash, nullptr});
  table.push_back({"cpu_linear",
                   "host chunked linear attention (validate --backend cpu): whole c x c score "
                   "blocks, the state in cache, one core",
                   lower_cpu_linear_attention, nullptr, lower_cpu_linear});
}

}  // namespace sim
