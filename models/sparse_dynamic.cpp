#include "models/sparse_dynamic.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "models/dense_attention.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

// NSA defaults from the paper (§D1): l = 32, d = 16, l' = 64, n = 16, w = 512; GQA 64/4 heads,
// d_k 192, d_v 128.
constexpr std::array<ParamInfo, 9> kNsaParams = {{
    {"heads", "query heads (Hq)", 64, 1, 65536},
    {"kv_heads",
     "key/value heads (Hkv); selection is shared by a group",
     4,
     1,
     65536,
     ParamType::integer,
     {},
     "heads",
     "a divisor of heads"},
    {"head_dim", "key head dimension", 192, 1, 4096},
    {"v_head_dim", "value head dimension", 128, 1, 4096},
    in_tokens({"compress_block", "tokens per compressed block (l)", 32, 1, 1 << 20}),
    in_tokens({"compress_stride", "stride between compressed blocks (d)", 16, 1, 1 << 20}),
    in_tokens({"select_block", "tokens per selected block (l')", 64, 1, 1 << 20}),
    {"top_k", "selected blocks per query, initial and local ones included (n)", 16, 1, 1 << 20},
    in_tokens({"window", "sliding-window branch length (w)", 512, 1, 1 << 30}),
}};
constexpr IntParam kBlock = int_param(kNsaParams, "compress_block");
constexpr IntParam kStride = int_param(kNsaParams, "compress_stride");
constexpr IntParam kSelBlock = int_param(kNsaParams, "select_block");
constexpr IntParam kTopK = int_param(kNsaParams, "top_k");
constexpr IntParam kWindow = int_param(kNsaParams, "window");

double real(const AttentionSpec& spec, IntParam p) {
  return static_cast<double>(spec.get(p));
}

// The summaries the workload's queries see, on average: query t (1-based) sees
// floor((t - l) / d) + 1 from t = l on.
double mean_summaries(const AttentionSpec& spec, const Workload& w) {
  const std::int64_t l = spec.get(kBlock), d = spec.get(kStride);
  const std::int64_t first = std::max(w.kv_len - w.q_len + 1, l), last = w.kv_len;
  if (last < first) return 0;
  const double seen =
      floor_sum_between(first - l, last - l, d) + static_cast<double>(last - first + 1);
  return seen / static_cast<double>(w.q_len);
}

// The selected blocks the workload's queries read, on average: query t (1-based) can choose among
// the ceil(t / l') blocks of its prefix, at most n.
double mean_selected_blocks(const AttentionSpec& spec, const Workload& w) {
  const std::int64_t lb = spec.get(kSelBlock), n = spec.get(kTopK);
  // Position x = t - 1 (0-based) has floor(x / l') + 1 blocks, n from x = n l' on.
  const std::int64_t first = w.kv_len - w.q_len, last = w.kv_len - 1;
  const std::int64_t capped_from = std::max(first, std::min(n * lb, last + 1));
  const double below =
      floor_sum_between(first, capped_from - 1, lb) + static_cast<double>(capped_from - first);
  const double capped = static_cast<double>(n) * static_cast<double>(last + 1 - capped_from);
  return (below + capped) / static_cast<double>(w.q_len);
}

