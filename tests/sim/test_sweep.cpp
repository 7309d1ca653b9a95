// sim::run_sweep: results come out in index order whatever the thread count, in bounded blocks.
#include <catch2/catch.hpp>

#include <stdexcept>
#include <string>
#include <vector>

#include "sim/sweep.hpp"

TEST_CASE("a sweep emits every point once, in index order, for any thread count and block",
          "[sim][sweep]") {
  for (unsigned threads : {1u, 2u, 7u}) {
    for (std::size_t block : {1, 3, 1000}) {
      INFO("threads " << threads << " block " << block);
      std::vector<std::string> out;
      std::vector<std::size_t> progress;
      sim::run_sweep(
          {10, 250, threads, block},
          [](std::size_t i, std::string& row) { row = std::to_string(i * i); },
          [&](const std::string& row) { out.push_back(row); },
          [&](std::size_t done) { progress.push_back(done); });
      REQUIRE(out.size() == 250);
      for (std::size_t i = 0; i < out.size(); ++i)
        CHECK(out[i] == std::to_string((i + 10) * (i + 10)));
      CHECK(progress.back() == 250);
      CHECK(progress.size() == (250 + block - 1) / block);
    }
  }
}

TEST_CASE("a failing point stops the sweep and its exception reaches the caller", "[sim][sweep]") {
  std::size_t emitted = 0;
  CHECK_THROWS_WITH(sim::run_sweep(
                        {0, 100, 2, 10},
                        [](std::size_t i, std::string& row) {
                          if (i == 42) throw std::runtime_error("point 42");
                          row.push_back('x');
                        },
                        [&](const std::string&) { ++emitted; }),
                    "point 42");
  CHECK(emitted == 40);  // the blocks before the failing one
}
