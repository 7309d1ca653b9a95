// nsa_triton (sim/schedule_nsa.cpp): which ops its own kernels price, for `--kernel auto`.
#pragma once

#include "models/cost_model.hpp"
#include "models/workload.hpp"

namespace sim {

// True for the prefill forward ops nsa_triton prices with the Triton kernels of
// XunhaoLai/native-sparse-attention-triton rather than as fa2: NSA's selected branch (blocks
// chosen per token for the query heads of a KV head) and its compressed branch (summary keys).
bool nsa_triton_runs(const models::Op& op, const models::Workload& w);

}  // namespace sim
