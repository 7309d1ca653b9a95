#include "models/sparse_selected.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "common/errors.hpp"
#include "models/dense_attention.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

// A selection step as an elementwise pass: `items` values, `flops` each, `bytes` each. Selection
// is forward work: the forward chooses the keys and the backward reuses its choice, so a phase
// without a forward (bwd) has none. Returns the op, or nullptr when the phase has no forward.
Op* add_selection(const char* name, const Workload& w, double items, double flops, double bytes,
                  CostModel& model) {
  if (!has_forward(w.phase)) return nullptr;
  model.ops.push_back(elementwise_op(name, Pass::forward, items, bytes, 0, flops));
  return &model.ops[model.ops.size() - 1];
}

// The distinct keys that q_len queries read when each chooses `keys` of the kv_len by content:
// at most all of them, at most each query's own.
double distinct_keys(const Workload& w, std::int64_t keys) {
  return std::min(static_cast<double>(w.kv_len),
                  static_cast<double>(w.q_len) * static_cast<double>(keys));
}

// Data moved on a differentiable path (a gather, a pooling): the backward moves the gradients
// back the same way, at the cost given. Only in a phase with a backward.
void add_gradient_move(const char* name, const Workload& w, double items, double flops,
                       double bytes, CostModel& model) {
  if (has_backward(w.phase)) {
    model.ops.push_back(elementwise_op(name, Pass::backward, items, bytes, 0, flops));
  }
}

// Pairs (query, key) of one head that a causal query set keeps when each query keeps at most
// `keep` keys of its prefix: sum over the prefixes p = kv - q + 1 .. kv of min(p, keep).
double kept_pairs(const Workload& w, double keep) {
  const double first = static_cast<double>(w.kv_len - w.q_len + 1);
  const double last = static_cast<double>(w.kv_len);
  const auto sum = [](double a, double b) { return b < a ? 0.0 : (a + b) * (b - a + 1) / 2; };
  if (last <= keep) return sum(first, last);
  if (first > keep) return keep * (last - first + 1);
  return sum(first, keep) + keep * (last - keep);
}

// The backward of DMA's trainable bias delta = exp(A softplus(V W_dt)) (flash-dmattn's
// mha_bwd, csrc/flash_sparse_attn/flash_api.cpp, github.com/SmallDoges/flash-dmattn). Through
// the importance: the gradients of W_dt and of the values, twice the forward's FLOPs, reading V
// and writing its share of dV. With the materialised (B, Hkv, Lq, Lk) mask and bias, the kernel
// reads both again (2 B each a pair) and writes dbias per query head where GQA differs from the
// bias's heads (2 B a kept pair); around it, that per-head dbias is zeroed, and summed over each
// group into (B, Hkv, Lq, Lk) (2g + 2g + 2 B a pair of one KV head, where g > 1), and the sum read
// over the queries the bias was broadcast along (2 B). The bias and mask are fp16/bf16 (the
// kernel's types).
void add_bias_gradient(const HeadConfig& h, const Workload& w, double prefix, double kept,
                       bool dense_mask, CostModel& model) {
  if (!has_backward(w.phase)) return;
  const double b = static_cast<double>(w.batch), hkv = static_cast<double>(h.kv_heads);
  const double d = static_cast<double>(h.head_dim), s = bytes_per_element(w.dtype);
  model.ops.push_back(elementwise_op("value_importance_bwd", Pass::backward,
                                     b * static_cast<double>(w.q_len) * hkv, 2 * d * s, 0,
                                     2 * (2 * hkv * d + 4)));
  if (!dense_mask) return;
  const double g = static_cast<double>(h.heads) / hkv;
  const double pairs = b * hkv * prefix;
  Op kernel = elementwise_op("mask_bias_bwd", Pass::backward, pairs, 0, 0, 0);
  kernel.bytes.activations = pairs * 2 * 2 + b * static_cast<double>(h.heads) * kept * 2;
  model.ops.push_back(kernel);
  const double grouped = g > 1 ? 2 * g + 2 * g + 2 : 0;  // zeroed, read and summed per group
  model.ops.push_back(
      elementwise_op("bias_grad_reduce_bwd", Pass::backward, pairs, grouped + 2, 0, g));
}

// §D3 DMA: keys ranked by a value-derived importance; each query keeps the top `keep` of its
// prefix. Tiles without kept keys are skipped; as kept keys scatter, this counts the ideal pairs.
constexpr std::array<ParamInfo, 6> kDmaParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    in_tokens({"keep", "keys each query keeps (keep_window_size)", 1024, 1, 1 << 30}),
    {"dense_mask", "1: the kernel reads a materialised (B, Hkv, Lq, Lk) mask and bias", 1, 0, 1},
}};
constexpr IntParam kKeep = int_param(kDmaParams, "keep");
constexpr IntParam kDenseMask = int_param(kDmaParams, "dense_mask");

