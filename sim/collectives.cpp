#include "sim/collectives.hpp"

#include <algorithm>
#include <cmath>

namespace sim {

namespace {

CommCost on(LinkClass cls, double bytes, double time_s) {
  CommCost c;
  (cls == LinkClass::scale_up ? c.scale_up_bytes : c.scale_out_bytes) = bytes;
  c.time_s = time_s;
  return c;
}

// `steps` latency terms plus `bytes` over the link.
CommCost steps_and_bytes(double steps, double bytes, const LinkCost& link, LinkClass cls) {
  return on(cls, bytes, steps * link.latency_s + bytes / link.bandwidth_Bps);
}

}  // namespace

CommCost send_recv(double bytes, const LinkCost& link, LinkClass cls) {
  if (bytes <= 0) return {};
  return steps_and_bytes(1, bytes, link, cls);
}

CommCost ring_all_gather(double bytes, int p, const LinkCost& link, LinkClass cls) {
  if (p <= 1 || bytes <= 0) return {};
  const double share = static_cast<double>(p - 1) / p;
  return steps_and_bytes(p - 1, share * bytes, link, cls);
}

CommCost ring_reduce_scatter(double bytes, int p, const LinkCost& link, LinkClass cls) {
  return ring_all_gather(bytes, p, link, cls);  // same steps and volume, reduced on arrival
}

CommCost ring_all_reduce(double bytes, int p, const LinkCost& link, LinkClass cls) {
  CommCost c = ring_reduce_scatter(bytes, p, link, cls);
  c += ring_all_gather(bytes, p, link, cls);
  return c;
}

CommCost tree_all_reduce(double bytes, int p, const LinkCost& link, LinkClass cls) {
  if (p <= 1 || bytes <= 0) return {};
  const double depth = std::ceil(std::log2(static_cast<double>(p)));
  return steps_and_bytes(2 * depth, 2 * bytes, link, cls);
}

CommCost all_to_all(double bytes, int p, const LinkCost& link, LinkClass cls) {
  return ring_all_gather(bytes, p, link, cls);  // (p-1) pairwise steps of bytes/p each
}

CommCost hierarchical_all_gather(double bytes, const Hierarchy& h) {
  // Across nodes: each device gathers the `nodes` blocks of its local rank (bytes/per_node).
  CommCost c = ring_all_gather(bytes / h.per_node, h.nodes, h.scale_out, LinkClass::scale_out);
  c += ring_all_gather(bytes, h.per_node, h.scale_up, LinkClass::scale_up);
  return c;
}

CommCost hierarchical_reduce_scatter(double bytes, const Hierarchy& h) {
  CommCost c = ring_reduce_scatter(bytes, h.per_node, h.scale_up, LinkClass::scale_up);
  c += ring_reduce_scatter(bytes / h.per_node, h.nodes, h.scale_out, LinkClass::scale_out);
  return c;
}

CommCost hierarchical_all_reduce(double bytes, const Hierarchy& h) {
  CommCost c = ring_reduce_scatter(bytes, h.per_node, h.scale_up, LinkClass::scale_up);
  c += ring_all_reduce(bytes / h.per_node, h.nodes, h.scale_out, LinkClass::scale_out);
  c += ring_all_gather(bytes, h.per_node, h.scale_up, LinkClass::scale_up);
  return c;
}

CommCost hierarchical_all_to_all(double bytes, const Hierarchy& h) {
  const int p = h.devices();
  if (p <= 1 || bytes <= 0) return {};
  const double share = bytes / p;
  CommCost inside =
      steps_and_bytes(h.per_node - 1, (h.per_node - 1) * share, h.scale_up, LinkClass::scale_up);
  if (h.nodes <= 1) return inside;
  CommCost across =
      steps_and_bytes(p - h.per_node, (p - h.per_node) * share, h.scale_out, LinkClass::scale_out);
  CommCost c;
  c.scale_up_bytes = inside.scale_up_bytes;
  c.scale_out_bytes = across.scale_out_bytes;
  c.time_s = std::max(inside.time_s, across.time_s);
  return c;
}

}  // namespace sim
