// Recurrent / memory variants (docs/variants.md §E2 Lightning Attention, §E3 LightNet,
// §E4 GAM).
#include <catch2/catch.hpp>

#include <cstring>

#include "common/errors.hpp"
#include "models/registry.hpp"
#include "tests/support/model_helpers.hpp"

using test_support::cost;
using test_support::make;
using test_support::op_named;
using test_support::registry;
using test_support::workload;

using models::Phase;

namespace {

double gemm_flops(const models::CostModel& c) {
  double f = 0;
  for (const models::Op& op : c.ops) {
    if (op.kind == models::OpKind::gemm) f += op.flops.tensor;
  }
  return f;
}

}  // namespace

// ------------------------------------------------------------------------------------ Lightning

TEST_CASE("lightning: exps include the intra-block decay mask, one per causal pair in a block",
          "[variants][lightning]") {
  // B = 1, H = 32, L = 1024, b = 256: one decay factor + 257 / 2 mask exps per token and head:
  // 32 * 1024 * 129.5 = 4,243,456.
  const models::ParamValues p = {{"heads", 32}, {"chunk", 256}};
  const auto w = workload(Phase::prefill, 1, 1024, 1024);
  const auto lightning = cost(make("lightning", p), w);
  const auto linear = cost(make("linear", p), w);
  CHECK(lightning.total_flops().exp == 4243456.0);
  CHECK(lightning.total_flops().exp - linear.total_flops().exp == 32.0 * 1024 * 128.5);
  // The matmuls are the chunked scan's: 257 (dk + dv) + 4 dk dv = 65,792 + 65,536 per token-head.
  CHECK(lightning.total_flops().tensor == linear.total_flops().tensor);
  CHECK(lightning.total_flops().tensor == 131328.0 * 32 * 1024);
  // b = 64: 32 * 1024 * (1 + 32.5) = 1,097,728.
  CHECK(cost(make("lightning", {{"heads", 32}, {"chunk", 64}}), w).total_flops().exp == 1097728.0);
  // Decode has no intra-block tile: one decay factor per head.
  CHECK(cost(make("lightning", p), workload(Phase::decode, 1, 1, 4096)).total_flops().exp == 32);
}

TEST_CASE("lightning: the backward recomputes the decay mask, as many exps as the forward",
          "[variants][lightning]") {
  // B = 1, H = 32, L = 1024, b = 256: 32 * 1024 * 129.5 = 4,243,456 in either pass.
  const models::ParamValues p = {{"heads", 32}, {"chunk", 256}};
  const auto bwd = cost(make("lightning", p), workload(Phase::bwd, 1, 1024, 1024));
  CHECK(bwd.total_flops().exp == 4243456.0);
  // Plain linear attention has no mask: one decay factor per token and head.
  CHECK(cost(make("linear", p), workload(Phase::bwd, 1, 1024, 1024)).total_flops().exp ==
        32.0 * 1024);
}

TEST_CASE("lightnet: the backward reads dO and writes dQ, dK, dV and the gate logits' gradient",
          "[variants][lightnet]") {
  // B = 1, H = 32, L = 4096, dk = dv = 128, 2 B: dO 2 * 32 * 4096 * 128 = 33,554,432;
  // dQ, dK, dV and df 2 * 32 * 4096 * (3 * 128 + 128) = 134,217,728.
  const auto c = cost(make("lightnet", {}), workload(Phase::bwd, 1, 4096, 4096));
  CHECK(c.total_bytes().grad_out == 33554432.0);
  CHECK(c.total_bytes().grad_in == 134217728.0);
}

