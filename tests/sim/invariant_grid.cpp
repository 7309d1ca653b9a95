#include "tests/sim/invariant_grid.hpp"

#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <iostream>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/rates.hpp"

namespace grid {

namespace {

constexpr std::size_t kExamplesPerKind = 6;
constexpr double kRelative = 1e-12;  // floating-point noise, not a tolerance on the rules

// SpecErrors that are a user-input error for this point, not a defect: the grid skips them.
constexpr std::array<std::string_view, 2> kAllowedRejections = {
    "tensor peak; dtypes it supports",  // dtype without a tensor peak (fp8 on A100, ...)
    "has no backward model",            // tile engine, device without a backward schedule
};

// How a variant's KV cache grows with context, from its formulas (the § its models/ file cites).
enum class CacheLaw {
  linear,   // every token's K/V (or latent): exactly proportional to kv_len
  affine,   // a slope plus a constant at long context: a window or conv state beside the full
            // cache (nsa, cca), pooled tokens plus a window (core-context), an elastic span (moa)
  bounded,  // constant beyond the window or budget (swa, h2o)
  growing,  // at most linear, quantised (descriptor: whole frames of descriptors)
  none,     // no cache (non-causal variants, recurrent state instead)
};

const std::map<std::string_view, CacheLaw>& cache_laws() {
  static const std::map<std::string_view, CacheLaw> laws = {
      {"mha", CacheLaw::linear},
      {"mqa", CacheLaw::linear},
      {"gqa", CacheLaw::linear},
      {"sqa", CacheLaw::linear},
      {"diff", CacheLaw::linear},
      {"gated", CacheLaw::linear},
      {"sigmoid", CacheLaw::linear},
      {"kdgqa", CacheLaw::linear},
      {"dha", CacheLaw::linear},
      {"moh", CacheLaw::linear},
      {"gda", CacheLaw::linear},
      {"mla", CacheLaw::linear},
      {"gla", CacheLaw::linear},
      {"tpla", CacheLaw::linear},
      {"s2attn", CacheLaw::linear},
      {"sinklora", CacheLaw::linear},
      {"dma", CacheLaw::linear},
      {"routing", CacheLaw::linear},
      {"superlinear", CacheLaw::linear},
      {"dhsa", CacheLaw::linear},
      {"gqsa", CacheLaw::linear},
      {"masa", CacheLaw::linear},
      {"cca", CacheLaw::affine},
      {"ccgqa", CacheLaw::affine},
      {"core-context", CacheLaw::affine},
      {"moa", CacheLaw::affine},
      {"nsa", CacheLaw::affine},
      {"fsa", CacheLaw::affine},
      {"swa", CacheLaw::bounded},
      {"h2o", CacheLaw::bounded},
      {"descriptor", CacheLaw::growing},
      {"gna", CacheLaw::none},
      {"lga", CacheLaw::none},
      {"fit", CacheLaw::none},
      {"llsa", CacheLaw::none},
      {"linear", CacheLaw::none},
      {"lightning", CacheLaw::none},
      {"lightnet", CacheLaw::none},
      {"gam", CacheLaw::none},
  };
  return laws;
}

bool below(double value, double bound) {
  return value < bound * (1 - kRelative);
}

// Every number a user sees must be finite and none may be negative.
void check_values(const models::CostModel& cost, const sim::Prediction& pred, const Point& p,
                  Violations& out) {
  std::vector<std::pair<std::string, double>> values = {
      {"time_s", pred.time_s},
      {"flops.tensor", pred.flops.tensor},
      {"flops.vector", pred.flops.vector},
      {"flops.exp", pred.flops.exp},
      {"bytes.hbm", pred.bytes.total()},
      {"bytes.q", pred.bytes.q},
      {"bytes.k", pred.bytes.k},
      {"bytes.v", pred.bytes.v},
      {"bytes.o", pred.bytes.o},
      {"bytes.lse", pred.bytes.lse},
      {"bytes.weights", pred.bytes.weights},
      {"bytes.activations", pred.bytes.activations},
      {"hbm_bytes_moved", pred.hbm_bytes_moved},
      {"arithmetic_intensity", pred.arithmetic_intensity},
      {"tensor_utilization", pred.tensor_utilization},
      {"kv_cache_bytes", cost.kv_cache_bytes},
      {"kv_cache_bytes_per_token_per_layer", cost.kv_cache_bytes_per_token_per_layer},
      {"state_bytes", cost.state_bytes},
  };
  for (const sim::LaunchPrediction& l : pred.launches) {
    const std::string n = fmt::format("launch {}.", l.name);
    const std::array<std::pair<const char*, double>, 14> fields = {
        {{"time_s", l.time_s},
         {"ctas", l.ctas},
         {"ctas_per_sm", l.ctas_per_sm},
         {"waves", l.waves},
         {"tensor_s", l.tensor_s},
         {"vector_s", l.vector_s},
         {"exp_s", l.exp_s},
         {"hbm_s", l.hbm_s},
         {"link_s", l.link_s},
         {"fixed_s", l.fixed_s},
         {"flops.tensor", l.flops.tensor},
         {"flops.vector", l.flops.vector},
         {"flops.exp", l.flops.exp},
         {"hbm_bytes", l.hbm_bytes}}};
    for (const auto& [field, v] : fields) {
      values.emplace_back(n + field, v);
    }
  }
  for (const auto& [name, v] : values) {
    if (!std::isfinite(v)) out.add("output not finite", p, fmt::format("{} = {}", name, v));
    if (v < 0) out.add("output negative", p, fmt::format("{} = {}", name, v));
  }
  if (!(pred.time_s > 0)) out.add("time not > 0", p, fmt::format("time_s = {}", pred.time_s));
}

// max(tensor FLOPs / dense tensor peak, compulsory bytes / HBM peak): see the grid's header.
double physical_floor_s(const sim::Prediction& pred, const models::Workload& w,
                        const hw::Profile& profile) {
  const auto precision = sim::tensor_precision(profile, w.dtype);
  const double peak =
      precision ? profile.tensor_peak_flops(*precision) : profile.compute.vector_fp32_flops;
  return std::max(pred.flops.tensor / peak, pred.bytes.total() / profile.memory.hbm_bandwidth_Bps);
}

void check_point(const models::CostModel& cost, const sim::Prediction& pred,
                 const models::Workload& w, const hw::Profile& profile, const Point& p,
                 Violations& out) {
  check_values(cost, pred, p, out);
  const double floor_s = physical_floor_s(pred, w, profile);
  if (below(pred.time_s, floor_s)) {
    out.add("time below the physical floor", p,
            fmt::format("time {:.6g} s < floor {:.6g} s ({:.3f}x)", pred.time_s, floor_s,
                        pred.time_s / floor_s));
  }
  if (below(pred.hbm_bytes_moved, pred.bytes.total())) {
    out.add("bytes moved below the compulsory bytes", p,
            fmt::format("hbm_bytes_moved {:.6g} < bytes.hbm {:.6g} ({:.3f}x)", pred.hbm_bytes_moved,
                        pred.bytes.total(), pred.hbm_bytes_moved / pred.bytes.total()));
  }
}

models::Workload workload(models::Phase phase, std::int64_t batch, std::int64_t q_len,
                          std::int64_t kv_len, models::DType dtype) {
  models::Workload w;
  w.phase = phase;
  w.batch = batch;
  w.q_len = q_len;
  w.kv_len = kv_len;
  w.dtype = w.kv_dtype = dtype;
  return w;
}

}  // namespace

std::string describe_shape(const Point& p) {
  return fmt::format("batch={} q_len={} kv_len={} dtype={}", p.batch, p.q_len, p.kv_len,
                     models::to_string(p.dtype));
}

std::string describe(const Point& p) {
  return fmt::format("variant={} phase={} profile={} engine={} {}", p.variant,
                     models::to_string(p.phase), p.profile, sim::to_string(p.engine),
                     describe_shape(p));
}

void Violations::add(const std::string& kind, const Point& p, const std::string& detail) {
  add(kind, describe(p), detail);
}

void Violations::add(const std::string& kind, const std::string& where, const std::string& detail) {
  Kind& k = kinds_[kind];
  ++k.count;
  const std::string line = where + ": " + detail;
  if (verbose_) std::cout << "GRID " << kind << " | " << line << '\n';
  if (k.examples.size() < kExamplesPerKind) k.examples.push_back(line);
}

void Violations::report() const {
  for (const auto& [reason, count] : skips_) {
    WARN(fmt::format("skipped {} points: {}", count, reason));
  }
  for (const auto& [kind, k] : kinds_) {
    std::string examples;
    for (const std::string& e : k.examples) examples += "\n  " + e;
    INFO(fmt::format("{}: {} violations; first ones:{}", kind, k.count, examples));
    CHECK(k.count == 0);
  }
}

std::optional<double> evaluate(const models::AttentionSpec& spec, const Point& p,
                               const hw::Profile& profile, Violations& out, double* sm_seconds) {
  const models::Workload w = workload(p.phase, p.batch, p.q_len, p.kv_len, p.dtype);
  try {
    const models::CostModel cost = spec.variant->cost(spec, w);
    const sim::Prediction pred = sim::predict(p.engine, cost, w, profile, "auto");
    check_point(cost, pred, w, profile, p, out);
    if (sm_seconds) {
      const double sms = profile.compute.sm_count;
      *sm_seconds = 0;
      for (const sim::LaunchPrediction& l : pred.launches) {
        const double busy =
            l.ctas > 0 ? std::min(sms, std::ceil(l.ctas / std::max(1.0, l.ctas_per_sm))) : sms;
        *sm_seconds += static_cast<double>(l.count) * l.time_s * busy;
      }
    }
    return pred.time_s;
  } catch (const common::SpecError& e) {
    const std::string what = e.what();
    for (std::string_view allowed : kAllowedRejections) {
      if (what.find(allowed) != std::string::npos) {
        out.skip(fmt::format("{} ({} {} on {})", allowed, sim::to_string(p.engine),
                             models::to_string(p.phase), p.profile));
        return std::nullopt;
      }
    }
    out.add("common::SpecError for a valid workload", p, what);
  } catch (const std::exception& e) {
    out.add("exception", p, e.what());
  }
  return std::nullopt;
}

void check_cache_laws(const models::AttentionSpec& spec, models::Phase phase, Violations& out) {
  const std::string_view name = spec.variant->name();
  const std::string where = fmt::format("variant={} phase={}", name, models::to_string(phase));
  const auto law = cache_laws().find(name);
  if (law == cache_laws().end()) {
    out.add("variant without a KV-cache law in the grid", where, "add it to cache_laws()");
    return;
  }
  const bool decode = phase == models::Phase::decode;
  auto cost = [&](std::int64_t batch, std::int64_t len) {
    return spec.variant->cost(spec,
                              workload(phase, batch, decode ? 1 : len, len, models::DType::bf16));
  };
  for (std::int64_t b : {1, 3}) {
    const models::CostModel one = cost(b, 4096), two = cost(2 * b, 4096);
    if (two.kv_cache_bytes != 2 * one.kv_cache_bytes || two.state_bytes != 2 * one.state_bytes) {
      out.add(
          "KV cache or state not linear in batch", where,
          fmt::format("batch {} -> {}: cache {} -> {}, state {} -> {}", b, 2 * b,
                      one.kv_cache_bytes, two.kv_cache_bytes, one.state_bytes, two.state_bytes));
    }
  }
  const std::vector<std::int64_t> lengths = {1, 17, 256, 4096, 65536, 262144, 524288, 1 << 20};
  std::vector<double> cache, state;
  for (std::int64_t len : lengths) {
    const models::CostModel c = cost(1, len);
    cache.push_back(c.kv_cache_bytes);
    state.push_back(c.state_bytes);
  }
  for (std::size_t i = 1; i < lengths.size(); ++i) {
    const std::string step = fmt::format("kv_len {} -> {}: cache {} -> {}", lengths[i - 1],
                                         lengths[i], cache[i - 1], cache[i]);
    if (cache[i] < cache[i - 1]) out.add("KV cache shrinks as context grows", where, step);
    const double growth = static_cast<double>(lengths[i]) / static_cast<double>(lengths[i - 1]);
    // A quantised law (whole frames of descriptors) may round up by one cached token.
    const double quantum = law->second == CacheLaw::growing
                               ? cost(1, lengths[i]).kv_cache_bytes_per_token_per_layer
                               : 0;
    if (cache[i] > growth * cache[i - 1] * (1 + kRelative) + quantum) {
      out.add("KV cache grows faster than the context", where, step);
    }
    if (law->second == CacheLaw::linear && cache[i] != growth * cache[i - 1]) {
      out.add("KV cache not proportional to context", where, step);
    }
    if (state[i] != state[0]) {
      out.add("recurrent state grows with context", where,
              fmt::format("kv_len {}: state {} vs {}", lengths[i], state[i], state[0]));
    }
  }
  const std::size_t n = lengths.size();  // the last three lengths double: L, 2L, 4L
  const double top = cache[n - 1], mid = cache[n - 2], low = cache[n - 3];
  const std::string tail = fmt::format("cache at 256k/512k/1M: {} / {} / {}", low, mid, top);
  switch (law->second) {
    case CacheLaw::bounded:
      if (top != mid) out.add("KV cache not bounded (window/budget)", where, tail);
      break;
    case CacheLaw::affine:
      if (std::abs((top - mid) - 2 * (mid - low)) > kRelative * top || top == mid) {
        out.add("KV cache not affine in long context", where, tail);
      }
      break;
    case CacheLaw::none:
      if (top != 0 || cache[0] != 0) out.add("KV cache where the variant keeps none", where, tail);
      break;
    case CacheLaw::linear:
    case CacheLaw::growing:
      if (!(top > 0)) out.add("KV cache empty where the variant keeps one", where, tail);
      break;
  }
}

}  // namespace grid
