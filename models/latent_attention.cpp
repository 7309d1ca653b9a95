#include "models/latent_attention.hpp"

#include <array>

#include "models/dense_attention.hpp"
#include "models/errors.hpp"
#include "models/projections.hpp"

namespace models {

namespace {

enum Extra { kNope = 0, kRope = 1, kLatent = 2, kQLatent = 3, kMode = 4, kSplit = 5 };

// mla; gla: the latent split into latent heads, each shared by Hq / latent_heads query heads
// (§B2); tpla: the latent sharded over tensor-parallel devices, costed per device (§B3).
enum class LatentKind { mla, gla, tpla };

// DeepSeek-V3 defaults (variants.md §B1): Hq 128, d_nope 128, d_R 64, dv 128, d_c 512, d_c' 1536.
const std::array<ParamInfo, 7> kMlaParams = {{
    {"heads", "query heads (Hq)", "128", 1, 65536},
    {"nope_dim", "per-head q/k dimension without RoPE (d_nope)", "128", 1, 4096},
    {"rope_dim", "decoupled RoPE key dimension shared by all heads (d_R)", "64", 0, 4096},
    {"v_head_dim", "value head dimension (dv)", "128", 1, 4096},
    {"latent_dim", "cached KV latent dimension (d_c)", "512", 1, 65536},
    {"q_latent_dim", "query latent dimension (d_c')", "1536", 1, 65536},
    {"mode", "0 auto, 1 absorbed (MQA-like over the latent), 2 non-absorbed (MHA-like)", "0", 0, 2},
}};

// GLA-2 (two latent heads of 256) and TPLA over 2 devices (§B2, §B3).
const std::array<ParamInfo, 8> kGlaParams = {{
    kMlaParams[0],
    kMlaParams[1],
    kMlaParams[2],
    kMlaParams[3],
    {"latent_dim", "latent dimension of each latent head (d_c')", "256", 1, 65536},
    kMlaParams[5],
    kMlaParams[6],
    {"latent_heads", "latent heads (h_c), each shared by heads / h_c query heads", "2", 1, 65536},
}};
const std::array<ParamInfo, 8> kTplaParams = {{
    kMlaParams[0],
    kMlaParams[1],
    kMlaParams[2],
    kMlaParams[3],
    kMlaParams[4],
    kMlaParams[5],
    kMlaParams[6],
    {"shards", "tensor-parallel devices the latent is sharded over (g)", "2", 1, 1024},
}};

struct MlaDims {
  double hq, nope, rope, dv, latent, q_latent;
  double latent_heads = 1;  // GLA
  double shards = 1;        // TPLA: this device holds latent / shards of every token
  double d_model = 0;       // model width, for TPLA's all-reduce payload
};

MlaDims dims(const AttentionSpec& spec, LatentKind kind) {
  MlaDims m{static_cast<double>(spec.heads.heads),      spec.extra[kNope],   spec.extra[kRope],
            static_cast<double>(spec.heads.v_head_dim), spec.extra[kLatent], spec.extra[kQLatent]};
  if (kind == LatentKind::gla) m.latent_heads = spec.extra[kSplit];
  if (kind == LatentKind::tpla) m.shards = spec.extra[kSplit];
  m.d_model = static_cast<double>(spec.projections.hidden_size);
  return m;
}

// Absorbed: every head scores the shared (latent + rope)-wide cache and accumulates latent-wide
// outputs (MQA over the latent), with W_UK folded into q and W_UV applied to the output.
// One [tokens x k] by [k x n] product per head, each head with its own weights.
Op per_head_gemm(const char* name, Pass pass, double tokens, double heads, double n, double k,
                 double s) {
  Op op = gemm_op(name, pass, tokens * heads, n, k, s);
  op.bytes.weights *= heads;
  return op;
}

void add_absorbed(const MlaDims& m, const Workload& w, CostModel& model) {
  const auto n = [](double x) { return static_cast<std::int64_t>(x); };
  const double latent = m.latent / m.shards;  // this device's slice of each latent head
  const HeadConfig core{n(m.hq), n(m.latent_heads), n(latent + m.rope), n(latent)};
  const double tokens = static_cast<double>(w.batch * w.q_len);
  const double s = bytes_per_element(w.dtype);
  for (Pass pass : {Pass::forward, Pass::backward}) {
    if (pass == Pass::forward ? !has_forward(w.phase) : !has_backward(w.phase)) continue;
    const bool fwd = pass == Pass::forward;
    model.ops.push_back(per_head_gemm(fwd ? "q_absorb_fwd" : "q_absorb_bwd", pass, tokens, m.hq,
                                      latent, m.nope, s));
    Op attention = fwd ? dense_attention_forward(core, w) : dense_attention_backward(core, w);
    attention.bytes.v = 0;  // the values are the latent part of the keys, read once as K
    attention.attention.values_in_keys = true;
    model.ops.push_back(attention);
    model.ops.push_back(
        per_head_gemm(fwd ? "o_absorb_fwd" : "o_absorb_bwd", pass, tokens, m.hq, m.dv, latent, s));
    if (fwd && m.shards > 1) {
      // TPLA: shard softmaxes run independently; the partial outputs (after each device's slices
      // of W_UV and W_O) are summed by an all-reduce of B m D elements.
      model.ops.push_back(
          all_reduce_op("partial_output_all_reduce", tokens * m.d_model * s, m.shards));
    }
  }
}

// Non-absorbed: decompress every key/value token's latent into per-head K and V (MHA-like core).
void add_non_absorbed(const MlaDims& m, const Workload& w, CostModel& model) {
  const auto n = [](double x) { return static_cast<std::int64_t>(x); };
  const HeadConfig core{n(m.hq), n(m.hq), n(m.nope + m.rope), n(m.dv)};
  const double kv_tokens = static_cast<double>(w.batch * w.kv_len);
  const double s = bytes_per_element(w.dtype);
  for (Pass pass : {Pass::forward, Pass::backward}) {
    if (pass == Pass::forward ? !has_forward(w.phase) : !has_backward(w.phase)) continue;
    const bool fwd = pass == Pass::forward;
    model.ops.push_back(gemm_op(fwd ? "kv_up_proj_fwd" : "kv_up_proj_bwd", pass, kv_tokens,
                                m.hq * (m.nope + m.dv), m.latent, s));
    model.ops.push_back(fwd ? dense_attention_forward(core, w) : dense_attention_backward(core, w));
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
  AttentionSpec make_spec(const ParamValues& given, const ProjectionConfig& proj) const override {
    ParamReader r(*this, given);
    AttentionSpec spec;
    spec.variant = this;
    spec.heads.heads = r.integer("heads", 128);
    spec.heads.kv_heads = 1;  // one shared latent
    spec.extra[kNope] = static_cast<double>(r.integer("nope_dim", 128));
    spec.extra[kRope] = static_cast<double>(r.integer("rope_dim", 64));
    spec.heads.head_dim = static_cast<std::int64_t>(spec.extra[kNope] + spec.extra[kRope]);
    spec.heads.v_head_dim = r.integer("v_head_dim", 128);
    spec.extra[kLatent] =
        static_cast<double>(r.integer("latent_dim", kind_ == LatentKind::gla ? 256 : 512));
    spec.extra[kQLatent] = static_cast<double>(r.integer("q_latent_dim", 1536));
    spec.extra[kMode] = static_cast<double>(r.integer("mode", 0));
    if (kind_ == LatentKind::gla) {
      spec.extra[kSplit] = static_cast<double>(r.integer("latent_heads", 2));
      spec.heads.kv_heads = r.integer("latent_heads", 2);
      if (spec.heads.heads % spec.heads.kv_heads != 0) {
        throw SpecError("gla: heads must be divisible by latent_heads");
      }
    }
    if (kind_ == LatentKind::tpla) {
      spec.extra[kSplit] = static_cast<double>(r.integer("shards", 2));
      if (static_cast<std::int64_t>(spec.extra[kLatent]) % r.integer("shards", 2) != 0) {
        throw SpecError("tpla: latent_dim must be divisible by shards");
      }
    }
    spec.projections = proj;
    if (spec.projections.hidden_size == 0) spec.projections.hidden_size = 7168;  // DeepSeek-V3
    return spec;
  }

  CostModel cost(const AttentionSpec& spec, const Workload& w) const override {
    const MlaDims m = dims(spec, kind_);
    CostModel absorbed, plain;
    absorbed.layers = plain.layers = w.layers;
    add_absorbed(m, w, absorbed);
    MlaDims unsharded = m;  // TPLA prefills as plain MLA (§B3)
    unsharded.shards = 1;
    add_non_absorbed(unsharded, w, plain);
    const auto mode = static_cast<MlaMode>(static_cast<int>(spec.extra[kMode]));
    const bool use_absorbed =
        mode == MlaMode::absorbed ||
        (mode == MlaMode::automatic &&
         (w.phase == Phase::decode || core_flops(absorbed) < core_flops(plain)));
    CostModel model = use_absorbed ? absorbed : plain;
    // Per device for TPLA: its latent slice plus the replicated RoPE key.
    model.kv_cache_bytes_per_token_per_layer =
        (m.latent_heads * m.latent / m.shards + m.rope) * bytes_per_element(w.kv_dtype);
    model.kv_cache_bytes = model.kv_cache_bytes_per_token_per_layer *
                           static_cast<double>(w.batch * w.kv_len * w.layers);
    if (spec.projections.include) add_mla_projections(m, spec, w, model);
    return model;
  }

 private:
  // W_DQ, W_UQ, W_DKV + W_KR and W_O (W_UK / W_UV are in the absorb or decompress GEMMs).
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
    const std::array<Proj, 4> projs = {
        {{"q_down_fwd", "q_down_bwd", m.q_latent, d_model},
         {"q_up_fwd", "q_up_bwd", m.hq * (m.nope + m.rope), m.q_latent},
         {"kv_down_fwd", "kv_down_bwd", m.latent_heads * m.latent + m.rope, d_model},
         {"o_proj_fwd", "o_proj_bwd", d_model, m.hq * m.dv}}};
    for (const Proj& p : projs) {
      if (has_forward(w.phase))
        model.ops.push_back(gemm_op(p.fwd, Pass::forward, tokens, p.n, p.k, s));
      if (has_backward(w.phase)) {
        model.ops.push_back(gemm_op(p.bwd, Pass::backward, tokens, p.n, p.k, s));
      }
      model.parameters_per_layer += p.n * p.k;
    }
    // W_UK and W_UV: d_c x Hq (d_nope + dv).
    model.parameters_per_layer += m.latent * m.hq * (m.nope + m.dv);
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
