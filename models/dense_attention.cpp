#include "models/dense_attention.hpp"

namespace models {

namespace {

AttentionShape shape_of(const HeadConfig& h, const Workload& w) {
  AttentionShape s;
  s.batch = w.batch;
  s.heads_q = h.heads;
  s.heads_kv = h.kv_heads;
  s.q_len = w.q_len;
  s.kv_len = w.kv_len;
  s.head_dim = h.head_dim;
  s.v_head_dim = h.v_head_dim;
  s.causal = w.causal;
  s.pairs_per_head = scored_pairs(w);
  return s;
}

struct Dims {
  double b, hq, hkv, lq, lkv, d, dv, s, s_kv;
};

Dims dims_of(const HeadConfig& h, const Workload& w) {
  return {static_cast<double>(w.batch),      static_cast<double>(h.heads),
          static_cast<double>(h.kv_heads),   static_cast<double>(w.q_len),
          static_cast<double>(w.kv_len),     static_cast<double>(h.head_dim),
          static_cast<double>(h.v_head_dim), bytes_per_element(w.dtype),
          bytes_per_element(w.kv_dtype)};
}

}  // namespace

Op dense_attention_forward(const HeadConfig& h, const Workload& w) {
  const Dims x = dims_of(h, w);
  Op op;
  op.kind = OpKind::dense_attention;
  op.pass = Pass::forward;
  op.name = "attention_fwd";
  op.attention = shape_of(h, w);
  const double scores = x.b * x.hq * op.attention.pairs_per_head;
  op.flops.tensor = 2 * scores * (x.d + x.dv);
  op.flops.exp = scores;
  op.flops.vector = kForwardVectorFlopsPerScore * scores + x.b * x.hq * x.lq * x.dv;
  op.bytes.q = x.s * x.b * x.lq * x.hq * x.d;
  op.bytes.k = x.s_kv * x.b * x.lkv * x.hkv * x.d;
  op.bytes.v = x.s_kv * x.b * x.lkv * x.hkv * x.dv;
  op.bytes.o = x.s * x.b * x.lq * x.hq * x.dv;
  // A training forward keeps the log-sum-exp for the backward.
  if (w.phase == Phase::fwd || w.phase == Phase::train)
    op.bytes.lse = kStatBytes * x.b * x.hq * x.lq;
  return op;
}

Op dense_attention_backward(const HeadConfig& h, const Workload& w) {
  const Dims x = dims_of(h, w);
  Op op;
  op.kind = OpKind::dense_attention;
  op.pass = Pass::backward;
  op.name = "attention_bwd";
  op.attention = shape_of(h, w);
  const double scores = x.b * x.hq * op.attention.pairs_per_head;
  // S = QK^T, dV = P^T dO, dP = dO V^T, dQ = dS K, dK = dS^T Q (FlashAttention-2 with recompute).
  op.flops.tensor = 2 * scores * (3 * x.d + 2 * x.dv);
  op.flops.exp = scores;
  // delta = rowsum(dO * O): one multiply-add per element of O.
  op.flops.vector = kBackwardVectorFlopsPerScore * scores + 2 * x.b * x.hq * x.lq * x.dv;
  op.bytes.q = x.s * x.b * x.lq * x.hq * x.d;
  op.bytes.k = x.s_kv * x.b * x.lkv * x.hkv * x.d;
  op.bytes.v = x.s_kv * x.b * x.lkv * x.hkv * x.dv;
  op.bytes.o = x.s * x.b * x.lq * x.hq * x.dv;
  op.bytes.grad_out = x.s * x.b * x.lq * x.hq * x.dv;
  // LSE read, delta written by the pre-pass and read by the main kernel.
  op.bytes.lse = 3 * kStatBytes * x.b * x.hq * x.lq;
  op.bytes.grad_in = x.s * x.b * (x.lq * x.hq * x.d + x.lkv * x.hkv * (x.d + x.dv));
  return op;
}

double dense_kv_bytes_per_token(const HeadConfig& h, DType kv_dtype) {
  return static_cast<double>(h.kv_heads) * static_cast<double>(h.head_dim + h.v_head_dim) *
         bytes_per_element(kv_dtype);
}

void add_dense_attention(const HeadConfig& h, const Workload& w, CostModel& model) {
  if (has_forward(w.phase)) model.ops.push_back(dense_attention_forward(h, w));
  if (has_backward(w.phase)) model.ops.push_back(dense_attention_backward(h, w));
  model.kv_cache_bytes_per_token_per_layer = dense_kv_bytes_per_token(h, w.kv_dtype);
  model.kv_cache_bytes = model.kv_cache_bytes_per_token_per_layer * static_cast<double>(w.batch) *
                         static_cast<double>(w.kv_len) * static_cast<double>(w.layers);
}

}  // namespace models
