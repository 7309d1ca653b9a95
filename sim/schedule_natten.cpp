// natten: NATTEN's fused neighbourhood attention forward kernels (docs/kernels.md#16-natten), read
// from github.com/SHI-Labs/NATTEN at 8c8729f: Hopper FNA (sm_90: CUTLASS's warp-specialised
// Hopper FMHA with the neighbourhood mask, wgmma) and Blackwell FNA (sm_100/103: CUTLASS's
// Blackwell FMHA, tcgen05, 256-row Q tiles). A grid op (gna with a stride) is tiled in NATTEN's
// multi-dimensional tile shapes; where the mask is not fully block-sparse every visited tile
// computes it score by score, and a 2-D or 3-D map is copied into tile order around the kernel.
// Any other non-causal attention op is NATTEN's FMHA (its 1-D tiles).
#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "sim/flash_forward.hpp"
#include "sim/grid_blocks.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

using Shape = std::array<double, 3>;

struct NattenConfig {
  Shape q, kv;  // tile shapes along the grid's dimensions (1 past them)
};

// Forward configurations per grid dimension count, 16-bit, in NATTEN's order (the first is its
// default). Hopper: HOPPER_FORWARD_CONFIGS in src/natten/backends/configs/cutlass_hopper/
// __init__.py, per head dim (32, 64: 64-row Q tiles, non-persistent; 128; 256: 64-key tiles).
// Blackwell: BLACKWELL_FORWARD_TILE_SHAPES in configs/cutlass_blackwell/__init__.py (any head dim
// up to 128, checks.py), whose default (_get_default_tile_shapes_forward) is the first here.
std::vector<NattenConfig> hopper_configs(int dims, double head_dim) {
  if (head_dim <= 64) {
    if (dims == 1) return {{{64, 1, 1}, {128, 1, 1}}};
    if (dims == 2) return {{{8, 8, 1}, {16, 8, 1}}, {{8, 8, 1}, {8, 16, 1}}};
    return {{{4, 4, 4}, {4, 4, 8}}, {{4, 4, 4}, {2, 8, 8}}};
  }
  if (head_dim <= 128) {
    if (dims == 1) return {{{128, 1, 1}, {128, 1, 1}}};
    if (dims == 2) return {{{16, 8, 1}, {16, 8, 1}}};
    return {{{4, 4, 8}, {4, 4, 8}}, {{2, 8, 8}, {2, 8, 8}}};
  }
  if (dims == 1) return {{{128, 1, 1}, {64, 1, 1}}};
  if (dims == 2) return {{{16, 8, 1}, {8, 8, 1}}, {{8, 16, 1}, {8, 8, 1}}};
  return {{{4, 4, 8}, {4, 4, 4}}, {{2, 8, 8}, {4, 4, 4}}};
}

std::vector<NattenConfig> blackwell_configs(int dims) {
  if (dims == 1) return {{{256, 1, 1}, {128, 1, 1}}};
  if (dims == 2) {
    return {{{16, 16, 1}, {16, 8, 1}},
            {{16, 16, 1}, {8, 16, 1}},
            {{8, 32, 1}, {8, 16, 1}},
            {{8, 32, 1}, {4, 32, 1}}};
  }
  return {{{8, 4, 8}, {4, 4, 8}},  {{8, 4, 8}, {2, 8, 8}},   {{2, 8, 16}, {4, 4, 8}},
          {{2, 8, 16}, {2, 8, 8}}, {{4, 4, 16}, {2, 4, 16}}, {{2, 16, 8}, {2, 8, 8}},
          {{4, 8, 8}, {2, 8, 8}}};
}

double volume(const Shape& s) {
  return s[0] * s[1] * s[2];
}

// FP32-pipe instructions per score of the neighbourhood mask, which every visited tile computes
// where the mask is not fully block-sparse (fna_collective_softmax.hpp `step`: apply_mask unless
// is_fully_block_sparse): each score's coordinates and its window's bounds along every dimension,
// and the comparisons, so c (2 + dimensions) for a kernel's own c. Fitted by hand (2026-12-03) on
// NATTEN's profiler outputs at stride 1 (validate/data/measured/natten_profiler.csv, three shapes
// a device, the only rows with a mask), the rest of each entry inherited: Hopper FNA 5, Blackwell
// FNA 3 (its tile's ALU work is less hidden under its MMAs on this model's B200 entry).
double mask_alu_per_score(bool blackwell, int dims) {
  return (blackwell ? 3.0 : 5.0) * (2 + dims);
}

