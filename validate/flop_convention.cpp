#include "validate/flop_convention.hpp"

namespace validate {

std::optional<double> flash_convention_flops(const DenseRowShape& r, std::string& why) {
  double flops = 2 * r.batch * r.heads * r.q_len * r.kv_len * (r.head_dim + r.v_head_dim);
  if (r.causal && r.q_len != 1) {
    if (r.q_len != r.kv_len) {
      why =
          "a causal row's FLOPs are counted only where seq_q equals seq_kv (the convention "
          "halves the square) or seq_q is 1";
      return std::nullopt;
    }
    flops /= 2;
  }
  if (r.phase == models::Phase::bwd) flops *= 2.5;
  if (r.phase == models::Phase::train) flops *= 3.5;
  return flops;
}

}  // namespace validate
