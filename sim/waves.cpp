#include "sim/waves.hpp"

#include <algorithm>
#include <cmath>

namespace sim {

double ctas_per_sm(const CtaResources& cta, const hw::Profile& p) {
  double limit = p.memory.max_ctas_per_sm.value_or(32);
  if (cta.smem_bytes > 0)
    limit = std::min(limit, std::floor(p.memory.smem_per_sm_bytes / cta.smem_bytes));
  if (p.memory.max_threads_per_sm && cta.threads > 0) {
    limit = std::min(limit, std::floor(*p.memory.max_threads_per_sm / cta.threads));
  }
  if (p.memory.registers_per_sm && cta.regs_per_thread > 0) {
    // Registers go to whole warps in units of 256 (the CUDA Occupancy Calculator's register
    // allocation unit and granularity, compute capability 7.0 to 10.x).
    const double warps = std::ceil(cta.threads / 32);
    const double per_warp = std::ceil(cta.regs_per_thread * 32 / 256) * 256;
    limit = std::min(limit, std::floor(*p.memory.registers_per_sm / (warps * per_warp)));
  }
  if (cta.max_ctas_per_sm > 0) limit = std::min(limit, cta.max_ctas_per_sm);
  return std::max(1.0, limit);
}

double waves(double ctas, double slots) {
  return ctas <= 0 ? 0 : std::ceil(ctas / slots);
}

double overlapped(double matmul_s, double softmax_s, double overlap) {
  return std::max(matmul_s, softmax_s) + (1 - overlap) * std::min(matmul_s, softmax_s);
}

double makespan(Dispatch dispatch, double count, double min_s, double mean_s, double max_s,
                double slots) {
  if (count <= 0) return 0;
  if (dispatch == Dispatch::persistent_lpt) {
    // Longest-first evens the slots out to within about half the shortest job (monotone in the
    // work, and 1.4 % on average from a longest-first schedule of a causal grid's growing jobs,
    // docs/kernels.md step 4), but never beyond what greedy dispatch guarantees (waves x the
    // longest job: a job starts on the least-loaded slot) and never below what the slots must hold
    // (the longest job; waves x the shortest, as some slot runs that many jobs). Equal jobs run in
    // waves; so does a grid of at most one job per slot.
    const double w = waves(count, slots);
    return std::max({max_s, w * min_s, std::min(w * max_s, count * mean_s / slots + 0.5 * min_s)});
  }
  return (waves(count, slots) - 1) * mean_s + max_s;
}

}  // namespace sim
