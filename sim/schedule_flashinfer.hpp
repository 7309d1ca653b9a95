// flashinfer_decode (sim/schedule_flashinfer.cpp): FlashInfer's CUDA-core batch decode. The shape
// and split rules it prices, exposed for the tests.
#pragma once

namespace sim {

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

// How a request's keys are chunked: one chunk while `kv_jobs` (batch x KV heads) fill `grid` CTAs,
// else chunks of the fewest whole 16-token pages, at least 128 tokens, that keep kv_jobs x chunks
// within it, the last chunk the rest.
struct DecodeSplit {
  double chunks = 1;
  double chunk_tokens = 0;  // a full chunk's keys
};
DecodeSplit decode_split(double keys, double kv_jobs, double grid);

}  // namespace sim
