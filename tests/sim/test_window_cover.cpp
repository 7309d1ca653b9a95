// A sliding window that covers every key a query can see (window + sinks >= kv_len: the whole
// causal prefix of the last query) is no window: FlashAttention drops it (flash_api.cpp's mha_fwd
// sets window_size_left = -1 when it is >= seqlen_k), and every schedule prices it as plain GQA.
// FA4's masked left-edge blocks had made such an SWA prefill on B200 0.5 % slower than GQA.
#include <catch2/catch.hpp>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "common/errors.hpp"
#include "sim/engine.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"

using models::Phase;
using test_support::catalog;

namespace {

// The prediction for `spec`, or none where the kernel refuses the workload on `p`.
bool predict_or_refuse(const models::AttentionSpec& spec, const models::Workload& w,
                       const hw::Profile& p, const std::string& kernel, sim::Prediction& out) {
  try {
    out = sim::predict(sim::EngineKind::tile, test_support::cost(spec, w), w, p, kernel);
    return true;
  } catch (const common::SpecError&) {
    return false;
  }
}

}  // namespace

TEST_CASE("a window covering every key prices exactly as no window, on every profile and kernel",
          "[tile][window]") {
  const models::ParamValues heads = {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}};
  const models::AttentionSpec gqa = test_support::make("gqa", heads);
  std::vector<std::string> kernels = {"auto"};
  for (const sim::ScheduleInfo& s : sim::schedules()) kernels.emplace_back(s.name);
  struct Shape {
    Phase phase;
    std::int64_t q_len, kv_len;
  };
  for (const Shape& s : std::vector<Shape>{
           {Phase::prefill, 8192, 8192}, {Phase::decode, 1, 8192}, {Phase::train, 2048, 2048}}) {
    const models::Workload w = test_support::workload(s.phase, 1, s.q_len, s.kv_len);
    // The window exactly the keys, past them, and one short of them made up by a sink.
    const std::vector<std::pair<double, double>> windows = {
        {static_cast<double>(s.kv_len), 0}, {100000, 0}, {s.kv_len - 1.0, 1}};
    std::vector<models::AttentionSpec> covering;
    for (const auto& [window, sinks] : windows) {
      models::ParamValues p = heads;
      p.emplace_back("window", window);
      p.emplace_back("n_sink", sinks);
      covering.push_back(test_support::make("swa", p));
    }
    for (const hw::Profile& p : catalog().profiles()) {
      for (const std::string& kernel : kernels) {
        sim::Prediction plain;
        if (!predict_or_refuse(gqa, w, p, kernel, plain)) continue;
        for (std::size_t i = 0; i < covering.size(); ++i) {
          INFO(p.id << " " << kernel << " " << models::to_string(s.phase) << " window "
                    << windows[i].first << " sinks " << windows[i].second);
          sim::Prediction windowed;
          const bool priced = predict_or_refuse(covering[i], w, p, kernel, windowed);
          CHECK(priced);  // a kernel that takes no window takes this one
          if (!priced) continue;
          CHECK(windowed.time_s == plain.time_s);
          CHECK(windowed.hbm_bytes_moved == plain.hbm_bytes_moved);
          CHECK(windowed.flops.total() == plain.flops.total());
          CHECK(windowed.bytes.total() == plain.bytes.total());
        }
      }
    }
  }
}

TEST_CASE(
    "the backward's key tiles that hold sinks are seen by every later row block, as in the "
    "forward: its executed FLOPs cover the useful ones",
    "[tile][window]") {
  // SWA window 1024 with 1024 sinks, 32k tokens: the useful backward work doubles with the sinks
  // (about 31.5 M sink pairs a head beside 33.0 M window pairs); the column-block jobs stopped at
  // the window's edge for sink tiles too, so the backward's time and launch FLOPs did not move.
  for (const char* kernel : {"fa2", "fa3"}) {
    INFO(kernel);
    auto bwd = [&](std::int64_t sinks) {
      const models::AttentionSpec swa =
          test_support::make("swa", {{"window", 1024}, {"n_sink", static_cast<double>(sinks)}});
      const models::Workload w = test_support::workload(Phase::bwd, 1, 32768, 32768, true);
      sim::Prediction p;
      REQUIRE(predict_or_refuse(swa, w, catalog().resolve("h100"), kernel, p));
      double executed = 0;
      for (const sim::LaunchPrediction& l : p.launches) executed += l.flops.tensor;
      CHECK(executed >= p.flops.tensor);
      return p.time_s;
    };
    CHECK(bwd(1024) > 1.5 * bwd(0));
  }
}

TEST_CASE(
    "a windowed backward of few queries after a long prefix visits only the key tiles its window "
    "reaches, and the other tiles' CTAs load nothing",
    "[tile][window]") {
  // SWA, window 1024, 32/8 heads, d 128; 64 queries at positions 8128..8191 of 8192 keys on FA2
  // (H100, 64 x 128 backward tiles): the queries see keys 7105..8191, key tiles 55..63, 9 of 64.
  // Each tile: 2 x 64 x 128 x (3 d + 2 dv) = 10,485,760 FLOPs. The window's end row was clamped
  // to the first query, so every one of the 64 tiles' CTAs visited a row block.
  const models::AttentionSpec swa = test_support::make(
      "swa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}, {"window", 1024}});
  models::Workload w = test_support::workload(Phase::bwd, 1, 64, 8192, true);
  w.dtype = w.kv_dtype = models::DType::bf16;
  const sim::Prediction p = sim::predict(sim::EngineKind::tile, test_support::cost(swa, w), w,
                                         catalog().resolve("h100"), "fa2");
  double tile_flops = 0, main_bytes = 0;
  for (const sim::LaunchPrediction& l : p.launches) {
    if (l.flops.tensor > 0) tile_flops += l.flops.tensor, main_bytes = l.hbm_bytes;
  }
  CHECK(tile_flops == Approx(32.0 * 9 * 10485760));
  // K and V in for the 9 tiles a head (32 x 9 x 128 x 256 x 2 B = 18.9 MB); dK and dV out, zeros
  // included, for all 64 (134 MB): under 160 MB with the rows' bytes.
  CHECK(main_bytes < 160e6);
}
