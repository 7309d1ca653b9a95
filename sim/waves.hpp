// The tile engine's named terms, each a pure closed-form function (no per-CTA loops).
#pragma once

#include "hwprofiles/profile.hpp"
#include "sim/launch.hpp"

namespace sim {

// CTAs of this shape that fit on one SM at once: the tightest of shared memory, threads,
// registers, the device's CTA limit and the kernel's own limit. At least 1.
double ctas_per_sm(const CtaResources& cta, const hw::Profile& profile);

// Full waves needed for `ctas` CTAs on `slots` concurrent slots: ceil(ctas / slots).
double waves(double ctas, double slots);

// Time for one tile iteration on one SM: matmul and softmax (exp + FP32 pipe) time, where
// `overlap` of the shorter one hides under the longer, plus fixed cycles.
double overlapped(double matmul_s, double softmax_s, double overlap);

// Makespan of `count` jobs with the given duration spread on `slots` slots.
//   in_order:  (waves - 1) x mean + max  — the last wave ends with the longest jobs (the caller,
//   sim::grid_span, prices that last job at the last wave's stacking and floors the grid at the
//   same jobs one wave fewer).
//   persistent_lpt: longest-first, so max(longest job, total / slots + half the shortest job) —
//   near-perfect packing with no tail — within waves x the shortest and waves x the longest job
//   (so equal or nearly equal jobs run in waves).
//   persistent_static: equal jobs in rounds, as in_order.
// With equal jobs every dispatch gives waves x duration (wave quantisation).
double makespan(Dispatch dispatch, double count, double min_s, double mean_s, double max_s,
                double slots);

}  // namespace sim
