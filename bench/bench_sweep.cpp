// Sweep throughput: points formatted as CSV rows per second through sim::run_sweep with the
// sweep command's own row code (cli/sweep_points), output discarded. Issue #10's target: a
// 1,000,000-point roofline sweep to CSV in under 10 s on 2 cores; the tile engine within 4x.
#include <benchmark/benchmark.h>

#include <numeric>

#include "cli/sweep_axes.hpp"
#include "cli/sweep_points.hpp"
#include "hwprofiles/catalog.hpp"
#include "sim/sweep.hpp"

namespace {

cli::SweepAxes axes(sim::EngineKind engine, std::size_t lengths) {
  static const hw::ProfileCatalog catalog = hw::ProfileCatalog::load({});
  static const models::Registry registry;
  cli::SweepAxes a;
  a.profiles = {catalog.resolve("h100"), catalog.resolve("b200")};
  a.specs = {registry.find("gqa").make_spec({}, {}), registry.find("mla").make_spec({}, {})};
  a.engines = {engine};
  a.phases = {models::Phase::prefill, models::Phase::decode};
  a.dtypes = {models::DType::bf16};
  a.batches = {1, 8, 64, 256, 1024};
  a.seq_lens.resize(lengths);
  std::iota(a.seq_lens.begin(), a.seq_lens.end(), 1024);
  return a;
}

void run(benchmark::State& state, sim::EngineKind engine, std::size_t lengths) {
  const cli::SweepAxes a = axes(engine, lengths);
  const std::size_t n = cli::point_count(a);
  for (auto _ : state) {
    std::size_t bytes = 0;
    sim::run_sweep(
        {0, n, 2, 4096},
        [&](std::size_t i, std::string& row) {
          std::string why;
          cli::format_point(a, i, cli::SweepFormat::csv, row, why);
        },
        [&](const std::string& row) { bytes += row.size(); });
    benchmark::DoNotOptimize(bytes);
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * n));
}

// 2 profiles x 2 variants x 2 phases x 5 batches x 25,000 lengths = 1,000,000 points.
void BM_Sweep1MRooflineCsv(benchmark::State& state) {
  run(state, sim::EngineKind::roofline, 25000);
}
// The same axes with 1/4 of the lengths (250,000 points) on the tile engine.
void BM_Sweep250kTileCsv(benchmark::State& state) {
  run(state, sim::EngineKind::tile, 6250);
}

// Parsing the axes themselves: a 2^20-value range (every length 1..1M), and the same values as a
// comma list, which must be checked for repeats (a quadratic check took minutes at 300k values).
void BM_ParseRangeAxis1M(benchmark::State& state) {
  std::vector<std::string> warnings;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        cli::parse_size_axis("--seq-len", "1..1M", std::int64_t{1} << 30, warnings));
  }
  state.SetItemsProcessed(state.iterations() * (std::int64_t{1} << 20));
}
void BM_ParseListAxis1M(benchmark::State& state) {
  std::string list;
  for (int i = 1; i <= (1 << 20); ++i) {
    if (i > 1) list += ',';
    list += std::to_string(i);
  }
  std::vector<std::string> warnings;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        cli::parse_size_axis("--seq-len", list, std::int64_t{1} << 30, warnings));
  }
  state.SetItemsProcessed(state.iterations() * (std::int64_t{1} << 20));
}

}  // namespace

BENCHMARK(BM_ParseRangeAxis1M)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_ParseListAxis1M)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Sweep1MRooflineCsv)->Unit(benchmark::kSecond)->Iterations(1);
BENCHMARK(BM_Sweep250kTileCsv)->Unit(benchmark::kSecond)->Iterations(1);
