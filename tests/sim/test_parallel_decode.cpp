// Context parallelism for decode (a sharded KV cache), projections under CP, and the LASP-2 /
// ZeCO output correction, hand-worked.
#include <catch2/catch.hpp>

#include "common/errors.hpp"
#include "sim/parallel.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::catalog;
using test_support::gqa_32_8_d128;
using test_support::make;
using test_support::workload;

namespace {

sim::ParallelPrediction predict_tp_cp(const models::AttentionSpec& spec, const models::Workload& w,
                                      int tp, int cp, sim::CpStrategy s = sim::CpStrategy::ring) {
  return sim::predict_parallel(sim::EngineKind::tile, spec, w, catalog().resolve("h100"), "auto",
                               {tp, cp, s, 1});
}

}  // namespace

TEST_CASE("decode under cp shards the KV cache and all-gathers fp32 partials with their LSE",
          "[sim][parallel][decode]") {
  // B 8, one new token, 32768 cached over 4: each device 8192 tokens. Partials: 4 devices x 8 x
  // 32 heads x 1 x (128 + 1) x 4 B = 528384 B gathered; a ring all-gather sends 3/4 of it.
  const models::Workload w = workload(models::Phase::decode, 8, 1, 32768);
  const sim::ParallelPrediction one = predict_tp_cp(gqa_32_8_d128(), w, 1, 1);
  for (auto s : {sim::CpStrategy::ring, sim::CpStrategy::allgather}) {
    INFO(sim::to_string(s));
    const sim::ParallelPrediction p = predict_tp_cp(gqa_32_8_d128(), w, 1, 4, s);
    CHECK(p.per_device.kv_cache_bytes == Approx(one.per_device.kv_cache_bytes / 4));
    CHECK(p.cluster.kv_cache_bytes == Approx(one.per_device.kv_cache_bytes));
    CHECK(p.cluster.flops.tensor == Approx(one.per_device.flops.tensor).epsilon(1e-12));
    const double gathered = 4.0 * 8 * 32 * 129 * 4;
    CHECK(p.per_device.scale_up_bytes == Approx(0.75 * gathered));
    CHECK(p.per_device.comm_s == Approx(3 * 3.4e-6 + 0.75 * gathered / 450e9));
    CHECK(p.per_device.exposed_comm_s == Approx(p.per_device.comm_s));
    // The combine: 4 partial rows per (sequence, head), 2 x 128 + 2 FP32 operations and one exp.
    CHECK(p.cluster.flops.exp - one.per_device.flops.exp == Approx(4 * (4.0 * 8 * 32)));
    CHECK(p.per_device.compute_s < one.per_device.compute_s);
  }
}

TEST_CASE("decode under cp splits an uneven cache exactly and keeps speculative tokens causal",
          "[sim][parallel][decode]") {
  // 32770 = 8193 + 8193 + 8192 + 8192 (the last with the 4 new tokens' own keys).
  const models::Workload w = workload(models::Phase::decode, 2, 4, 32770);
  const sim::ParallelPrediction one = predict_tp_cp(gqa_32_8_d128(), w, 1, 1);
  const sim::ParallelPrediction p = predict_tp_cp(gqa_32_8_d128(), w, 2, 4);
  CHECK(p.cluster.flops.tensor == Approx(one.per_device.flops.tensor).epsilon(1e-12));
  CHECK(p.cluster.kv_cache_bytes == Approx(one.per_device.kv_cache_bytes));
  // B 2; tp 2 leaves 4 of the 8 KV heads on a device.
  CHECK(p.per_device.kv_cache_bytes == Approx(8193.0 * 2 * 4 * 256 * 2));
}

TEST_CASE("decode refuses the strategies that need new tokens to split",
          "[sim][parallel][decode]") {
  const models::Workload w = workload(models::Phase::decode, 1, 1, 4096);
  for (auto s : {sim::CpStrategy::zigzag, sim::CpStrategy::ulysses, sim::CpStrategy::cad}) {
    CHECK_THROWS_WITH(predict_tp_cp(gqa_32_8_d128(), w, 1, 2, s),
                      Catch::Contains("use ring or allgather"));
  }
  const models::AttentionSpec lin = make("linear", {{"heads", 16}, {"head_dim", 128}});
  CHECK_THROWS_WITH(predict_tp_cp(lin, w, 1, 2, sim::CpStrategy::lasp2),
                    Catch::Contains("fixed recurrent state"));
  // 12 cached tokens over 4: shards of 3 cannot hold 4 new tokens.
  CHECK_THROWS_WITH(predict_tp_cp(gqa_32_8_d128(), workload(models::Phase::decode, 1, 4, 12), 1, 4),
                    Catch::Contains("must hold the 4 new tokens"));
}

