// Hopper and Blackwell forward schedules: fa3 (FlashAttention-3, docs/kernels.md §2: wgmma, warp
// specialisation, persistent CTAs, longest-first for causal, pack-GQA and split heuristics) and
// fa4 (FlashAttention-4, §3: tcgen05, 256-row CTAs, partial polynomial exp offload).
#include <algorithm>
#include <cmath>

#include "sim/flash_forward.hpp"
#include "sim/schedules.hpp"

namespace sim {

namespace {

constexpr double kKiB = 1024;

// hopper/tile_size.h tile_size_fwd_sm90 (docs/kernels.md#21-forward-tiles), 16-bit and fp8 rows.
FlashTile fa3_tile(double d, double dv, bool causal, bool fp8) {
  FlashTile t;
  t.threads = 384;
  if (d <= 64) {
    t.m = 192, t.n = fp8 ? 160 : (causal ? 128 : 192), t.threads = 512;
  } else if (d <= 96) {
    t.m = 192, t.n = fp8 ? 128 : (causal ? 128 : 144), t.threads = 512;
  } else if (d <= 128) {
    t.m = 128, t.n = fp8 ? 224 : (causal ? 128 : 176);
  } else if (d <= 192) {
    t.m = 128, t.n = fp8 ? 160 : (dv <= 128 ? 128 : 112);
  } else {
    t.m = 128, t.n = fp8 ? 128 : 80;
  }
  t.smem_bytes = 200 * kKiB;  // 88-224 KB by the table: one CTA per SM either way
  t.max_ctas_per_sm = 1;      // MinBlocksPerMultiprocessor = 1, persistent
  t.dispatch = causal ? Dispatch::persistent_lpt : Dispatch::persistent_static;
  // One producer warpgroup; the consumers (64 rows each) ping-pong their softmax and GEMMs.
  t.tiles_in_flight = t.threads / 128 - 1;
  return t;
}

// Splits of the keys: none for a training call (--phase fwd, bwd, train: flash_attn_func and
// flash_attn_varlen_func default to num_splits = 1 in FA3's hopper/flash_attn_interface.py and
// FA4's flash_attn/cute/interface.py, so their split heuristics never run there, whatever the key
// count, as in cross-attention); for an inference call (a prefill, with or without cached keys, or
// a decode step: flash_attn_with_kvcache takes num_splits = 0 and an inference engine's varlen call
// its own num_splits) the count that prices fastest, as for split_kv (lower_best_split: the
// libraries' wave heuristics made a longer call up to 70 % cheaper than a shorter one, and
// splitting only queries after cached keys priced one more cached key 43 % cheaper). Split CTAs
// run in hardware order (FA3: SingleTileScheduler) and a combine launch reduces the partials.
// Except that a CTA of at most four KV tiles is never split: FA3's num_splits_heuristic
// (hopper/heuristics.h) and FA4's (flash_attn/cute/interface.py) both return one split for
// num_n_blocks <= 4 ("we never split for hdim = 128 and seqlen_k = 512"), so a tiny decode call
// makes one launch, not a split and its combine (the host pays for each: caller_floor_us
// .extra_launch). A call just past four tiles may then price below one at four.
constexpr double kLeastSplitTiles = 4;

void lower_flash_splits(const ScheduleInput& in, const Geometry& g, const FlashTile& t,
                        Launches& out) {
  const models::Phase phase = in.workload.phase;
  const Launch whole = flash_forward_launch(in, g, t, 1, "attention_fwd");
  if (phase != models::Phase::decode && phase != models::Phase::prefill) {
    out.push_back(whole);
    return;
  }
  // Counts past two waves of split CTAs only shorten jobs the slots already share, while their
  // partials grow: they are not tried (pricing up to 128 counts made a prefill sweep 40 x slower).
  // The limit never grows with the problem, so the fastest count stays monotone in it.
  const double useful =
      std::min(128.0, std::ceil(2 * in.profile.compute.sm_count / whole.jobs.count));
  if (useful < 2 || whole.jobs.max_tiles <= kLeastSplitTiles) {
    out.push_back(whole);
  } else {
    lower_best_split(in, g, t, useful, "attention_fwd", out);
  }
}

// Query heads of a KV head packed into the rows or not: FA3's should_pack_gqa (hopper/heuristics.h)
// packs when that wastes less of the last row tile, fill(Sq) < 0.9 fill(Sq G) with fill(r) =
// r / (ceil(r / M) M), and pack_gqa is a parameter of the call; the model takes the layout that
// prices faster. The heuristic alone made a longer call up to 17 % cheaper than a
// shorter one (H20, hd 256, GQA 64/8: 256 tokens fill their row tiles and stay unpacked, 272
// pack, and packed causal rows visit fewer masked tiles).
void lower_fa3(const ScheduleInput& in, Launches& out) {
  const models::AttentionShape& a = in.op.attention;
  const bool fp8 = in.workload.dtype == models::DType::fp8;
  const FlashTile t =
      fa3_tile(static_cast<double>(a.head_dim), static_cast<double>(a.v_head_dim), a.causal, fp8);
  Launches unpacked;
  lower_flash_splits(in, geometry(a, in.workload, false), t, unpacked);
  if (a.heads_q > a.heads_kv) {
    Launches packed;
    lower_flash_splits(in, geometry(a, in.workload, true), t, packed);
    if (launches_time(packed, in.profile, in.workload) <
        launches_time(unpacked, in.profile, in.workload)) {
      unpacked = packed;
    }
  }
  for (const Launch& l : unpacked) out.push_back(l);
}

// Share of exps FA4 computes with the polynomial (docs/kernels.md#3-fa4; default frequency 16).
double fa4_emulated_share(double d, bool causal, bool two_cta, bool fp8) {
  if (fp8 && causal && d <= 128) return 0.25;
  if (d <= 128) return two_cta ? 0.1875 : 0.125;
  if (d <= 192) return causal ? 0.0625 : (two_cta ? 0.1875 : 0.125);
  return 0;
}

// Blackwell Ultra (sm_103, twice Blackwell's MUFU rate): FA4 computes every exp on MUFU there
// (flash_attn/cute/flash_fwd_sm100.py: enable_ex2_emu is "... and not is_sm103").
bool sm103_family(const hw::Profile& p) {
  return p.arch.rfind("sm_103", 0) == 0;
}

// `masked_in_turn`: the diagonal key blocks of a causal row block run with the pipes in turn
// (FA4's own kernel; see docs/kernels.md#3-fa4). cuDNN, priced with this tiling, keeps its
// overlap there.
void lower_fa4_tiling(const ScheduleInput& in, Launches& out, bool masked_in_turn) {
  const models::AttentionShape& a = in.op.attention;
  const Geometry g = geometry(a, in.workload, a.heads_q > a.heads_kv);  // packs whenever G > 1
  FlashTile t;
  t.n = 128;
  t.m = g.rows > 128 ? 256 : 128;  // q_stage = 2: two 128-row tiles ping-ponged per CTA
  // Two chains in flight either way: the two query tiles, or with one tile the next key block's
  // QK^T issued while this block's softmax runs (S double-buffered in tensor memory).
  t.tiles_in_flight = 2;
  t.serial_masked_tiles = masked_in_turn;
  t.threads = 512;
  t.smem_bytes = 224 * kKiB;
  t.max_ctas_per_sm = 1;
  const bool two_cta = !g.causal && (g.d == 128 || g.d == 192) && g.dv == 128 && g.rows > 256;
  t.exp_emulated_share =
      sm103_family(in.profile)
          ? 0
          : fa4_emulated_share(g.d, g.causal, two_cta, in.workload.dtype == models::DType::fp8);
  // Softmax warpgroups issue MUFU exps beside the packed-FMA work (the reason for the polynomial
  // share above), so the two pipes overlap.
  t.exp_alu_concurrent = true;
  t.dispatch = g.causal ? Dispatch::persistent_lpt : Dispatch::persistent_static;
  lower_flash_splits(in, g, t, out);
}

void lower_fa4(const ScheduleInput& in, Launches& out) {
  lower_fa4_tiling(in, out, true);
}

}  // namespace

void lower_fa4_backward(const ScheduleInput& in, Launches& out);

namespace {

// cuDNN SDPA is closed source: its engines' tiles and heuristics are unpublished (kernels.md §8).
// It is priced with the tiling of the open FlashAttention kernel of the device's generation
// (FA4's where the device has tcgen05, FA3's otherwise) under its own calibration entries (cudnn,
// cudnn_bwd), at the device's native ceiling: each library is its own kernel, fitted on its own
// timings (validate/data/measured/gb200_cudnn_fa2.csv).
bool blackwell_class(const hw::Profile& p) {
  return !p.compute.class_dense_flops.empty() &&
         p.class_peak_flops(hw::MmaClass::tcgen05, hw::Precision::fp16) > 0;
}

void lower_cudnn(const ScheduleInput& in, Launches& out) {
  blackwell_class(in.profile) ? lower_fa4_tiling(in, out, false) : lower_fa3(in, out);
}

void lower_cudnn_backward(const ScheduleInput& in, Launches& out) {
  blackwell_class(in.profile) ? lower_fa4_backward(in, out) : lower_fa3_backward(in, out);
}

}  // namespace

// Each takes fp16/bf16 (and fp8) inputs only (the FlashAttention READMEs; cuDNN's SDPA support
// tables).
void add_hopper_blackwell_schedules(std::vector<ScheduleInfo>& table) {
  table.push_back({"fa3",
                   "FlashAttention-3 (Hopper): wgmma, warp-specialised ping-pong softmax, "
                   "persistent CTAs, longest-first for causal",
                   lower_fa3, lower_fa3_backward, nullptr, hw::MmaClass::wgmma});
  table.back().sixteen_bit_inputs = true;
  table.back().max_head_dim = 256;  // flash_api.cpp: "head dimension at most 256"
  table.push_back({"fa4",
                   "FlashAttention-4 (Blackwell): tcgen05, 256-row CTAs, part of the exps on "
                   "FMA pipes",
                   lower_fa4, lower_fa4_backward, nullptr, hw::MmaClass::tcgen05});
  table.back().sixteen_bit_inputs = true;
  table.back().max_head_dim = 256;  // the FlashAttention README: head dimensions up to 256
  table.push_back({"cudnn",
                   "cuDNN SDPA (closed engines): FA4's tiling on Blackwell, FA3's on Hopper, "
                   "its own calibration, the device's native instructions",
                   lower_cudnn, lower_cudnn_backward, nullptr, hw::MmaClass::native});
  table.back().sixteen_bit_inputs = true;
  table.back().max_head_dim = 256;  // cuDNN SDPA support table: d <= 256
}

}  // namespace sim
