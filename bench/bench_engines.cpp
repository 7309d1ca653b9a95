// Engine evaluations per second, in process: cost model + one engine's prediction for one workload
// (targets: roofline >= 2 M/s, tile >= 200 k/s on one core).
// The catalog and the attention spec are built once; each iteration evaluates the next workload of
// a small precomputed ring whose sequence lengths differ slightly, so nothing can be hoisted.
#include <array>
#include <cstddef>
#include <string_view>

#include <benchmark/benchmark.h>

#include "hwprofiles/catalog.hpp"
#include "models/registry.hpp"
#include "models/workload.hpp"
#include "sim/engine.hpp"

namespace {

constexpr std::size_t kRing = 16;  // power of two: the index wraps with a mask

const hw::ProfileCatalog& catalog() {
  static const hw::ProfileCatalog c = hw::ProfileCatalog::load({});
  return c;
}

const models::Registry& registry() {
  static const models::Registry r;
  return r;
}

// What the ring varies: the lengths, or (for a token grid, whose lengths are fixed by its extents)
// the batch.
enum class RingAxis { length, batch };

// A ring of workloads around `base`: decode varies the context length only, the other phases vary
// q_len and kv_len together (prefill/train are square, q_len == kv_len); RingAxis::batch varies
// the batch from base.batch up.
std::array<models::Workload, kRing> workload_ring(const models::Workload& base, RingAxis axis) {
  std::array<models::Workload, kRing> ring{};
  for (std::size_t i = 0; i < kRing; ++i) {
    models::Workload w = base;
    const auto step = static_cast<std::int64_t>(i);
    if (axis == RingAxis::batch) {
      w.batch += step;
    } else {
      w.kv_len += step * 8;
      if (w.phase != models::Phase::decode) w.q_len += step * 8;
    }
    models::validate(w);
    ring[i] = w;
  }
  return ring;
}

void run_engine(benchmark::State& state, sim::EngineKind engine, std::string_view variant,
                const models::ParamValues& params, const models::Workload& base,
                std::string_view hw_name, RingAxis axis = RingAxis::length) {
  const hw::Profile& profile = catalog().resolve(hw_name);
  const models::AttentionSpec spec = registry().find(variant).make_spec(params, {});
  const std::array<models::Workload, kRing> ring = workload_ring(base, axis);
  std::size_t i = 0;
  for (auto _ : state) {
    const models::Workload& w = ring[i++ & (kRing - 1)];
    const models::CostModel cost = spec.variant->cost(spec, w);
    const sim::Prediction p = sim::predict(engine, cost, w, profile);
    benchmark::DoNotOptimize(p.time_s);
  }
  state.SetItemsProcessed(state.iterations());
  state.SetLabel(std::string(profile.id));
}

models::Workload make_workload(models::Phase phase, std::int64_t batch, std::int64_t q_len,
                               std::int64_t kv_len) {
  models::Workload w;
  w.phase = phase;
  w.batch = batch;
  w.q_len = q_len;
  w.kv_len = kv_len;
  w.causal = true;
  w.dtype = models::DType::bf16;
  w.kv_dtype = models::DType::bf16;
  w.layers = 1;
  return w;
}

// GQA (Llama-3-8B shape: 32 query heads, 8 KV heads, d 128), causal prefill of 8k tokens, H100.
void BM_GqaPrefill8kCausal_H100(benchmark::State& state) {
  run_engine(state, sim::EngineKind::roofline, "gqa",
             {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}},
             make_workload(models::Phase::prefill, 1, 8192, 8192), "h100");
}

// GQA decode, batch 64, one new token against a 32k context, B200.
void BM_GqaDecodeB64Ctx32k_B200(benchmark::State& state) {
  run_engine(state, sim::EngineKind::roofline, "gqa",
             {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}},
             make_workload(models::Phase::decode, 64, 1, 32768), "b200");
}

// MHA training step (forward + backward) over 4k tokens, A100.
void BM_MhaTrain4k_A100(benchmark::State& state) {
  run_engine(state, sim::EngineKind::roofline, "mha", {{"heads", 32}, {"head_dim", 128}},
             make_workload(models::Phase::train, 1, 4096, 4096), "a100");
}

// Tile engine: the same three cases (fa3 prefill, split-KV decode, fa2 forward + backward).
void BM_Tile_GqaPrefill8kCausal_H100(benchmark::State& state) {
  run_engine(state, sim::EngineKind::tile, "gqa",
             {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}},
             make_workload(models::Phase::prefill, 1, 8192, 8192), "h100");
}

