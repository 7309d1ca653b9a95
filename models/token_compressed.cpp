#include "models/token_compressed.hpp"

#include <algorithm>
#include <array>
#include <cmath>

#include "common/errors.hpp"
#include "models/dense_attention.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

// §B5: tokens older than the local window are pooled in groups of g into core tokens; a query at
// position t sees (t - s) / g core tokens and the last s raw tokens. Defaults from the reference
// code (g = 16, s = 1024).
constexpr std::array<ParamInfo, 6> kCoreContextParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    in_tokens({"group", "tokens pooled into one core token (g)", 16, 1, 1 << 20}),
    in_tokens({"window", "recent raw tokens every query sees (s)", 1024, 1, 1 << 30}),
}};
constexpr IntParam kCoreGroup = int_param(kCoreContextParams, "group");
constexpr IntParam kCoreWindow = int_param(kCoreContextParams, "window");

class CoreContext final : public VariantBase {
 public:
  CoreContext()
      : VariantBase("core-context", "latent",
                    "core context aware attention: pooled core tokens for the far past plus a "
                    "local window of raw tokens",
                    kCoreContextParams) {}
  Masking masking() const override { return Masking::causal_only; }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    if (!w.causal) throw common::SpecError("core-context is causal; drop --no-causal");
    const HeadConfig& h = spec.heads;
    const auto g = static_cast<double>(spec.get(kCoreGroup));
    const auto s = static_cast<double>(spec.get(kCoreWindow));
    CostModel model;
    model.layers = w.layers;
    add_dense_attention(h, w, model, {static_cast<std::int64_t>(s), 0, ScoreFn::softmax});
    // Core tokens: a query at t sees floor((t - s) / g), the groups wholly older than its window
    // (the reference code's rule); the queries' mean count, as one non-causal branch.
    const std::int64_t first = w.kv_len - w.q_len + 1;
    const std::int64_t gi = spec.get(kCoreGroup), si = spec.get(kCoreWindow);
    const double mean_old =
        floor_sum_between(first - si, w.kv_len - si, gi) / static_cast<double>(w.q_len);
    if (mean_old >= 1) {
      // One softmax over [core; local] keys (the reference concatenates them): Q is read and O
      // written once, by the local op; the output normalisation is done once too.
      const std::size_t first_core = model.ops.size();
      add_attention_branch(h, w, w.q_len, std::llround(mean_old), false, {}, "core_attention_fwd",
                           "core_attention_bwd", model);
      for (std::size_t i = first_core; i < model.ops.size(); ++i) {
        Op& op = model.ops[i];
        op.bytes.q = op.bytes.o = op.bytes.lse = op.bytes.grad_out = 0;
        if (op.pass == Pass::forward) {
          op.flops.vector -= static_cast<double>(w.batch * w.q_len * h.heads * h.v_head_dim);
        }
      }
    }
    // Pooling: weights 2 Hq d and weighted sums 2 Hq (d + dv) per token (reference code expands
    // K/V to the query heads), a g-way softmax per group. It reads each token's K/V once and
    // writes one core token per g (in decode: a group every g steps).
    const double tokens = static_cast<double>(w.batch * w.q_len);
    const double hq = static_cast<double>(h.heads), d = static_cast<double>(h.head_dim);
    const double kv_bytes_per_token = dense_kv_bytes_per_token(h, w.kv_dtype);
    const double pooling_flops = hq * (2 * d + 2 * (d + static_cast<double>(h.v_head_dim)));
    if (has_forward(w.phase)) {
      model.ops.push_back(elementwise_op("core_pooling", Pass::forward, tokens,
                                         kv_bytes_per_token * (1 + 1 / g), hq, pooling_flops));
    }
    // The pooling is learned and differentiable: its backward reads the core tokens' gradients
    // and K/V again, writes the tokens' dK/dV shares, and takes twice the FLOPs (the gradients of
    // the weights and of the pooled values), recomputing the g-way softmax.
    if (has_backward(w.phase)) {
      model.ops.push_back(elementwise_op("core_pooling_bwd", Pass::backward, tokens,
                                         kv_bytes_per_token * (2 + 1 / g), hq, 2 * pooling_flops));
    }
    // Cache: a ring of the last s + g raw tokens (the window and the group leaving it, which is
    // pooled once all of it is older than the window), and the core tokens the newest query sees,
    // floor((T - s) / g): what decode attends is what the cache holds.
    const double kv = static_cast<double>(w.kv_len);
    const double cores = std::floor(std::max(0.0, kv - s) / g);
    set_kv_cache(h, w, std::min(kv, s + g) + cores, model);
    add_projections(h, spec.projections, w, model);
    return model;
  }
};

// §B6 FlashVGGT: global attention replaced by cross-attention from all S N tokens to N / r^2
// descriptors per frame; per-frame attention unchanged. --seq-len is all tokens (S N).
constexpr std::array<ParamInfo, 7> kDescriptorParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    in_tokens({"frame_tokens", "tokens per frame (N; VGGT at 518 px: 37 x 37 patches + 5)", 1374, 1,
               1 << 24}),
    {"downsample", "descriptor down-sampling factor r per image side", 4, 1, 1024},
    {"frame_attention", "1: include the per-frame attention layer", 1, 0, 1},
}};
constexpr IntParam kFrameTokens = int_param(kDescriptorParams, "frame_tokens");
constexpr IntParam kDownsample = int_param(kDescriptorParams, "downsample");
constexpr IntParam kFrameAttention = int_param(kDescriptorParams, "frame_attention");

