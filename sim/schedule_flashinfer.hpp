// flashinfer_decode (sim/schedule_flashinfer.cpp): FlashInfer's CUDA-core batch decode, and
// flashinfer_prefill (sim/schedule_flashinfer_prefill.cpp): its batch prefill kernel, which also
// runs its tensor-core decode. The shape and split rules they price, exposed for the tests, and
// the merge launch they share.
#pragma once

#include "sim/launch.hpp"
#include "sim/schedule.hpp"
#include "sim/schedule_common.hpp"

namespace sim {

// Both plans count a request's keys in pages, 16 tokens here (the page size moves neither kernel
// on the H20: validate/data/candidates/h200_decode_timings_notes.md), and never chunk below 128
// tokens (scheduler.cuh: min_kv_chunk_size = max(128 / page_size, 1)).
inline constexpr double kFlashInferPageTokens = 16;
inline constexpr double kFlashInferMinChunkTokens = 128;

// One CTA of BatchDecodeWithPagedKVCacheKernel for head dim `d`, `group` query heads per KV head
// and `kv_bytes` per K/V element.
struct DecodeShape {
  double vec = 0, bdx = 0, bdy = 0, bdz = 0;
  double threads = 0;        // num_threads: max(128, bdx bdy), what bdz and the buffers derive from
  double block_threads = 0;  // bdx bdy bdz: the CTA as launched
  double tile_per_bdx = 0;
  double keys_per_iter = 0;    // keys one loop iteration of the CTA covers
  double smem_bytes = 0;       // without the runtime's reserved kilobyte
  double regs_per_thread = 0;  // as ptxas allocates them for sm_90 (schedule_flashinfer.cpp)
  // Per thread and loop trip (one CTA iteration), as its SASS counts them
  // (schedule_flashinfer.cpp): FP32-pipe instructions, and every instruction issued.
  double fp32_per_trip = 0;
  double instructions_per_trip = 0;
};
// `bf16`: K and V are bf16 (they take more instructions to widen than fp16).
DecodeShape decode_shape(double d, double group, double kv_bytes, bool bf16 = false);

// How a request's keys are chunked: one chunk while `kv_jobs` (the decode's batch x KV heads;
// the prefill's requests x query tiles) fill `grid` CTAs, else chunks of the fewest whole 16-token
// pages, at least 128 tokens, that keep kv_jobs x chunks within it, the last chunk the rest.
struct DecodeSplit {
  double chunks = 1;
  double chunk_tokens = 0;  // a full chunk's keys
};
DecodeSplit decode_split(double keys, double kv_jobs, double grid);

// The jobs of `groups` walks of `keys` keys each, chunked by `split`: a chunk takes its keys'
// whole iterations of `per_iter` keys (the last masked), the last chunk the rest.
JobStats chunk_jobs(double groups, double keys, const DecodeSplit& split, double per_iter);

// VariableLengthMergeStates (cascade.cuh): the split partials of every (request, query row, query
// head) merged into O, a persistent grid; programmatic dependent launch hides its launch on sm_90
// and later.
Launch flashinfer_merge_launch(const ScheduleInput& in, const Geometry& g, double chunks);

// One CTA of BatchPrefillWithPagedKVCacheKernel for `packed_rows` query rows of a KV head (q_len x
// group), head dims `d` and `dv`, `q_bytes` and `kv_bytes` an element, on a device with
// `smem_per_sm` and `smem_per_block` (opt-in) bytes of shared memory.
struct PrefillShape {
  double cta_tile_q = 0;             // query rows a CTA (16, 64 or 128)
  double warps_q = 0, warps_kv = 0;  // the four warps over rows and over keys
  double mma_q = 0, mma_kv = 0;      // 16-row and 16-key MMA blocks a warp (mma_kv 0: no fit)
  double cta_tile_kv = 0;            // keys a loop iteration
  double smem_bytes = 0;             // without the runtime's reserved kilobyte
};
PrefillShape prefill_shape(double packed_rows, double d, double dv, double q_bytes, double kv_bytes,
                           double smem_per_sm, double smem_per_block);

// How PrefillPlan chunks each request's keys for `batch` requests of `q_tiles` query tiles and
// `kv_heads` KV heads on `sm_count` SMs: one chunk unless the grid budget (2 CTAs an SM) leaves
// room for more, then the smallest chunk of whole 16-token pages, at least 128 tokens, that fits:
// decode_split over (request, query tile) pairs against that budget.
using PrefillSplit = DecodeSplit;
PrefillSplit prefill_split(double batch, double q_tiles, double keys, double kv_heads,
                           double sm_count);

}  // namespace sim
