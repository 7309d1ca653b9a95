// The FLOP count of the FlashAttention papers' benchmarks, by which a published TFLOP/s becomes a
// time (validate/data/measured/README.md): a dense row's forward is 2 B H Sq Sk (d + dv) FLOPs
// (4 B H Sq Sk d when d = dv), halved when causal; backward 2.5x, forward + backward 3.5x.
#pragma once

#include <optional>
#include <string>

#include "models/workload.hpp"

namespace validate {

struct DenseRowShape {
  double batch = 0, heads = 0, q_len = 0, kv_len = 0, head_dim = 0, v_head_dim = 0;
  bool causal = false;
  models::Phase phase = models::Phase::fwd;
};

// The FLOPs the convention counts, or nullopt with `why` set where it says nothing: a causal row
// halves the square, so it must be square (Sq = Sk), or a single query (Sq = 1, which sees every
// key: nothing is halved).
std::optional<double> flash_convention_flops(const DenseRowShape& r, std::string& why);

}  // namespace validate
