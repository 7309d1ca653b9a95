// The workload the query-like commands build from their flags (query, compare): one rule for the
// defaults (decode: one query token; kv_len = seq_len) and one validation.
#pragma once

#include <CLI/CLI.hpp>

#include "cli/flags.hpp"
#include "models/workload.hpp"

namespace cli {

// --batch, --seq-len, --q-len and --kv-len of `o` (batch and seq_len integers, q_len and kv_len
// optional integers), decimal (with sweep's k/M/G size suffixes: "32k") and in the model's limits,
// with one help text for every command.
template <typename Flags>
void add_size_options(CLI::App& app, Flags& o) {
  app.add_option("--batch", o.batch, "batch size")
      ->transform(size_integer(1, models::kMaxBatch))
      ->capture_default_str();
  app.add_option("--seq-len", o.seq_len,
                 "sequence length: query tokens for prefill/fwd/bwd/train, context for decode")
      ->transform(size_integer(1, models::kMaxTokens))
      ->capture_default_str();
  app.add_option("--q-len", o.q_len,
                 "query tokens (default: --seq-len; 1 for decode, more for speculative decode)")
      ->transform(size_integer(1, models::kMaxTokens));
  app.add_option("--kv-len", o.kv_len, "key/value tokens (default: --seq-len)")
      ->transform(size_integer(1, models::kMaxTokens));
}

// `Flags` has phase, dtype (strings), kv_dtype (optional string), batch, seq_len, layers
// (integers), q_len, kv_len (optional integers) and causal. With `variant`, the causal flag is the
// one it prices (a non-causal-only variant ignores the default --causal, so its kv_len may be
// below q_len).
template <typename Flags>
models::Workload workload_from_flags(const Flags& o, const models::Variant* variant = nullptr) {
  models::Workload w;
  w.phase = models::parse_phase(o.phase);
  w.batch = o.batch;
  w.q_len = o.q_len.value_or(w.phase == models::Phase::decode ? 1 : o.seq_len);
  w.kv_len = o.kv_len.value_or(o.seq_len);
  w.causal = o.causal;
  w.dtype = models::parse_dtype(o.dtype);
  w.kv_dtype = o.kv_dtype ? models::parse_dtype(*o.kv_dtype) : w.dtype;
  w.layers = o.layers;
  if (variant != nullptr) w.causal = models::effective_causal(*variant, w);
  models::validate(w);
  return w;
}

}  // namespace cli