TEST_CASE("projections under cp are sequence-parallel: each device projects L / cp tokens",
          "[sim][parallel][decode]") {
  // D 4096; QKV width 32 x 128 + 2 x 8 x 128 = 6144, O 4096: 2 x 2048 x 4096 x (6144 + 4096)
  // FLOPs for the 2048 tokens of one device.
  const models::Workload w = workload(models::Phase::prefill, 1, 8192, 8192);
  const double local = 2 * 2048.0 * 4096 * (6144 + 4096);
  for (auto s : {sim::CpStrategy::ring, sim::CpStrategy::ulysses, sim::CpStrategy::cad}) {
    INFO(sim::to_string(s));
    const sim::ParallelPrediction with = predict_tp_cp(gqa_32_8_d128(true), w, 1, 4, s);
    const sim::ParallelPrediction without = predict_tp_cp(gqa_32_8_d128(), w, 1, 4, s);
    CHECK(with.per_device.flops.tensor - without.per_device.flops.tensor == Approx(local));
    CHECK(with.cluster.flops.tensor - without.cluster.flops.tensor == Approx(4 * local));
    CHECK(with.per_device.compute_s > without.per_device.compute_s);
  }
  // TP 2 inside: the row-parallel all-reduce of 2048 x 4096 x 2 B over 2 devices sends the
  // payload once (2 x 1/2).
  const sim::ParallelPrediction with = predict_tp_cp(gqa_32_8_d128(true), w, 2, 4);
  const sim::ParallelPrediction without = predict_tp_cp(gqa_32_8_d128(), w, 2, 4);
  CHECK(with.per_device.scale_up_bytes - without.per_device.scale_up_bytes ==
        Approx(2048.0 * 4096 * 2));
  // Decode: every device projects the new token (replicated).
  const models::Workload d = workload(models::Phase::decode, 1, 1, 8192);
  const sim::ParallelPrediction dec = predict_tp_cp(gqa_32_8_d128(true), d, 1, 4);
  const sim::ParallelPrediction dec0 = predict_tp_cp(gqa_32_8_d128(), d, 1, 4);
  CHECK(dec.per_device.flops.tensor - dec0.per_device.flops.tensor ==
        Approx(2 * 4096.0 * (6144 + 4096)));
}

TEST_CASE("the TP all-reduce of the projections runs once per layer", "[sim][parallel]") {
  models::Workload w = workload(models::Phase::prefill, 1, 4096, 4096);
  const sim::ParallelPrediction one = predict_tp_cp(gqa_32_8_d128(true), w, 4, 1);
  w.layers = 3;
  const sim::ParallelPrediction three = predict_tp_cp(gqa_32_8_d128(true), w, 4, 1);
  CHECK(three.per_device.scale_up_bytes == Approx(3 * one.per_device.scale_up_bytes));
  CHECK(three.per_device.comm_s == Approx(3 * one.per_device.comm_s));
}

TEST_CASE("LASP-2 and ZeCO add the output correction Q x S and the state prefix on the last rank",
          "[sim][parallel][linear]") {
  // 16 heads, dk = dv = 128, 65536 tokens over 8: the correction is 2 x 8192 x 128 x 128 per
  // head = 4294967296 tensor FLOPs. LASP-2 sums 7 gathered states (2 FLOPs per element, 16 x
  // 128 x 128 elements each); ZeCO updates one.
  const models::AttentionSpec lin = make("linear", {{"heads", 16}, {"head_dim", 128}});
  const models::Workload w = workload(models::Phase::prefill, 1, 65536, 65536);
  const models::Workload local = workload(models::Phase::prefill, 1, 8192, 8192);
  const models::FlopCounts scan = lin.variant->cost(lin, local).total_flops();
  const double correction = 2 * 8192.0 * 128 * 128 * 16;
  const double state = 16 * 128.0 * 128;
  const sim::ParallelPrediction lasp = predict_tp_cp(lin, w, 1, 8, sim::CpStrategy::lasp2);
  const sim::ParallelPrediction zeco = predict_tp_cp(lin, w, 1, 8, sim::CpStrategy::zeco);
  CHECK(lasp.per_device.flops.tensor - scan.tensor == Approx(correction));
  CHECK(zeco.per_device.flops.tensor - scan.tensor == Approx(correction));
  CHECK(lasp.per_device.flops.vector - scan.vector == Approx(2 * 7 * state));
  CHECK(zeco.per_device.flops.vector - scan.vector == Approx(2 * state));
  // Cluster: ranks 1..7 correct; LASP-2 sums 0 + 1 + ... + 7 = 28 states, ZeCO updates 7.
  CHECK(lasp.cluster.flops.tensor - 8 * scan.tensor == Approx(7 * correction));
  CHECK(lasp.cluster.flops.vector - 8 * scan.vector == Approx(2 * 28 * state));
  CHECK(zeco.cluster.flops.vector - 8 * scan.vector == Approx(2 * 7 * state));
  // Training: the backward's correction costs twice the forward's.
  models::Workload train = w;
  train.phase = models::Phase::train;
  models::Workload train_local = local;
  train_local.phase = models::Phase::train;
  const double train_scan = lin.variant->cost(lin, train_local).total_flops().tensor;
  CHECK(predict_tp_cp(lin, train, 1, 8, sim::CpStrategy::zeco).per_device.flops.tensor -
            train_scan ==
        Approx(3 * correction));
}
