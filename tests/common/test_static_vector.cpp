#include <catch2/catch.hpp>

#include "common/static_vector.hpp"

TEST_CASE("StaticVector keeps pushed values in order and copies only those", "[static_vector]") {
  common::StaticVector<int, 3> v;
  CHECK(v.empty());
  v.push_back(7);
  v.push_back(9);
  REQUIRE(v.size() == 2);
  CHECK(v[0] == 7);
  CHECK(v[1] == 9);
  common::StaticVector<int, 3> copy = v;
  v[0] = 1;
  CHECK(copy[0] == 7);
  CHECK(copy.size() == 2);
  int sum = 0;
  for (int x : copy) sum += x;
  CHECK(sum == 16);
  copy = v;
  CHECK(copy[0] == 1);
}

TEST_CASE("StaticVector refuses to grow past its capacity", "[static_vector]") {
  common::StaticVector<int, 2> v;
  v.push_back(1);
  v.push_back(2);
  CHECK_THROWS_AS(v.push_back(3), std::length_error);
  CHECK(v.size() == 2);
}
