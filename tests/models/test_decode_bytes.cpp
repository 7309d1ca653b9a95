// Decode bytes.hbm pinned per variant (issue #8): the whole layer's compulsory bytes of one decode
// step, not only the attention op's K bytes, at batch 1, q_len 1, bf16 (s = 2 bytes), default
// parameters, without projections, at two context lengths T. Each number is worked by hand from the
// variant's formulas (the § each test names is the one its models/ file cites) with the defaults
// of `attnsim variants show`, not read off the code. Counting rules:
//  (a) projections (Q/K/V/O, MLA/TPLA's W_UK/W_UV absorption, latent up-projection, gate and router
//      GEMMs) only with --include-projections; by default only the attention core;
//  (b) NSA's compression MLP runs once every compress_stride tokens (amortised per step), with
//      separate K and V maps;
//  (c) each tensor is read or written once per kernel that touches it (q in, o out per attention
//      kernel; K/V of every key the step reads).
// Dense decode (§0.2): s T Hkv (d + dv) for K/V plus s Hq (d + dv) for q in and o out.
#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using models::Phase;

namespace {

struct Pin {
  const char* variant;
  models::ParamValues params;
  double at_4096;   // bytes.hbm at T = 4096
  double at_65536;  // bytes.hbm at T = 65536
  bool projections = false;
};

double decode_bytes(const Pin& pin, std::int64_t t) {
  const models::AttentionSpec spec =
      test_support::make(pin.variant, pin.params, {pin.projections, 0});
  return test_support::cost(spec, test_support::workload(Phase::decode, 1, 1, t))
      .total_bytes()
      .total();
}

void check(const Pin& pin) {
  INFO("variant " << pin.variant);
  CHECK(decode_bytes(pin, 4096) == Approx(pin.at_4096).epsilon(1e-12));
  CHECK(decode_bytes(pin, 65536) == Approx(pin.at_65536).epsilon(1e-12));
}

// gqa defaults: Hq 32, Hkv 8, d = dv = 128: 4096 T + 16384.
constexpr double kGqa4k = 16793600, kGqa64k = 268451840;

}  // namespace

TEST_CASE("mha/mqa/gqa/sigmoid decode bytes are the K/V of every cached token plus q and o",
          "[models][decode_bytes]") {
  check({"mha", {}, 67125248, 1073758208});  // 2 T 32 256 + 2 32 256
  check({"mqa", {}, 2113536, 33570816});     // 2 T 1 256 + 16384
  check({"gqa", {}, kGqa4k, kGqa64k});
  check({"sigmoid", {}, kGqa4k, kGqa64k});  // §A11: no LSE in decode either
  check({"s2attn", {}, kGqa4k, kGqa64k});   // §C3: full attention at inference
  check({"sinklora", {}, kGqa4k, kGqa64k});
  check({"dha", {}, kGqa4k, kGqa64k});  // §A6: 2 T (8 128 + 8 128) + 16384
}

TEST_CASE("sqa decode bytes use its 16 query heads for q and o", "[models][decode_bytes]") {
  check({"sqa", {}, 16785408, 268443648});  // 4096 T + 2 16 256
}

TEST_CASE("diff decode reads V once per attention call of the reference implementation",
          "[models][decode_bytes]") {
  // §A8: h 16, d 64, V 2d, two FA calls each reading K_i (d) and V (2d): 2 (2 T 16 192 + q 2048
  // + o 4096), then (O1 - lambda O2) reads two outputs and writes one: 3 2 16 128.
  check({"diff", {}, 50356224, 805330944});
}

TEST_CASE("gated decode adds one read of O and of the gates and one write per output",
          "[models][decode_bytes]") {
  check({"gated", {}, 16818176, 268476416});  // gqa + 3 2 32 128 (elementwise gates)
}

TEST_CASE("kdgqa decode adds the key-norm pass over the new token's keys",
          "[models][decode_bytes]") {
  check({"kdgqa", {}, 16795648, 268453888});  // gqa + 2 8 128
}

TEST_CASE("moh decode counts the heads' gating but not the router GEMM (a projection)",
          "[models][decode_bytes]") {
  // §A7, head_sparse 0: every head reads its K/V (MHA bytes) + gating read/write 2 2 32 128.
  // The D x H router is a projection of the hidden state: only with --include-projections.
  check({"moh", {}, 67141632, 1073774592});
}

