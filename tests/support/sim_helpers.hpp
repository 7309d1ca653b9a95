// Shared by the engine tests: built-in profiles by id and tile-engine predictions.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <string_view>

#include "hwprofiles/catalog.hpp"
#include "sim/engine.hpp"
#include "sim/schedule.hpp"
#include "tests/support/model_helpers.hpp"

namespace test_support {

// The built-in profile `id` (e.g. "h100").
inline const hw::Profile& builtin_profile(std::string_view id) {
  return catalog().resolve(id);
}

// The tile engine's prediction for a query on `p`, with schedule `kernel`.
inline sim::Prediction tile_prediction(const Query& q, const hw::Profile& p,
                                       std::string_view kernel = "auto") {
  return sim::predict(sim::EngineKind::tile, q.cost(), q.w, p, kernel);
}

// The tile engine's time for `c` on the built-in H100 (auto schedule).
inline double h100_tile_time(const models::CostModel& c, const models::Workload& w) {
  return sim::predict(sim::EngineKind::tile, c, w, builtin_profile("h100")).time_s;
}

// A one-head fp16 forward of `rows` queries over `keys` keys (the shape of the Ascend kernel
// benchmarks: pto-isa's torch_jit demo, pto-dsl PR #126).
inline models::Workload one_head_fp16_fwd(std::int64_t rows, std::int64_t keys,
                                          bool causal = false) {
  models::Workload w = workload(models::Phase::fwd, 1, rows, keys, causal);
  w.dtype = w.kv_dtype = models::DType::fp16;
  return w;
}

// The tile engine's time for one head of d 128 over that forward, with schedule `schedule` on `p`.
inline double one_head_fp16_time(std::string_view schedule, std::int64_t rows, std::int64_t keys,
                                 const hw::Profile& p) {
  const models::Workload w = one_head_fp16_fwd(rows, keys);
  return sim::predict_tile(cost(make("mha", {{"heads", 1}, {"head_dim", 128}}), w), w, p,
                           std::string(schedule))
      .time_s;
}

// One full wave on `p`: a 128-thread CTA per SM, each of `tiles` tile iterations with no work
// yet (the caller fills per_tile), priced under `cal` (keep it alive), as schedule `schedule`.
inline sim::Launch full_wave_launch(const hw::Profile& p, const hw::ScheduleCalibration& cal,
                                    const char* schedule, double tiles = 100) {
  sim::Launch l;
  l.name = "full wave";
  l.schedule = schedule;
  l.calibration = &cal;
  l.cta = {0, 128, 0, 0};
  l.jobs.count = p.compute.sm_count;
  l.jobs.min_tiles = l.jobs.max_tiles = tiles;
  l.jobs.total_tiles = l.jobs.count * tiles;
  return l;
}

// A decode step of `q_len` query tokens (1 by default) per request over `kv` cached tokens,
// `heads` / `kv_heads` GQA heads of `d` (128 by default), fp16.
inline Query fp16_decode_step(std::int64_t batch, std::int64_t heads, std::int64_t kv_heads,
                              std::int64_t kv, std::int64_t q_len = 1, std::int64_t d = 128) {
  Query q{make("gqa", {{"heads", heads}, {"kv_heads", kv_heads}, {"head_dim", d}}),
          workload(models::Phase::decode, batch, q_len, kv)};
  q.w.dtype = q.w.kv_dtype = models::DType::fp16;
  return q;
}

// The launches schedule `schedule` lowers the forward dense-attention op of `c` into, on `p`
// with its calibration for that schedule (the launches point at `p`: keep it alive).
inline sim::Launches lower_dense_forward(std::string_view schedule, const models::CostModel& c,
                                         const models::Workload& w, const hw::Profile& p) {
  const sim::ScheduleInfo& info = sim::find_schedule(schedule);
  for (const models::Op& op : c.ops) {
    if (op.kind != models::OpKind::dense_attention || op.pass != models::Pass::forward) continue;
    sim::Launches out;
    info.forward({op, w, p, sim::forward_calibration(p, info), info.name, {}, info.mma_class}, out);
    return out;
  }
  FAIL("no forward attention op");
  return {};
}

// "name:schedule " for every launch of `p`, in order: what a test matches launches against.
inline std::string launch_names(const sim::Prediction& p) {
  std::string names;
  for (const sim::LaunchPrediction& l : p.launches) {
    names += std::string(l.name) + ":" + std::string(l.schedule) + " ";
  }
  return names;
}

// The same timeline event by event, one host launch at a time: each lump's launches carry equal
// shares of its device time, and its waits (at most one per launch) come before pieces of them as
// even as whole launches allow, the longer pieces first; a lump's Triton JIT launches add `jit`
// each, shared equally by its launches. What the closed forms of host_wait_excess_s must reproduce.
inline double reference_wait_excess(const sim::Prediction& p, double per_launch, double jit = 0) {
  bool synced = false;
  double ahead_device = 0, ahead_host = 0, issue = 0, end = 0, device = 0, host = 0;
  auto wait = [&] {
    if (!synced) {
      issue = end = std::max(ahead_device, ahead_host);
      synced = true;
    } else {
      issue = end = std::max(issue, end);
    }
  };
  std::int64_t reps = 0;
  for (const sim::LaunchPrediction& l : p.launches) reps = std::max(reps, l.count);
  for (std::int64_t r = 0; r < reps; ++r) {
    for (const sim::LaunchPrediction& l : p.launches) {
      if (r >= l.count) continue;
      const int launches = l.link_s == 0 ? static_cast<int>(std::lround(l.host_launches)) : 0;
      const double f =
          launches > 0 ? per_launch + l.host_jit_launches * jit / static_cast<double>(launches) : 0;
      device += l.time_s;
      host += launches * f;
      const int waits = static_cast<int>(std::lround(l.host_waits));
      if (launches == 0) {  // a collective: no host launch
        if (waits > 0) wait();
        if (synced) end = std::max(end, issue) + l.time_s;
        if (!synced) ahead_device += l.time_s;
        continue;
      }
      const int pieces = waits > 0 ? std::min(waits, launches) : 1;
      const double share = l.time_s / launches;
      for (int k = 0; k < pieces; ++k) {
        const int in_piece = launches / pieces + (k < launches % pieces ? 1 : 0);
        if (waits > 0) wait();
        for (int i = 0; i < in_piece; ++i) {
          if (!synced) {
            ahead_device += share;
            ahead_host += f;
            continue;
          }
          issue += f;
          end = std::max(end, issue) + share;
        }
      }
    }
  }
  const double total = synced ? std::max(end, issue) : std::max(ahead_device, ahead_host);
  return std::max(0.0, total - std::max(device, host));
}

}  // namespace test_support
