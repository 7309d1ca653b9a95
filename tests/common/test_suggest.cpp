// common::did_you_mean: a mistyped name gets the nearest known one, a different word gets none.
#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "common/suggest.hpp"
#include "tests/support/cli_runner.hpp"

TEST_CASE("edit distance counts inserts, deletes, substitutions and swapped neighbours",
          "[common][suggest]") {
  CHECK(common::edit_distance("fa3", "fa3") == 0);
  CHECK(common::edit_distance("FA3", "fa3") == 0);  // case folded
  CHECK(common::edit_distance("fa33", "fa3") == 1);
  CHECK(common::edit_distance("fa", "fa3") == 1);
  CHECK(common::edit_distance("fa2", "fa3") == 1);
  CHECK(common::edit_distance("gqa", "qga") == 1);  // one swap, not two substitutions
  CHECK(common::edit_distance("", "mha") == 3);
  CHECK(common::edit_distance("kitten", "sitting") == 3);
}

TEST_CASE("did you mean names the nearest known name only when it is a slip, and every tie",
          "[common][suggest]") {
  const std::vector<std::string> known = {"mha", "gqa", "gqsa", "mla", "nsa", "llama-3.1-8b"};
  CHECK(common::did_you_mean("mla2", known) == " (did you mean 'mla'?)");
  CHECK(common::did_you_mean("MHA", known) == " (did you mean 'mha'?)");  // case only
  CHECK(common::did_you_mean("gqaa", known) == " (did you mean 'gqa' or 'gqsa'?)");
  CHECK(common::did_you_mean("llama-3.1-8", known) == " (did you mean 'llama-3.1-8b'?)");
  CHECK(common::did_you_mean("xyzzy", known).empty());  // another word
  CHECK(common::did_you_mean("mha", known).empty());    // known already
  CHECK(common::did_you_mean("zz", {"ab", "ac", "ad", "ae"}).empty());
  CHECK(common::did_you_mean("xa", {"aa", "ba", "ca", "da"}).empty());  // four as near: no guess
}

TEST_CASE("unknown kernels, variants, profiles, models and profile keys say what was meant",
          "[common][suggest][cli]") {
  const auto err = [](std::vector<std::string> args) {
    const test_support::RunResult r = test_support::run_cli(args);
    CHECK(r.exit_code == 2);
    return r.err;
  };
  CHECK_THAT(err({"query", "--kernel", "fa33"}),
             Catch::Contains("unknown kernel 'fa33' (did you mean 'fa3'?); known: auto, fa2"));
  CHECK_THAT(err({"query", "--variant", "mla2"}),
             Catch::Contains("unknown variant 'mla2' (did you mean 'mla'?); known: mha"));
  CHECK_THAT(err({"query", "--hw", "h1000"}),
             Catch::Contains("unknown hardware profile 'h1000' (did you mean 'h100'?); known:"));
  CHECK_THAT(err({"query", "--model", "llama-3.1-8"}),
             Catch::Contains("unknown model 'llama-3.1-8' (did you mean 'llama-3.1-8b'?)"));
  CHECK_THAT(err({"query", "--hw-set", "calibration.hbm_fractoin=0.9", "--hw", "h100"}),
             Catch::Contains("(did you mean 'hbm_fraction'?)"));
}