class Nsa final : public VariantBase {
 public:
  // fsa: the same algorithm with Flash Sparse Attention's selected-branch kernel (§D2): KV-block
  // outer loop, a statistics pre-pass that recomputes q k^T for selected pairs, and fp32 partial
  // outputs per (token, head, selected block) merged by a reduction.
  explicit Nsa(bool fsa)
      : VariantBase(fsa ? "fsa" : "nsa", "dynamic",
                    fsa ? "flash sparse attention: NSA with a KV-block-outer selected kernel (no "
                          "query-head padding), a statistics pre-pass and partial-output reduction"
                        : "native sparse attention: compressed-block, selected-block and "
                          "sliding-window branches, plus block scoring and top-k selection",
                    kNsaParams),
        fsa_(fsa) {}
  Masking masking() const override { return Masking::causal_only; }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    if (!w.causal) throw common::SpecError(fmt::format("{} is causal; drop --no-causal", name()));
    const HeadConfig& h = spec.heads;
    const double stride = real(spec, kStride);
    const double selected = real(spec, kSelBlock) * real(spec, kTopK);
    const std::int64_t window = spec.get(kWindow);
    CostModel model;
    model.layers = w.layers;
    // Compressed branch: query t sees the summaries of the blocks that end at or before it,
    // floor((t - l) / d) + 1 of them from t = l on, none before. As a non-causal op over the mean
    // number of summaries its queries see, it has the right pairs and tiles; queries that see
    // none (a context shorter than one block) have no compressed branch.
    Workload compressed = w;
    compressed.causal = false;
    compressed.kv_len = std::llround(mean_summaries(spec, w));
    // Selected branch: each query reads min(t, n l') keys of its group's blocks.
    const AttentionPattern select{static_cast<std::int64_t>(selected), 0, ScoreFn::softmax};
    const AttentionPattern slide{window, 0, ScoreFn::softmax};
    AttentionShape selected_fwd;  // the forward selected branch's shape, for FSA's extras
    for (Pass pass : {Pass::forward, Pass::backward}) {
      if (pass == Pass::forward ? !has_forward(w.phase) : !has_backward(w.phase)) continue;
      const bool fwd = pass == Pass::forward;
      const auto attend = [&](const Workload& wl, const AttentionPattern& p, const char* name) {
        Op op = fwd ? dense_attention_forward(h, wl, p) : dense_attention_backward(h, wl, p);
        op.name = name;
        model.ops.push_back(op);
        return &model.ops[model.ops.size() - 1];
      };
      if (compressed.kv_len > 0) {
        attend(compressed, {}, fwd ? "compressed_attention_fwd" : "compressed_attention_bwd")
            ->attention.summaries = {spec.get(kBlock), spec.get(kStride)};
      }
      if (fwd) add_selection(spec, w, model);
      AttentionShape& chosen =
          attend(w, select, fwd ? "selected_attention_fwd" : "selected_attention_bwd")->attention;
      // Each query visits its top_k selected blocks of select_block keys. NSA's kernel loads the G
      // query heads of one token per tile; FSA's batches the tokens that selected a KV block
      // (BLOCK_SIZE_Q = 32 tokens, §D2).
      const std::int64_t group = h.heads / h.kv_heads;
      chosen.visits.row_group = fsa_ ? kFsaQueryBlock * group : group;
      chosen.visits.blocks = spec.get(kTopK);
      chosen.visits.block_keys = spec.get(kSelBlock);
      if (fwd) selected_fwd = chosen;
      attend(w, slide, fwd ? "window_attention_fwd" : "window_attention_bwd");
    }
    add_compression_and_gates(spec, w, model);
    if (fsa_ && has_forward(w.phase)) add_fsa_kernel_costs(spec, w, selected, selected_fwd, model);
    // Cache: every token's K/V for selection, the compressed summaries (1/stride more), and the
    // window branch's own last w tokens (§D1).
    const double per_token = dense_kv_bytes_per_token(h, w.kv_dtype);
    const double tokens = static_cast<double>(w.kv_len);
    model.kv_cache_bytes_per_token_per_layer = per_token * (1 + 1 / stride);
    model.kv_cache_bytes = per_token *
                           (tokens * (1 + 1 / stride) + std::min<double>(tokens, window)) *
                           static_cast<double>(w.batch * w.layers);
    add_projections(h, spec.projections, w, model);
    return model;
  }

 private:
  // §D2 extras: +2 d_k FLOPs per (query head, selected key) for the statistics pre-pass; fp32
  // partials (dv + 2 per token, head and selected block) written and read; int32 block indices.
  // They are selection ops carrying the selected branch's shape: the elementwise kernel prices
  // these counts, and a schedule that runs FSA's own kernels (fsa_triton) prices its kernels'
  // work with the selected branch instead.
  static void add_fsa_kernel_costs(const AttentionSpec& spec, const Workload& w, double selected,
                                   const AttentionShape& shape, CostModel& model) {
    const HeadConfig& h = spec.heads;
    const double queries = static_cast<double>(w.batch * w.q_len);
    // The selected pairs: each query's min(t, n l') keys, as in the selected branch.
    const double pairs = static_cast<double>(w.batch * h.heads) *
                         scored_pairs(w, static_cast<std::int64_t>(selected), 0);
    const auto selection = [&](Op op) {
      op.kind = OpKind::selection;
      op.attention = shape;
      model.ops.push_back(op);
    };
    Op stats = elementwise_op("selected_stats_prepass", Pass::forward, pairs, 0, 0, 0);
    stats.flops.tensor = 2 * static_cast<double>(h.head_dim) * pairs;
    selection(stats);
    const double blocks = mean_selected_blocks(spec, w);
    selection(elementwise_op("selected_partials_reduce", Pass::forward,
                             queries * static_cast<double>(h.heads) * blocks,
                             2 * kStatBytes * static_cast<double>(h.v_head_dim + 2), 0,
                             static_cast<double>(h.v_head_dim + 2)));
    selection(elementwise_op("block_indices", Pass::forward,
                             queries * static_cast<double>(h.kv_heads) * blocks, 4, 0, 0));
  }

  bool fsa_;

  // Block importance from the compressed-branch probabilities: (l'/d)(l/d) overlapping summaries
  // summed over the G heads of a group, then top-n over the candidate blocks, per query and KV
  // head. Both are selection ops carrying the branch's shape, for a schedule that runs its own
  // kernels for them (nsa_triton_compressed).
  static void add_selection(const AttentionSpec& spec, const Workload& w, CostModel& model) {
    const HeadConfig& h = spec.heads;
    const double queries = static_cast<double>(w.batch * w.q_len);
    const double stride = real(spec, kStride);
    const double summaries = static_cast<double>(w.kv_len) / stride;
    const double overlap = (real(spec, kSelBlock) / stride) * (real(spec, kBlock) / stride);
    AttentionShape shape = dense_attention_forward(h, w).attention;
    shape.summaries = {spec.get(kBlock), spec.get(kStride)};
    shape.visits = {h.heads / h.kv_heads, spec.get(kTopK), spec.get(kSelBlock)};
    Op score = elementwise_op("block_scores", Pass::forward,
                              queries * static_cast<double>(h.heads) * summaries, 4, 0, overlap);
    const double candidates = static_cast<double>(w.kv_len) / real(spec, kSelBlock);
    // top-k by a partial sort: about log2(candidates) compares per candidate.
    Op top = elementwise_op("top_k_select", Pass::forward,
                            queries * static_cast<double>(h.kv_heads) * candidates, 4, 0,
                            std::max(1.0, std::log2(std::max(2.0, candidates))));
    for (Op* op : {&score, &top}) {
      op->kind = OpKind::selection;
      op->attention = shape;
      model.ops.push_back(*op);
    }
  }

  // The compression MLP phi: separate key (l d_k -> d_k) and value (l d_v -> d_v) linear maps per
  // block of l tokens every d tokens, one map shared by the KV heads (§D1: 2 l d_k^2 / d FLOPs per
  // token and KV head for keys). A decode step compresses a new block for a sequence once every d
  // tokens, so its weights are read in a step only by the sequences that need it: a fraction
  // min(1, B m / d) of the steps. Then the combination of the three branch outputs by their gates;
  // the gate scores (a D x 3 Hq GEMM on the hidden states) are a projection, counted with them.
  static void add_compression_and_gates(const AttentionSpec& spec, const Workload& w,
                                        CostModel& model) {
    if (!has_forward(w.phase)) return;
    const HeadConfig& h = spec.heads;
    const double tokens = static_cast<double>(w.batch * w.q_len);
    const double blocks = tokens / real(spec, kStride);
    const double s = bytes_per_element(w.dtype);
    const double l = real(spec, kBlock), hkv = static_cast<double>(h.kv_heads);
    const double weight_share = std::min(1.0, blocks);
    for (const auto& [name, dim] :
         {std::pair{"compress_k_fwd", static_cast<double>(h.head_dim)},
          std::pair{"compress_v_fwd", static_cast<double>(h.v_head_dim)}}) {
      Op op = gemm_op(name, Pass::forward, blocks * hkv, dim, l * dim, s);
      op.bytes.weights *= weight_share;
      model.ops.push_back(op);
    }
    model.ops.push_back(elementwise_op("branch_combine_fwd", Pass::forward,
                                       tokens * static_cast<double>(h.heads * h.v_head_dim), 4 * s,
                                       3 / static_cast<double>(h.v_head_dim), 6));
    if (spec.projections.include) {
      model.ops.push_back(gemm_op("branch_gates_fwd", Pass::forward, tokens,
                                  3 * static_cast<double>(h.heads),
                                  hidden_size(h, spec.projections), s));
      model.parameters_per_layer +=
          3 * static_cast<double>(h.heads) * hidden_size(h, spec.projections);
    }
  }
};

