// Dense softmax attention costs (reference/variants.md §0.2), shared by every variant whose pair
// pattern is dense. One formula, driven by the head configuration.
#pragma once

#include "models/cost_model.hpp"
#include "models/variant.hpp"
#include "models/workload.hpp"

namespace models {

// Vector FLOPs per scored element, forward: running max (1) + scale-and-subtract FMA (2) + row-sum
// add (1). The online-softmax rescales depend on the KV tile width, so schedules add them.
inline constexpr double kForwardVectorFlopsPerScore = 4;
// Backward: recompute P with one FMA (2) + dS = P * (dP - delta): subtract (1) and multiply (1).
inline constexpr double kBackwardVectorFlopsPerScore = 4;
// Softmax statistics are FP32.
inline constexpr double kStatBytes = 4;

Op dense_attention_forward(const HeadConfig& h, const Workload& w);
Op dense_attention_backward(const HeadConfig& h, const Workload& w);

// Bytes of K and V kept per cached token per layer: Hkv x (d + dv) x sizeof(kv_dtype).
double dense_kv_bytes_per_token(const HeadConfig& h, DType kv_dtype);

// Appends the attention ops the workload's phase needs, fills the KV-cache fields.
void add_dense_attention(const HeadConfig& h, const Workload& w, CostModel& model);

}  // namespace models
