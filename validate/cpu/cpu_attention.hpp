// Attention kernels on the host (one thread, float32), used by `attnsim validate --backend cpu` to
// check the model on a real machine, and float64 references they are checked against.
// Layouts: Q [B][Hq][Lq][d], K [B][Hkv][Lk][d], V [B][Hkv][Lk][dv], O [B][Hq][Lq][dv], row-major.
#pragma once

#include <cstdint>
#include <vector>

namespace validate::cpu {

struct AttentionProblem {
  int batch = 1, heads = 1, kv_heads = 1, q_len = 1, kv_len = 1, head_dim = 64, v_head_dim = 64;
  bool causal = true;  // queries aligned to the end of the keys
  int window = 0;      // causal sliding window (keys per query); 0 = unlimited
  // Strided block-sparse mask on top of causal/window (0 = off): with qb = i / 64 and kb = j / 64,
  // key j is visible to query row i only if (qb - kb) % block_stride == 0 or kb == 0.
  int block_stride = 0;
};

inline constexpr int kSparseBlock = 64;  // block width of the block_stride rule

// The block-sparse part of the mask alone (true when block_stride is 0).
inline bool block_sparse_visible(int block_stride, int i, int j) {
  if (block_stride <= 0) return true;
  const int qb = i / kSparseBlock, kb = j / kSparseBlock;
  return kb == 0 || (qb - kb) % block_stride == 0;
}

struct AttentionTensors {
  std::vector<float> q, k, v, o;
};

// Fresh uniform(-1, 1) inputs (never zeros) and an output buffer filled with NaN, so an output
// element the kernel does not write is caught.
AttentionTensors random_attention_inputs(const AttentionProblem& p, std::uint64_t seed);

// Tiled online-softmax attention (FlashAttention-2 order): Q blocks x K/V blocks, block products
// with Eigen, tiles outside the causal window skipped.
void flash_attention(const AttentionProblem& p, AttentionTensors& t, int block_q = 64,
                     int block_k = 64);

// Decode (q_len small): the keys split into `splits` ranges, partial (O, max, sum) per range,
// then a combine, as Flash-Decoding does.
void split_kv_attention(const AttentionProblem& p, AttentionTensors& t, int splits);

// Straightforward float64 softmax attention over the same masks.
std::vector<double> reference_attention(const AttentionProblem& p, const AttentionTensors& t);

struct LinearProblem {
  int batch = 1, heads = 1, tokens = 1, key_dim = 64, value_dim = 64, chunk = 64;
};

struct LinearTensors {
  std::vector<float> q, k, v, o;  // [B][H][L][dk or dv]
};

LinearTensors random_linear_inputs(const LinearProblem& p, std::uint64_t seed);
// Causal linear attention o_t = q_t^T sum_{j<=t} k_j v_j^T in chunks: intra-chunk masked products
// plus the inter-chunk state.
void chunked_linear_attention(const LinearProblem& p, LinearTensors& t);
std::vector<double> reference_linear_attention(const LinearProblem& p, const LinearTensors& t);

// max |a - b| / max(|b|, floor) over all elements; +inf if any `a` is NaN.
double max_relative_error(const std::vector<float>& a, const std::vector<double>& b,
                          double floor = 1e-3);

}  // namespace validate::cpu
