// Sweep axes (cli/sweep_axes.hpp): values, lists and ranges, with sizes in k/M/G.
#include <catch2/catch.hpp>

#include "cli/sweep_axes.hpp"
#include "common/errors.hpp"

using cli::parse_int_axis;
using V = std::vector<std::int64_t>;

TEST_CASE("an axis is one value, a list, or a range that multiplies, adds or counts",
          "[cli][sweep]") {
  CHECK(parse_int_axis("--batch", "8") == V{8});
  CHECK(parse_int_axis("--batch", "1,8,64") == V{1, 8, 64});
  CHECK(parse_int_axis("--seq-len", "1024..16384:x2") == V{1024, 2048, 4096, 8192, 16384});
  CHECK(parse_int_axis("--seq-len", "0..16k:+4096") == V{0, 4096, 8192, 12288, 16384});
  CHECK(parse_int_axis("--q-len", "1..5") == V{1, 2, 3, 4, 5});
  // Lists and ranges mix; a range whose last factor step overshoots stops below the end.
  CHECK(parse_int_axis("--seq-len", "1,3..100:x3") == V{1, 3, 9, 27, 81});
  CHECK(parse_int_axis("--seq-len", "128k,1M,1G") == V{131072, 1048576, 1073741824});
  CHECK(parse_int_axis("--seq-len", "1..200000").size() == 200000);
}

TEST_CASE("malformed axes are errors naming the flag and the accepted forms", "[cli][sweep]") {
  for (const char* text : {"", "1,,2", "abc", "10..1", "1..10:x1", "1..10:+0", "1..10:*2",
                           "0..10:x2", "1..", "..5", "010x", "99999999999999999999", "1..1G"}) {
    INFO(text);
    CHECK_THROWS_WITH(parse_int_axis("--batch", text),
                      Catch::Contains("--batch") && Catch::Contains("expected a value"));
  }
}

TEST_CASE("a size axis takes values from 1 to its limit, and names the first outside",
          "[cli][sweep]") {
  std::vector<std::string> warnings;
  const auto parse_size_axis = [&](const char* flag, const char* text, std::int64_t max) {
    return cli::parse_size_axis(flag, text, max, warnings);
  };
  CHECK(parse_size_axis("--batch", "1,8", 64) == V{1, 8});
  CHECK(parse_size_axis("--seq-len", "4096..16k:+4096", 16384) == V{4096, 8192, 12288, 16384});
  CHECK_THROWS_WITH(parse_size_axis("--seq-len", "0..16k:+4096", 1 << 30),
                    Catch::Contains("--seq-len '0..16k:+4096': 0 is outside [1, 1073741824]"));
  CHECK_THROWS_WITH(parse_size_axis("--batch", "8,128", 64),
                    Catch::Contains("128 is outside [1, 64]"));
}

TEST_CASE("a size axis calls a negative or too large value out of range, giving the range",
          "[cli][sweep]") {
  std::vector<std::string> warnings;
  const auto parse_size_axis = [&](const char* flag, const char* text, std::int64_t max) {
    return cli::parse_size_axis(flag, text, max, warnings);
  };
  for (const char* text :
       {"-1", "1,-1", "-1..8", "1..-5", "99999999999999999999", "1..1G", "-1k"}) {
    INFO(text);
    CHECK_THROWS_WITH(parse_size_axis("--batch", text, 64),
                      Catch::Contains("is outside [1, 64]") &&
                          !Catch::Contains("not a decimal integer") &&
                          !Catch::Contains("too large") && !Catch::Contains("more than"));
  }
  // Not a number at all is still said so.
  CHECK_THROWS_WITH(parse_size_axis("--batch", "-x", 64), Catch::Contains("not a decimal integer"));
}
