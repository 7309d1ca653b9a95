// Cost of collective communication between devices: pure alpha-beta functions (a latency per step
// plus bytes over bandwidth), flat over one link class and hierarchical (inside a node on the
// scale-up link, then across nodes on the scale-out link).
//
// Textbook forms: Thakur, Rabenseifner and Gropp, "Optimization of Collective Communication
// Operations in MPICH", IJHPCA 19(1), 2005 (ring all-gather / reduce-scatter / all-reduce, pairwise
// all-to-all, tree latency log2 p); NCCL's double binary tree for the tree all-reduce
// (https://developer.nvidia.com/blog/massively-scale-deep-learning-training-nccl-2-4/).
#pragma once

namespace sim {

// One link class as a collective sees it: bandwidth per device and direction, latency per step.
struct LinkCost {
  double bandwidth_Bps = 0;
  double latency_s = 0;
};

// What one device sends (one direction) on each link class, and how long the collective takes.
struct CommCost {
  double scale_up_bytes = 0;
  double scale_out_bytes = 0;
  double time_s = 0;
  double bytes() const { return scale_up_bytes + scale_out_bytes; }
  CommCost& operator+=(const CommCost& o) {
    scale_up_bytes += o.scale_up_bytes;
    scale_out_bytes += o.scale_out_bytes;
    time_s += o.time_s;
    return *this;
  }
};

// Which link class a flat collective runs on (for the byte accounting).
enum class LinkClass { scale_up, scale_out };

// Flat collectives over p devices on one link class. `bytes` is the whole buffer: for all-gather
// the gathered result, for reduce-scatter and all-reduce the input of each device, for all-to-all
// what each device holds before the exchange. p = 1 costs nothing.
CommCost send_recv(double bytes, const LinkCost& link, LinkClass cls);  // alpha + n / beta
// Ring: (p-1) steps, each device sends (p-1)/p of the buffer.
CommCost ring_all_gather(double bytes, int p, const LinkCost& link, LinkClass cls);
CommCost ring_reduce_scatter(double bytes, int p, const LinkCost& link, LinkClass cls);
// Ring: reduce-scatter then all-gather: 2(p-1) steps, 2(p-1)/p of the buffer per device.
CommCost ring_all_reduce(double bytes, int p, const LinkCost& link, LinkClass cls);
// Pipelined (double binary) tree: 2 ceil(log2 p) latency steps (up the tree and back down), and
// each device sends the buffer twice (once reduced upwards, once broadcast down).
CommCost tree_all_reduce(double bytes, int p, const LinkCost& link, LinkClass cls);
// Pairwise exchange: (p-1) steps, each device sends (p-1)/p of what it holds.
CommCost all_to_all(double bytes, int p, const LinkCost& link, LinkClass cls);

// p = per_node x nodes devices, `per_node` of them on one node's scale-up link.
struct Hierarchy {
  int per_node = 1;
  int nodes = 1;
  LinkCost scale_up;
  LinkCost scale_out;
  int devices() const { return per_node * nodes; }
};

// All-gather: across nodes among devices of equal local rank (each gathers `nodes` blocks of
// bytes/p), then inside each node (each device ends with the whole buffer).
CommCost hierarchical_all_gather(double bytes, const Hierarchy& h);
// Reduce-scatter inside each node first, then across nodes: the mirror of the all-gather.
CommCost hierarchical_reduce_scatter(double bytes, const Hierarchy& h);
// Reduce-scatter inside the node, ring all-reduce of bytes/per_node across nodes, all-gather
// inside the node.
CommCost hierarchical_all_reduce(double bytes, const Hierarchy& h);
// Each device's bytes go bytes/p to each device: (per_node - 1) shares over scale-up,
// (p - per_node) shares over scale-out; the two link classes run at the same time.
CommCost hierarchical_all_to_all(double bytes, const Hierarchy& h);

}  // namespace sim
