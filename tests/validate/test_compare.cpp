// The error statistics of validate (validate/compare.hpp): which part of the report a row counts
// in.
#include <catch2/catch.hpp>

#include <vector>

#include "validate/compare.hpp"

TEST_CASE("a row counts in the held-out part, the fitted part or neither, and always in all",
          "[validate][compare]") {
  // One rule for the report's summary and its per-group table (both use SplitErrors).
  validate::MeasuredCase c;
  validate::CaseResult held, fitted, unused;
  held.measured = fitted.measured = unused.measured = &c;
  held.held_out = true;
  held.fit_row = false;  // held back: in its part whether or not a fit used it
  fitted.fit_row = true;
  unused.fit_row = false;  // not held back, and no --calibrate fit used it
  validate::SplitErrors e;
  e.add(held, 0.1);
  e.add(fitted, 0.2);
  e.add(unused, 0.3);
  CHECK(e.held == std::vector<double>{0.1});
  CHECK(e.fitted == std::vector<double>{0.2});
  CHECK(e.all == std::vector<double>{0.1, 0.2, 0.3});
}
