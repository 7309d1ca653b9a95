#include "validate/measured_ops.hpp"

#include <algorithm>
#include <stdexcept>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

namespace validate {

namespace {

// An op's name without its pass suffix (`_fwd`, `_bwd`): what the `op` column names.
std::string op_base_name(std::string_view name) {
  for (std::string_view suffix : {std::string_view("_fwd"), std::string_view("_bwd")}) {
    if (name.size() > suffix.size() && name.substr(name.size() - suffix.size()) == suffix) {
      return std::string(name.substr(0, name.size() - suffix.size()));
    }
  }
  return std::string(name);
}

// The ops the `op` column names: one name, or several joined by '+'.
std::vector<std::string> named_ops(const std::string& column) {
  std::vector<std::string> names;
  std::size_t start = 0;
  while (start <= column.size()) {
    const std::size_t end = std::min(column.find('+', start), column.size());
    names.push_back(column.substr(start, end - start));
    start = end + 1;
  }
  return names;
}

}  // namespace

models::CostModel case_cost(const MeasuredCase& c) {
  const models::CostModel whole = c.spec.variant->cost(c.spec, c.workload);
  if (c.op.empty()) return whole;
  const std::vector<std::string> names = named_ops(c.op);
  models::CostModel kept = whole;
  kept.ops = {};
  for (const models::Op& op : whole.ops) {
    if (std::find(names.begin(), names.end(), op_base_name(op.name)) != names.end()) {
      kept.ops.push_back(op);
    }
  }
  return kept;
}

namespace {

// The names the `op` column may give for this row: its variant's ops in its passes.
std::vector<std::string> known_ops(const MeasuredCase& c) {
  std::vector<std::string> known;
  for (const models::Op& op : c.spec.variant->cost(c.spec, c.workload).ops) {
    const std::string name = op_base_name(op.name);
    if (std::find(known.begin(), known.end(), name) == known.end()) known.push_back(name);
  }
  return known;
}

}  // namespace

std::string ops_the_variant_has(const MeasuredCase& c, std::string_view implied) {
  if (implied.empty()) return "";
  const std::vector<std::string> known = known_ops(c);
  std::string kept;
  for (const std::string& name : named_ops(std::string(implied))) {
    if (std::find(known.begin(), known.end(), name) == known.end()) continue;
    kept += (kept.empty() ? "" : "+") + name;
  }
  return kept;
}

void check_op(const MeasuredCase& c, const std::string& where) {
  if (c.op.empty()) return;
  const std::vector<std::string> known = known_ops(c);
  for (const std::string& name : named_ops(c.op)) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    throw std::invalid_argument(
        fmt::format("{}: column 'op': variant '{}' has no op '{}' in a {} "
                    "pass; allowed: {} (several joined by '+')",
                    where, c.spec.variant->name(), name, c.pass, fmt::join(known, ", ")));
  }
}

}  // namespace validate