TEST_CASE("gda decode reads keys of signal and noise maps, values of signal heads",
          "[models][decode_bytes]") {
  // §A9: K 2 T 32 128, V 2 T 24 128, q 2 32 128, o 2 24 128.
  check({"gda", {}, 58734592, 939538432});
}

TEST_CASE("mla decode counts the latent cache and the absorbed q/o, not W_UK/W_UV",
          "[models][decode_bytes]") {
  // §B1 absorbed: 2 T (512 + 64) + q 2 128 576 + o 2 128 512. W_UK/W_UV are projections (a).
  check({"mla", {}, 4997120, 75776000});
}

TEST_CASE("gla decode reads the shared RoPE key once per token", "[models][decode_bytes]") {
  // §B2 GLA-2: cache (h_c d_c' + d_R) s = (2 256 + 64) 2 per token; q 2 128 (256 + 64),
  // o 2 128 256.
  check({"gla", {}, 4866048, 75644928});
}

TEST_CASE("tpla decode counts its latent slice, absorbed q/o and the all-reduce, not W_UK/W_UV",
          "[models][decode_bytes]") {
  // §B3/G5, g 2: 2 T (256 + 64) + q 2 128 320 + o 2 128 256 + all-reduce partial read and sum
  // written 2 2 7168 (B m D s, D 7168).
  check({"tpla", {}, 2797568, 42119168});
}

TEST_CASE("cca and ccgqa decode: latent K/V, q/o and the q and k convolutions",
          "[models][decode_bytes]") {
  // §B4, E 4096, C 2: 16 latent heads of 128. Convs read and write q~ (e~ = 2048) and k~
  // (e~ / G) and read the k - 1 = 3 previous rows of each from the conv state.
  // cca (G 1): 2 T 16 256 + 2 16 256 + 2 2 (2048 + 2048) + 2 3 (2048 + 2048).
  check({"cca", {}, 33603584, 536920064});
  // ccgqa, G 2: 2 T 8 256 + 2 16 256 + 2 2 (2048 + 1024) + 2 3 (2048 + 1024), the key conv at
  // e~ / G (#8 item 8).
  check({"ccgqa", {}, 16816128, 268474368});
}

TEST_CASE("core-context decode: one softmax over core and window tokens, pooling amortised",
          "[models][decode_bytes]") {
  // §B5, g 16, s 1024: keys 1024 + (T - 1024) / 16, K/V 2 8 256 per key; q and o once (one
  // softmax over [core; local]); every g steps a group of g tokens' K/V is read and one core
  // token written: (16 + 1) 2 8 256 / 16 per step.
  check({"core-context", {}, 5001472, 20730112});
}

TEST_CASE("swa decode reads only the window", "[models][decode_bytes]") {
  check({"swa", {}, kGqa4k, kGqa4k});  // §C1: min(T, 4096) keys
}

TEST_CASE("moa decode reads sinks plus the elastic span", "[models][decode_bytes]") {
  // §C5: span 1024 + T / 4, plus 64 sinks: 2112 and 17472 keys.
  check({"moa", {}, 8667136, 71581696});
}

TEST_CASE("dma decode reads the kept keys, the new value's importance and one mask/bias row",
          "[models][decode_bytes]") {
  // §D3: 1024 keys (4096 1024 + 16384), v of the new token 2 8 128, bias and mask rows
  // (B, Hkv, 1, T) at 2 bytes each: 2 2 8 T.
  check({"dma", {}, 4343808, 6309888});
}

TEST_CASE("routing decode reads the keys of the token's cluster", "[models][decode_bytes]") {
  // §D5, k = sqrt(T): T / k = 64 and 256 keys, plus the k centroids of the 32 heads read once:
  // 32 64 128 2 = 524,288 and 32 256 128 2 = 2,097,152.
  check({"routing", {}, 802816, 3162112});
}

TEST_CASE("superlinear decode reads the top-k spans", "[models][decode_bytes]") {
  // §D6: 4 spans of sqrt(T): 256 and 1024 keys, plus the sqrt(T) = 64 and 256 candidate
  // representatives per KV head: 8 64 128 2 = 131,072 and 8 256 128 2 = 524,288.
  check({"superlinear", {}, 1196032, 4734976});
}

