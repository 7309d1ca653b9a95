// flashinfer_decode (sim/schedule_flashinfer.cpp): FlashInfer's CUDA-core batch decode. The shape
// and split rules it prices, exposed for the tests.
#pragma once

namespace sim {

// One CTA of BatchDecodeWithPagedKVCacheKernel for head dim `d`, `group` query heads per KV head
// and `kv_bytes` per K/V element.
struct DecodeShape {
  double vec = 0, bdx = 0, bdy = 0, bdz = 0, threads = 0;
  double tile_per_bdx = 0;
  double keys_per_iter = 0;  // keys one loop iteration of the CTA covers
  double smem_bytes = 0;     // without the runtime's reserved kilobyte
};
DecodeShape decode_shape(double d, double group, double kv_bytes);

// KV chunks per request: 1 while `kv_jobs` (batch x KV heads) fill `grid` CTAs, else the fewest
// chunks of whole 16-token pages, at least 128 tokens each, that keep kv_jobs x chunks within it.
double decode_chunks(double keys, double kv_jobs, double grid);

}  // namespace sim
