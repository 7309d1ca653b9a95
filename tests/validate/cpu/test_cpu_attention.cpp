#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "validate/cpu/cpu_attention.hpp"
#include "validate/cpu/cpu_ceilings.hpp"

namespace cpu = validate::cpu;

namespace {

// float32 kernels against a float64 reference: accumulation-order differences stay far below it.
constexpr double kTolerance = 1e-4;

bool all_finite(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

// Runs flash attention with the given tiles and returns its error against the reference; also
// requires that every output element was written (the buffer starts as NaN).
double flash_error(const cpu::AttentionProblem& p, int block_q, int block_k) {
  cpu::AttentionTensors t = cpu::random_attention_inputs(p, 7);
  cpu::flash_attention(p, t, block_q, block_k);
  REQUIRE(all_finite(t.o));
  return cpu::max_relative_error(t.o, cpu::reference_attention(p, t));
}

cpu::AttentionProblem decode_gqa() {
  cpu::AttentionProblem p;
  p.batch = 2;
  p.heads = 4;
  p.kv_heads = 2;
  p.q_len = 1;
  p.kv_len = 300;
  p.head_dim = p.v_head_dim = 32;
  return p;
}

// Uniform scores (q = 0) and v[j] = j: each output is the mean index of the keys its query sees.
cpu::AttentionTensors index_probe(const cpu::AttentionProblem& p) {
  cpu::AttentionTensors t = cpu::random_attention_inputs(p, 1);
  std::fill(t.q.begin(), t.q.end(), 0.0f);
  for (std::size_t e = 0; e < t.v.size(); ++e) t.v[e] = static_cast<float>(e / p.v_head_dim);
  return t;
}

// Runs every kernel and the reference on the probe; all must give `expected(i)` for row i.
template <class Expected>
void check_visible_means(const cpu::AttentionProblem& p, Expected expected) {
  cpu::AttentionTensors flash = index_probe(p), split = index_probe(p);
  cpu::flash_attention(p, flash, 2, 2);
  cpu::split_kv_attention(p, split, 2);
  const std::vector<double> ref = cpu::reference_attention(p, flash);
  for (int i = 0; i < p.q_len; ++i) {
    CAPTURE(i);
    CHECK(ref[i * p.v_head_dim] == Approx(expected(i)));
    CHECK(flash.o[i * p.v_head_dim] == Approx(expected(i)));
    CHECK(split.o[i * p.v_head_dim] == Approx(expected(i)));
  }
}

}  // namespace

TEST_CASE("a causal query sees keys up to its position after the prefix, minus the window",
          "[cpu][validate]") {
  cpu::AttentionProblem p;
  p.q_len = 3;
  p.kv_len = 5;
  p.head_dim = p.v_head_dim = 2;
  // Query i is aligned to key i + 2: it sees keys 0..i+2 ...
  check_visible_means(p, [](int i) { return (i + 2) / 2.0; });
  // ... and with a window of 2 only keys i+1 and i+2.
  p.window = 2;
  check_visible_means(p, [](int i) { return i + 1.5; });
  // Without the causal mask every query sees all five keys.
  p.causal = false;
  check_visible_means(p, [](int) { return 2.0; });
}

TEST_CASE("flash attention matches the reference without a causal mask", "[cpu][validate]") {
  cpu::AttentionProblem p;
  p.batch = p.heads = p.kv_heads = 2;
  p.q_len = p.kv_len = 96;
  p.head_dim = p.v_head_dim = 32;
  p.causal = false;
  CHECK(flash_error(p, 32, 32) < kTolerance);
}

TEST_CASE("causal GQA flash attention matches the reference when blocks do not divide L",
          "[cpu][validate]") {
  cpu::AttentionProblem p;
  p.heads = 4;
  p.kv_heads = 2;
  p.q_len = p.kv_len = 130;
  p.head_dim = p.v_head_dim = 32;
  CHECK(flash_error(p, 32, 32) < kTolerance);
  CHECK(flash_error(p, 48, 20) < kTolerance);  // unequal tiles: diagonal crosses tiles unevenly
}

TEST_CASE("causal queries after a key prefix see the prefix and their own past",
          "[cpu][validate]") {
  cpu::AttentionProblem p;
  p.q_len = 40;
  p.kv_len = 100;
  p.head_dim = p.v_head_dim = 32;
  CHECK(flash_error(p, 16, 32) < kTolerance);
}

TEST_CASE("sliding-window flash attention matches the reference and skips far tiles",
          "[cpu][validate]") {
  cpu::AttentionProblem p;
  p.heads = 2;
  p.kv_heads = 1;
  p.q_len = p.kv_len = 130;
  p.head_dim = p.v_head_dim = 32;
  p.window = 17;
  CHECK(flash_error(p, 32, 16) < kTolerance);
  // The window changes the answer: a kernel ignoring it would not match this reference.
  cpu::AttentionTensors t = cpu::random_attention_inputs(p, 7);
  cpu::AttentionProblem full = p;
  full.window = 0;
  const std::vector<double> windowed = cpu::reference_attention(p, t);
  cpu::flash_attention(full, t, 32, 16);
  CHECK(cpu::max_relative_error(t.o, windowed) > 1e-2);
}

TEST_CASE("decode flash attention (one query) matches the reference", "[cpu][validate]") {
  CHECK(flash_error(decode_gqa(), 64, 64) < kTolerance);
  CHECK(flash_error(decode_gqa(), 1, 37) < kTolerance);
}

TEST_CASE("split-KV decode matches the reference for any number of splits", "[cpu][validate]") {
  const cpu::AttentionProblem p = decode_gqa();
  for (int splits : {1, 3, 7}) {
    CAPTURE(splits);
    cpu::AttentionTensors t = cpu::random_attention_inputs(p, 11);
    cpu::split_kv_attention(p, t, splits);
    REQUIRE(all_finite(t.o));
    CHECK(cpu::max_relative_error(t.o, cpu::reference_attention(p, t)) < kTolerance);
  }
}

TEST_CASE("split-KV attention matches the reference for causal multi-query rows",
          "[cpu][validate]") {
  cpu::AttentionProblem p = decode_gqa();
  p.q_len = 5;
  p.window = 100;
  cpu::AttentionTensors t = cpu::random_attention_inputs(p, 3);
  cpu::split_kv_attention(p, t, 4);
  REQUIRE(all_finite(t.o));
  CHECK(cpu::max_relative_error(t.o, cpu::reference_attention(p, t)) < kTolerance);
}

TEST_CASE("chunked linear attention matches its reference whether or not chunks divide L",
          "[cpu][validate]") {
  for (int chunk : {16, 25, 64, 200}) {
    CAPTURE(chunk);
    cpu::LinearProblem p{2, 2, 100, 16, 24, chunk};
    cpu::LinearTensors t = cpu::random_linear_inputs(p, 5);
    cpu::chunked_linear_attention(p, t);
    REQUIRE(all_finite(t.o));
    // Outputs are sums of up to L signed terms, so some land near 0 while others reach ~7; the
    // floor is 1% of the largest magnitude, so near-zero elements are judged against the
    // tensor's scale (the float rounding of that sum), not against 0.
    const std::vector<double> ref = cpu::reference_linear_attention(p, t);
    double scale = 0;
    for (double x : ref) scale = std::max(scale, std::fabs(x));
    CHECK(cpu::max_relative_error(t.o, ref, 1e-2 * scale) < kTolerance);
  }
}

TEST_CASE("random inputs are never all zeros and differ between seeds", "[cpu][validate]") {
  cpu::AttentionProblem p;
  p.q_len = p.kv_len = 8;
  const cpu::AttentionTensors a = cpu::random_attention_inputs(p, 1);
  const cpu::AttentionTensors b = cpu::random_attention_inputs(p, 2);
  for (const std::vector<float>* v : {&a.q, &a.k, &a.v}) {
    REQUIRE(!v->empty());
    CHECK(std::any_of(v->begin(), v->end(), [](float x) { return x != 0.0f; }));
    CHECK(std::all_of(v->begin(), v->end(), [](float x) { return x >= -1.0f && x <= 1.0f; }));
  }
  CHECK(std::all_of(a.o.begin(), a.o.end(), [](float x) { return std::isnan(x); }));
  CHECK(a.q != b.q);
  CHECK(a.k != b.k);
  CHECK(a.v != b.v);
  CHECK(a.q == cpu::random_attention_inputs(p, 1).q);  // a seed reproduces its inputs

  const cpu::LinearProblem lp{1, 1, 8, 4, 4, 4};
  const cpu::LinearTensors la = cpu::random_linear_inputs(lp, 1);
  CHECK(std::any_of(la.q.begin(), la.q.end(), [](float x) { return x != 0.0f; }));
  CHECK(la.k != cpu::random_linear_inputs(lp, 2).k);
}

TEST_CASE("max_relative_error is +inf when the output holds a NaN", "[cpu][validate]") {
  const std::vector<double> ref{1.0, 2.0, 3.0};
  CHECK(cpu::max_relative_error({1.0f, 2.0f, 3.0f}, ref) == 0.0);
  CHECK(cpu::max_relative_error({1.0f, 2.2f, 3.0f}, ref) == Approx(0.1).epsilon(1e-5));
  const float nan = std::numeric_limits<float>::quiet_NaN();
  CHECK(std::isinf(cpu::max_relative_error({1.0f, nan, 3.0f}, ref)));
  CHECK(cpu::max_relative_error({1.0f, nan, 3.0f}, ref) > 0);
}

TEST_CASE("CPU ceilings are positive, finite and GEMM exceeds 1e8 FLOP/s", "[cpu][validate]") {
  const cpu::CpuCeilings c = cpu::measure_cpu_ceilings(1.0);
  for (double v : {c.stream_Bps, c.gemm_flops, c.exp_per_s, c.fma_flops}) {
    CHECK(std::isfinite(v));
    CHECK(v > 0);
  }
  CHECK(c.gemm_flops > 1e8);
  CHECK(c.call_overhead_s >= 0);
  CHECK(std::isfinite(c.call_overhead_s));
}

TEST_CASE("block-sparse (strided) flash attention matches the reference", "[cpu][validate]") {
  cpu::AttentionProblem p;
  p.heads = 2;
  p.kv_heads = 1;
  p.q_len = p.kv_len = 400;
  p.head_dim = p.v_head_dim = 32;
  p.block_stride = 3;
  CHECK(flash_error(p, 64, 64) < kTolerance);
  CHECK(flash_error(p, 48, 32) < kTolerance);  // tiles that straddle the 64-wide blocks
  p.causal = false;
  CHECK(flash_error(p, 64, 64) < kTolerance);
  // The stride changes the answer: a kernel ignoring it would not match this reference.
  p.causal = true;
  cpu::AttentionTensors t = cpu::random_attention_inputs(p, 7);
  cpu::AttentionProblem dense = p;
  dense.block_stride = 0;
  const std::vector<double> sparse = cpu::reference_attention(p, t);
  cpu::flash_attention(dense, t);
  CHECK(cpu::max_relative_error(t.o, sparse) > 1e-2);
}

TEST_CASE("block-sparse visibility: block 0 and every block_stride-th block", "[cpu][validate]") {
  CHECK(cpu::block_sparse_visible(0, 500, 200));
  CHECK(cpu::block_sparse_visible(3, 400, 10));         // kb = 0
  CHECK_FALSE(cpu::block_sparse_visible(3, 400, 130));  // qb 6, kb 2: 4 % 3 != 0
  CHECK(cpu::block_sparse_visible(3, 400, 200));        // qb 6, kb 3
  CHECK_FALSE(cpu::block_sparse_visible(3, 400, 70));   // qb 6, kb 1
}

TEST_CASE("flash attention with v_head_dim != head_dim (MLA-absorbed) matches the reference",
          "[cpu][validate]") {
  cpu::AttentionProblem p;
  p.heads = 4;
  p.kv_heads = 1;
  p.q_len = 1;
  p.kv_len = 200;
  p.head_dim = 72;
  p.v_head_dim = 64;
  CHECK(flash_error(p, 64, 64) < kTolerance);
  cpu::AttentionTensors t = cpu::random_attention_inputs(p, 3);
  cpu::split_kv_attention(p, t, 3);
  CHECK(cpu::max_relative_error(t.o, cpu::reference_attention(p, t)) < kTolerance);
}