class Dma final : public VariantBase {
 public:
  Dma()
      : VariantBase("dma", "dynamic",
                    "dynamic mask attention: value-driven key importance, top-keep keys per query, "
                    "all-masked tiles skipped",
                    kDmaParams) {}
  Masking masking() const override { return Masking::causal_only; }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    if (!w.causal) throw common::SpecError("dma is causal; drop --no-causal");
    const HeadConfig& h = spec.heads;
    CostModel model;
    model.layers = w.layers;
    const double b = static_cast<double>(w.batch), hkv = static_cast<double>(h.kv_heads);
    const double lq = static_cast<double>(w.q_len), lk = static_cast<double>(w.kv_len);
    // Importance from V (Hkv d -> Hkv per token) and top-keep over each query's prefix.
    add_selection("value_importance", w, b * lq * hkv,
                  2 * hkv * static_cast<double>(h.head_dim) + 4,
                  static_cast<double>(h.head_dim) * bytes_per_element(w.kv_dtype), model);
    const double prefix = lq * (lk - lq) + lq * (lq + 1) / 2;
    const bool dense_mask = spec.get(kDenseMask) != 0;
    add_selection("top_keep", w, b * hkv * prefix, 2, dense_mask ? 2 * 2 : 0, model);
    add_dense_attention(h, w, model, {spec.get(kKeep), 0, ScoreFn::softmax});
    add_bias_gradient(h, w, prefix, kept_pairs(w, static_cast<double>(spec.get(kKeep))), dense_mask,
                      model);
    set_kv_cache(h, w, static_cast<double>(w.kv_len), model);  // no eviction
    add_projections(h, spec.projections, w, model);
    return model;
  }
};

// §D4 LLSA (2 levels): each query block attends to top_k fine blocks, top_k2 level-1 pooled
// blocks and every level-2 pooled token; selection is dense at level 2, sparse at level 1.
constexpr std::array<ParamInfo, 7> kLlsaParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    in_tokens({"block", "tokens pooled per block (B)", 16, 2, 1 << 16}),
    {"top_k", "fine blocks selected per query block (K)", 8, 1, 1 << 20},
    {"top_k2", "level-1 blocks selected per query block (K2)", 8, 1, 1 << 20},
}};
constexpr IntParam kLlsaBlock = int_param(kLlsaParams, "block");
constexpr IntParam kLlsaTopK = int_param(kLlsaParams, "top_k");
constexpr IntParam kLlsaTopK2 = int_param(kLlsaParams, "top_k2");

class Llsa final : public VariantBase {
 public:
  Llsa()
      : VariantBase(
            "llsa", "dynamic",
            "log-linear sparse attention: hierarchical top-k over pooled blocks (2 levels), "
            "non-causal",
            kLlsaParams) {}
  Masking masking() const override { return Masking::non_causal_only; }
  // Sized by the whole sequence (top-k levels over pooled blocks of the whole sequence, L / block^2
  // keys): a chunk of it prices a different pattern, not a share of this one.
  SequenceSplit sequence_split(Phase) const override { return SequenceSplit::heads_only; }
  bool supports(Phase p) const override { return p != Phase::decode; }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    require_phase(*this, w.phase);
    const HeadConfig& h = spec.heads;
    const double n = static_cast<double>(w.q_len);
    const auto blk = static_cast<double>(spec.get(kLlsaBlock));
    const auto top_k2 = static_cast<double>(spec.get(kLlsaTopK2));
    const double keys = (static_cast<double>(spec.get(kLlsaTopK)) + top_k2) * blk + n / (blk * blk);
    CostModel model;
    model.layers = w.layers;
    add_attention_branch(h, w, w.q_len, std::llround(std::min(keys, n)), false, {},
                         "sparse_attention_fwd", "sparse_attention_bwd", model);
    // Every query block gathers its own keys: no reuse across blocks (§D4 HBM).
    const double s_kv = bytes_per_element(w.kv_dtype);
    for (Op& op : model.ops) {
      op.bytes.k = s_kv * static_cast<double>(w.batch * h.kv_heads) * (n / blk) * keys *
                   static_cast<double>(h.head_dim);
      op.bytes.v = op.bytes.k * static_cast<double>(h.v_head_dim) / static_cast<double>(h.head_dim);
    }
    const double bh = static_cast<double>(w.batch * h.heads), d = static_cast<double>(h.head_dim);
    const double coarse = n / (blk * blk);
    add_selection("level2_scores", w, bh * coarse * coarse, 2 * d, 0, model);
    add_selection("level1_scores", w, bh * (n / blk) * top_k2 * blk, 2 * d, 0, model);
    // The pooled keys and values are means of the tokens': their gradients flow back to them.
    add_selection("pooling", w, bh * n * d, 1, 2 * bytes_per_element(w.dtype), model);
    add_gradient_move("pooling_bwd", w, bh * n * d, 1, 2 * bytes_per_element(w.dtype), model);
    add_projections(h, spec.projections, w, model);
    return model;
  }
};

