// "Did you mean" for a mistyped name: the known name nearest to it, when one is near enough to be
// a slip (an edit or two, a case difference, a missing separator) rather than another word.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace common {

// Edits (insert, delete, substitute, swap two neighbours) from `a` to `b`, ASCII case folded.
std::size_t edit_distance(std::string_view a, std::string_view b);

// " (did you mean 'x'?)" for the nearest of `known` within a third of the name's length (at least
// one edit): " (did you mean 'x' or 'y'?)" when two or three are as near; "" when none is that
// near, more than three are, or `name` is itself known.
std::string did_you_mean(std::string_view name, const std::vector<std::string>& known);

}  // namespace common