class Descriptor final : public VariantBase {
 public:
  Descriptor()
      : VariantBase("descriptor", "latent",
                    "FlashVGGT: cross-attention from every token to down-sampled frame "
                    "descriptors, plus per-frame attention",
                    kDescriptorParams) {}
  Masking masking() const override { return Masking::non_causal_only; }
  // Sized by the whole sequence (every token against the descriptors of all L / frame_tokens
  // frames): a chunk of it prices a different pattern, not a share of this one.
  SequenceSplit sequence_split(Phase) const override { return SequenceSplit::heads_only; }
  bool supports(Phase p) const override { return p != Phase::decode; }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    require_phase(*this, w.phase);
    const HeadConfig& h = spec.heads;
    const auto r2 = static_cast<double>(spec.get(kDownsample) * spec.get(kDownsample));
    // Whole frames of n tokens and, where --seq-len is not a multiple of n, a last partial frame
    // of the rest: each is down-sampled to its tokens / r^2 descriptors.
    const std::int64_t frame = spec.get(kFrameTokens);
    const std::int64_t frames = w.q_len / frame, rest = w.q_len % frame;
    const auto descriptors =
        std::max<std::int64_t>(1, std::llround(static_cast<double>(w.q_len) / r2));
    CostModel model;
    model.layers = w.layers;
    add_attention_branch(h, w, w.q_len, descriptors, false, {}, "descriptor_attention_fwd",
                         "descriptor_attention_bwd", model);
    if (spec.get(kFrameAttention) != 0) {
      if (frames > 0) {
        add_attention_branch(h, w, frame, frame, false, {}, "frame_attention_fwd",
                             "frame_attention_bwd", model, frames);
      }
      if (rest > 0) {
        add_attention_branch(h, w, rest, rest, false, {}, "partial_frame_attention_fwd",
                             "partial_frame_attention_bwd", model);
      }
    }
    set_kv_cache(h, w, static_cast<double>(descriptors), model);  // streaming: descriptor K/V
    add_projections(h, spec.projections, w, model);
    return model;
  }
};

// §B7 FIT: groups of n data tokens with m latents each; local attention in a group, global
// attention over all latents, and cross-attention latents <- data and data <- latents.
constexpr std::array<ParamInfo, 6> kFitParams = {{
    kHeadsParam,
    kKvHeadsParam,
    kHeadDimParam,
    kVHeadDimParam,
    in_tokens({"group", "data tokens per group (n)", 256, 1, 1 << 24}),
    in_tokens({"latents", "latent tokens per group (m)", 32, 1, 1 << 24}),
}};
constexpr IntParam kFitGroup = int_param(kFitParams, "group");
constexpr IntParam kLatents = int_param(kFitParams, "latents");

class Fit final : public VariantBase {
 public:
  Fit()
      : VariantBase("fit", "latent",
                    "far-reaching interleaved transformer: local group attention, global latent "
                    "attention and data/latent cross-attention (non-causal)",
                    kFitParams) {}
  Masking masking() const override { return Masking::non_causal_only; }
  // Sized by the whole sequence (global attention over the latents of all L / group groups): a
  // chunk of it prices a different pattern, not a share of this one.
  SequenceSplit sequence_split(Phase) const override { return SequenceSplit::heads_only; }
  bool supports(Phase p) const override { return p != Phase::decode; }
  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    require_phase(*this, w.phase);
    const HeadConfig& h = spec.heads;
    const std::int64_t n = spec.get(kFitGroup);
    const std::int64_t m = spec.get(kLatents);
    // Whole groups of n data tokens and, where --seq-len is not a multiple of n, a last partial
    // group of the rest, which has its m latents as every group does.
    const std::int64_t whole = w.q_len / n, rest = w.q_len % n;
    const std::int64_t groups = whole + (rest > 0 ? 1 : 0);
    CostModel model;
    model.layers = w.layers;
    // The per-group branches: local (data <-> data), read (latents <- data), write (data <-
    // latents), over the whole groups and then the partial one.
    const auto per_group = [&](std::int64_t size, std::int64_t count, bool partial) {
      add_attention_branch(h, w, size, size, false, {},
                           partial ? "partial_local_attention_fwd" : "local_attention_fwd",
                           partial ? "partial_local_attention_bwd" : "local_attention_bwd", model,
                           count);
      add_attention_branch(
          h, w, m, size, false, {}, partial ? "partial_read_attention_fwd" : "read_attention_fwd",
          partial ? "partial_read_attention_bwd" : "read_attention_bwd", model, count);
      add_attention_branch(
          h, w, size, m, false, {}, partial ? "partial_write_attention_fwd" : "write_attention_fwd",
          partial ? "partial_write_attention_bwd" : "write_attention_bwd", model, count);
    };
    if (whole > 0) per_group(n, whole, false);
    if (rest > 0) per_group(rest, 1, true);
    add_attention_branch(h, w, groups * m, groups * m, false, {}, "global_attention_fwd",
                         "global_attention_bwd", model);
    set_kv_cache(h, w, 0, model);
    add_projections(h, spec.projections, w, model);
    return model;
  }
};

}  // namespace

void add_token_compressed_variants(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<CoreContext>());
  table.push_back(std::make_unique<Descriptor>());
  table.push_back(std::make_unique<Fit>());
}

}  // namespace models
