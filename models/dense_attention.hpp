// Dense softmax attention costs (docs/variants.md#02-dense-attention), shared by every variant
// whose pair pattern is dense or a causal window (§C1). One formula, driven by the head
// configuration.
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
// Sigmoid scores (FlashSigmoid, §A11): sigma(x) = 0.5 (1 + tanh(0.5 x)) is one MUFU tanh and two
// FMAs, with no row max, row sum or normalisation; backward dS = dP sigma (1 - sigma): 2 FMAs.
inline constexpr double kSigmoidVectorFlopsPerScore = 4;
// Sigmoid backward: recompute sigma (2 FMAs) and dS = dP sigma (1 - sigma) (2 FMAs).
inline constexpr double kSigmoidBackwardVectorFlopsPerScore = 8;
// Softmax statistics are FP32.
inline constexpr double kStatBytes = 4;
// Logit soft-capping, s' = cap tanh(s / cap) (Gemma 2; FlashAttention's `softcap`): one tanh per
// score on the exp unit, and a multiply before and after it. The backward recomputes the tanh and
// multiplies dS by cap (1 - t^2) / cap: square, subtract, multiply.
inline constexpr double kSoftcapVectorFlopsPerScore = 2;
inline constexpr double kSoftcapBackwardVectorFlopsPerScore = 3;

// Which (query, key) pairs are scored and how.
struct AttentionPattern {
  std::int64_t window = 0;  // causal sliding window; 0 = every earlier key
  std::int64_t sinks = 0;   // leading tokens kept besides the window
  ScoreFn score = ScoreFn::softmax;
  bool softcap = false;  // tanh logit soft-capping before the softmax
  // Scored pairs per head where the mask is none of the above (a causal neighbourhood on a grid):
  // exact, and the FLOPs follow it; 0: counted from the window and the causal flag.
  double pairs_per_head = 0;
};

// The `softcap` parameter of the dense variants (gqa, mha, mqa, swa): the cap value, which costs
// the same whatever it is; 0 is none.
inline constexpr ParamInfo kSoftcapParam = {
    "softcap", "tanh logit soft-capping cap, s' = cap tanh(s / cap) (Gemma 2: 50); 0: none",
    0,         0,
    1e6,       ParamType::real};

Op dense_attention_forward(const HeadConfig& h, const Workload& w, const AttentionPattern& p = {});
Op dense_attention_backward(const HeadConfig& h, const Workload& w, const AttentionPattern& p = {});

// Bytes of K and V kept per cached token per layer: Hkv x (d + dv) x sizeof(kv_dtype).
double dense_kv_bytes_per_token(const HeadConfig& h, DType kv_dtype);
// Sets the KV-cache fields for `tokens` cached tokens of K and V per sequence (0: no cache, and
// then none per token either; the K/V read per token stays the attention's).
void set_kv_cache(const HeadConfig& h, const Workload& w, double tokens, CostModel& model);

// Tokens a cache must keep: all kv_len, or a ring of window + sinks.
double cached_tokens(const Workload& w, const AttentionPattern& p);

// One branch of a sparse or multi-part variant: dense attention of `h` over its own query and key
// counts (and pattern), forward and/or backward by the phase, under the given op names. The
// KV-cache fields are left to the variant.
void add_attention_branch(const HeadConfig& h, const Workload& base, std::int64_t q_len,
                          std::int64_t kv_len, bool causal, const AttentionPattern& p,
                          const char* fwd_name, const char* bwd_name, CostModel& model,
                          std::int64_t batch_multiplier = 1);

// A branch that gives each query its own `op.attention.kv_len` keys out of more (a neighbourhood,
// a chosen budget or spans): between them the queries read `keys_read` distinct keys (each once,
// as the compulsory traffic counts it), and a backward writes dK and dV for each of them.
void read_distinct_keys(Op& op, double keys_read);
// The same for K/V read and dK/dV written `scale` times over (heads a kernel reads beyond the
// shape's, or fewer).
void scale_kv_traffic(Op& op, double scale);

// Appends the attention ops the workload's phase needs, fills the KV-cache fields.
void add_dense_attention(const HeadConfig& h, const Workload& w, CostModel& model,
                         const AttentionPattern& p = {});

}  // namespace models