// The forward of one configuration: FlashTile of its Q and KV volumes, a CTA per Q tile in
// hardware order. Hopper: NATTEN builds its kernels without a persistent scheduler (csrc/include/
// natten/cuda/fna_hopper/fna_forward.cuh passes the kernel builder no options); the 128-row
// cooperative kernel has two MMA warpgroups and a load warpgroup (384 threads,
// fmha_kernel_tma_warpspecialized.hpp), one CTA an SM (its stages fill most of the 227 KiB);
// the 64-row kernel (head dims 32 and 64) one warpgroup that loads for itself (fna_collective_
// tma.hpp), at least two CTAs an SM where its shared memory allows (about 2.1 KiB a head-dim
// element: 136 KiB at 64, a helper's reading of its stages). Blackwell (sm100_fna_fwd_kernel_
// tma_warpspecialized.hpp): 16 warps, two softmax warpgroups beside the MMA, load and correction
// warps, one CTA an SM; NATTEN's profiler runs it non-persistent unless --persistent (its API's
// default is persistent, not priced); exps on MUFU (CUTLASS's FMHA emulates none).
Launch natten_launch(const ScheduleInput& in, Geometry g, const NattenConfig& c, bool blackwell) {
  FlashTile t;
  t.m = volume(c.q);
  t.n = volume(c.kv);
  t.max_ctas_per_sm = 1;
  t.dispatch = Dispatch::in_order;
  if (blackwell) {
    t.threads = 512;
    t.smem_bytes = 224 * 1024;
    t.tiles_in_flight = 2;  // two Q sub-tiles ping-ponged
    t.exp_alu_concurrent = true;
  } else if (t.m < 128) {
    t.threads = 128;
    t.smem_bytes = 136.0 * 1024 * g.d / 64;
    t.max_ctas_per_sm = 0;  // as many as the shared memory holds
  } else {
    t.threads = 384;
    t.smem_bytes = 200 * 1024;
  }
  const bool grid = g.grid.dims > 0;
  if (grid) g.q_box = c.q, g.kv_box = c.kv;
  Launch l = flash_forward_launch(in, g, t, 1, "natten_fna_fwd");
  if (grid && !grid_block_sparse(g.grid, c.q, c.kv)) {
    l.per_tile.alu_ops += t.m * t.n * mask_alu_per_score(blackwell, g.grid.dims);
  }
  return l;
}

// NATTEN's token permutation as NATTEN 0.20 makes it (v0.20.0, fcf36f9: src/natten/
// token_permute.py), the version of the profiler outputs this is checked on: a 2-D or 3-D map, or
// a dilated one, is laid out in tile order before the kernel (Q in Q tiles, K and V in KV tiles,
// each the contiguous copy of a permuted view, PyTorch's strided elementwise copy) and the output
// laid back after it; a 1-D map without dilation is a view. The copies read and write every
// element once and compute its offsets dimension by dimension: FP32-pipe instructions an element
// per dimension of the copy, after PyTorch merges contiguous ones (every tile count, tile side
// and dilation above 1, the batch above 1, and heads x head dim as one), fitted by hand
// (2026-12-03) on the elementwise kernels of those runs (validate/data/measured/
// natten_profiler.csv: 2.2-2.7 ms for FLUX's map, 4.9-5.8 ms for HunyuanVideo's, on H100 and B200
// alike). Since 0a086b4 (December 2025) NATTEN permutes with its own CUTLASS kernels by default
// (NATTEN_TOKPERM_DEFAULT_IMPL), which are not priced here.
constexpr double kPermuteAluPerElementPerDim = 20;

double copy_dims(const Geometry& g, const Shape& tile) {
  double dims = 1 + (g.batch > 1 ? 1 : 0);  // heads x head dim, the batch
  for (int i = 0; i < g.grid.dims; ++i) {
    const double dilation = std::max(1.0, g.grid.dilation[i]);
    const double side = std::ceil(g.grid.extent[i] / dilation);
    dims += (tile[i] > 1) + (std::ceil(side / tile[i]) > 1) + (dilation > 1);
  }
  return dims;
}

// One copy launch: `q_elements` laid out in Q tiles and `kv_elements` in KV tiles.
void add_token_permute(const ScheduleInput& in, const Geometry& g, const NattenConfig& c,
                       const char* name, double q_elements, double kv_elements, Launches& out) {
  models::Op copy;
  copy.kind = models::OpKind::elementwise;
  copy.pass = in.op.pass;
  copy.name = name;
  copy.bytes.activations = 2 * (q_elements + kv_elements) * g.s;
  copy.flops.vector = kPermuteAluPerElementPerDim *
                      (q_elements * copy_dims(g, c.q) + kv_elements * copy_dims(g, c.kv));
  const ScheduleInput elementwise{copy, in.workload, in.profile,
                                  support_calibration(in.profile, SupportKernel::elementwise, copy),
                                  in.name};
  lower_elementwise(elementwise, out);
}

// NATTEN builds Blackwell FNA for sm_100 and sm_103 (checks.py: compute capability 100 or 103)
// and Hopper FNA for sm_90.
bool blackwell_fna(const hw::Profile& p) {
  return p.arch.rfind("sm_100", 0) == 0 || p.arch.rfind("sm_103", 0) == 0;
}

