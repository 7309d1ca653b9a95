// Q/K/V and output projection GEMMs (reference/variants.md §0.2 "Projections"), counted only when
// the user asks for them (--include-projections).
#pragma once

#include "models/cost_model.hpp"
#include "models/variant.hpp"
#include "models/workload.hpp"

namespace models {

// Model width D: the configured hidden size, or heads x head_dim when it is 0.
double hidden_size(const HeadConfig& h, const ProjectionConfig& p);

// Parameters of one layer's projections: D x [Hq d + Hkv (d + dv)] + Hq dv x D.
double projection_parameters(const HeadConfig& h, const ProjectionConfig& p);

// Appends the fused QKV and the output projection GEMMs (forward and/or backward, by phase).
void add_projections(const HeadConfig& h, const ProjectionConfig& p, const Workload& w,
                     CostModel& model);

}  // namespace models