// §D5 Routing Transformer: tokens routed to k clusters by k-means on a shared Q/K space;
// attention only inside a cluster. clusters = 0 picks sqrt(n).
constexpr std::array<ParamInfo, 5> kRoutingParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    {"clusters", "k-means clusters k (0: sqrt of the sequence length)", 0, 0, 1 << 20},
}};
constexpr IntParam kClusters = int_param(kRoutingParams, "clusters");

class Routing final : public VariantBase {
 public:
  Routing()
      : VariantBase("routing", "dynamic",
                    "routing transformer: attention inside k-means clusters of a shared Q/K space",
                    kRoutingParams) {}
  // Sized by the whole sequence (k-means clusters, sqrt(L) of them by default, over every
  // position): a chunk of it prices a different pattern, not a share of this one.
  SequenceSplit sequence_split(Phase) const override { return SequenceSplit::heads_only; }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const HeadConfig& h = spec.heads;
    const double n = static_cast<double>(w.kv_len);
    const auto clusters = static_cast<double>(spec.get(kClusters));
    const double k = clusters > 0 ? clusters : std::max(1.0, std::round(std::sqrt(n)));
    const double d = static_cast<double>(h.head_dim);
    const double bh = static_cast<double>(w.batch * h.heads);
    const double tokens = static_cast<double>(w.q_len);
    CostModel model;
    model.layers = w.layers;
    // The k centroids of every head are read once (learned, like weights; k-means moves them by
    // running averages, not by gradients).
    if (Op* route = add_selection("route_to_centroids", w, bh * tokens * k, 2 * d, 0, model)) {
      route->bytes.weights = static_cast<double>(h.heads) * k * d * bytes_per_element(w.dtype);
    }
    const auto members = std::max<std::int64_t>(1, std::llround(n / k));
    if (w.phase == Phase::decode) {
      // A new token attends to the keys of its own cluster.
      add_attention_branch(h, w, w.q_len, members, false, {}, "cluster_attention_fwd",
                           "cluster_attention_bwd", model);
    } else {
      add_attention_branch(h, w, members, members, w.causal, {}, "cluster_attention_fwd",
                           "cluster_attention_bwd", model, static_cast<std::int64_t>(k));
      // Sort tokens by cluster and gather Q, K, V (and scatter O back); the backward gathers dO
      // and scatters dQ, dK and dV back.
      const double s = bytes_per_element(w.dtype), dv = static_cast<double>(h.v_head_dim);
      add_selection("cluster_permute", w, bh * tokens, 0, 2 * s * (2 * d + dv), model);
      add_gradient_move("cluster_permute_bwd", w, bh * tokens, 0, 2 * s * (2 * d + 2 * dv), model);
    }
    set_kv_cache(h, w, static_cast<double>(w.kv_len), model);
    add_projections(h, spec.projections, w, model);
    return model;
  }
};

// §D6 Superlinear (N = 2, jump search): each query scores c sqrt(L) candidate spans and attends
// inside the top_k spans of length sqrt(L); the full KV cache stays (random access).
constexpr std::array<ParamInfo, 6> kSuperlinearParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    {"top_k", "spans attended per query", 4, 1, 1 << 16},
    {"candidates", "candidate spans per query, in units of sqrt(L)", 1, 0.01, 1 << 16,
     ParamType::real},
}};
constexpr IntParam kSpans = int_param(kSuperlinearParams, "top_k");
constexpr RealParam kCandidates = real_param(kSuperlinearParams, "candidates");

