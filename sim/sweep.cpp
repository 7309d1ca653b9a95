#include "sim/sweep.hpp"

#include <algorithm>
#include <atomic>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace sim {

namespace {

// Evaluates points [begin, begin + results.size()) into `results` with `threads` workers taking
// indices from a shared counter. Returns the first exception, if any.
std::exception_ptr evaluate_block(std::size_t begin, std::vector<std::string>& results,
                                  unsigned threads,
                                  const std::function<void(std::size_t, std::string&)>& evaluate) {
  std::atomic<std::size_t> next{0};
  std::exception_ptr failure;
  std::mutex failure_mutex;
  auto work = [&] {
    while (true) {
      const std::size_t i = next.fetch_add(1);
      if (i >= results.size()) return;
      try {
        results[i].clear();
        evaluate(begin + i, results[i]);
      } catch (...) {
        const std::lock_guard<std::mutex> lock(failure_mutex);
        if (!failure) failure = std::current_exception();
        next.store(results.size());
        return;
      }
    }
  };
  std::vector<std::thread> workers;
  for (unsigned t = 1; t < threads; ++t) workers.emplace_back(work);
  work();
  for (std::thread& w : workers) w.join();
  return failure;
}

}  // namespace

void run_sweep(const SweepRun& run, const std::function<void(std::size_t, std::string&)>& evaluate,
               const std::function<void(const std::string&)>& emit,
               const std::function<void(std::size_t)>& progress) {
  const std::size_t block = std::max<std::size_t>(1, run.block);
  const unsigned threads = std::max(1u, run.threads);
  std::vector<std::string> results;
  for (std::size_t done = 0; done < run.count;) {
    results.resize(std::min(block, run.count - done));
    if (std::exception_ptr failure = evaluate_block(run.first + done, results, threads, evaluate)) {
      std::rethrow_exception(failure);
    }
    for (const std::string& r : results) emit(r);
    done += results.size();
    if (progress) progress(done);
  }
}

}  // namespace sim
