#include "models/projections.hpp"

namespace models {

Op gemm_op(const char* name, Pass pass, double m, double n, double k, double s) {
  Op op;
  op.kind = OpKind::gemm;
  op.pass = pass;
  op.name = name;
  op.gemm = {m, n, k};
  if (pass == Pass::forward) {
    op.flops.tensor = 2 * m * n * k;
    op.bytes.weights = s * k * n;
    op.bytes.activations = s * (m * k + m * n);
  } else {
    // dX = dY W^T and dW = X^T dY: reads dY, X and W, writes dX and dW.
    op.flops.tensor = 4 * m * n * k;
    op.bytes.weights = 2 * s * k * n;
    op.bytes.activations = s * (m * n + 2 * m * k);
  }
  return op;
}

Op all_reduce_op(const char* name, double payload, double devices) {
  Op op;
  op.kind = OpKind::collective;
  op.name = name;
  op.link_bytes = 2 * (devices - 1) / devices * payload;
  op.link_devices = devices;
  op.link_steps = 2 * (devices - 1);   // reduce-scatter then all-gather, devices - 1 each
  op.bytes.activations = 2 * payload;  // read the partial, write the sum
  op.flops.vector = payload / 2 * (devices - 1) / devices;  // adds of 16-bit values, per device
  return op;
}

Op elementwise_op(const char* name, Pass pass, double elements, double bytes_per_element,
                  double exp_per_element, double vector_per_element) {
  Op op;
  op.kind = OpKind::elementwise;
  op.pass = pass;
  op.name = name;
  op.flops.exp = elements * exp_per_element;
  op.flops.vector = elements * vector_per_element;
  op.bytes.activations = elements * bytes_per_element;
  return op;
}

double hidden_size(const HeadConfig& h, const ProjectionConfig& p) {
  return p.hidden_size > 0 ? static_cast<double>(p.hidden_size)
                           : static_cast<double>(h.heads * h.head_dim);
}

ProjectionWidths projection_widths(const HeadConfig& h) {
  return {static_cast<double>(h.heads * h.head_dim), static_cast<double>(h.kv_heads * h.head_dim),
          static_cast<double>(h.kv_heads * h.v_head_dim),
          static_cast<double>(h.heads * h.v_head_dim)};
}

double projection_parameters(const HeadConfig& h, const ProjectionConfig& p) {
  const ProjectionWidths x = projection_widths(h);
  return hidden_size(h, p) * (x.q + x.k + x.v + x.o);
}

void add_projections(const HeadConfig& h, const ProjectionConfig& p, const Workload& w,
                     CostModel& model) {
  add_projections(projection_widths(h), hidden_size(h, p), p, w, model);
}

void add_projections(const ProjectionWidths& x, double d_model, const ProjectionConfig& p,
                     const Workload& w, CostModel& model) {
  if (!p.include) return;
  const double tokens = static_cast<double>(w.batch * w.q_len);
  const double qkv_width = x.q + x.k + x.v;
  const double s = bytes_per_element(w.dtype);
  if (has_forward(w.phase)) {
    model.ops.push_back(gemm_op("qkv_proj_fwd", Pass::forward, tokens, qkv_width, d_model, s));
    model.ops.push_back(gemm_op("o_proj_fwd", Pass::forward, tokens, d_model, x.o, s));
  }
  if (has_backward(w.phase)) {
    model.ops.push_back(gemm_op("qkv_proj_bwd", Pass::backward, tokens, qkv_width, d_model, s));
    model.ops.push_back(gemm_op("o_proj_bwd", Pass::backward, tokens, d_model, x.o, s));
  }
  model.parameters_per_layer = d_model * (qkv_width + x.o);
}

}  // namespace models
