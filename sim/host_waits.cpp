// The host's waits on the device for a per-launch caller (sim::host_wait_excess_s, engine.hpp).
#include <algorithm>
#include <cmath>

#include "sim/engine.hpp"

namespace sim {

namespace {

// The host's issue clock and the device's end clock over a call's launches, in order (each
// stream launch in order: a launch runs once it is issued and the one before it has finished).
// Until the first wait the host may run ahead of the device from before the call (the harness's
// earlier work), so that first stretch takes max(its device time, its host time), as a call
// without waits does. A wait (a host read of a device value) holds the host until the device has
// finished everything issued; from then on every launch starts no earlier than its issue.
class WaitTimeline {
 public:
  // One launch: `device_s` on the device, issued as `host_launches` host launches (a lump of
  // several, each carrying an equal share of the device time and of the `host_s` of host time they
  // take; 0 for a collective, which the communication runtime issues), `waits` of them each
  // preceded by a wait. The waits split the launches into pieces as evenly as whole launches
  // allow (the longer pieces first); waits beyond one per launch follow one another and cost
  // nothing more.
  void add(double device_s, double launches_given, double waits, double host_s) {
    const double host_launches = std::round(launches_given);  // whole launches
    per_launch_s_ = host_launches > 0 ? host_s / host_launches : 0;
    if (waits <= 0) {
      if (!synced_) {
        ahead_device_s_ += device_s;
        ahead_host_s_ += host_launches * per_launch_s_;
      } else {
        run(host_launches, device_s);
      }
      return;
    }
    if (host_launches <= 0) {  // a collective after its waits
      wait();
      run(0, device_s);
      return;
    }
    const double pieces = std::min(waits, std::max(1.0, std::floor(host_launches)));
    const double short_piece = std::floor(host_launches / pieces);
    const double long_pieces = std::round(host_launches - pieces * short_piece);
    const double share = device_s / host_launches;  // one launch's device time
    run_pieces(short_piece + 1, long_pieces, share);
    run_pieces(short_piece, pieces - long_pieces, share);
  }

  double finish() const {
    return synced_ ? std::max(end_s_, issue_s_) : std::max(ahead_device_s_, ahead_host_s_);
  }

 private:
  // The host waits for the device: both clocks meet.
  void wait() {
    if (!synced_) {
      end_s_ = std::max(ahead_device_s_, ahead_host_s_);
      issue_s_ = end_s_;
      synced_ = true;
      return;
    }
    issue_s_ = end_s_ = std::max(issue_s_, end_s_);
  }
  // `launches` host launches of per_launch_s_ each, issuing `device_s` of device work in equal
  // shares: each runs after its issue and after the one before it.
  void run(double launches, double device_s) {
    if (launches <= 0) {
      end_s_ = std::max(end_s_, issue_s_) + device_s;
      return;
    }
    const double f = per_launch_s_, d = device_s / launches;
    // The last share ends after all shares' device time, or after its own issue plus the rest:
    // the host-bound case waits for the last issue, the device-bound one for the first.
    const double from_issue = f >= d ? launches * f + d : f + launches * d;
    end_s_ = std::max(end_s_ + launches * d, issue_s_ + from_issue);
    issue_s_ += launches * f;
  }
  // `count` pieces of `launches` launches, each after a wait.
  void run_pieces(double launches, double count, double share) {
    if (count <= 0) return;
    wait();
    run(launches, launches * share);
    if (count < 2) return;
    wait();
    // The pieces between the first and the last start from a wait and end at the next one, so
    // each takes the same time.
    issue_s_ = end_s_ = end_s_ + (count - 2) * piece_s(launches, launches * share);
    run(launches, launches * share);
  }
  // A piece run right after a wait.
  double piece_s(double launches, double device_s) const {
    if (launches <= 0) return device_s;
    const double f = per_launch_s_, d = device_s / launches;
    return f >= d ? launches * f + d : f + launches * d;
  }

  double per_launch_s_ = 0;  // the current lump's host time per launch
  bool synced_ = false;      // a wait has happened: the clocks below run
  double ahead_device_s_ = 0, ahead_host_s_ = 0;
  double issue_s_ = 0, end_s_ = 0;
};

// The call's time over `reps` layers of the launch sequence.
double replay(const Prediction& p, HostCost cost, std::int64_t reps) {
  WaitTimeline timeline;
  for (std::int64_t r = 0; r < reps; ++r) {
    for (const LaunchPrediction& l : p.launches) {
      if (r >= l.count) continue;
      // Collectives are the communication runtime's launches, not the caller's.
      const double host = l.link_s == 0 ? l.host_launches : 0;
      timeline.add(l.time_s, host, std::round(l.host_waits), launch_host_s(l, cost));
    }
  }
  return timeline.finish();
}

}  // namespace

double host_wait_excess_s(const Prediction& p, double per_launch_s) {
  return host_wait_excess_s(p, HostCost{per_launch_s, 0});
}

double host_wait_excess_s(const Prediction& p, HostCost cost) {
  std::int64_t reps = 0;
  bool waits = false, same_count = true;
  double device_s = 0, host_s = 0;
  for (const LaunchPrediction& l : p.launches) {
    waits = waits || std::round(l.host_waits) > 0;
    same_count = same_count && (reps == 0 || l.count == reps);
    reps = std::max(reps, l.count);
    const double n = static_cast<double>(l.count);
    device_s += n * l.time_s;
    host_s += n * launch_host_s(l, cost);
  }
  if (!waits || host_s <= 0) return 0;
  // Each launch's count is its layers: the layer's sequence runs `count` times over. From the
  // first layer's first wait on the clocks meet at every layer's first wait, so each layer after
  // the first adds the same time: two layers give all of them.
  double total = 0;
  if (same_count && reps > 2) {
    const double one = replay(p, cost, 1), two = replay(p, cost, 2);
    total = one + static_cast<double>(reps - 1) * (two - one);
  } else {
    total = replay(p, cost, reps);
  }
  return std::max(0.0, total - std::max(device_s, host_s));
}

}  // namespace sim
