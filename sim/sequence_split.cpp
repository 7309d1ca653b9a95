#include "sim/sequence_split.hpp"

#include <array>
#include <string_view>

namespace sim {

namespace {

// Patterns sized by the whole sequence (docs/variants.md): a chunk of it prices a different
// pattern, not a share of this one.
constexpr std::array<std::string_view, 8> kWholeSequence = {
    "lga",          // groups of L / groups tokens, each sampling every view
    "descriptor",   // every token against the descriptors of all L / frame_tokens frames
    "fit",          // global attention over the latents of all L / group groups
    "llsa",         // top-k levels over pooled blocks of the whole sequence (L / block^2 keys)
    "routing",      // k-means clusters (sqrt(L) of them by default) over every position
    "superlinear",  // sqrt(L) candidate spans of sqrt(L) keys for every query
    "dhsa",         // chunk similarities over all L / chunk chunks feed each query's budget
    "moa",          // a span alpha + beta L elastic with the whole input's length
};

}  // namespace

SequenceSplit sequence_split(const models::Variant& variant, models::Phase phase) {
  const std::string_view name = variant.name();
  for (std::string_view whole : kWholeSequence) {
    if (name == whole) return SequenceSplit::heads_only;
  }
  // S2-Attn / SF-Attn train in groups of a fraction of L, half the heads shifted by half a group;
  // their inference is full attention.
  if (name == "s2attn" || name == "sinklora") {
    const bool inference = phase == models::Phase::prefill || phase == models::Phase::decode;
    return inference ? SequenceSplit::blocks : SequenceSplit::heads_only;
  }
  // GNA: every query sees its own neighbourhood of window_x window_y window_z keys, so a chunk of
  // queries against all keys is its share; a block run would give each query its whole
  // neighbourhood again.
  if (name == "gna") return SequenceSplit::query_chunks;
  return variant.causal_only() ? SequenceSplit::query_chunks : SequenceSplit::blocks;
}

}  // namespace sim
