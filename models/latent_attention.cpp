#include "models/latent_attention.hpp"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "models/dense_attention.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

// mla; gla: the latent split into latent heads, each shared by Hq / latent_heads query heads
// (§B2); tpla: the latent sharded over tensor-parallel devices, costed per device (§B3).
enum class LatentKind { mla, gla, tpla };

// DeepSeek-V3 defaults (DeepSeek-V3 config.json, arXiv:2412.19437): Hq 128, d_nope 128, d_R 64,
// dv 128, d_c 512, d_c' 1536.
constexpr ParamInfo kLatentHeadsParam = {"heads", "query heads (Hq)", 128, 1, 65536};
constexpr ParamInfo kNopeParam = {"nope_dim", "per-head q/k dimension without RoPE (d_nope)", 128,
                                  1, 4096};
constexpr ParamInfo kRopeParam = {
    "rope_dim", "decoupled RoPE key dimension shared by all heads (d_R)", 64, 0, 4096};
constexpr ParamInfo kLatentVParam = {"v_head_dim", "value head dimension (dv)", 128, 1, 4096};
constexpr ParamInfo kQLatentParam = {
    "q_latent_dim",
    "query latent dimension (d_c'); 0: queries projected from the model width (DeepSeek-V2-Lite)",
    1536, 0, 65536};
constexpr ParamInfo kModeParam = {
    "mode", "0 auto, 1 absorbed (MQA-like over the latent), 2 non-absorbed (MHA-like)", 0, 0, 2};

constexpr std::array<ParamInfo, 7> kMlaParams = {{
    kLatentHeadsParam,
    kNopeParam,
    kRopeParam,
    kLatentVParam,
    {"latent_dim", "cached KV latent dimension (d_c)", 512, 1, 65536},
    kQLatentParam,
    kModeParam,
}};
// GLA-2 (two latent heads of 256) and TPLA over 2 devices (§B2, §B3).
constexpr std::array<ParamInfo, 8> kGlaParams = {{
    {"heads",
     "query heads (Hq)",
     128,
     1,
     65536,
     ParamType::integer,
     {},
     {},
     "a multiple of latent_heads"},
    kNopeParam,
    kRopeParam,
    kLatentVParam,
    {"latent_dim", "latent dimension of each latent head (d_c')", 256, 1, 65536},
    kQLatentParam,
    kModeParam,
    {"latent_heads",
     "latent heads (h_c), each shared by heads / h_c query heads",
     2,
     1,
     65536,
     ParamType::integer,
     {},
     {},
     "a divisor of heads",
     HeadSplit::key_value},
}};
constexpr std::array<ParamInfo, 8> kTplaParams = {{
    kLatentHeadsParam,
    kNopeParam,
    kRopeParam,
    kLatentVParam,
    {"latent_dim",
     "cached KV latent dimension (d_c)",
     512,
     1,
     65536,
     ParamType::integer,
     {},
     {},
     "a multiple of shards"},
    kQLatentParam,
    kModeParam,
    {"shards",
     "tensor-parallel devices the latent is sharded over (g)",
     2,
     1,
     1024,
     ParamType::integer,
     {},
     {},
     "a divisor of latent_dim"},
}};
// The three tables share the positions of their first seven parameters.
constexpr IntParam kNope = int_param(kMlaParams, "nope_dim");
constexpr IntParam kRope = int_param(kMlaParams, "rope_dim");
constexpr IntParam kLatent = int_param(kMlaParams, "latent_dim");
constexpr IntParam kQLatent = int_param(kMlaParams, "q_latent_dim");
constexpr IntParam kMode = int_param(kMlaParams, "mode");
constexpr IntParam kLatentHeads = int_param(kGlaParams, "latent_heads");
constexpr IntParam kShards = int_param(kTplaParams, "shards");
static_assert(kLatent.index == int_param(kGlaParams, "latent_dim").index &&
              kMode.index == int_param(kTplaParams, "mode").index);

struct MlaDims {
  double hq, nope, rope, dv, latent, q_latent;
  double latent_heads = 1;  // GLA
  double shards = 1;        // TPLA: this device holds latent / shards of every token
  double d_model = 0;       // model width, for TPLA's all-reduce payload
};

