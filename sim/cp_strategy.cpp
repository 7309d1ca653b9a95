// The context-parallel strategies' names, as the CLI and reports spell them.
#include <array>

#include <fmt/format.h>

#include "common/errors.hpp"
#include "sim/parallel.hpp"

namespace sim {

namespace {

constexpr std::array<CpStrategy, 7> kStrategies = {
    CpStrategy::ring,  CpStrategy::zigzag, CpStrategy::ulysses, CpStrategy::allgather,
    CpStrategy::lasp2, CpStrategy::zeco,   CpStrategy::cad};

}  // namespace

std::string_view to_string(CpStrategy s) {
  switch (s) {
    case CpStrategy::ring:
      return "ring";
    case CpStrategy::zigzag:
      return "zigzag";
    case CpStrategy::ulysses:
      return "ulysses";
    case CpStrategy::allgather:
      return "allgather";
    case CpStrategy::lasp2:
      return "lasp2";
    case CpStrategy::zeco:
      return "zeco";
    case CpStrategy::cad:
      return "cad";
  }
  return "?";
}

CpStrategy parse_cp_strategy(std::string_view name) {
  for (CpStrategy s : kStrategies) {
    if (to_string(s) == name) return s;
  }
  throw common::SpecError(fmt::format(
      "unknown --cp-strategy '{}'; known: ring, zigzag, ulysses, allgather, lasp2, zeco, cad",
      name));
}

}  // namespace sim
