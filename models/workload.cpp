#include "models/workload.hpp"

#include <algorithm>
#include <array>
#include <string>

#include <fmt/format.h>

#include "common/errors.hpp"

namespace models {

namespace {
constexpr std::array<DType, 5> kDTypes = {DType::fp32, DType::tf32, DType::fp16, DType::bf16,
                                          DType::fp8};
constexpr std::array<Phase, 5> kPhases = {Phase::prefill, Phase::decode, Phase::fwd, Phase::bwd,
                                          Phase::train};
}  // namespace

double bytes_per_element(DType t) {
  switch (t) {
    case DType::fp32:
    case DType::tf32:
      return 4;  // TF32 is stored as FP32
    case DType::fp16:
    case DType::bf16:
      return 2;
    case DType::fp8:
      return 1;
  }
  return 0;
}

std::string_view to_string(DType t) {
  switch (t) {
    case DType::fp32:
      return "fp32";
    case DType::tf32:
      return "tf32";
    case DType::fp16:
      return "fp16";
    case DType::bf16:
      return "bf16";
    case DType::fp8:
      return "fp8";
  }
  return "?";
}

std::string_view to_string(Phase p) {
  switch (p) {
    case Phase::prefill:
      return "prefill";
    case Phase::decode:
      return "decode";
    case Phase::fwd:
      return "fwd";
    case Phase::bwd:
      return "bwd";
    case Phase::train:
      return "train";
  }
  return "?";
}

DType parse_dtype(std::string_view name) {
  for (DType t : kDTypes) {
    if (to_string(t) == name) return t;
  }
  throw common::SpecError(
      fmt::format("unknown dtype '{}'; allowed: fp32, tf32, fp16, bf16, fp8", name));
}

Phase parse_phase(std::string_view name) {
  for (Phase p : kPhases) {
    if (to_string(p) == name) return p;
  }
  throw common::SpecError(
      fmt::format("unknown phase '{}'; allowed: prefill, decode, fwd, bwd, train", name));
}

bool has_forward(Phase p) {
  return p != Phase::bwd;
}
bool has_backward(Phase p) {
  return p == Phase::bwd || p == Phase::train;
}

void validate(const Workload& w) {
  auto in_range = [](std::int64_t v, std::int64_t max, const char* what) {
    if (v <= 0 || v > max) {
      throw common::SpecError(
          fmt::format("{} must be an integer in [1, {}], got {}", what, max, v));
    }
  };
  in_range(w.batch, kMaxBatch, "batch");
  in_range(w.q_len, kMaxTokens, "query length (--seq-len/--q-len)");
  in_range(w.kv_len, kMaxTokens, "key/value length (--kv-len)");
  in_range(w.layers, kMaxLayers, "layers");
  if (w.causal && w.kv_len < w.q_len) {
    throw common::SpecError(fmt::format(
        "causal attention needs kv_len >= q_len (got q_len {} and kv_len {}); use --no-causal "
        "for cross-attention",
        w.q_len, w.kv_len));
  }
  if (w.phase == Phase::decode && w.q_len > w.kv_len) {
    throw common::SpecError(fmt::format("decode needs q_len <= kv_len (got q_len {} and kv_len {})",
                                        w.q_len, w.kv_len));
  }
}

namespace {
// sum over x = a .. b of min(x, cap), for 1 <= a <= b.
double capped_sum(double a, double b, double cap) {
  if (b < a) return 0;
  if (b <= cap) return (a + b) * (b - a + 1) / 2;
  if (a > cap) return cap * (b - a + 1);
  return (a + cap) * (cap - a + 1) / 2 + cap * (b - cap);
}
}  // namespace

double scored_pairs(const Workload& w, std::int64_t window, std::int64_t sinks) {
  const double q = static_cast<double>(w.q_len);
  const double kv = static_cast<double>(w.kv_len);
  if (!w.causal) return q * kv;
  // Query i sees x = kv - q + 1 + i keys, x running over kv - q + 1 .. kv.
  const double first = kv - q + 1;
  if (window <= 0) return capped_sum(first, kv, kv);
  const double wnd = static_cast<double>(window);
  // Keys before the window: x - window of them, of which up to `sinks` are scored.
  const double lo = std::max(first, wnd + 1);
  const double sink_pairs =
      sinks > 0 && lo <= kv ? capped_sum(lo - wnd, kv - wnd, static_cast<double>(sinks)) : 0;
  return capped_sum(first, kv, wnd) + sink_pairs;
}

double floor_sum(std::int64_t n, std::int64_t g) {
  if (n < 0) return 0;
  // n = q g + m: the blocks 0 .. q - 1 are whole (g positions each); q more for the m + 1 last.
  const double q = static_cast<double>(n / g), m = static_cast<double>(n % g);
  return static_cast<double>(g) * q * (q - 1) / 2 + q * (m + 1);
}

double floor_sum_between(std::int64_t a, std::int64_t b, std::int64_t g) {
  return b < a ? 0 : floor_sum(b, g) - floor_sum(a - 1, g);
}

}  // namespace models
