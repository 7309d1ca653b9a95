// What the math of one attention layer costs, independent of any hardware: FLOPs by unit,
// compulsory HBM bytes by tensor, cache size, and the short list of kernel-level operations a
// schedule lowers.
#pragma once

#include <array>
#include <cstdint>
#include <string_view>
#include <vector>

#include "common/static_vector.hpp"
#include "models/workload.hpp"

namespace models {

// FLOPs by the unit that executes them. A multiply-add is 2 FLOPs; `exp` counts exponentials.
struct FlopCounts {
  double tensor = 0;  // matrix-unit FLOPs (QK^T, PV, backward matmuls, projections)
  double vector = 0;  // element-wise FP32 work (scale, max, subtract, row sums, rescales)
  double exp = 0;     // exponentials (MUFU on NVIDIA)
  double total() const { return tensor + vector + exp; }
  FlopCounts& operator+=(const FlopCounts& o) {
    tensor += o.tensor;
    vector += o.vector;
    exp += o.exp;
    return *this;
  }
};

// Compulsory HBM traffic (each tensor read or written once), by tensor.
struct HbmBytes {
  double q = 0, k = 0, v = 0, o = 0;
  double lse = 0;          // softmax log-sum-exp (written by fwd, read by bwd) and bwd row sums
  double grad_out = 0;     // dO read by the backward
  double grad_in = 0;      // dQ, dK, dV written by the backward
  double weights = 0;      // projection weights
  double activations = 0;  // projection inputs/outputs (hidden states)
  double state = 0;        // a recurrent layer's fp32 state read and written (linear attention)
  double total() const {
    return q + k + v + o + lse + grad_out + grad_in + weights + activations + state;
  }
  HbmBytes& operator+=(const HbmBytes& b) {
    q += b.q, k += b.k, v += b.v, o += b.o, lse += b.lse, grad_out += b.grad_out;
    grad_in += b.grad_in, weights += b.weights, activations += b.activations, state += b.state;
    return *this;
  }
};

// dense_attention: (masked) softmax or sigmoid attention; gemm: a matrix product; elementwise: a
// memory-bound pass (gates, combines); scan: a chunked linear-attention recurrence.
// collective: data exchanged between devices (tensor/sequence parallel), priced on the link.
// selection: scores that choose key blocks per query and the top-k over them (NSA); elementwise
// work unless a schedule runs its own kernels for it (`Op::attention` gives the shape).
enum class OpKind { dense_attention, gemm, elementwise, scan, collective, selection };
enum class ScoreFn { softmax, sigmoid };
enum class Pass { forward, backward };

// Which key blocks a kernel tile visits when each query's keys are chosen by content rather than
// by a causal band or window: the `row_group` query rows that share one choice (e.g. the query
// heads of one token, or the tokens a kernel batches per chosen block) form a tile's rows, and
// each group visits `blocks` blocks of `block_keys` keys (fewer while the query sees fewer keys).
// blocks == 0: the mask (causal, window, sinks) decides which tiles are visited.
struct BlockVisits {
  std::int64_t row_group = 0;   // query rows that visit the same blocks
  std::int64_t blocks = 0;      // blocks each row group visits
  std::int64_t block_keys = 0;  // keys per block
};

// Keys that summarise the tokens: key j stands for the `block` tokens starting at j x `stride`
// (NSA's compressed branch), so a causal query at position t sees the keys whose block ends at or
// before t. The op itself is costed as a non-causal op over the mean number of keys its queries
// see; a schedule that walks the real kernel's tiles uses this. stride == 0: keys are tokens.
struct KeySummaries {
  std::int64_t block = 0;   // tokens per summary (l)
  std::int64_t stride = 0;  // tokens between summaries (d)
};

// Queries and keys laid out on a 1-3 dimensional token grid (a feature map, a video), each query
// seeing a window of keys around it along every dimension (neighbourhood attention, GNA): what a
// kernel that tiles the grid in boxes visits. dims == 0: the tokens are a sequence.
struct TokenGrid {
  int dims = 0;
  std::array<double, 3> extent{1, 1, 1};  // tokens along each dimension (product: the tokens)
  std::array<double, 3> window{1, 1, 1};  // keys each query sees along each dimension
  // Queries of `stride` consecutive positions share one window (GNA's stride; 1: each its own,
  // standard neighbourhood attention); at most the window.
  std::array<double, 3> stride{1, 1, 1};
  // NATTEN's dilation: the positions of a dimension that agree modulo `dilation` form a sub-grid
  // of their own (ceil or floor of extent / dilation tokens), and a window spans that sub-grid's
  // neighbours (every dilation-th token); 1: none.
  std::array<double, 3> dilation{1, 1, 1};
  // Causal along a dimension: a query sees its stride group's last `window` positions up to
  // itself, never a later one (NATTEN's causal mask); false: the window centred, moved inside.
  std::array<bool, 3> causal{false, false, false};
};

// Shape of a dense attention op, for schedules that tile it.
struct AttentionShape {
  std::int64_t batch = 0, heads_q = 0, heads_kv = 0, q_len = 0, kv_len = 0;
  std::int64_t head_dim = 0, v_head_dim = 0;
  bool causal = false;
  double pairs_per_head = 0;  // scored (query, key) pairs per head, exact
  std::int64_t window = 0;    // causal sliding window: keys (t - window, t]; 0 = unlimited
  std::int64_t sinks = 0;     // leading tokens every query also sees (StreamingLLM)
  ScoreFn score = ScoreFn::softmax;
  bool softcap = false;  // tanh logit soft-capping, cap tanh(s / cap) (Gemma 2), before the softmax
  bool values_in_keys = false;  // V is part of the cached K (absorbed MLA): read once
  BlockVisits visits;  // content-chosen key blocks (NSA/FSA selection); default: the mask's band
  KeySummaries summaries;  // keys that summarise blocks of tokens (NSA's compressed branch)
  // Non-causal: the distinct keys the queries draw their kv_len keys each from (a neighbourhood,
  // chosen spans: every query its own), so a key-outer grid spans these; 0 = kv_len.
  double key_range = 0;
  TokenGrid grid;  // non-causal: the token grid the windows slide over (dims 0: none)
};

// A chunked linear-attention scan: per head a dk x dv state carried across chunks of `chunk`
// tokens.
struct ScanShape {
  double batch = 0, heads = 0, tokens = 0, key_dim = 0, value_dim = 0, chunk = 0;
  // Decay values per token and head: 1 = one scalar (a per-head decay, as Lightning and RetNet),
  // key_dim = one per key channel (GLA's data-dependent gates).
  double gate_dim = 1;
  // Lightning Attention-2's form: a per-head decay applied inside each block as a mask
  // lambda^(i-j) and across blocks to the state (the reference kernel is lightning_attn2).
  bool block_decay = false;
  // LightNet's form: a running normaliser (a second state) divides the output; no library's
  // linear-attention kernels run it (schedules route scans by these fields, not by op names).
  bool normaliser = false;
};

struct GemmShape {
  double m = 0, n = 0, k = 0;
  double batch = 1;  // independent products of this shape, each with its own operands
};

// One kernel-level operation of one layer.
struct Op {
  OpKind kind = OpKind::dense_attention;
  Pass pass = Pass::forward;
  const char* name = "";
  FlopCounts flops;
  HbmBytes bytes;
  AttentionShape attention;  // kind == dense_attention or selection
  GemmShape gemm;            // kind == gemm
  ScanShape scan;            // kind == scan
  double link_bytes = 0;     // kind == collective: bytes one device sends (one direction)
  double link_devices = 0;   // kind == collective: the devices it runs over
  double link_steps = 0;     // kind == collective: latency steps (hops) it takes
  // Work over every key the call reads (MLA's decompression of cached latents): a call over the
  // same or a longer prefix of the keys repeats it, so a device that runs both does it once.
  bool per_key = false;
};

struct CostModel {
  std::int64_t layers = 1;
  common::StaticVector<Op, 24> ops;  // per layer; every total below is derived from these
  double kv_cache_bytes_per_token_per_layer = 0;
  // The K and V bytes per token and layer that the attention reads, where they differ from the
  // cache's (MLA's non-absorbed form reads per-head K/V decompressed from the cached latent);
  // 0: the cache's. Context parallelism that passes blocks of K/V between ranks moves these.
  double kv_read_bytes_per_token_per_layer = 0;
  double kv_cache_bytes = 0;        // batch x cached tokens x layers
  double state_bytes = 0;           // recurrent state (linear attention), all layers
  double parameters_per_layer = 0;  // projection parameters, when projections are included
  // Other forms of the same computation that the caller may run instead, each a whole model of
  // its own with the same cache (MLA's absorbed and non-absorbed forms outside decode): the
  // engines price each and report the fastest (sim::predict). Empty for most variants.
  std::vector<CostModel> alternatives;
  // Which form of the computation this is, where the variant has several (MLA's "absorbed" and
  // "non-absorbed"); empty otherwise. A prediction names the form it priced (Prediction::form).
  std::string_view form;

  double kv_block_bytes_per_token_per_layer() const {
    return kv_read_bytes_per_token_per_layer > 0 ? kv_read_bytes_per_token_per_layer
                                                 : kv_cache_bytes_per_token_per_layer;
  }
  FlopCounts total_flops() const {
    FlopCounts f;
    for (const Op& op : ops) f += op.flops;
    f.tensor *= static_cast<double>(layers);
    f.vector *= static_cast<double>(layers);
    f.exp *= static_cast<double>(layers);
    return f;
  }
  HbmBytes total_bytes() const {
    HbmBytes b;
    for (const Op& op : ops) b += op.bytes;
    const double n = static_cast<double>(layers);
    b.q *= n, b.k *= n, b.v *= n, b.o *= n, b.lse *= n, b.grad_out *= n, b.grad_in *= n;
    b.weights *= n, b.activations *= n, b.state *= n;
    return b;
  }
};

}  // namespace models
