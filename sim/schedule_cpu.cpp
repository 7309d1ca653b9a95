// cpu_flash: the host kernels of validate/cpu/cpu_attention.cpp (one core): FlashAttention-2 order
// with 64 x 64 blocks, but a block holds only the rows that exist (Eigen multiplies the actual
// sizes, so a decode row is not padded to a tile as on tensor cores), one block at a time.
#include <algorithm>

#include "sim/flash_forward.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

constexpr double kCpuBlock = 64;  // block_q = block_k = 64 in validate/cpu/cpu_attention.hpp

void lower_cpu_flash(const ScheduleInput& in, Launches& out) {
  const Geometry g = geometry(in.op.attention, in.workload, false);
  FlashTile t;
  t.m = std::min(kCpuBlock, g.rows);
  t.n = kCpuBlock;
  t.threads = 1;
  t.max_ctas_per_sm = 1;
  t.smem_bytes = (t.m * g.d + t.n * (g.d + g.dv)) * g.s;
  Launch l = flash_forward_launch(in, g, t, 1, "attention_fwd");
  // The core loads every K/V block it multiplies through its own load path, last-level cache hits
  // included (each query head reads its KV head's blocks again; a decode row's products are
  // matrix-vector, so the loads bind): one core draws at most its triad rate.
  l.per_tile.sm_bytes = t.n * g.kv_width * g.s_kv;
  out.push_back(l);
}

}  // namespace

void add_cpu_schedules(std::vector<ScheduleInfo>& table) {
  table.push_back({"cpu_flash",
                   "host kernel (validate --backend cpu): 64 x 64 blocks of actual rows, one core",
                   lower_cpu_flash, nullptr});
}

}  // namespace sim
