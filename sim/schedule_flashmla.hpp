// FlashMLA's dense MLA decode (github.com/deepseek-ai/FlashMLA @ 9241ae3: csrc/api/dense_decode.h,
// csrc/sm90/decode/dense/config.h and traits.h, csrc/smxx/decode/get_decoding_sched_meta/ and
// combine/; docs/20250422-new-kernel-deep-dive.md). The absorbed decode reads one cache of
// 576-wide tokens (512 latent + 64 RoPE) whose first 512 columns are also the values, for the
// Sq x G query rows of each KV head packed into 64-row tiles.
#pragma once

#include "models/cost_model.hpp"
#include "models/workload.hpp"

namespace sim {

// Tile constants (csrc/sm90/decode/dense/config.h, traits.h).
inline constexpr double kFlashMlaBlockM = 64;     // BLOCK_SIZE_M: packed (q_len x head) rows
inline constexpr double kFlashMlaPageBlock = 64;  // PAGE_BLOCK_SIZE: tokens per KV block
inline constexpr double kFlashMlaThreads = 256;   // NUM_THREADS: two warpgroups
// The metadata kernel charges every request this many blocks on top of its own
// (fixed_overhead_num_blocks = 5, csrc/api/dense_decode.h).
inline constexpr double kFlashMlaRequestOverheadBlocks = 5;

// Whether FlashMLA's dense decode kernel runs this op: the forward pass of absorbed MLA (values
// read inside the keys) in decode or in a prefill chunk after a cache, head_dim 576 or 512,
// v_head_dim 512, fp16/bf16 queries and cache of the same type (the checks in
// csrc/api/dense_decode.h).
bool flashmla_runs(const models::Op& op, const models::Workload& w);
// The op is FlashMLA's dense decode but for its number formats (a cache in fp8, or fp32): `auto`
// prices it with split_kv instead.
bool flashmla_shape_but_not_dtype(const models::Op& op, const models::Workload& w);

// The main kernel's grid and how the metadata kernel's balancer divides the requests' KV blocks
// among the sm parts (get_mla_metadata_kernel), for `batch` requests of `kv_len` tokens.
struct FlashMlaPlan {
  double row_tiles = 0;           // ceil(Sq x G / 64): grid x
  double kv_heads = 0;            // grid y
  double sm_parts = 0;            // num_sm_parts = max(SMs / Hkv / row_tiles, 1): grid z
  double ctas = 0;                // the whole grid
  double busy_parts = 0;          // parts the balancer gives work (the others return at once)
  double blocks_per_request = 0;  // ceil(kv_len / 64), at least 1
  double payload = 0;             // the balancer's budget per part, in blocks
  double min_blocks = 0;          // KV blocks of the lightest busy part
  double max_blocks = 0;          // and of the heaviest
  double max_part_segments = 0;   // most (request, part) pieces one part serves
  double segments = 0;            // (request, part) pieces over all parts
  double split_requests = 0;      // requests spread over more than one part (combined later)
  double split_segments = 0;      // pieces of those requests: each writes an fp32 partial
};

FlashMlaPlan flashmla_plan(const models::AttentionShape& a, double sm_count);

}  // namespace sim