TEST_CASE("lightning: flops count useful causal pairs, 2.15e10 at b = 64 and L = 8192",
          "[variants][lightning]") {
  // Issue #8 defect 6: the whole b x b tiles gave 2.58e10. H = 32, dk = dv = 128: 128 blocks of
  // 64 * 65 / 2 = 2,080 pairs per head, 2 * 256 FLOPs each: 4,362,076,160; inter-block
  // 4 * 128 * 128 * 32 * 8192 = 17,179,869,184. Sum 21,541,945,344.
  const auto c = cost(make("lightning", {{"chunk", 64}}), workload(Phase::prefill, 1, 8192, 8192));
  CHECK(c.total_flops().tensor == 21541945344.0);
}

TEST_CASE("lightning: the default block is the kernel's BLOCK = 64", "[variants][lightning]") {
  CHECK(models::param_value(make("lightning", {}), "chunk") == 64);
}

TEST_CASE("lightnet: non-causal single scan costs 4 B H L dk dv tensor FLOPs",
          "[variants][lightnet]") {
  // B = 2, H = 8, L = 4096, dk = dv = 64: 4 * 2 * 8 * 4096 * 4096 = 1,073,741,824.
  const auto s = make("lightnet", {{"heads", 8}, {"head_dim", 64}});
  const auto c = cost(s, workload(Phase::prefill, 2, 4096, 4096, false));
  CHECK(c.total_flops().tensor == 1073741824.0);
  // Gate exps: one per key value, B H L dk = 4,194,304.
  CHECK(c.total_flops().exp == 2.0 * 8 * 4096 * 64);
  // Linear in L: twice the tokens, twice the FLOPs.
  CHECK(cost(s, workload(Phase::prefill, 2, 8192, 8192, false)).total_flops().tensor ==
        2 * 1073741824.0);
  // Causal adds the intra-chunk pairs: (b + 1)(dk + dv) + 4 dk dv = 65 * 128 + 16,384 = 24,704
  // per token and head: 2 * 8 * 4096 * 24,704 = 1,619,001,344.
  CHECK(cost(s, workload(Phase::prefill, 2, 4096, 4096)).total_flops().tensor == 1619001344.0);
}

TEST_CASE("lightnet: the state (dk dv + dk normaliser, fp32) does not depend on L",
          "[variants][lightnet]") {
  // B = 2, H = 8, dk = dv = 64: 2 * 8 * (4096 + 64) * 4 B = 266,240 per layer.
  const auto s = make("lightnet", {{"heads", 8}, {"head_dim", 64}});
  for (std::int64_t len : {1024, 65536}) {
    INFO("L = " << len);
    CHECK(cost(s, workload(Phase::prefill, 2, len, len, false)).state_bytes == 266240.0);
    CHECK(cost(s, workload(Phase::decode, 2, 1, len)).state_bytes == 266240.0);
  }
  CHECK(cost(s, workload(Phase::decode, 2, 1, 1024)).kv_cache_bytes == 0);
  // Decode: 5 dk dv FP32 FLOPs per head plus the read and write of the state.
  const auto d = cost(s, workload(Phase::decode, 1, 1, 100000));
  CHECK(op_named(d, "lightnet_scan_fwd").flops.tensor == 0);
  CHECK(d.total_flops().vector >= 5.0 * 8 * 4096);
}

TEST_CASE(
    "lightnet: a prefill writes the final state and normaliser; onto a cached prefix it "
    "reads the prefix's too",
    "[variants][lightnet]") {
  // B 2, H 8, dk = dv = 64: (64 * 64 + 64) * 4 B * 16 = 266,240 bytes of S and z.
  const auto s = make("lightnet", {{"heads", 8}, {"head_dim", 64}});
  const double tokens = 2.0 * 8 * 512 * 2;  // B H L x 2 B of keys and of gate logits, each dk
  const models::Op fresh =
      op_named(cost(s, workload(Phase::prefill, 2, 512, 512)), "lightnet_scan_fwd");
  CHECK(fresh.bytes.state == 266240.0);  // the state's own bytes, not the keys'
  CHECK(fresh.bytes.k == 2 * tokens * 64);
  const models::Op onto =
      op_named(cost(s, workload(Phase::prefill, 2, 512, 4096)), "lightnet_scan_fwd");
  CHECK(onto.bytes.state == 2 * 266240.0);
  CHECK(onto.bytes.k == 2 * tokens * 64);
  // The backward reads no state.
  const auto train = cost(s, workload(Phase::train, 2, 512, 512));
  CHECK(op_named(train, "lightnet_scan_bwd").bytes.k == 2 * tokens * 64);
}

