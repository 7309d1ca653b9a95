#include <algorithm>

#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "sim/engine.hpp"
#include "sim/parallel.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::catalog;
using test_support::gqa_32_8_d128;
using test_support::make;
using test_support::workload;

namespace {

sim::ParallelLayout layout(int tp, int cp, sim::CpStrategy s = sim::CpStrategy::ring,
                           int nodes = 1) {
  return {tp, cp, s, nodes};
}

sim::ParallelPrediction predict_layout(const models::AttentionSpec& spec, const models::Workload& w,
                                       const sim::ParallelLayout& l, const char* hw = "h100") {
  return sim::predict_parallel(sim::EngineKind::tile, spec, w, catalog().resolve(hw), "auto", l);
}

std::string layout_error(const models::AttentionSpec& spec, const models::Workload& w,
                         const sim::ParallelLayout& l) {
  try {
    predict_layout(spec, w, l);
  } catch (const common::SpecError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_CASE("tp 1 and cp 1 reproduce the single-device prediction exactly", "[sim][parallel]") {
  models::Workload w = workload(models::Phase::prefill, 2, 4096, 4096);
  w.layers = 3;
  const models::AttentionSpec spec = gqa_32_8_d128();
  const models::CostModel cost = spec.variant->cost(spec, w);
  const sim::Prediction single =
      sim::predict(sim::EngineKind::tile, cost, w, catalog().resolve("h100"), "auto");
  const sim::ParallelPrediction p = predict_layout(spec, w, layout(1, 1));
  CHECK(p.per_device.total_s == single.time_s);
  CHECK(p.per_device.compute_s == single.time_s);
  CHECK(p.per_device.flops.tensor == single.flops.tensor);
  CHECK(p.per_device.hbm_bytes == single.bytes.total());
  CHECK(p.per_device.kv_cache_bytes == cost.kv_cache_bytes);
  CHECK(p.per_device.comm_s == 0);
  CHECK(p.cluster.flops.tensor == single.flops.tensor);
}

TEST_CASE("a TP head split divides heads and KV heads, and the KV cache, by tp",
          "[sim][parallel]") {
  const models::Workload w = workload(models::Phase::decode, 8, 1, 32768);
  const sim::ParallelPrediction one = predict_layout(gqa_32_8_d128(), w, layout(1, 1));
  const sim::ParallelPrediction four = predict_layout(gqa_32_8_d128(), w, layout(4, 1));
  CHECK(four.device_heads.heads == 8);
  CHECK(four.device_heads.kv_heads == 2);
  CHECK_FALSE(four.kv_heads_replicated);
  CHECK(four.per_device.kv_cache_bytes == Approx(one.per_device.kv_cache_bytes / 4));
  CHECK(four.per_device.flops.tensor == Approx(one.per_device.flops.tensor / 4));
  CHECK(four.cluster.flops.tensor == Approx(one.per_device.flops.tensor));
  CHECK(four.per_device.comm_s == 0);  // the attention core alone needs no communication
}

TEST_CASE("KV heads are replicated once tp exceeds them: the per-device cache stops shrinking",
          "[sim][parallel]") {
  const models::Workload w = workload(models::Phase::decode, 8, 1, 32768);
  // GB200 NVL72: 72 GPUs in one NVLink domain, so TP 16 stays inside it.
  const sim::ParallelPrediction eight = predict_layout(gqa_32_8_d128(), w, layout(8, 1), "gb200");
  const sim::ParallelPrediction sixteen =
      predict_layout(gqa_32_8_d128(), w, layout(16, 1), "gb200");
  CHECK(eight.device_heads.kv_heads == 1);
  CHECK_FALSE(eight.kv_heads_replicated);
  CHECK(sixteen.device_heads.kv_heads == 1);
  CHECK(sixteen.kv_heads_replicated);
  CHECK(sixteen.per_device.kv_cache_bytes == Approx(eight.per_device.kv_cache_bytes));
  // 8 KV heads x (128 + 128) x 2 B = 4096 B per token on one device; 512 B on one of 8 or 16.
  CHECK(eight.per_device.kv_cache_bytes == Approx(512.0 * 8 * 32768));
}

TEST_CASE("TP with projections all-reduces B x L x D activations per forward on NVLink",
          "[sim][parallel]") {
  // 32 heads x 128 = D 4096; B 1, L 4096, bf16: 32 MiB payload (33554432 B); ring over 4 sends
  // 2 x 3/4 of it = 50331648 B in 6 steps at 450 GB/s + 3.4 us.
  const models::AttentionSpec spec =
      make("gqa", {{"heads", 32}, {"kv_heads", 8}, {"head_dim", 128}}, {true, 0});
  const models::Workload w = workload(models::Phase::prefill, 1, 4096, 4096);
  const sim::ParallelPrediction p = predict_layout(spec, w, layout(4, 1));
  CHECK(p.per_device.scale_up_bytes == Approx(50331648.0));
  CHECK(p.per_device.comm_s == Approx(50331648.0 / 450e9 + 6 * 3.4e-6));
  CHECK(p.per_device.exposed_comm_s == Approx(p.per_device.comm_s));
  CHECK(p.per_device.total_s == Approx(p.per_device.compute_s + p.per_device.comm_s));
}

TEST_CASE(
    "ring attention: tensor FLOPs over the ring equal the single device's; exps too, plus "
    "two per row for each merge of a block's output",
    "[sim][parallel]") {
  for (bool causal : {true, false}) {
    for (auto s : {sim::CpStrategy::ring, sim::CpStrategy::zigzag, sim::CpStrategy::allgather}) {
      INFO("causal " << causal << " strategy " << sim::to_string(s));
      const models::Workload w = workload(models::Phase::prefill, 1, 8192, 8192, causal);
      const sim::ParallelPrediction one = predict_layout(gqa_32_8_d128(), w, layout(1, 1));
      const sim::ParallelPrediction ring = predict_layout(gqa_32_8_d128(), w, layout(2, 4, s));
      CHECK(ring.cluster.flops.tensor == Approx(one.per_device.flops.tensor).epsilon(1e-12));
      // 8 devices (tp 2 x cp 4), 16 heads and 2048 queries each. A plain causal ring merges
      // 0 + 1 + 2 + 3 later blocks over its 4 ranks (1.5 a device), a non-causal ring 3 a device,
      // zig-zag 3 of which rank r's last 3 - r hold half its rows (3/4 x 3 a device on the mean);
      // the all-gather runs each rank's queries once and merges nothing.
      const double merges = s == sim::CpStrategy::allgather        ? 0
                            : causal && s == sim::CpStrategy::ring ? 8 * 1.5
                            : causal                               ? 8 * 3 * 0.75
                                                                   : 8 * 3;
      const double merge_exps = merges * 16 * 2048 * 2;
      CHECK(ring.cluster.flops.exp == Approx(one.per_device.flops.exp + merge_exps).epsilon(1e-12));
    }
  }
}

TEST_CASE("ring attention: per-device KV shrinks by cp; cp - 1 blocks travel per device",
          "[sim][parallel]") {
  // 8192 tokens, cp 4: blocks of 2048 tokens x 8 KV heads x 256 x 2 B = 8 MiB each.
  const models::Workload w = workload(models::Phase::prefill, 1, 8192, 8192);
  const sim::ParallelPrediction one = predict_layout(gqa_32_8_d128(), w, layout(1, 1));
  const sim::ParallelPrediction ring = predict_layout(gqa_32_8_d128(), w, layout(1, 4));
  const double block = 2048.0 * 8 * 256 * 2;
  CHECK(ring.per_device.kv_cache_bytes == Approx(one.per_device.kv_cache_bytes / 4));
  CHECK(ring.per_device.kv_cache_bytes == Approx(block));
  CHECK(ring.per_device.scale_up_bytes == Approx(3 * block));
  CHECK(ring.per_device.scale_out_bytes == 0);
  CHECK(ring.per_device.comm_s == Approx(3 * (3.4e-6 + block / 450e9)));
  // On one H100 NVLink an 8 MiB block (19 us) hides behind a 2048 x 2048 block of 32 heads.
  CHECK(ring.per_device.exposed_comm_s == 0);
}

TEST_CASE("ring exposed communication is max(0, transfer - compute) per step", "[sim][parallel]") {
  // Across nodes (400 Gb/s = 50 GB/s) small blocks are exposed: block time > block compute.
  const models::AttentionSpec spec =
      make("gqa", {{"heads", 8}, {"kv_heads", 8}, {"head_dim", 128}});
  const models::Workload w = workload(models::Phase::prefill, 1, 4096, 4096, false);
  const sim::ParallelPrediction p = predict_layout(spec, w, layout(1, 4, sim::CpStrategy::ring, 4));
  const double block = 1024.0 * 8 * 256 * 2;
  const double hop = 14e-6 + block / 50e9;
  CHECK(p.per_device.scale_out_bytes == Approx(3 * block));
  CHECK(p.per_device.comm_s == Approx(3 * hop));
  // Non-causal: four equal 1024 x 1024 blocks, the three later ones each merged into the running
  // output (fp32 read and written, the bf16 block output read: 10 B a value).
  const models::Workload block_w = workload(models::Phase::prefill, 1, 1024, 1024, false);
  const sim::Prediction one_block =
      sim::predict(sim::EngineKind::tile, spec.variant->cost(spec, block_w), block_w,
                   catalog().resolve("h100"), "auto");
  const double step = one_block.time_s;
  CHECK(p.per_device.hbm_bytes ==
        Approx(4 * one_block.bytes.total() + 3 * (1024.0 * 8 * 128 * 10)).epsilon(1e-12));
  CHECK(p.per_device.compute_s > 4 * step);
  CHECK(p.per_device.exposed_comm_s == Approx(3 * std::max(0.0, hop - step)));
  CHECK(p.per_device.total_s == Approx(p.per_device.compute_s + p.per_device.exposed_comm_s));
}

TEST_CASE("zig-zag balances causal ring attention: the busiest device does less",
          "[sim][parallel]") {
  const models::Workload w = workload(models::Phase::prefill, 1, 16384, 16384);
  const sim::ParallelPrediction ring = predict_layout(gqa_32_8_d128(), w, layout(1, 8));
  const sim::ParallelPrediction zig =
      predict_layout(gqa_32_8_d128(), w, layout(1, 8, sim::CpStrategy::zigzag));
  // Plain ring: the last rank computes ~cp - 1/2 blocks' pairs; zig-zag: cp / 2 blocks.
  CHECK(zig.per_device.flops.tensor < 0.6 * ring.per_device.flops.tensor);
  CHECK(zig.per_device.flops.tensor == Approx(zig.cluster.flops.tensor / 8));
  CHECK(zig.per_device.compute_s < ring.per_device.compute_s);
}

TEST_CASE("Ulysses: all-to-all of Q, K, V and O, (p-1)/p of the local tokens' bytes",
          "[sim][parallel]") {
  // 4096 tokens over cp 4: 1024 local tokens x (32 x 256 x 2 Q+O + 8 x 256 x 2 K+V) B = 20 MiB
  // held; 3/4 of it leaves the device.
  const models::Workload w = workload(models::Phase::prefill, 1, 4096, 4096);
  const sim::ParallelPrediction p =
      predict_layout(gqa_32_8_d128(), w, layout(1, 4, sim::CpStrategy::ulysses));
  const double held = 1024.0 * (32 * 256 * 2 + 8 * 256 * 2);
  CHECK(p.device_heads.heads == 8);
  CHECK(p.device_heads.kv_heads == 2);
  CHECK(p.per_device.scale_up_bytes == Approx(0.75 * held));
  CHECK(p.per_device.comm_s == Approx(3 * 3.4e-6 + 0.75 * held / 450e9));
  CHECK(p.per_device.exposed_comm_s == Approx(p.per_device.comm_s));
}

TEST_CASE("all-gather CP gathers the whole K/V: each device receives (cp-1)/cp of it",
          "[sim][parallel]") {
  const models::Workload w = workload(models::Phase::prefill, 1, 8192, 8192);
  const sim::ParallelPrediction p =
      predict_layout(gqa_32_8_d128(), w, layout(1, 4, sim::CpStrategy::allgather));
  const double whole = 8192.0 * 8 * 256 * 2;
  CHECK(p.per_device.scale_up_bytes == Approx(0.75 * whole));
  CHECK(p.per_device.kv_cache_bytes == Approx(whole / 4));
}

TEST_CASE("training passes K/V blocks forward and K/V plus their gradients backward",
          "[sim][parallel]") {
  const models::Workload fwd = workload(models::Phase::fwd, 1, 8192, 8192);
  models::Workload train = fwd;
  train.phase = models::Phase::train;
  const double f = predict_layout(gqa_32_8_d128(), fwd, layout(1, 4)).per_device.scale_up_bytes;
  CHECK(predict_layout(gqa_32_8_d128(), train, layout(1, 4)).per_device.scale_up_bytes ==
        Approx(3 * f));
}

TEST_CASE("LASP-2 all-gathers cp states; ZeCO sends one, independent of cp", "[sim][parallel]") {
  const models::AttentionSpec lin = make("linear", {{"heads", 16}, {"head_dim", 128}});
  const models::Workload w = workload(models::Phase::prefill, 1, 65536, 65536);
  const double state = lin.variant->cost(lin, w).state_bytes;  // independent of L
  const sim::ParallelPrediction lasp = predict_layout(lin, w, layout(1, 8, sim::CpStrategy::lasp2));
  const sim::ParallelPrediction zeco = predict_layout(lin, w, layout(1, 8, sim::CpStrategy::zeco));
  CHECK(lasp.per_device.scale_up_bytes == Approx(7 * state));
  CHECK(zeco.per_device.scale_up_bytes == Approx(state));
  // Each device keeps its state, and no KV cache.
  CHECK(lasp.per_device.state_bytes == Approx(state));
  CHECK(lasp.per_device.kv_cache_bytes == 0);
  CHECK(zeco.per_device.comm_s < lasp.per_device.comm_s);
}

TEST_CASE(
    "a layout's state strategy prices a state-keeping variant and leaves a KV-cache variant to "
    "the layout's strategy",
    "[sim][parallel]") {
  const models::AttentionSpec lin = make("linear", {{"heads", 16}, {"head_dim", 128}});
  const models::Workload w = workload(models::Phase::prefill, 1, 65536, 65536);
  sim::ParallelLayout both = layout(1, 8, sim::CpStrategy::zigzag);
  both.state_strategy = sim::CpStrategy::zeco;
  const sim::ParallelPrediction zeco = predict_layout(lin, w, layout(1, 8, sim::CpStrategy::zeco));
  CHECK(predict_layout(lin, w, both).per_device.total_s == Approx(zeco.per_device.total_s));
  CHECK(predict_layout(lin, w, both).layout.strategy == sim::CpStrategy::zigzag);  // as asked
  const sim::ParallelPrediction zigzag =
      predict_layout(gqa_32_8_d128(), w, layout(1, 8, sim::CpStrategy::zigzag));
  CHECK(predict_layout(gqa_32_8_d128(), w, both).per_device.total_s ==
        Approx(zigzag.per_device.total_s));
}

TEST_CASE("TPLA on 2 shards caches about 1.8x less per device than MLA under TP 2",
          "[sim][parallel]") {
  // DeepSeek-V3 MLA (the variant defaults): MLA under TP keeps the whole 512 + 64 latent on every
  // device; TPLA keeps 256 + 64 (TPLA paper, arXiv:2508.15881: 1.79x).
  const models::Workload w = workload(models::Phase::decode, 1, 1, 32768);
  const sim::ParallelPrediction mla = predict_layout(make("mla", {}), w, layout(2, 1));
  const models::AttentionSpec tpla = make("tpla", {{"shards", 2}});
  const double tpla_cache = tpla.variant->cost(tpla, w).kv_cache_bytes;
  CHECK(mla.per_device.kv_cache_bytes / tpla_cache == Approx(576.0 / 320.0));
  CHECK(mla.per_device.kv_cache_bytes / tpla_cache == Approx(1.8));
  CHECK_THROWS_WITH(predict_layout(tpla, w, layout(2, 1)), Catch::Contains("--param shards=2"));
}

TEST_CASE("impossible layouts are refused with the numbers involved", "[sim][parallel]") {
  const models::Workload w = workload(models::Phase::prefill, 1, 4096, 4096);
  CHECK_THAT(layout_error(gqa_32_8_d128(), w, layout(3, 1)),
             Catch::Contains("32 query heads do not split evenly over 3 devices"));
  CHECK_THAT(layout_error(make("gqa", {{"heads", 12}, {"kv_heads", 4}}), w, layout(6, 1)),
             Catch::Contains("4 KV heads neither split over 6 devices"));
  CHECK_THAT(
      layout_error(gqa_32_8_d128(), workload(models::Phase::prefill, 1, 4000, 4000), layout(1, 3)),
      Catch::Contains("4000 tokens does not split into 3 equal chunks"));
  CHECK_THAT(layout_error(gqa_32_8_d128(), w, layout(1, 3, sim::CpStrategy::zigzag)),
             Catch::Contains("6 equal chunks"));
  CHECK_THAT(
      layout_error(gqa_32_8_d128(), workload(models::Phase::prefill, 1, 1024, 4096), layout(1, 2)),
      Catch::Contains("q_len 1024 and kv_len 4096"));
  CHECK_THAT(layout_error(gqa_32_8_d128(), w, layout(4, 4)),
             Catch::Contains("16 devices per node"));
  CHECK_THAT(layout_error(gqa_32_8_d128(), w, layout(2, 4, sim::CpStrategy::ring, 3)),
             Catch::Contains("cp must be a multiple of nodes"));
  CHECK_THAT(layout_error(gqa_32_8_d128(), w, layout(1, 2, sim::CpStrategy::lasp2)),
             Catch::Contains("has a KV cache"));
  CHECK_THAT(layout_error(make("linear", {}), w, layout(1, 2)),
             Catch::Contains("use lasp2 or zeco"));
  CHECK_THROWS_WITH(sim::parse_cp_strategy("spiral"),
                    Catch::Contains("known: ring, zigzag, ulysses, allgather, lasp2, zeco, cad"));
}

TEST_CASE("a profile without links refuses a multi-device layout and serves one device",
          "[sim][parallel]") {
  hw::Profile p = catalog().resolve("h100");
  p.links.reset();
  const models::Workload w = workload(models::Phase::prefill, 1, 4096, 4096);
  CHECK_THROWS_WITH(
      sim::predict_parallel(sim::EngineKind::tile, gqa_32_8_d128(), w, p, "auto", layout(2, 1)),
      Catch::Contains("no 'links' object"));
  CHECK_NOTHROW(
      sim::predict_parallel(sim::EngineKind::tile, gqa_32_8_d128(), w, p, "auto", layout(1, 1)));
}

namespace {

// Decode of a short context over 4 layers: the device time is far below any caller's floor.
models::Workload short_decode() {
  models::Workload w = workload(models::Phase::decode, 1, 1, 1024);
  w.layers = 4;
  return w;
}

}  // namespace

TEST_CASE("the caller's host floor applies on every device once per layer and pass",
          "[sim][parallel][caller]") {
  const models::Workload w = short_decode();
  const models::AttentionSpec spec = gqa_32_8_d128();
  const hw::Profile& h100 = catalog().resolve("h100");
  const double floor = h100.caller_floor_s(hw::Caller::pytorch);
  REQUIRE(floor > 0);
  const models::CostModel cost = spec.variant->cost(spec, w);
  const sim::Prediction single =
      sim::predict(sim::EngineKind::tile, cost, w, h100, "auto", hw::Caller::pytorch);
  const auto with_caller = [&](const sim::ParallelLayout& l) {
    return sim::predict_parallel(sim::EngineKind::tile, spec, w, h100, "auto", l,
                                 hw::Caller::pytorch);
  };
  CHECK(with_caller(layout(1, 1)).per_device.total_s == single.time_s);
  for (const sim::ParallelLayout& l : {layout(4, 1), layout(1, 4), layout(2, 2)}) {
    const sim::ParallelPrediction p = with_caller(l);
    CHECK(p.per_device.caller_floor_s == Approx(4 * floor));
    CHECK(p.per_device.total_s ==
          std::max(p.per_device.compute_s + p.per_device.exposed_comm_s, 4 * floor));
    CHECK(p.per_device.total_s >= 4 * floor);
    CHECK(p.cluster.total_s == p.per_device.total_s);
    CHECK(predict_layout(spec, w, l).per_device.caller_floor_s == 0);  // direct: no floor
  }
}

TEST_CASE(
    "a per-launch caller's floor on one device of a layout counts its launches, as the "
    "single-device prediction does",
    "[sim][parallel][caller]") {
  const models::Workload w = short_decode();
  const models::AttentionSpec spec = gqa_32_8_d128();
  const hw::Profile& h100 = catalog().resolve("h100");
  const double floor = h100.caller_floor_s(hw::Caller::triton);
  REQUIRE(floor > 0);
  const models::CostModel cost = spec.variant->cost(spec, w);
  const sim::Prediction single =
      sim::predict(sim::EngineKind::tile, cost, w, h100, "auto", hw::Caller::triton);
  const double launches = sim::host_units(single, cost, hw::Caller::triton);
  REQUIRE(launches > sim::host_calls(cost));  // split-KV decode: main and combine per layer
  const sim::ParallelPrediction p = sim::predict_parallel(sim::EngineKind::tile, spec, w, h100,
                                                          "auto", layout(1, 1), hw::Caller::triton);
  CHECK(p.per_device.caller_floor_s == Approx(launches * floor));
  CHECK(p.per_device.caller_floor_s == Approx(single.caller_floor_s));
}

TEST_CASE("an in-turn caller adds its host cost on every device of a layout",
          "[sim][parallel][caller]") {
  const models::Workload w = short_decode();
  const models::AttentionSpec spec = gqa_32_8_d128();
  hw::Profile h100 = catalog().resolve("h100");
  const auto npu = static_cast<std::size_t>(hw::Caller::torch_npu);
  h100.calibration.caller_floor_s[npu] = 50e-6;
  h100.calibration.caller_in_turn[npu] = true;
  const sim::ParallelPrediction p = sim::predict_parallel(
      sim::EngineKind::tile, spec, w, h100, "auto", layout(2, 1), hw::Caller::torch_npu);
  CHECK(p.per_device.caller_floor_s == Approx(4 * 50e-6));
  CHECK(p.per_device.total_s ==
        Approx(p.per_device.compute_s + p.per_device.exposed_comm_s + 4 * 50e-6));
}

TEST_CASE(
    "a per-launch caller's waits on the device add their exposed host time on a layout too: at "
    "--tp 1 --cp 1 the single-device time, and on every device of a head split",
    "[sim][parallel][caller]") {
  // NSA's selected backward (four host reads in its wrapper) at 2k tokens on an A100.
  const models::AttentionSpec spec = make("nsa", {{"heads", 64},
                                                  {"kv_heads", 4},
                                                  {"head_dim", 128},
                                                  {"v_head_dim", 128},
                                                  {"top_k", 4},
                                                  {"select_block", 64}});
  models::Workload w = workload(models::Phase::bwd, 1, 2048, 2048);
  w.dtype = w.kv_dtype = models::DType::bf16;
  const hw::Profile& a100 = catalog().resolve("a100-sxm4-80gb");
  const models::CostModel cost = spec.variant->cost(spec, w);
  const sim::Prediction single =
      sim::predict(sim::EngineKind::tile, cost, w, a100, "nsa_triton", hw::Caller::triton);
  const double excess = sim::host_wait_excess_s(single, a100.caller_floor_s(hw::Caller::triton));
  REQUIRE(excess > 0);
  const auto on = [&](const sim::ParallelLayout& l) {
    return sim::predict_parallel(sim::EngineKind::tile, spec, w, a100, "nsa_triton", l,
                                 hw::Caller::triton);
  };
  CHECK(on(layout(1, 1)).per_device.total_s == Approx(single.time_s).epsilon(1e-12));
  const sim::ParallelPrediction tp = on(layout(2, 1));
  CHECK(tp.per_device.total_s > std::max(tp.per_device.compute_s + tp.per_device.exposed_comm_s,
                                         tp.per_device.caller_floor_s));
}
