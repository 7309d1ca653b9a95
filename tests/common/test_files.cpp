// common::read_file: a whole file's bytes, or nothing for a path that cannot be read as a file.
#include <catch2/catch.hpp>

#include <string>

#include "common/files.hpp"
#include "tests/support/temp_dir.hpp"

TEST_CASE("read_file returns every byte of the file, NUL and CR included", "[common][files]") {
  test_support::TempDir dir;
  const std::string bytes = std::string("{\"a\": 1}\r\n", 10) + std::string(1, '\0') + "tail";
  const auto path = test_support::write_file(dir, bytes, "x.json");
  const auto text = common::read_file(path);
  REQUIRE(text.has_value());
  CHECK(*text == bytes);
  CHECK(common::read_file(test_support::write_file(dir, "", "empty.json")) == std::string());
}

TEST_CASE("read_file gives nothing for a missing file or a directory", "[common][files]") {
  test_support::TempDir dir;
  CHECK_FALSE(common::read_file(dir.path() / "missing.json").has_value());
  CHECK_FALSE(common::read_file(dir.path()).has_value());
}
