// The KV tiles of a causal grid's row blocks summarised without visiting each block, for grids of
// millions of blocks (a 1G-token prefill with 256 packed query heads has 2^31): the count a block
// visits is a difference of floors linear in its index, so sums come from a floor-sum and extremes
// from the breakpoints and the period of that difference.
#pragma once

#include <optional>

#include "sim/launch.hpp"
#include "sim/schedule_common.hpp"

namespace sim {

// row_block_jobs takes the closed form above this many row blocks a head (below, the loop is as
// fast and the closed form's tests compare the two).
inline constexpr double kRowBlocksInClosedForm = 4096;

// Whether `x` is a whole number the closed forms can take exactly (0 <= x < 9e15).
bool whole(double x);

// Sum over i = 0 .. n-1 of floor((a i + b) / c), for n >= 0, a >= 0, c > 0 and any b.
long double floor_sum(long long n, long long a, long long b, long long c);

// row_block_jobs of a causal geometry in closed form, equal to the block-by-block summary; nullopt
// where it does not apply (a non-integer size, or query rows that are not a whole number of rows
// per query position).
std::optional<JobStats> causal_row_block_jobs(const Geometry& g, double tile_m, double tile_n);

// row_block_jobs of a kernel that walks each row block's own key range in rounds (the 910B's
// attention kernels, sim/schedule_other.cpp): the whole `unit`-key blocks of the range (on the
// grid of `unit`s from key 0) from the block's first to its last, in rounds of `round` keys (a
// whole number of units): a block visits ceil(units / (round / unit)) rounds. Without a window
// every range starts at key 0 and this is row_block_jobs(g, tile_m, round); with one, a round
// starts at the block's first unit, not on a grid of rounds. Above kRowBlocksInClosedForm blocks
// a head the sum is in closed form: the blocks before the window passes the sinks see from key 0
// (a causal prefix, by a floor-sum), the later ones repeat with the period of
// causal_row_block_jobs and are summed by periods.
JobStats round_row_block_jobs(const Geometry& g, double tile_m, double unit, double round);

}  // namespace sim
