// common::parse_json_events: the one reader behind profiles, Hugging Face configs and sweep specs
// names where JSON text goes wrong: a repeated key, a number beyond a double, malformed text.
#include <catch2/catch.hpp>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>

#include "common/json_events.hpp"

namespace {

// The fault parse_json_events reports for `text` (kind malformed with detail "none" if none).
common::JsonFault fault_of(const std::string& text,
                           const std::function<std::string(int, std::string)>& same_key = {}) {
  common::JsonFault seen;
  seen.detail = "none";
  try {
    common::parse_json_events(
        text,
        [&](const common::JsonFault& f) {
          seen = f;
          throw std::runtime_error("fault");
        },
        same_key);
  } catch (const std::runtime_error&) {
  }
  return seen;
}

}  // namespace

TEST_CASE("a key repeated in one object is a fault naming its pointer, object and depth",
          "[common][json]") {
  const common::JsonFault top = fault_of(R"({"a": 1, "b": 2, "a": 3})");
  CHECK(top.kind == common::JsonFault::Kind::repeated_key);
  CHECK(top.key == "a");
  CHECK(top.pointer == "/a");
  CHECK(top.object.empty());
  CHECK(top.depth == 1);
  const common::JsonFault nested = fault_of(R"({"x": [{"k": 1}, {"m/n": 1, "m/n": 2}]})");
  CHECK(nested.kind == common::JsonFault::Kind::repeated_key);
  CHECK(nested.pointer == "/x/1/m~1n");  // RFC 6901 escapes
  CHECK(nested.object == "/x/1");
  CHECK(nested.depth == 3);
  const common::JsonFault in_object = fault_of(R"({"hw-set": {"a": 1, "a": 2}})");
  CHECK(in_object.parent_key == "hw-set");
  // The same key in two objects is no fault, and equal values are still a repeat.
  CHECK(fault_of(R"({"a": {"k": 1}, "b": {"k": 1}})").detail == "none");
  CHECK(fault_of(R"({"k": 1, "k": 1})").kind == common::JsonFault::Kind::repeated_key);
}

TEST_CASE("keys are compared as the reader says (the sweep spec's seq_len is seq-len)",
          "[common][json]") {
  const auto dash = [](int depth, std::string key) {
    if (depth == 1) std::replace(key.begin(), key.end(), '_', '-');
    return key;
  };
  const common::JsonFault f = fault_of(R"({"seq_len": 1, "seq-len": 2})", dash);
  CHECK(f.kind == common::JsonFault::Kind::repeated_key);
  CHECK(f.key == "seq-len");
  CHECK(fault_of(R"({"p": {"a_b": 1, "a-b": 2}})", dash).detail == "none");  // below the top
}

TEST_CASE("a number beyond a double names its pointer; malformed text keeps nlohmann's message",
          "[common][json]") {
  const common::JsonFault big = fault_of(R"({"compute": {"sm_count": 1e999}})");
  CHECK(big.kind == common::JsonFault::Kind::number_overflow);
  CHECK(big.detail == "1e999");
  CHECK(big.pointer == "/compute/sm_count");
  const common::JsonFault bad = fault_of(R"({"a": )");
  CHECK(bad.kind == common::JsonFault::Kind::malformed);
  CHECK_THAT(bad.detail, Catch::Contains("parse error"));
  CHECK(common::parse_json_events(R"({"a": [1, 2]})", [](const common::JsonFault&) {})
            .at("a")
            .size() == 2);
}
