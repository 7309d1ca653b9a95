// Q/K/V and output projection GEMMs (docs/variants.md#02-dense-attention), counted only when
// the user asks for them (--include-projections).
#pragma once

#include "models/cost_model.hpp"
#include "models/variant.hpp"
#include "models/workload.hpp"

namespace models {

// A GEMM Y[m,n] = X[m,k] W[k,n] reading X and W once and writing Y once; its backward (dX and dW)
// costs twice the FLOPs. `s` is bytes per element.
Op gemm_op(const char* name, Pass pass, double m, double n, double k, double s);

// A memory-bound elementwise pass over `elements` values: `bytes_per_element` moved per value,
// `exp_per_element` exponentials/sigmoids and `vector_per_element` other FLOPs.
Op elementwise_op(const char* name, Pass pass, double elements, double bytes_per_element,
                  double exp_per_element, double vector_per_element);

// A ring all-reduce of `payload` bytes over `devices`: each device sends 2 (g - 1) / g payload
// in 2 (g - 1) steps (sim/collectives.hpp's ring_all_reduce).
Op all_reduce_op(const char* name, double payload, double devices);

// Model width D: the configured hidden size, or heads x head_dim when it is 0.
double hidden_size(const HeadConfig& h, const ProjectionConfig& p);

// Parameters of one layer's projections: D x [Hq d + Hkv (d + dv)] + Hq dv x D.
double projection_parameters(const HeadConfig& h, const ProjectionConfig& p);

// Output widths of the Q, K, V projections and input width of the O projection.
struct ProjectionWidths {
  double q = 0, k = 0, v = 0, o = 0;
};
ProjectionWidths projection_widths(const HeadConfig& h);

// The same for explicit widths (variants whose K and V head counts differ).
void add_projections(const ProjectionWidths& widths, double d_model, const ProjectionConfig& p,
                     const Workload& w, CostModel& model);

// Appends the fused QKV and the output projection GEMMs (forward and/or backward, by phase).
void add_projections(const HeadConfig& h, const ProjectionConfig& p, const Workload& w,
                     CostModel& model);

}  // namespace models
