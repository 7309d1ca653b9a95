#include "models/dense_attention.hpp"

#include <algorithm>

namespace models {

namespace {

AttentionShape shape_of(const HeadConfig& h, const Workload& w, const AttentionPattern& p) {
  AttentionShape s;
  s.batch = w.batch;
  s.heads_q = h.heads;
  s.heads_kv = h.kv_heads;
  s.q_len = w.q_len;
  s.kv_len = w.kv_len;
  s.head_dim = h.head_dim;
  s.v_head_dim = h.v_head_dim;
  s.causal = w.causal;
  // A window that, with the sinks, reaches back to the first key from the last query (the
  // farthest back any query must see) masks nothing: no window, as FlashAttention runs it
  // (csrc/flash_attn/flash_api.cpp, mha_fwd: window_size_left >= seqlen_k becomes -1), so every
  // kernel prices it as full causal attention, and one that takes no window or sinks runs it.
  const bool covers_every_key = p.window > 0 && p.window + p.sinks >= w.kv_len;
  s.window = covers_every_key ? 0 : p.window;
  s.sinks = covers_every_key ? 0 : p.sinks;
  s.score = p.score;
  s.softcap = p.softcap;
  s.pairs_per_head = p.pairs_per_head > 0 ? p.pairs_per_head : scored_pairs(w, p.window, p.sinks);
  return s;
}

struct Dims {
  double b, hq, hkv, lq, lkv, d, dv, s, s_kv;
};

// `lkv` is the keys the queries actually read: a window reads only the last q_len - 1 + window
// keys (plus the sinks).
Dims dims_of(const HeadConfig& h, const Workload& w, const AttentionPattern& p) {
  double keys = static_cast<double>(w.kv_len);
  if (p.window > 0 && w.causal) {
    keys = std::min(keys, static_cast<double>(w.q_len - 1 + p.window + p.sinks));
  }
  return {static_cast<double>(w.batch),
          static_cast<double>(h.heads),
          static_cast<double>(h.kv_heads),
          static_cast<double>(w.q_len),
          keys,
          static_cast<double>(h.head_dim),
          static_cast<double>(h.v_head_dim),
          bytes_per_element(w.dtype),
          bytes_per_element(w.kv_dtype)};
}

}  // namespace

Op dense_attention_forward(const HeadConfig& h, const Workload& w, const AttentionPattern& p) {
  const Dims x = dims_of(h, w, p);
  Op op;
  op.kind = OpKind::dense_attention;
  op.pass = Pass::forward;
  op.name = "attention_fwd";
  op.attention = shape_of(h, w, p);
  const double scores = x.b * x.hq * op.attention.pairs_per_head;
  const bool softmax = p.score == ScoreFn::softmax;
  op.flops.tensor = 2 * scores * (x.d + x.dv);
  op.flops.exp = scores;  // softmax: exp; sigmoid: one tanh on the same unit
  op.flops.vector = softmax ? kForwardVectorFlopsPerScore * scores + x.b * x.hq * x.lq * x.dv
                            : kSigmoidVectorFlopsPerScore * scores;
  if (p.softcap) {
    op.flops.exp += scores;
    op.flops.vector += kSoftcapVectorFlopsPerScore * scores;
  }
  op.bytes.q = x.s * x.b * x.lq * x.hq * x.d;
  op.bytes.k = x.s_kv * x.b * x.lkv * x.hkv * x.d;
  op.bytes.v = x.s_kv * x.b * x.lkv * x.hkv * x.dv;
  op.bytes.o = x.s * x.b * x.lq * x.hq * x.dv;
  // A training softmax forward keeps the log-sum-exp for the backward (sigmoid needs none).
  if (softmax && (w.phase == Phase::fwd || w.phase == Phase::train)) {
    op.bytes.lse = kStatBytes * x.b * x.hq * x.lq;
  }
  return op;
}

Op dense_attention_backward(const HeadConfig& h, const Workload& w, const AttentionPattern& p) {
  const Dims x = dims_of(h, w, p);
  Op op;
  op.kind = OpKind::dense_attention;
  op.pass = Pass::backward;
  op.name = "attention_bwd";
  op.attention = shape_of(h, w, p);
  const double scores = x.b * x.hq * op.attention.pairs_per_head;
  const bool softmax = p.score == ScoreFn::softmax;
  // S = QK^T, dV = P^T dO, dP = dO V^T, dQ = dS K, dK = dS^T Q (FlashAttention-2 with recompute).
  op.flops.tensor = 2 * scores * (3 * x.d + 2 * x.dv);
  op.flops.exp = scores;
  // Softmax: delta = rowsum(dO * O), one multiply-add per element of O; sigmoid needs no delta.
  op.flops.vector = softmax ? kBackwardVectorFlopsPerScore * scores + 2 * x.b * x.hq * x.lq * x.dv
                            : kSigmoidBackwardVectorFlopsPerScore * scores;
  if (p.softcap) {
    op.flops.exp += scores;
    op.flops.vector += kSoftcapBackwardVectorFlopsPerScore * scores;
  }
  op.bytes.q = x.s * x.b * x.lq * x.hq * x.d;
  op.bytes.k = x.s_kv * x.b * x.lkv * x.hkv * x.d;
  op.bytes.v = x.s_kv * x.b * x.lkv * x.hkv * x.dv;
  op.bytes.o = softmax ? x.s * x.b * x.lq * x.hq * x.dv : 0;  // O is read only for delta
  op.bytes.grad_out = x.s * x.b * x.lq * x.hq * x.dv;
  // LSE read, delta written by the pre-pass and read by the main kernel.
  op.bytes.lse = softmax ? 3 * kStatBytes * x.b * x.hq * x.lq : 0;
  op.bytes.grad_in = x.s * x.b * (x.lq * x.hq * x.d + x.lkv * x.hkv * (x.d + x.dv));
  return op;
}

double dense_kv_bytes_per_token(const HeadConfig& h, DType kv_dtype) {
  return static_cast<double>(h.kv_heads) * static_cast<double>(h.head_dim + h.v_head_dim) *
         bytes_per_element(kv_dtype);
}

void set_kv_cache(const HeadConfig& h, const Workload& w, double tokens, CostModel& model) {
  model.kv_cache_bytes_per_token_per_layer = dense_kv_bytes_per_token(h, w.kv_dtype);
  if (tokens <= 0) {
    // No cache (a non-causal variant): nothing is kept per token, while the attention still reads
    // each token's K and V (what context parallelism passes between ranks).
    model.kv_read_bytes_per_token_per_layer = model.kv_cache_bytes_per_token_per_layer;
    model.kv_cache_bytes_per_token_per_layer = 0;
    model.kv_cache_bytes = 0;
    return;
  }
  model.kv_cache_bytes = model.kv_cache_bytes_per_token_per_layer * tokens *
                         static_cast<double>(w.batch) * static_cast<double>(w.layers);
}

double cached_tokens(const Workload& w, const AttentionPattern& p) {
  const double kv = static_cast<double>(w.kv_len);
  return p.window > 0 ? std::min(kv, static_cast<double>(p.window + p.sinks)) : kv;
}

void add_attention_branch(const HeadConfig& h, const Workload& base, std::int64_t q_len,
                          std::int64_t kv_len, bool causal, const AttentionPattern& p,
                          const char* fwd_name, const char* bwd_name, CostModel& model,
                          std::int64_t batch_multiplier) {
  Workload w = base;
  w.batch = base.batch * batch_multiplier;
  w.q_len = std::max<std::int64_t>(1, q_len);
  w.kv_len = std::max<std::int64_t>(1, kv_len);
  w.causal = causal && w.kv_len >= w.q_len;
  if (has_forward(base.phase)) {
    Op op = dense_attention_forward(h, w, p);
    op.name = fwd_name;
    model.ops.push_back(op);
  }
  if (has_backward(base.phase)) {
    Op op = dense_attention_backward(h, w, p);
    op.name = bwd_name;
    model.ops.push_back(op);
  }
}

void read_distinct_keys(Op& op, double keys_read) {
  scale_kv_traffic(op, keys_read / static_cast<double>(op.attention.kv_len));
  op.attention.key_range = keys_read;
}

void scale_kv_traffic(Op& op, double scale) {
  const AttentionShape& a = op.attention;
  op.bytes.k *= scale;
  op.bytes.v *= scale;
  if (op.pass == Pass::backward) {
    // grad_in is dQ (q_len Hq d) and dK, dV (kv_len Hkv (d + dv)) at the activations' width.
    const double dq = static_cast<double>(a.batch * a.q_len * a.heads_q * a.head_dim);
    const double dkv = static_cast<double>(a.batch * a.kv_len * a.heads_kv) *
                       static_cast<double>(a.head_dim + a.v_head_dim);
    op.bytes.grad_in *= (dq + dkv * scale) / (dq + dkv);
  }
}

void add_dense_attention(const HeadConfig& h, const Workload& w, CostModel& model,
                         const AttentionPattern& p) {
  if (has_forward(w.phase)) model.ops.push_back(dense_attention_forward(h, w, p));
  if (has_backward(w.phase)) model.ops.push_back(dense_attention_backward(h, w, p));
  set_kv_cache(h, w, cached_tokens(w, p), model);
}

}  // namespace models
