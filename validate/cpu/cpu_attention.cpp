#include "validate/cpu/cpu_attention.hpp"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif
#include <cstddef>
#include <initializer_list>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>

namespace validate::cpu {

namespace {

using RowMat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using ConstMap = Eigen::Map<const RowMat>;
constexpr float kNegInf = -std::numeric_limits<float>::infinity();

// Flushes denormal results and inputs to zero while a kernel runs, as GPU fast paths do: masked
// scores become exp(-88) ~ 1e-38 (a denormal), and denormal operands make the P V product many
// times slower on x86 (microcode assists), which would time the FPU's slow path, not the kernel.
class FlushDenormals {
 public:
  FlushDenormals() {
#if defined(__SSE__)
    saved_ = _mm_getcsr();
    _mm_setcsr(saved_ | 0x8040);  // FTZ (bit 15) and DAZ (bit 6)
#endif
  }
  ~FlushDenormals() {
#if defined(__SSE__)
    _mm_setcsr(saved_);
#endif
  }
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  unsigned int saved_ = 0;
};

std::size_t count(std::initializer_list<int> dims) {
  std::size_t n = 1;
  for (int d : dims) n *= static_cast<std::size_t>(d);
  return n;
}

void check_positive(int value, const char* what) {
  if (value < 1) throw std::invalid_argument(std::string(what) + " must be >= 1");
}

// Catches a mismatched problem/tensor pair before the kernels read past the end of a buffer.
void check_shapes(const AttentionProblem& p, const AttentionTensors& t) {
  for (int v : {p.batch, p.heads, p.kv_heads, p.q_len, p.kv_len, p.head_dim, p.v_head_dim})
    check_positive(v, "attention dimension");
  if (p.heads % p.kv_heads != 0)
    throw std::invalid_argument("heads must be a multiple of kv_heads");
  if (t.q.size() != count({p.batch, p.heads, p.q_len, p.head_dim}) ||
      t.k.size() != count({p.batch, p.kv_heads, p.kv_len, p.head_dim}) ||
      t.v.size() != count({p.batch, p.kv_heads, p.kv_len, p.v_head_dim}) ||
      t.o.size() != count({p.batch, p.heads, p.q_len, p.v_head_dim}))
    throw std::invalid_argument("attention tensors do not match the problem's shape");
}

void fill_uniform(std::vector<float>& out, std::size_t n, std::mt19937_64& rng) {
  // Mixed signs make the scores cancel as real activations do; an all-zero tensor would let a
  // kernel that ignores its inputs pass.
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  out.resize(n);
  for (float& x : out) x = dist(rng);
}

// Keys [lo, hi) visible to query row i. Causal queries are aligned to the end of the keys, so row
// i sees up to key i + (kv_len - q_len); a window keeps only the last `window` of those.
struct KeyRange {
  int lo = 0, hi = 0;
};

KeyRange visible_keys(const AttentionProblem& p, int i) {
  if (!p.causal) return {0, p.kv_len};
  const int last = i + (p.kv_len - p.q_len);
  const int hi = std::clamp(last + 1, 0, p.kv_len);
  const int lo = p.window > 0 ? std::clamp(last - p.window + 1, 0, hi) : 0;
  return {lo, hi};
}

// Pointers to one (batch, query head) slice; query head h reads kv head h / (Hq / Hkv) (GQA).
struct HeadView {
  const float *q, *k, *v;
  float* o;
};

HeadView head_view(const AttentionProblem& p, AttentionTensors& t, int b, int h) {
  const int kvh = h / (p.heads / p.kv_heads);
  const std::size_t qh = static_cast<std::size_t>(b) * p.heads + h;
  const std::size_t kh = static_cast<std::size_t>(b) * p.kv_heads + kvh;
  return {t.q.data() + qh * p.q_len * p.head_dim, t.k.data() + kh * p.kv_len * p.head_dim,
          t.v.data() + kh * p.kv_len * p.v_head_dim, t.o.data() + qh * p.q_len * p.v_head_dim};
}

// Scores of query rows [q0, q0 + rows) against keys [k0, k0 + cols), invisible ones at -inf.
RowMat masked_scores(const AttentionProblem& p, const HeadView& hv, int q0, int rows, int k0,
                     int cols) {
  const float scale = 1.0f / std::sqrt(static_cast<float>(p.head_dim));
  const ConstMap q(hv.q + static_cast<std::size_t>(q0) * p.head_dim, rows, p.head_dim);
  const ConstMap k(hv.k + static_cast<std::size_t>(k0) * p.head_dim, cols, p.head_dim);
  RowMat s = (q * k.transpose()) * scale;
  for (int r = 0; r < rows; ++r) {
    const KeyRange vis = visible_keys(p, q0 + r);
    for (int c = 0; c < cols; ++c) {
      const int j = k0 + c;
      if (j < vis.lo || j >= vis.hi || !block_sparse_visible(p.block_stride, q0 + r, j))
        s(r, c) = kNegInf;
    }
  }
  return s;
}

// Softmax state of a block of rows: running max m, running sum l, unnormalised output acc.
struct Partial {
  Eigen::ArrayXf m, l;
  RowMat acc;
  Partial(int rows, int dv)
      : m(Eigen::ArrayXf::Constant(rows, kNegInf)),
        l(Eigen::ArrayXf::Zero(rows)),
        acc(RowMat::Zero(rows, dv)) {}
};

// Folds one block of scores into the running state (online softmax). A row whose scores are all
// -inf so far keeps a reference max of 0 so that exp(-inf - 0) = 0 instead of NaN.
void online_update(Partial& st, RowMat& s, const float* v_block, int dv) {
  for (Eigen::Index r = 0; r < s.rows(); ++r) {
    const float m_new = std::max(st.m(r), s.row(r).maxCoeff());
    const float ref = m_new == kNegInf ? 0.0f : m_new;
    const float alpha = std::exp(st.m(r) - ref);
    s.row(r) = (s.row(r).array() - ref).exp().matrix();
    st.l(r) = st.l(r) * alpha + s.row(r).sum();
    st.acc.row(r) *= alpha;
    st.m(r) = m_new;
  }
  const ConstMap v(v_block, s.cols(), dv);
  st.acc.noalias() += s * v;
}

void write_normalised(const Partial& st, float* o, int dv) {
  Eigen::Map<RowMat> out(o, st.acc.rows(), dv);
  for (Eigen::Index r = 0; r < st.acc.rows(); ++r) {
    if (st.l(r) > 0)
      out.row(r) = st.acc.row(r) / st.l(r);
    else
      out.row(r).setZero();  // a row that sees no key (q_len > kv_len under causal)
  }
}

void flash_head(const AttentionProblem& p, const HeadView& hv, int block_q, int block_k) {
  for (int q0 = 0; q0 < p.q_len; q0 += block_q) {
    const int rows = std::min(block_q, p.q_len - q0);
    // lo and hi are non-decreasing in the row, so the block's keys are [lo(first), hi(last)).
    const int lo = visible_keys(p, q0).lo;
    const int hi = visible_keys(p, q0 + rows - 1).hi;
    Partial st(rows, p.v_head_dim);
    for (int k0 = lo / block_k * block_k; k0 < hi; k0 += block_k) {
      const int cols = std::min(block_k, p.kv_len - k0);
      RowMat s = masked_scores(p, hv, q0, rows, k0, cols);
      online_update(st, s, hv.v + static_cast<std::size_t>(k0) * p.v_head_dim, p.v_head_dim);
    }
    write_normalised(st, hv.o + static_cast<std::size_t>(q0) * p.v_head_dim, p.v_head_dim);
  }
}

// One split of Flash-Decoding: the partial state of all query rows over keys [k0, k1).
Partial split_partial(const AttentionProblem& p, const HeadView& hv, int k0, int k1) {
  Partial st(p.q_len, p.v_head_dim);
  RowMat s = masked_scores(p, hv, 0, p.q_len, k0, k1 - k0);
  online_update(st, s, hv.v + static_cast<std::size_t>(k0) * p.v_head_dim, p.v_head_dim);
  return st;
}

// Log-sum-exp merge of `part` into `total`: both rescaled to the larger max before adding.
void merge_partial(Partial& total, const Partial& part) {
  for (Eigen::Index r = 0; r < total.acc.rows(); ++r) {
    const float m_new = std::max(total.m(r), part.m(r));
    if (m_new == kNegInf) continue;  // neither side has seen a visible key yet
    const float a = std::exp(total.m(r) - m_new), b = std::exp(part.m(r) - m_new);
    total.acc.row(r) = total.acc.row(r) * a + part.acc.row(r) * b;
    total.l(r) = total.l(r) * a + part.l(r) * b;
    total.m(r) = m_new;
  }
}

void split_head(const AttentionProblem& p, const HeadView& hv, int splits) {
  const int lo = visible_keys(p, 0).lo;
  const int hi = std::max(lo, visible_keys(p, p.q_len - 1).hi);
  const long long len = hi - lo;
  Partial total(p.q_len, p.v_head_dim);
  for (int s = 0; s < splits; ++s) {
    const int k0 = lo + static_cast<int>(len * s / splits);
    const int k1 = lo + static_cast<int>(len * (s + 1) / splits);
    if (k1 > k0) merge_partial(total, split_partial(p, hv, k0, k1));
  }
  write_normalised(total, hv.o, p.v_head_dim);
}

void check_linear(const LinearProblem& p, const LinearTensors& t) {
  for (int v : {p.batch, p.heads, p.tokens, p.key_dim, p.value_dim, p.chunk})
    check_positive(v, "linear attention dimension");
  const std::size_t rows = count({p.batch, p.heads, p.tokens});
  if (t.q.size() != rows * p.key_dim || t.k.size() != rows * p.key_dim ||
      t.v.size() != rows * p.value_dim || t.o.size() != rows * p.value_dim)
    throw std::invalid_argument("linear attention tensors do not match the problem's shape");
}

// Chunked causal linear attention for one (batch, head) slice; see chunked_linear_attention.
void linear_head(const LinearProblem& p, const float* q, const float* k, const float* v, float* o) {
  // q is scaled by 1/sqrt(dk), as in the reference, so that q.k stays O(1) like softmax scores.
  const float scale = 1.0f / std::sqrt(static_cast<float>(p.key_dim));
  RowMat state = RowMat::Zero(p.key_dim, p.value_dim);
  for (int c0 = 0; c0 < p.tokens; c0 += p.chunk) {
    const int n = std::min(p.chunk, p.tokens - c0);
    const RowMat qc = ConstMap(q + static_cast<std::size_t>(c0) * p.key_dim, n, p.key_dim) * scale;
    const ConstMap kc(k + static_cast<std::size_t>(c0) * p.key_dim, n, p.key_dim);
    const ConstMap vc(v + static_cast<std::size_t>(c0) * p.value_dim, n, p.value_dim);
    RowMat a = qc * kc.transpose();
    a.triangularView<Eigen::StrictlyUpper>().setZero();  // token t sees chunk tokens j <= t
    Eigen::Map<RowMat> out(o + static_cast<std::size_t>(c0) * p.value_dim, n, p.value_dim);
    out.noalias() = a * vc;
    out.noalias() += qc * state;  // all earlier chunks, through the state
    state.noalias() += kc.transpose() * vc;
  }
}

}  // namespace

AttentionTensors random_attention_inputs(const AttentionProblem& p, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  AttentionTensors t;
  fill_uniform(t.q, count({p.batch, p.heads, p.q_len, p.head_dim}), rng);
  fill_uniform(t.k, count({p.batch, p.kv_heads, p.kv_len, p.head_dim}), rng);
  fill_uniform(t.v, count({p.batch, p.kv_heads, p.kv_len, p.v_head_dim}), rng);
  t.o.assign(count({p.batch, p.heads, p.q_len, p.v_head_dim}),
             std::numeric_limits<float>::quiet_NaN());
  return t;
}

void flash_attention(const AttentionProblem& p, AttentionTensors& t, int block_q, int block_k) {
  const FlushDenormals no_denormals;
  check_shapes(p, t);
  check_positive(block_q, "block_q");
  check_positive(block_k, "block_k");
  for (int b = 0; b < p.batch; ++b)
    for (int h = 0; h < p.heads; ++h) flash_head(p, head_view(p, t, b, h), block_q, block_k);
}

void split_kv_attention(const AttentionProblem& p, AttentionTensors& t, int splits) {
  const FlushDenormals no_denormals;
  check_shapes(p, t);
  check_positive(splits, "splits");
  for (int b = 0; b < p.batch; ++b)
    for (int h = 0; h < p.heads; ++h) split_head(p, head_view(p, t, b, h), splits);
}

std::vector<double> reference_attention(const AttentionProblem& p, const AttentionTensors& t) {
  check_shapes(p, t);
  std::vector<double> out(t.o.size(), 0.0);
  const double scale = 1.0 / std::sqrt(static_cast<double>(p.head_dim));
  const std::size_t d = p.head_dim, dv = p.v_head_dim;
  std::vector<double> w(p.kv_len);
  for (int b = 0; b < p.batch; ++b) {
    for (int h = 0; h < p.heads; ++h) {
      // Indexing spelled out here too, independent of head_view (query heads share kv heads in
      // consecutive groups).
      const std::size_t qh = static_cast<std::size_t>(b) * p.heads + h;
      const std::size_t kh = static_cast<std::size_t>(b) * p.kv_heads + h * p.kv_heads / p.heads;
      const float* q = t.q.data() + qh * p.q_len * d;
      const float *k = t.k.data() + kh * p.kv_len * d, *v = t.v.data() + kh * p.kv_len * dv;
      double* o = out.data() + qh * p.q_len * dv;
      for (int i = 0; i < p.q_len; ++i) {
        // The mask is spelled out from the rule again rather than taken from visible_keys, so
        // that a mistake there shows up as a mismatch instead of being shared by both sides.
        const int last = i + (p.kv_len - p.q_len);
        const auto visible = [&](int j) {
          const bool sparse_ok =
              p.block_stride <= 0 || (j / 64) == 0 || ((i / 64) - (j / 64)) % p.block_stride == 0;
          return sparse_ok && (!p.causal || (j <= last && (p.window <= 0 || j > last - p.window)));
        };
        double mx = -std::numeric_limits<double>::infinity(), sum = 0;
        for (int j = 0; j < p.kv_len; ++j) {
          if (!visible(j)) continue;
          double dot = 0;
          for (std::size_t c = 0; c < d; ++c) dot += double(q[i * d + c]) * double(k[j * d + c]);
          w[j] = dot * scale;
          mx = std::max(mx, w[j]);
        }
        for (int j = 0; j < p.kv_len; ++j) sum += visible(j) ? (w[j] = std::exp(w[j] - mx)) : 0;
        for (int j = 0; j < p.kv_len && sum > 0; ++j)
          if (visible(j))
            for (std::size_t c = 0; c < dv; ++c)
              o[i * dv + c] += w[j] / sum * double(v[j * dv + c]);
      }
    }
  }
  return out;
}

LinearTensors random_linear_inputs(const LinearProblem& p, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  LinearTensors t;
  const std::size_t rows = count({p.batch, p.heads, p.tokens});
  fill_uniform(t.q, rows * p.key_dim, rng);
  fill_uniform(t.k, rows * p.key_dim, rng);
  fill_uniform(t.v, rows * p.value_dim, rng);
  t.o.assign(rows * p.value_dim, std::numeric_limits<float>::quiet_NaN());
  return t;
}

void chunked_linear_attention(const LinearProblem& p, LinearTensors& t) {
  const FlushDenormals no_denormals;
  check_linear(p, t);
  const std::size_t slices = count({p.batch, p.heads});
  const std::size_t qk = static_cast<std::size_t>(p.tokens) * p.key_dim;
  const std::size_t vo = static_cast<std::size_t>(p.tokens) * p.value_dim;
  for (std::size_t s = 0; s < slices; ++s)
    linear_head(p, t.q.data() + s * qk, t.k.data() + s * qk, t.v.data() + s * vo,
                t.o.data() + s * vo);
}

std::vector<double> reference_linear_attention(const LinearProblem& p, const LinearTensors& t) {
  check_linear(p, t);
  const int dk = p.key_dim, dv = p.value_dim, n = p.tokens;
  const double scale = 1.0 / std::sqrt(static_cast<double>(dk));  // same scaling as the kernel
  std::vector<double> out(t.o.size(), 0.0);
  for (std::size_t s = 0; s < count({p.batch, p.heads}); ++s) {
    const float* q = t.q.data() + s * n * dk;
    const float* k = t.k.data() + s * n * dk;
    const float* v = t.v.data() + s * n * dv;
    double* o = out.data() + s * n * dv;
    for (int i = 0; i < n; ++i) {
      for (int j = 0; j <= i; ++j) {
        double dot = 0;
        for (int c = 0; c < dk; ++c) dot += double(q[i * dk + c]) * double(k[j * dk + c]);
        for (int c = 0; c < dv; ++c) o[i * dv + c] += dot * scale * double(v[j * dv + c]);
      }
    }
  }
  return out;
}

double max_relative_error(const std::vector<float>& a, const std::vector<double>& b, double floor) {
  if (a.size() != b.size()) throw std::invalid_argument("max_relative_error: size mismatch");
  double worst = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    // NaN compares false with everything, so it must be turned into +inf explicitly or an
    // unwritten (NaN) output would pass.
    if (std::isnan(a[i]) || std::isnan(b[i])) return std::numeric_limits<double>::infinity();
    const double err = std::fabs(double(a[i]) - b[i]) / std::max(std::fabs(b[i]), floor);
    worst = std::max(worst, err);
  }
  return worst;
}

}  // namespace validate::cpu
