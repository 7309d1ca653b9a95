// The workload the query-like commands build from their flags (query, compare): one rule for the
// defaults (decode: one query token; kv_len = seq_len) and one validation.
#pragma once

#include "models/workload.hpp"

namespace cli {

// `Flags` has phase, dtype (strings), kv_dtype (optional string), batch, seq_len, layers
// (integers), q_len, kv_len (optional integers) and causal.
template <typename Flags>
models::Workload workload_from_flags(const Flags& o) {
  models::Workload w;
  w.phase = models::parse_phase(o.phase);
  w.batch = o.batch;
  w.q_len = o.q_len.value_or(w.phase == models::Phase::decode ? 1 : o.seq_len);
  w.kv_len = o.kv_len.value_or(o.seq_len);
  w.causal = o.causal;
  w.dtype = models::parse_dtype(o.dtype);
  w.kv_dtype = o.kv_dtype ? models::parse_dtype(*o.kv_dtype) : w.dtype;
  w.layers = o.layers;
  models::validate(w);
  return w;
}

}  // namespace cli