// ------------------------------------------------------------------------------------------ GAM

TEST_CASE("gam: per-token GEMMs are 2 m D (scores) + 2 m D (read) + 2 D 2D (gate projection)",
          "[variants][gam]") {
  // D = 512, m = 512: 2 * 512 * 512 * 2 + 2 * 512 * 1024 = 1,048,576 + 1,048,576 = 2,097,152
  // per token; B = 2, L = 256: 512 tokens => 1,073,741,824. The D -> 2D gate is a projection.
  const auto s = make("gam", {{"d_model", 512}, {"slots", 512}, {"conv_kernel", 3}}, {true, 0});
  const auto core = cost(make("gam", {}), workload(Phase::prefill, 2, 256, 256));
  CHECK(core.total_flops().tensor == 512.0 * 1048576);
  CHECK(core.total_bytes().weights == 2.0 * 2 * 512 * 512);  // the bank, read by both GEMMs
  CHECK(core.parameters_per_layer == 0);
  const auto c = cost(s, workload(Phase::prefill, 2, 256, 256));
  CHECK(gemm_flops(c) == 1073741824.0);
  CHECK(c.total_flops().tensor == 1073741824.0);
  CHECK(op_named(c, "memory_scores_fwd").flops.tensor == 512.0 * 2 * 512 * 512);
  CHECK(op_named(c, "gate_proj_fwd").flops.tensor == 512.0 * 2 * 512 * 1024);
  // The conv (2 k D = 3072), slot softmax (4 m) and mix (4 D) on the FP32 pipes:
  // 3072 + 2048 + 2048 = 7168 per token; m + 2D = 1536 exps/sigmoids per token.
  CHECK(op_named(c, "conv_gates_fwd").flops.vector == 512.0 * 7168);
  CHECK(c.total_flops().exp == 512.0 * 1536);
  // D = 1024, m = 256: 4 * 256 * 1024 + 4 * 1024^2 = 5,242,880 per token.
  const auto wide = make("gam", {{"d_model", 1024}, {"slots", 256}}, {true, 0});
  CHECK(gemm_flops(cost(wide, workload(Phase::prefill, 1, 100, 100))) == 100.0 * 5242880);
}

TEST_CASE("gam: no KV cache, the decode state is the last k - 1 inputs", "[variants][gam]") {
  auto w = workload(Phase::decode, 4, 1, 100000);
  w.layers = 6;
  const auto c = cost(make("gam", {}), w);
  CHECK(c.kv_cache_bytes == 0);
  CHECK(c.kv_cache_bytes_per_token_per_layer == 0);
  // (k - 1) D s = 2 * 512 * 2 = 2048 B per sequence per layer, x B x layers.
  CHECK(c.state_bytes == 2048.0 * 4 * 6);
  // Decode per token equals prefill per token (linear in L, no token-token term).
  const auto one = cost(make("gam", {}), workload(Phase::decode, 1, 1, 100000));
  const auto many = cost(make("gam", {}), workload(Phase::prefill, 1, 1000, 1000));
  CHECK(many.total_flops().tensor == 1000 * one.total_flops().tensor);
  // Parameters are reported with the projections: bank m D + gates 2 D^2 + conv k D =
  // 262,144 + 524,288 + 1536 = 787,968.
  CHECK(c.parameters_per_layer == 0);
  CHECK(cost(make("gam", {}, {true, 0}), w).parameters_per_layer == 787968.0);
}
