// validate/flop_convention.cpp: the FlashAttention papers' FLOP count, by which a published
// TFLOP/s becomes a time.
#include <catch2/catch.hpp>

#include <string>

#include "validate/flop_convention.hpp"

namespace {

validate::DenseRowShape square(bool causal, models::Phase phase) {
  validate::DenseRowShape r;
  r.batch = 2;
  r.heads = 16;
  r.q_len = r.kv_len = 4096;
  r.head_dim = r.v_head_dim = 128;
  r.causal = causal;
  r.phase = phase;
  return r;
}

}  // namespace

TEST_CASE("the convention counts 4 B H S^2 d forward, halved when causal, 2.5x bwd, 3.5x both",
          "[validate]") {
  std::string why;
  const double forward = 4.0 * 2 * 16 * 4096 * 4096 * 128;
  CHECK(*validate::flash_convention_flops(square(false, models::Phase::fwd), why) == forward);
  CHECK(*validate::flash_convention_flops(square(true, models::Phase::fwd), why) == forward / 2);
  CHECK(*validate::flash_convention_flops(square(false, models::Phase::bwd), why) == 2.5 * forward);
  CHECK(*validate::flash_convention_flops(square(true, models::Phase::train), why) ==
        3.5 * forward / 2);
  CHECK(why.empty());
}

TEST_CASE("a causal row is counted only when square or a single query", "[validate]") {
  std::string why;
  validate::DenseRowShape one = square(true, models::Phase::decode);
  one.q_len = 1;
  // One query sees every key: 2 B H Sk (d + dv), nothing halved.
  CHECK(*validate::flash_convention_flops(one, why) == 2.0 * 2 * 16 * 4096 * 256);
  validate::DenseRowShape chunk = square(true, models::Phase::fwd);
  chunk.q_len = 1024;
  CHECK_FALSE(validate::flash_convention_flops(chunk, why).has_value());
  CHECK_THAT(why, Catch::Contains("seq_q equals seq_kv"));
}