bool fna_arch(const hw::Profile& p) {
  return blackwell_fna(p) || p.arch.rfind("sm_90", 0) == 0;
}

void lower_natten(const ScheduleInput& in, Launches& out) {
  const models::AttentionShape& a = in.op.attention;
  const bool blackwell = blackwell_fna(in.profile);
  require_kernel(fna_arch(in.profile), in.name,
                 fmt::format("NATTEN's fused kernels modelled here are Hopper FNA (sm_90) and "
                             "Blackwell FNA (sm_100, sm_103); {} is {}",
                             in.profile.id, in.profile.arch));
  require_kernel(in.workload.dtype != models::DType::fp8 || blackwell, in.name,
                 "Hopper FNA takes fp16 and bf16 (NATTEN's checks.py); fp8 runs on Blackwell FNA");
  require_kernel(!a.causal && in.workload.phase != models::Phase::decode, in.name,
                 "prices non-causal neighbourhood and self attention (NATTEN's causal masks are "
                 "per grid dimension: gna's causal_x/y/z, an op that stays non-causal)");
  require_kernel(natten_head_dims(a, in.workload.dtype, in.profile), in.name,
                 fmt::format("runs equal Q/K and V head dims of {} (got {} and {})",
                             blackwell ? "at most 128, multiples of 8 (of 16 in fp8) (Blackwell "
                                         "FNA, NATTEN's checks.py)"
                                       : "32, 64, 128 or 256 (Hopper FNA's configurations)",
                             a.head_dim, a.v_head_dim));
  const Geometry g = geometry(a, in.workload, false);
  const int dims = std::max(1, g.grid.dims);
  const std::vector<NattenConfig> configs =
      blackwell ? blackwell_configs(dims) : hopper_configs(dims, static_cast<double>(a.head_dim));
  // The fastest of NATTEN's configurations: its profiler's --optimize, or a user's own choice
  // (--q-tile/--kv-tile) of shapes that avoid padding and keep a strided mask block-sparse.
  // A 2-D or 3-D map or a dilated one is permuted into tile order around the kernel.
  bool permuted = g.grid.dims > 1;
  for (int i = 0; i < g.grid.dims; ++i) permuted = permuted || g.grid.dilation[i] > 1;
  const double positions = g.batch * g.rows;
  Launches best;
  double best_s = HUGE_VAL;
  for (const NattenConfig& c : configs) {
    Launches one;
    if (permuted) {
      add_token_permute(in, g, c, "natten_token_permute", positions * g.heads * g.d,
                        positions * g.kv_heads * (g.d + g.dv), one);
    }
    one.push_back(natten_launch(in, g, c, blackwell));
    if (permuted) {
      add_token_permute(in, g, c, "natten_token_unpermute", positions * g.heads * g.dv, 0, one);
    }
    const double time = launches_time(one, in.profile, in.workload);
    if (time < best_s) best = one, best_s = time;
    if (g.grid.dims == 0) break;  // FMHA: one configuration
  }
  for (const Launch& l : best) out.push_back(l);
}

}  // namespace

bool natten_head_dims(const models::AttentionShape& a, models::DType dtype,
                      const hw::Profile& profile) {
  const std::int64_t d = a.head_dim;
  if (a.v_head_dim != d) return false;
  if (!blackwell_fna(profile)) return d == 32 || d == 64 || d == 128 || d == 256;
  return d <= 128 && d % (dtype == models::DType::fp8 ? 16 : 8) == 0;
}

bool natten_runs(const models::Op& op, const models::Workload& w, const hw::Profile& profile) {
  const models::AttentionShape& a = op.attention;
  // Hopper FNA takes fp16 and bf16, Blackwell FNA fp8 too (checks.py); fp32 runs NATTEN's Ampere
  // kernel, which is not modelled.
  const bool dtype = w.dtype == models::DType::fp16 || w.dtype == models::DType::bf16 ||
                     (w.dtype == models::DType::fp8 && blackwell_fna(profile));
  return op.kind == models::OpKind::dense_attention && op.pass == models::Pass::forward &&
         a.grid.dims > 0 && !a.causal && w.phase != models::Phase::decode && fna_arch(profile) &&
         dtype && natten_head_dims(a, w.dtype, profile);
}

void add_natten_schedule(std::vector<ScheduleInfo>& table) {
  ScheduleInfo info{"natten",
                    "NATTEN's fused neighbourhood attention forward (Hopper FNA: wgmma, "
                    "128-token tiles; Blackwell FNA: tcgen05, 256-token Q tiles): its "
                    "multi-dimensional tile shapes, the fastest of its configurations, the mask "
                    "computed per score unless fully block-sparse, and the token permutation's "
                    "copies around it on a 2-D or 3-D map",
                    lower_natten,
                    nullptr,
                    nullptr,
                    hw::MmaClass::native};
  info.sixteen_bit_inputs = true;
  info.max_head_dim = 256;
  table.push_back(info);
}

}  // namespace sim
