// NATTEN's neighbourhood mask along one grid dimension, written out from its definition
// (csrc/include/natten/cuda/reference/mask.hpp at github.com/SHI-Labs/NATTEN 8c8729f), and the
// KV tiles each Q tile spans under it: what sim/grid_blocks.cpp counts in closed form or by
// shortcut, for the tests to walk query by query.
#pragma once

#include <algorithm>
#include <utility>
#include <vector>

namespace test_support {

// The keys [first, end) query `q` sees along a dimension of `e` positions, window `w`, stride
// `s`: centred on its stride group's middle and moved inside the extent, or causal: from its
// group's last position (at most the last) back w - 1 keys, cut at 0, to the query itself.
inline std::pair<long, long> natten_window(long q, long e, long w, long s, bool causal) {
  if (causal) {
    const long leader = std::min(q / s * s + s - 1, e - 1);
    return {std::max(leader - w + 1, 0L), q + 1};
  }
  const long centre = s <= 1 ? q : std::min(q / s * s + s / 2, e - 1);
  const long start = std::clamp(centre - w / 2, 0L, e - w);
  return {start, start + w};
}

// For each Q tile of `qt` queries, the first and last KV tile of `kv` keys it spans: from the
// least window start to the greatest window end among its queries.
inline std::vector<std::pair<long, long>> natten_tile_spans(long e, long w, long s, long qt,
                                                            long kv, bool causal) {
  std::vector<std::pair<long, long>> out;
  for (long first = 0; first < e; first += qt) {
    long lo = e, hi = 0;
    for (long q = first; q < std::min(e, first + qt); ++q) {
      const auto [start, end] = natten_window(q, e, w, s, causal);
      lo = std::min(lo, start);
      hi = std::max(hi, end);
    }
    out.emplace_back(lo / kv, (hi + kv - 1) / kv - 1);
  }
  return out;
}

}  // namespace test_support