class Superlinear final : public VariantBase {
 public:
  Superlinear()
      : VariantBase("superlinear", "dynamic",
                    "superlinear multi-step attention: span search over sqrt(L) candidates, then "
                    "exact attention in the top-k spans",
                    kSuperlinearParams) {}
  // Sized by the whole sequence (sqrt(L) candidate spans of sqrt(L) keys for every query): a chunk
  // of it prices a different pattern, not a share of this one.
  SequenceSplit sequence_split(Phase) const override { return SequenceSplit::heads_only; }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const HeadConfig& h = spec.heads;
    const double span = std::sqrt(static_cast<double>(w.kv_len));
    const double candidates = spec.get(kCandidates) * span;
    CostModel model;
    model.layers = w.layers;
    if (Op* search = add_selection("span_search", w,
                                   static_cast<double>(w.batch * h.heads * w.q_len) * candidates,
                                   2 * static_cast<double>(h.head_dim), 0, model)) {
      // The candidate spans' representative keys, read once per sequence and KV head.
      search->bytes.k = static_cast<double>(w.batch * h.kv_heads) * candidates *
                        static_cast<double>(h.head_dim) * bytes_per_element(w.kv_dtype);
    }
    const auto keys = std::min<std::int64_t>(
        w.kv_len, std::llround(static_cast<double>(spec.get(kSpans)) * span));
    const std::size_t first_span = model.ops.size();
    if (w.causal) {
      // A query at t chooses its spans in its prefix: min(t, top_k sqrt(L)) keys, the pairs of a
      // causal window that long.
      add_attention_branch(h, w, w.q_len, w.kv_len, true, {keys, 0, ScoreFn::softmax},
                           "span_attention_fwd", "span_attention_bwd", model);
    } else {
      add_attention_branch(h, w, w.q_len, keys, false, {}, "span_attention_fwd",
                           "span_attention_bwd", model);
      // Each query reads its own spans: between them, up to every key.
      for (std::size_t i = first_span; i < model.ops.size(); ++i) {
        read_distinct_keys(model.ops[i], distinct_keys(w, keys));
      }
    }
    set_kv_cache(h, w, static_cast<double>(w.kv_len), model);
    add_projections(h, spec.projections, w, model);
    return model;
  }
};

// §D7 DHSA: a boundary predictor cuts chunks, chunk similarity is scored, and each query keeps a
// budget of token interactions.
constexpr std::array<ParamInfo, 6> kDhsaParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    in_tokens({"chunk", "average chunk length (tokens)", 64, 1, 1 << 20}),
    in_tokens({"budget", "token interactions kept per query (N_b)", 2048, 1, 1 << 30}),
}};
constexpr IntParam kDhsaChunk = int_param(kDhsaParams, "chunk");
constexpr IntParam kBudget = int_param(kDhsaParams, "budget");

class Dhsa final : public VariantBase {
 public:
  Dhsa()
      : VariantBase("dhsa", "dynamic",
                    "dynamic hierarchical sparse attention: chunk-level similarity selects a token "
                    "budget per query",
                    kDhsaParams) {}
  // Sized by the whole sequence (chunk similarities over all L / chunk chunks feed each query's
  // budget): a chunk of it prices a different pattern, not a share of this one.
  SequenceSplit sequence_split(Phase) const override { return SequenceSplit::heads_only; }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const HeadConfig& h = spec.heads;
    const double chunks =
        std::max(1.0, static_cast<double>(w.kv_len) / static_cast<double>(spec.get(kDhsaChunk)));
    const double bh = static_cast<double>(w.batch * h.heads), d = static_cast<double>(h.head_dim);
    const double lq = static_cast<double>(w.q_len);
    CostModel model;
    model.layers = w.layers;
    add_selection("chunk_representations", w, bh * lq * d, 1, 2 * bytes_per_element(w.dtype),
                  model);
    if (Op* similarity = add_selection("chunk_similarity", w, bh * std::min(lq, chunks) * chunks,
                                       2 * d, 0, model)) {
      // Every chunk representation of the context is read once per head.
      similarity->bytes.k = bh * chunks * d * bytes_per_element(w.dtype);
    }
    add_selection("budget_select", w, bh * lq * chunks, 2, 0, model);
    const std::int64_t budget = spec.get(kBudget);
    if (w.causal) {
      add_dense_attention(h, w, model, {budget, 0, ScoreFn::softmax});
    } else {
      const std::size_t first = model.ops.size();
      add_attention_branch(h, w, w.q_len, std::min(w.kv_len, budget), false, {},
                           "sparse_attention_fwd", "sparse_attention_bwd", model);
      // Each query keeps its own budget: between them, up to every key.
      for (std::size_t i = first; i < model.ops.size(); ++i) {
        read_distinct_keys(model.ops[i], distinct_keys(w, std::min(w.kv_len, budget)));
      }
    }
    set_kv_cache(h, w, static_cast<double>(w.kv_len), model);
    add_projections(h, spec.projections, w, model);
    return model;
  }
};

}  // namespace

void add_selected_sparse_variants(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<Dma>());
  table.push_back(std::make_unique<Llsa>());
  table.push_back(std::make_unique<Routing>());
  table.push_back(std::make_unique<Superlinear>());
  table.push_back(std::make_unique<Dhsa>());
}

}  // namespace models