MlaDims dims(const AttentionSpec& spec, LatentKind kind) {
  const auto real = [&](IntParam p) { return static_cast<double>(spec.get(p)); };
  MlaDims m{static_cast<double>(spec.heads.heads),      real(kNope),   real(kRope),
            static_cast<double>(spec.heads.v_head_dim), real(kLatent), real(kQLatent)};
  if (kind == LatentKind::gla) m.latent_heads = real(kLatentHeads);
  if (kind == LatentKind::tpla) m.shards = real(kShards);
  m.d_model = static_cast<double>(spec.projections.hidden_size);
  return m;
}

// Absorbed: every head scores the shared (latent + rope)-wide cache and accumulates latent-wide
// outputs (MQA over the latent), with W_UK folded into q and W_UV applied to the output.
// One [tokens x k] by [k x n] product per head, each head with its own weights: a batched GEMM
// (one CTA grid per head), not one product of tokens x heads rows against one weight.
Op per_head_gemm(const char* name, Pass pass, double tokens, double heads, double n, double k,
                 double s) {
  Op op = gemm_op(name, pass, tokens * heads, n, k, s);
  op.bytes.weights *= heads;
  op.gemm.m = tokens;
  op.gemm.batch = heads;
  return op;
}

// W_UK / W_UV are projection weights: their GEMMs are counted only when `projections` is set.
void add_absorbed(const MlaDims& m, const Workload& w, bool projections, CostModel& model) {
  const auto n = [](double x) { return static_cast<std::int64_t>(x); };
  const double latent = m.latent / m.shards;  // this device's slice of each latent head
  const HeadConfig core{n(m.hq), n(m.latent_heads), n(latent + m.rope), n(latent)};
  const double tokens = static_cast<double>(w.batch * w.q_len);
  const double s = bytes_per_element(w.dtype);
  for (Pass pass : {Pass::forward, Pass::backward}) {
    if (pass == Pass::forward ? !has_forward(w.phase) : !has_backward(w.phase)) continue;
    const bool fwd = pass == Pass::forward;
    if (projections) {
      model.ops.push_back(per_head_gemm(fwd ? "q_absorb_fwd" : "q_absorb_bwd", pass, tokens, m.hq,
                                        latent, m.nope, s));
    }
    Op attention = fwd ? dense_attention_forward(core, w) : dense_attention_backward(core, w);
    attention.bytes.v = 0;  // the values are the latent part of the keys, read once as K
    // The RoPE key is shared by the latent heads (GLA) and cached once per token.
    attention.bytes.k = bytes_per_element(w.kv_dtype) * static_cast<double>(w.batch * w.kv_len) *
                        (m.latent_heads * latent + m.rope);
    attention.attention.values_in_keys = true;
    model.ops.push_back(attention);
    if (projections) {
      model.ops.push_back(per_head_gemm(fwd ? "o_absorb_fwd" : "o_absorb_bwd", pass, tokens, m.hq,
                                        m.dv, latent, s));
    }
    if (fwd && m.shards > 1) {
      // TPLA: shard softmaxes run independently; the partial outputs (after each device's slices
      // of W_UV and W_O) are summed by an all-reduce of B m D elements.
      model.ops.push_back(
          all_reduce_op("partial_output_all_reduce", tokens * m.d_model * s, m.shards));
    }
  }
}

// Non-absorbed: decompress every key/value token's latent into per-head K and V (MHA-like core).
// The cached tokens' latents are decompressed by the attention itself, at every call: that GEMM
// is counted always (it is what caching latents costs in this form). The new tokens' K and V are
// the layer's projections of them, counted with the projections (as the absorbed form's
// q_absorb / o_absorb, the same FLOPs per new token).
void add_non_absorbed(const MlaDims& m, const Workload& w, bool projections, CostModel& model) {
  const auto n = [](double x) { return static_cast<std::int64_t>(x); };
  const HeadConfig core{n(m.hq), n(m.hq), n(m.nope + m.rope), n(m.dv)};
  const double cached =
      static_cast<double>(w.batch * std::max<std::int64_t>(0, w.kv_len - w.q_len));
  const double fresh = static_cast<double>(w.batch * std::min(w.q_len, w.kv_len));
  const double s = bytes_per_element(w.dtype), s_kv = bytes_per_element(w.kv_dtype);
  // The per-head K and V are working tensors at the activations' width, whatever the cache's
  // element type: the attention reads them at `s`, and only the cached latents at `s_kv`.
  Workload core_w = w;
  core_w.kv_dtype = w.dtype;
  for (Pass pass : {Pass::forward, Pass::backward}) {
    if (pass == Pass::forward ? !has_forward(w.phase) : !has_backward(w.phase)) continue;
    const bool fwd = pass == Pass::forward;
    if (cached > 0) {
      Op decompress = gemm_op(fwd ? "cache_decompress_fwd" : "cache_decompress_bwd", pass, cached,
                              m.hq * (m.nope + m.dv), m.latent, s);
      decompress.bytes.activations -= (fwd ? 1 : 2) * cached * m.latent * (s - s_kv);
      decompress.per_key = true;
      model.ops.push_back(decompress);
    }
    if (projections) {
      model.ops.push_back(gemm_op(fwd ? "kv_up_proj_fwd" : "kv_up_proj_bwd", pass, fresh,
                                  m.hq * (m.nope + m.dv), m.latent, s));
    }
    model.ops.push_back(fwd ? dense_attention_forward(core, core_w)
                            : dense_attention_backward(core, core_w));
  }
}