// §D8: H2O keeps a budget of heavy-hitter plus recent tokens; decode attends to the budget and
// accumulates the attention probabilities that rank the tokens.
constexpr std::array<ParamInfo, 5> kH2oParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    in_tokens({"budget", "KV tokens kept per sequence (heavy hitters + recent)", 1024, 1, 1 << 30}),
}};
constexpr IntParam kBudget = int_param(kH2oParams, "budget");

class H2o final : public VariantBase {
 public:
  H2o()
      : VariantBase("h2o", "dynamic",
                    "heavy-hitter oracle: a fixed KV budget of high-attention and recent tokens, "
                    "with score accumulation and eviction each step",
                    kH2oParams) {}
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const HeadConfig& h = spec.heads;
    const double budget = real(spec, kBudget);
    CostModel model;
    model.layers = w.layers;
    Workload attended = w;
    const double heads = static_cast<double>(w.batch * h.heads);
    if (w.phase == Phase::decode) {
      attended.kv_len = std::min<std::int64_t>(w.kv_len, static_cast<std::int64_t>(budget));
      attended.q_len = std::min(w.q_len, attended.kv_len);
      add_dense_attention(h, attended, model);
      // The kernel also emits probabilities; accumulators (fp32) read and written; argmin evicts.
      const double kept = static_cast<double>(attended.kv_len) * static_cast<double>(w.q_len);
      model.ops.push_back(
          elementwise_op("score_accumulate", Pass::forward, heads * kept, 3 * kStatBytes, 0, 2));
    } else {
      add_dense_attention(h, w, model);
    }
    if (w.phase != Phase::decode && has_forward(w.phase)) {
      // Column sums of P need a second pass over the scores with the saved LSE (+2 B Hq d P). They
      // rank tokens for eviction, a forward choice: the backward has none.
      Op colsum = dense_attention_forward(h, w);
      colsum.name = "score_column_sums";
      colsum.flops.tensor = 2 * static_cast<double>(w.batch * h.heads) *
                            static_cast<double>(h.head_dim) * colsum.attention.pairs_per_head;
      colsum.bytes.o = 0;  // it scores Q against K again; V and O are not touched
      colsum.bytes.v = 0;
      colsum.attention.v_head_dim = 0;  // so a schedule's tiles run QK^T alone, as the FLOPs say
      model.ops.push_back(colsum);
    }
    const double cached = std::min(static_cast<double>(w.kv_len), budget);
    set_kv_cache(h, w, cached, model);
    add_projections(h, spec.projections, w, model);
    return model;
  }
};

}  // namespace

void add_dynamic_sparse_variants(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<Nsa>(false));
  table.push_back(std::make_unique<Nsa>(true));
  table.push_back(std::make_unique<H2o>());
}

}  // namespace models