TEST_CASE("dhsa decode reads its budget of keys and the chunk representation",
          "[models][decode_bytes]") {
  // §D7: 2048 keys + q/o, chunk representation read and written 2 2 32 128, plus every chunk
  // representation of the context read per head: T / 64 = 64 and 1024 chunks, 32 128 2 B each:
  // 524,288 and 8,388,608.
  check({"dhsa", {}, 8945664, 16809984});
}

TEST_CASE("h2o decode reads the budget and the fp32 score accumulators", "[models][decode_bytes]") {
  // §D8: 1024 keys + q/o, accumulators read + written + probabilities written 3 4 32 1024.
  check({"h2o", {}, 4603904, 4603904});
}

TEST_CASE("nsa decode follows the paper's token count and amortises the compression",
          "[models][decode_bytes]") {
  // §D1: keys floor((T - 32) / 16) + 1 + 16 64 + 512 (1791 and 5631; Table 4 rounds the summaries
  // to T/16, one more) at 2 4 320 bytes; three branch
  // kernels each read q (2 64 192) and write o (2 64 128); the gated combine reads three outputs
  // and writes one (4 2 64 128); block scores read 4 64 T/16, top-k 4 4 T/64. Compression, once
  // every 16 steps: separate K and V maps l d_k -> d_k and l d_v -> d_v (2 32 (192^2 + 128^2))
  // reading one block of K/V (2 32 4 320) and writing one summary (2 4 320), over 16. No gate
  // GEMM (a projection).
  check({"nsa", {}, 5058208, 15887008});
  // §D2 FSA: + fp32 partials written and read, 2 4 64 16 (128 + 2), + int32 indices 4 4 16.
  check({"fsa", {}, 6123424, 16952224});
}

TEST_CASE("linear-attention decode reads and writes the fp32 state, independent of T",
          "[models][decode_bytes]") {
  // §E1: 2 32 128 128 4 + q, k, v, o 2 32 (128 4).
  check({"linear", {}, 4227072, 4227072});
  check({"lightning", {}, 4227072, 4227072});
  // §E3: the state includes the normaliser z (dk per head): 2 32 (128 128 + 128) 4, plus q,
  // k and gate logits (2 dk), v and o: 2 32 (128 + 256 + 128 + 128).
  check({"lightnet", {}, 4268032, 4268032});
}

TEST_CASE("gam decode reads the memory bank per matmul and no gate projection",
          "[models][decode_bytes]") {
  // §E4, D 512, m 512: scores x M^T and retrieval P M each read M (2 512 512) and their input
  // and output (2 (512 + 512)); the conv/gate mix 4 2 512, and its convolution state: the last
  // k - 1 = 2 inputs read and the new one written, 2 512 (2 + 1). The D -> 2D gate is a
  // projection.
  check({"gam", {}, 1059840, 1059840});
  // A 64-long convolution reads 63 inputs: 2 512 (63 + 1) = 65,536 state bytes a step.
  check({"gam", {{"conv_kernel", 64}}, 1056768 + 65536, 1056768 + 65536});
}

TEST_CASE("gqsa and masa decode count their projection weights as stored",
          "[models][decode_bytes]") {
  // §H1/H2 exist only with projections: D 4096, QKV 4096 x 6144, O 4096 x 4096, activations
  // 2 (4096 + 6144) + 2 (4096 + 4096). gqsa: 0.5 (4/8 + 2/16 + 4/128) bytes per weight.
  check({"gqsa", {}, 30593024, 282251264, true});
  check({"masa", {}, 100716544, 352374784, true});  // bf16 weights
}

TEST_CASE("every variant with a decode phase has its decode bytes pinned",
          "[models][decode_bytes]") {
  const std::set<std::string> pinned = {
      "mha",    "mqa",       "gqa",         "sigmoid", "s2attn",       "sinklora", "dha",
      "sqa",    "diff",      "gated",       "kdgqa",   "moh",          "gda",      "mla",
      "gla",    "tpla",      "cca",         "ccgqa",   "core-context", "swa",      "moa",
      "dma",    "routing",   "superlinear", "dhsa",    "h2o",          "nsa",      "fsa",
      "linear", "lightning", "lightnet",    "gam",     "gqsa",         "masa"};
  for (const auto& v : test_support::registry().variants()) {
    INFO("variant " << v->name());
    CHECK(v->supports(Phase::decode) == (pinned.count(std::string(v->name())) == 1));
  }
}
