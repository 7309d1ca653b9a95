// Evaluating many independent points on several threads while emitting their results in index
// order, block by block, so memory stays bounded whatever the number of points.
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace sim {

struct SweepRun {
  std::size_t first = 0;     // index of the first point (a shard's start)
  std::size_t count = 0;     // points to evaluate: first .. first + count - 1
  unsigned threads = 1;      // worker threads (>= 1)
  std::size_t block = 4096;  // points evaluated before their results are emitted, in order
};

// Calls `evaluate(i, out)` for every point i of `run` (from any worker thread; `out` is the point's
// own string, empty on entry), then `emit(out)` for each point in index order on the calling
// thread, and `progress(done)` after each block. The first exception thrown by `evaluate` stops
// the run and is rethrown here after the workers have finished.
void run_sweep(const SweepRun& run, const std::function<void(std::size_t, std::string&)>& evaluate,
               const std::function<void(const std::string&)>& emit,
               const std::function<void(std::size_t)>& progress = {});

}  // namespace sim