void BM_Tile_GqaDecodeB64Ctx32k_H100(benchmark::State& state) {
  run_engine(state, sim::EngineKind::tile, "gqa",
             {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}},
             make_workload(models::Phase::decode, 64, 1, 32768), "h100");
}

void BM_Tile_MhaTrain4k_A100(benchmark::State& state) {
  run_engine(state, sim::EngineKind::tile, "mha", {{"heads", 32}, {"head_dim", 128}},
             make_workload(models::Phase::train, 1, 4096, 4096), "a100");
}

// The largest causal prefill the CLI takes: 2^30 - 128 tokens, 256 query heads packed on one KV
// head (2^31 row blocks a head, summarised in closed form; target: well under a second).
void BM_Tile_GqaPrefill1GPacked256_H100(benchmark::State& state) {
  run_engine(state, sim::EngineKind::tile, "gqa",
             {{"heads", 256}, {"kv_heads", 1}, {"head_dim", 128}},
             make_workload(models::Phase::prefill, 1, (1 << 30) - 128, (1 << 30) - 128), "h100");
}

// A causal 1G-token training step: 2^23 KV tiles a head in the backward, whose column CTAs are
// summarised in closed form (sim/column_blocks.cpp; tile by tile it took 40 ms).
void BM_Tile_GqaTrain1G_H100(benchmark::State& state) {
  run_engine(state, sim::EngineKind::tile, "gqa", {{"heads", 32}, {"kv_heads", 8}},
             make_workload(models::Phase::train, 1, (1 << 30) - 128, (1 << 30) - 128), "h100");
}

// A 1G-token prefill with a 256M-key window on the 910B: each row block walks its own rounds, the
// blocks before the window's entry summed as a causal prefix and the rest by periods
// (sim/row_blocks.cpp round_row_block_jobs; block by block it took about a second).
void BM_Tile_SwaPrefill1GWindow256M_910B(benchmark::State& state) {
  run_engine(state, sim::EngineKind::tile, "swa", {{"window", 1 << 28}},
             make_workload(models::Phase::prefill, 1, (1 << 30) - 128, (1 << 30) - 128), "910b");
}

// NATTEN's neighbourhoods are not causal as an op (gna refuses a causal op; causal_x etc. instead).
models::Workload non_causal(models::Workload w) {
  w.causal = false;
  return w;
}

// A strided 2-D neighbourhood forward (FLUX's 256 x 256 map, 80 x 80 windows at stride 1, 24 heads)
// on H100: `auto` picks `natten`, which prices each of NATTEN's listed Hopper tile configurations
// and keeps the fastest (sim/schedule_natten.cpp), so a point costs several schedule evaluations.
void BM_Tile_GnaFlux2D_H100(benchmark::State& state) {
  run_engine(state, sim::EngineKind::tile, "gna",
             {{"heads", 24},
              {"kv_heads", 24},
              {"window_x", 80},
              {"window_y", 80},
              {"stride", 1},
              {"extent_y", 256}},
             non_causal(make_workload(models::Phase::fwd, 1, 65536, 65536)), "h100",
             RingAxis::batch);
}

// A strided 3-D neighbourhood forward (HunyuanVideo's 30 x 48 x 80 volume, 18 x 24 x 24 windows)
// on B200: NATTEN's Blackwell 3-D table, the longest configuration list `natten` walks.
void BM_Tile_GnaHunyuan3D_B200(benchmark::State& state) {
  run_engine(state, sim::EngineKind::tile, "gna",
             {{"heads", 24},
              {"kv_heads", 24},
              {"window_x", 18},
              {"window_y", 24},
              {"window_z", 24},
              {"stride", 1},
              {"extent_y", 48},
              {"extent_z", 80}},
             non_causal(make_workload(models::Phase::fwd, 1, 115200, 115200)), "b200",
             RingAxis::batch);
}

}  // namespace

BENCHMARK(BM_GqaPrefill8kCausal_H100);
BENCHMARK(BM_GqaDecodeB64Ctx32k_B200);
BENCHMARK(BM_MhaTrain4k_A100);
BENCHMARK(BM_Tile_GqaPrefill8kCausal_H100);
BENCHMARK(BM_Tile_GqaDecodeB64Ctx32k_H100);
BENCHMARK(BM_Tile_MhaTrain4k_A100);
BENCHMARK(BM_Tile_GqaPrefill1GPacked256_H100);
BENCHMARK(BM_Tile_GqaTrain1G_H100);
BENCHMARK(BM_Tile_SwaPrefill1GWindow256M_910B);
BENCHMARK(BM_Tile_GnaFlux2D_H100);
BENCHMARK(BM_Tile_GnaHunyuan3D_B200);

BENCHMARK_MAIN();
