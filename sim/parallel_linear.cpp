// Sequence parallelism for linear attention (LASP-2, ZeCO): each rank scans its own tokens, the
// ranks exchange states, and the output is corrected with the prefix state.
// Formulas: variants.md family G, which cites the papers named at each function.
#include <algorithm>

#include "models/projections.hpp"
#include "sim/parallel_internal.hpp"

namespace sim::parallel_detail {

namespace {

// ZeCO pipelines its All-Scan in K blocks along dk (arXiv:2507.01004, section 3); the paper
// leaves K a tuning knob. 8 blocks is an assumption, not a published figure.
constexpr double kZecoScanBlocks = 8;

// The output correction after the states arrive, on the last rank (the busiest; rank 0 starts
// from the zero state and corrects nothing). Both papers add Q_local x S_prefix to the local
// outputs: a GEMM of the rank's L/cp queries with its prefix state per (sequence, head),
// 2 (L/cp) dk dv FLOPs per head, and its backward (dQ += dO S^T, dS = Q^T dO) twice that.
// Before it, LASP-2 (arXiv:2502.07563, Alg. 2) sums the gathered states of the ranks before it,
// (cp - 1) decayed adds of dk x dv per head on the last rank; ZeCO's All-Scan (arXiv:2507.01004,
// section 3) does one S = decay * S_prev + S_local update per rank. Counted per pass. Variants
// without a chunked-scan op (a state that is not dk x dv per head) get no correction.
models::CostModel state_correction(const Context& c, const models::CostModel& local) {
  models::CostModel out;
  const models::Op* scan = nullptr;
  for (const models::Op& op : local.ops) {
    if (op.kind == models::OpKind::scan) scan = &op;
  }
  if (scan == nullptr) return out;
  const models::ScanShape& x = scan->scan;
  const double states = x.batch * x.heads * x.key_dim * x.value_dim;  // elements, all heads
  const double state_bytes = local.state_bytes;                       // one layer
  const double s = models::bytes_per_element(c.w.dtype);
  const double combined =
      c.layout.strategy == CpStrategy::lasp2 ? static_cast<double>(c.layout.cp - 1) : 1;
  const models::Pass passes[] = {models::Pass::forward, models::Pass::backward};
  for (models::Pass pass : passes) {
    const bool fwd = pass == models::Pass::forward;
    if (fwd ? !models::has_forward(c.w.phase) : !models::has_backward(c.w.phase)) continue;
    // Read `combined` states and the running prefix, write the prefix: 2 FLOPs per element.
    out.ops.push_back(models::elementwise_op(fwd ? "state_prefix_fwd" : "state_prefix_bwd", pass,
                                             combined * states,
                                             state_bytes / states * (1 + 2 / combined), 0, 2));
    // Without a mask (LASP-2's Alg. 1) a rank's own scan already multiplies its queries by the
    // state it uses, now the sum of all: there is no prefix to correct for.
    if (!c.w.causal) continue;
    models::Op fix = models::gemm_op(fwd ? "state_correction_fwd" : "state_correction_bwd", pass,
                                     x.batch * x.heads * x.tokens, x.value_dim, x.key_dim, s);
    fix.bytes.weights = (fwd ? 1 : 2) * state_bytes;  // one state per (sequence, head)
    out.ops.push_back(fix);
  }
  return out;
}

}  // namespace

// Linear attention. Each rank scans its L/cp tokens from a zero state. LASP-2 (arXiv:2502.07563):
// one all-gather of the cp memory states (size independent of L), overlapped with the local
// intra-chunk work; ZeCO (arXiv:2507.01004): All-Scan, a pipelined chain in which each rank sends
// one state, so the time is one state transfer plus (cp - 1) hops of a 1/K block. The backward
// moves the state gradients the same way. The output correction with the received state
// (state_correction) runs after the states arrive, so it does not hide the communication.
void linear_sp(const Context& c, DeviceCost& d, DeviceCost& cluster) {
  const int p = c.layout.cp;
  if (!c.w.causal && c.layout.strategy == CpStrategy::zeco) {
    throw common::SpecError(
        "--cp-strategy zeco: its All-Scan passes each rank the state of the ranks before it, and "
        "attention without a causal mask needs every rank's; use --cp-strategy lasp2 (or causal "
        "attention)");
  }
  models::Workload local = c.w;
  local.q_len = local.kv_len = c.w.q_len / p;
  const Block b = run(c, c.spec, local);
  add_compute(d, b, 1);
  add_compute(cluster, b, devices(c));
  const double state = b.cost.state_bytes;  // this device's heads, whole batch, one layer
  const double passes = pass_factor(c.w.phase, 1);
  if (c.layout.strategy == CpStrategy::lasp2) {
    add_comm(d, hierarchical_all_gather(state * p, c.place.cp_group()), passes);
  } else {
    // The chain's slowest hop sets its pace, as a ring's (ring_hop).
    const auto all_scan_s = [&](const LinkCost& link) {
      return link.latency_s + state / link.bandwidth_Bps +
             (p - 1) * (link.latency_s + state / kZecoScanBlocks / link.bandwidth_Bps);
    };
    const bool across = c.place.nodes > 1;
    CommCost scan = send_recv(state, across ? c.place.out : c.place.up_peer(),
                              across ? LinkClass::scale_out : LinkClass::scale_up);
    scan.time_s = all_scan_s(across ? c.place.out : c.place.up_peer());
    if (across && c.place.cp_per_node() > 1) {
      scan.time_s = std::max(scan.time_s, all_scan_s(c.place.up_peer()));
    }
    add_comm(d, scan, passes);
  }
  d.exposed_comm_s = std::max(0.0, d.comm_s - d.compute_s);
  cluster.scale_up_bytes = devices(c) * d.scale_up_bytes;
  cluster.scale_out_bytes = devices(c) * d.scale_out_bytes;
  d.kv_cache_bytes = state;
  cluster.kv_cache_bytes = devices(c) * state;

  Block fix;
  fix.cost = state_correction(c, b.cost);
  if (fix.cost.ops.empty()) return;
  fix.prediction = predict(c.engine, fix.cost, local, c.profile, c.kernel);
  add_compute(d, fix, 1);
  // The cluster: ranks 1 .. cp-1 correct; LASP-2's rank r sums r states, cp (cp-1) / 2 in all.
  const double tp = c.layout.tp;
  Block gemms = fix, prefix = fix;
  for (Block* part : {&gemms, &prefix}) {
    part->prediction.flops = {};
    part->prediction.bytes = {};
    part->prediction.time_s = 0;
  }
  for (const models::Op& op : fix.cost.ops) {
    Block& part = op.kind == models::OpKind::gemm ? gemms : prefix;
    part.prediction.flops += op.flops;
    part.prediction.bytes += op.bytes;
  }
  // The last rank's prefix op sums cp - 1 states (LASP-2): the cluster's cp (cp - 1) / 2 sums are
  // cp / 2 of it; ZeCO's one update runs on each of the cp - 1 ranks.
  // Without a mask every rank sums the other cp - 1 states, and no rank corrects its output.
  const double prefix_runs = !c.w.causal                              ? static_cast<double>(p)
                             : c.layout.strategy == CpStrategy::lasp2 ? static_cast<double>(p) / 2
                                                                      : p - 1;
  add_compute(cluster, gemms, tp * (p - 1));
  add_compute(cluster, prefix, tp * prefix_runs);
}

}  // namespace sim::parallel_detail
