// ctest runs each test case by passing its name to the test binary (catch_discover_tests), so a
// name the binary would read as an option ("--tp above ...") fails in CI whatever the test does.
#include <catch2/catch.hpp>

#include <string>

TEST_CASE("no test case name starts with '-', which ctest would pass as an option", "[docs]") {
  for (const Catch::TestCase& t : Catch::getRegistryHub().getTestCaseRegistry().getAllTests()) {
    INFO(t.name);
    CHECK(t.name.rfind('-', 0) != 0);
  }
}
