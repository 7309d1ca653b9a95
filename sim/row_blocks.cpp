#include "sim/row_blocks.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace sim {

namespace {

using i128 = __int128;

long long floor_div(i128 a, i128 b) {  // b > 0
  const i128 q = a / b;
  return static_cast<long long>(q * b > a ? q - 1 : q);
}

// The smallest i >= 0 with a i + b >= target (a > 0).
long long first_at_least(long long a, long long b, i128 target) {
  const i128 need = target - b;
  if (need <= 0) return 0;
  return static_cast<long long>((need + a - 1) / a);
}

}  // namespace

bool whole(double x) {
  return x >= 0 && x < 9.0e15 && std::floor(x) == x;
}

long double floor_sum(long long n, long long a, long long b, long long c) {
  // Shift b into [0, c): floor((a i + b) / c) = floor((a i + b') / c) + k.
  const long long k = floor_div(b, c);
  b -= k * c;
  long double sum = static_cast<long double>(k) * static_cast<long double>(n);
  // The classic Euclid-like reduction on non-negative a, b (all within 128 bits).
  i128 nn = n, aa = a, bb = b, cc = c;
  while (nn > 0) {
    if (aa >= cc) {
      sum += static_cast<long double>(nn * (nn - 1) / 2) * static_cast<long double>(aa / cc);
      aa %= cc;
    }
    if (bb >= cc) {
      sum += static_cast<long double>(nn) * static_cast<long double>(bb / cc);
      bb %= cc;
    }
    const i128 top = aa * nn + bb;
    if (top < cc) break;
    nn = top / cc;
    bb = top % cc;
    std::swap(aa, cc);
  }
  return sum;
}

std::optional<JobStats> causal_row_block_jobs(const Geometry& g, double tile_m, double tile_n) {
  const double positions = std::max(1.0, g.keys - g.row_offset);
  const double per_position = g.rows / positions;
  for (double x : {tile_m, tile_n, g.rows, g.keys, g.row_offset, g.window, g.sinks, per_position}) {
    if (!whole(x)) return std::nullopt;
  }
  if (!g.causal || tile_m < 1 || tile_n < 1 || per_position < 1 || g.rows < 1) return std::nullopt;
  const long long tm = static_cast<long long>(tile_m), tn = static_cast<long long>(tile_n);
  const long long pp = static_cast<long long>(per_position);
  const long long off = static_cast<long long>(g.row_offset);
  const long long blocks = static_cast<long long>(ceil_div(g.rows, tile_m));
  const long long key_tiles = static_cast<long long>(ceil_div(g.keys, tile_n));
  const long long c = pp * tn;
  // Block m < blocks - 1 ends at row (m + 1) tm - 1, query position floor(row / pp) + off, so it
  // visits E(m) = min(N, floor((tm m + bE) / c) + 1) tiles up to the diagonal. A window starts it
  // at tile max(0, F(m)), F(m) = floor((tm m + bF) / c), and sink tiles add back up to S of those
  // skipped: tiles(m) = E(m) - max(0, F(m) - S).
  const long long b_end = tm - 1 + off * pp;
  const bool windowed = g.window > 0;
  const long long b_first = (off - static_cast<long long>(g.window) + 1) * pp;
  const long long sink_tiles =
      windowed && g.sinks > 0 ? static_cast<long long>(ceil_div(g.sinks, tile_n)) : 0;
  const long long n = blocks - 1;  // the last block may be short: priced on its own below
  const long long end_full = std::min(n, first_at_least(tm, b_end, i128(key_tiles - 1) * c));
  const long long first_on =
      windowed ? std::min(n, first_at_least(tm, b_first, i128(sink_tiles + 1) * c)) : n;
  auto tiles_at = [&](long long m) {
    const long long end = std::min<long long>(key_tiles, floor_div(i128(tm) * m + b_end, c) + 1);
    const long long skipped =
        windowed ? std::max<long long>(0, floor_div(i128(tm) * m + b_first, c) - sink_tiles) : 0;
    return static_cast<double>(end - skipped);
  };
  long double total = 0;
  double lo = 0, hi = 0;
  bool any = false;
  auto note = [&](double v) {
    lo = any ? std::min(lo, v) : v;
    hi = any ? std::max(hi, v) : v;
    any = true;
  };
  // The blocks [from, to) share one form: E clipped at N or not, the window's start past the sinks
  // or not.
  auto add_piece = [&](long long from, long long to) {
    if (to <= from) return;
    const long long len = to - from;
    const bool end_clipped = from >= end_full, start_moves = windowed && from >= first_on;
    total += end_clipped ? static_cast<long double>(key_tiles) * len
                         : floor_sum(len, tm, tm * from + b_end, c) + len;
    if (start_moves) {
      total -=
          floor_sum(len, tm, tm * from + b_first, c) - static_cast<long double>(sink_tiles) * len;
    }
    if (start_moves && !end_clipped) {
      // E(m) - F(m) + S: the two floors climb at the same rate, so their difference repeats every
      // c / gcd(tm, c) blocks; a piece that long shows every value.
      const long long period = c / std::gcd(tm, c);
      for (long long m = from; m < to && m < from + period; ++m) note(tiles_at(m));
    } else {
      // E(m) alone rises, N - F(m) + S falls, N stays: the ends hold the extremes.
      note(tiles_at(from));
      note(tiles_at(to - 1));
    }
  };
  const long long cut1 = std::min(end_full, first_on), cut2 = std::max(end_full, first_on);
  add_piece(0, cut1);
  add_piece(cut1, cut2);
  add_piece(cut2, n);
  const double last = row_block_tiles(g, tile_m, tile_n, static_cast<double>(blocks - 1));
  total += last;
  note(last);
  JobStats jobs;
  jobs.count = static_cast<double>(blocks) * g.batch * g.heads;
  jobs.min_tiles = lo;
  jobs.max_tiles = hi;
  jobs.total_tiles = static_cast<double>(total) * g.batch * g.heads;
  return jobs;
}

