// What is run: phase, sizes and number formats. Plain values, validated once by validate().
#pragma once

#include <cstdint>
#include <string_view>

namespace models {

// Element formats. fp32 runs on the vector (CUDA-core) pipes; tf32/fp16/bf16/fp8 on tensor cores.
enum class DType { fp32, tf32, fp16, bf16, fp8 };

// prefill: inference forward over q_len new tokens (kv_len >= q_len with a cached prefix).
// decode:  q_len new tokens (1, or more for speculative decoding) against kv_len cached tokens.
// fwd:     training forward (also writes the log-sum-exp the backward needs).
// bwd:     training backward only.  train: fwd + bwd.
enum class Phase { prefill, decode, fwd, bwd, train };

struct Workload {
  Phase phase = Phase::prefill;
  std::int64_t batch = 1;
  std::int64_t q_len = 1;
  std::int64_t kv_len = 1;
  bool causal = true;
  DType dtype = DType::bf16;
  DType kv_dtype = DType::bf16;
  std::int64_t layers = 1;
};

double bytes_per_element(DType t);
std::string_view to_string(DType t);
std::string_view to_string(Phase p);
DType parse_dtype(std::string_view name);  // throws common::SpecError listing the allowed names
Phase parse_phase(std::string_view name);  // throws common::SpecError listing the allowed names

bool has_forward(Phase p);   // prefill, decode, fwd, train
bool has_backward(Phase p);  // bwd, train

// Largest sizes a workload may have. 2^30 tokens is 100x the longest context models announce
// (10M tokens) and keeps every per-block sum of a schedule exact in doubles and bounded in time;
// 2^24 sequences and 2^16 layers are far beyond any deployment.
inline constexpr std::int64_t kMaxTokens = std::int64_t{1} << 30;
inline constexpr std::int64_t kMaxBatch = std::int64_t{1} << 24;
inline constexpr std::int64_t kMaxLayers = std::int64_t{1} << 16;

// Throws SpecError for sizes outside [1, max] or causal attention with kv_len < q_len.
void validate(const Workload& w);

// (query, key) pairs one head scores. Causal queries are aligned to the end of the keys (query i of
// q_len sees keys 0 .. kv_len - q_len + i), which covers prefill (q_len = kv_len), chunked prefill
// with a cached prefix, and multi-token decode.
// With `window` > 0 (causal only) each query sees its last `window` keys plus up to `sinks` leading
// tokens outside the window.
double scored_pairs(const Workload& w, std::int64_t window = 0, std::int64_t sinks = 0);

// sum over x = 0 .. n of floor(x / g), exact for the sizes a workload may have (0 for n < 0): how
// many whole blocks of g tokens the positions of a run have passed between them, summed (a
// variant's pooled tokens, summaries or selectable blocks per query).
double floor_sum(std::int64_t n, std::int64_t g);
// The same over x = a .. b (0 when b < a); positions below 0 count 0.
double floor_sum_between(std::int64_t a, std::int64_t b, std::int64_t g);

}  // namespace models