double core_flops(const CostModel& model) {
  return model.total_flops().tensor;
}

std::string_view latent_name(LatentKind k) {
  return k == LatentKind::mla ? "mla" : k == LatentKind::gla ? "gla" : "tpla";
}

std::string_view latent_summary(LatentKind k) {
  switch (k) {
    case LatentKind::mla:
      return "multi-head latent attention (DeepSeek-V2/V3): caches a latent + RoPE key per token; "
             "absorbed (decode) or non-absorbed (prefill) computation";
    case LatentKind::gla:
      return "grouped latent attention: the latent split into latent heads, each shared by a "
             "group of query heads (shards cleanly under tensor parallelism)";
    case LatentKind::tpla:
      return "tensor-parallel latent attention: MLA's latent sharded over devices, costed per "
             "device, with an all-reduce of partial outputs (decode; prefill is MLA)";
  }
  return "";
}

std::span<const ParamInfo> latent_params(LatentKind k) {
  if (k == LatentKind::gla) return kGlaParams;
  if (k == LatentKind::tpla) return kTplaParams;
  return kMlaParams;
}

class Mla final : public VariantBase {
 public:
  explicit Mla(LatentKind kind)
      : VariantBase(latent_name(kind), "latent", latent_summary(kind), latent_params(kind)),
        kind_(kind) {}
  void finish(AttentionSpec& spec) const override {
    HeadConfig& h = spec.heads;
    h.head_dim = spec.get(kNope) + spec.get(kRope);
    h.kv_heads = 1;  // one shared latent
    if (kind_ == LatentKind::gla) {
      h.kv_heads = spec.get(kLatentHeads);
      require_divides(name(), "heads", h.heads, "latent_heads", h.kv_heads);
    }
    if (kind_ == LatentKind::tpla && spec.get(kLatent) % spec.get(kShards) != 0) {
      throw common::SpecError(fmt::format("tpla: latent_dim ({}) must be divisible by shards ({})",
                                          spec.get(kLatent), spec.get(kShards)));
    }
    if (spec.projections.hidden_size == 0) spec.projections.hidden_size = 7168;  // DeepSeek-V3
  }

  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const MlaDims m = dims(spec, kind_);
    MlaDims unsharded = m;  // TPLA prefills as plain MLA (§B3)
    unsharded.shards = 1;
    const auto mode = static_cast<MlaMode>(spec.get(kMode));
    if (kind_ == LatentKind::tpla && mode == MlaMode::non_absorbed && w.phase == Phase::decode &&
        spec.get(kShards) > 1) {
      throw common::SpecError(fmt::format(
          "tpla: mode 2 (non-absorbed) decode would decompress whole latents, and a device holds "
          "latent_dim / shards = {} of each; give mode 0 or 1, or use mla",
          spec.get(kLatent) / spec.get(kShards)));
    }
    bool use_absorbed = mode == MlaMode::absorbed;
    // Auto outside decode: both forms are priced (the other is an alternative, which the engines
    // weigh by time); this one, with fewer FLOPs counting the W_UK / W_UV work, is the listed form.
    bool other_form = false;
    if (mode == MlaMode::automatic) {
      CostModel absorbed, plain;
      add_absorbed(m, w, true, absorbed);
      add_non_absorbed(unsharded, w, true, plain);
      // TPLA shards the latent for decode only: its prefill is plain unsharded MLA (§B3), never
      // the sharded absorbed form with its all-reduce, however few the FLOPs.
      use_absorbed = w.phase == Phase::decode ||
                     (kind_ != LatentKind::tpla && core_flops(absorbed) < core_flops(plain));
      other_form = w.phase != Phase::decode && kind_ != LatentKind::tpla;
    }
    const bool projections = spec.projections.include;
    auto build = [&](bool absorbed_form) {
      CostModel model;
      model.layers = w.layers;
      model.form = absorbed_form ? "absorbed" : "non-absorbed";
      if (absorbed_form) {
        add_absorbed(m, w, projections, model);
      } else {
        add_non_absorbed(unsharded, w, projections, model);
      }
      // Per device for TPLA: its latent slice plus the replicated RoPE key.
      model.kv_cache_bytes_per_token_per_layer =
          (m.latent_heads * m.latent / m.shards + m.rope) * bytes_per_element(w.kv_dtype);
      model.kv_cache_bytes = model.kv_cache_bytes_per_token_per_layer *
                             static_cast<double>(w.batch * w.kv_len * w.layers);
      // The non-absorbed attention reads per-head K (nope + rope) and V decompressed from it.
      if (!absorbed_form) {
        model.kv_read_bytes_per_token_per_layer = unsharded.hq *
                                                  (unsharded.nope + unsharded.rope + unsharded.dv) *
                                                  bytes_per_element(w.dtype);
      }
      // The projections of the form priced: TPLA's sharded absorbed decode holds slices, its
      // prefill is plain MLA's.
      if (projections) add_mla_projections(absorbed_form ? m : unsharded, spec, w, model);
      return model;
    };
    CostModel model = build(use_absorbed);
    if (other_form) model.alternatives.push_back(build(!use_absorbed));
    return model;
  }

 private:
  // W_DQ and W_UQ (or one W_Q without a query latent), W_DKV + W_KR and W_O (W_UK / W_UV are the
  // absorb or decompress GEMMs above).
  static void add_mla_projections(const MlaDims& m, const AttentionSpec& spec, const Workload& w,
                                  CostModel& model) {
    const double d_model = static_cast<double>(spec.projections.hidden_size);
    const double tokens = static_cast<double>(w.batch * w.q_len);
    const double s = bytes_per_element(w.dtype);
    struct Proj {
      const char* fwd;
      const char* bwd;
      double n, k;
    };
    const double q_width = m.hq * (m.nope + m.rope);
    // Without a query latent (q_latent_dim 0) one W_Q projects the queries from the model width.
    const Proj q_down = {"q_down_fwd", "q_down_bwd", m.q_latent, d_model};
    const Proj q_up = {"q_up_fwd", "q_up_bwd", q_width, m.q_latent};
    const Proj q_direct = {"q_proj_fwd", "q_proj_bwd", q_width, d_model};
    // TPLA's device projects, caches and up-projects only its latent / shards slice.
    const double latent = m.latent / m.shards;
    const Proj kv_down = {"kv_down_fwd", "kv_down_bwd", m.latent_heads * latent + m.rope, d_model};
    const Proj o_proj = {"o_proj_fwd", "o_proj_bwd", d_model, m.hq * m.dv};
    const std::array<Proj, 4> latent_q = {q_down, q_up, kv_down, o_proj};
    const std::array<Proj, 3> direct = {q_direct, kv_down, o_proj};
    const std::span<const Proj> projs =
        m.q_latent > 0 ? std::span<const Proj>(latent_q) : std::span<const Proj>(direct);
    for (const Proj& p : projs) {
      if (has_forward(w.phase))
        model.ops.push_back(gemm_op(p.fwd, Pass::forward, tokens, p.n, p.k, s));
      if (has_backward(w.phase)) {
        model.ops.push_back(gemm_op(p.bwd, Pass::backward, tokens, p.n, p.k, s));
      }
      model.parameters_per_layer += p.n * p.k;
    }
    // W_UK and W_UV: d_c x Hq (d_nope + dv) (TPLA's device: its slice of d_c).
    model.parameters_per_layer += latent * m.hq * (m.nope + m.dv);
  }

  LatentKind kind_;
};

}  // namespace

void add_latent_variants(std::vector<std::unique_ptr<Variant>>& table) {
  table.push_back(std::make_unique<Mla>(LatentKind::mla));
  table.push_back(std::make_unique<Mla>(LatentKind::gla));
  table.push_back(std::make_unique<Mla>(LatentKind::tpla));
}

}  // namespace models
