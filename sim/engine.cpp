#include "sim/engine.hpp"

#include <fmt/format.h>

#include "common/errors.hpp"

namespace sim {

std::string_view to_string(Resource r) {
  switch (r) {
    case Resource::tensor:
      return "tensor";
    case Resource::vector:
      return "vector";
    case Resource::exp:
      return "exp";
    case Resource::hbm:
      return "hbm";
    case Resource::link:
      return "link";
    case Resource::launch:
      return "launch";
  }
  return "?";
}

std::string_view to_string(EngineKind e) {
  switch (e) {
    case EngineKind::roofline:
      return "roofline";
    case EngineKind::tile:
      return "tile";
  }
  return "?";
}

EngineKind parse_engine(std::string_view name) {
  if (name == "roofline") return EngineKind::roofline;
  if (name == "tile") return EngineKind::tile;
  throw common::SpecError(fmt::format("unknown engine '{}'; known: roofline, tile", name));
}

Prediction predict(EngineKind engine, const models::CostModel& cost, const models::Workload& w,
                   const hw::Profile& profile, std::string_view kernel) {
  switch (engine) {
    case EngineKind::roofline:
      return predict_roofline(cost, w, profile);
    case EngineKind::tile:
      return predict_tile(cost, w, profile, kernel);
  }
  throw common::SpecError("unknown engine");
}

}  // namespace sim
