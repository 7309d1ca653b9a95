// How context parallelism may cut a variant's work between ranks that each hold chunks of the
// sequence (ring, zig-zag, all-gather: sim/parallel_layouts.cpp).
#pragma once

#include "models/variant.hpp"
#include "models/workload.hpp"

namespace sim {

enum class SequenceSplit {
  // A run of a block of queries against a block of keys is that block of the pattern (dense
  // attention, a mask by position): a ring sums (query chunk x key chunk) blocks.
  blocks,
  // Only a chunk of queries against every key it may see (its causal prefix, or all keys) is its
  // share of the pattern (a window, a fixed number of keys per query, a selection among earlier
  // blocks): each rank runs its chunk(s) once.
  query_chunks,
  // The pattern is cut by the whole sequence (groups, frames, clusters or spans sized by its
  // length), which one rank's chunk does not see: only a head split (ulysses) keeps it whole.
  heads_only,
};

// By default a causal-only variant (models::Variant::causal_only) splits by query chunks and any
// other by blocks; the variants named in sequence_split.cpp say otherwise, each with its reason.
SequenceSplit sequence_split(const models::Variant& variant, models::Phase phase);

}  // namespace sim