JobStats round_row_block_jobs(const Geometry& g, double tile_m, double unit, double round) {
  const double per_round = std::max(1.0, std::round(round / unit));
  const auto rounds_of = [&](double m) {
    return ceil_div(row_block_tiles(g, tile_m, unit, m), per_round);
  };
  const double blocks = ceil_div(g.rows, tile_m);
  if (!g.causal || g.window <= 0) return row_block_jobs(g, tile_m, unit * per_round);
  const double positions = std::max(1.0, g.keys - g.row_offset);
  const double per_position = g.rows / positions;
  bool exact = blocks > kRowBlocksInClosedForm;
  for (double x : {tile_m, unit, g.rows, g.keys, g.row_offset, g.window, g.sinks, per_position}) {
    exact = exact && whole(x);
  }
  if (!exact || per_position < 1 || tile_m < 1 || unit < 1) {
    return summarize_blocks(blocks, g.batch * g.heads, rounds_of);
  }
  const long long tm = static_cast<long long>(tile_m), un = static_cast<long long>(unit);
  const long long pp = static_cast<long long>(per_position);
  const long long off = static_cast<long long>(g.row_offset);
  const long long round_keys = un * static_cast<long long>(per_round);
  const long long sink_units = static_cast<long long>(ceil_div(g.sinks, unit));
  const long long last = static_cast<long long>(blocks) - 1;  // may be short: priced alone
  // Before block `start` the window has not passed the sinks' units (a block's first key is below
  // sink_units x unit), so a block sees from key 0: the rounds of a causal prefix without a
  // window, E(m) = min(N, floor((tm m + b_end) / c) + 1) with c = pp x round, nondecreasing and
  // summed by a floor-sum.
  const long long need = sink_units * un + static_cast<long long>(g.window) - 1 - off;
  const long long start = std::min(last, need <= 0 ? 0 : (need * pp + tm - 1) / tm);
  long double total = 0;
  double lo = 0, hi = 0;
  bool any = false;
  const auto note = [&](double r) {
    lo = any ? std::min(lo, r) : r;
    hi = any ? std::max(hi, r) : r;
    any = true;
    return r;
  };
  if (start > 0) {
    const long long n_rounds = (static_cast<long long>(g.keys) + round_keys - 1) / round_keys;
    const long long c = pp * round_keys, b_end = tm - 1 + off * pp;
    const auto prefix_rounds = [&](long long m) {
      return static_cast<double>(std::min(n_rounds, floor_div(i128(tm) * m + b_end, c) + 1));
    };
    const long long full =
        std::min(start, first_at_least(tm, b_end, i128(n_rounds - 1) * c));  // E below N
    total += floor_sum(full, tm, b_end, c) + static_cast<long double>(full) +
             static_cast<long double>(n_rounds) * static_cast<long double>(start - full);
    note(prefix_rounds(0));
    note(prefix_rounds(start - 1));
  }
  // From `start` on, a block's first and last units are floors of the same slope, so the units
  // it spans repeat every `period` blocks: one period is visited, the rest summed by periods.
  const long long c = pp * un;
  const long long period = c / std::gcd(tm, c);
  const long long rest = last - start;  // blocks start .. last - 1
  std::vector<double> one_period(static_cast<std::size_t>(std::min(period, rest)));
  long double cycle = 0;
  for (std::size_t i = 0; i < one_period.size(); ++i) {
    one_period[i] = note(rounds_of(static_cast<double>(start) + static_cast<double>(i)));
    cycle += one_period[i];
  }
  if (rest > 0) {
    total += cycle * static_cast<long double>(rest / period);
    for (long long i = 0; i < rest % period; ++i) total += one_period[static_cast<std::size_t>(i)];
  }
  total += note(rounds_of(static_cast<double>(last)));
  return {blocks * g.batch * g.heads, lo, hi, static_cast<double>(total) * g.batch * g.heads};
}

}  // namespace sim
