// SPDX-License-Identifier: BSD-3-Clause
// The doc/protocol.md section 7 targets the simulator can measure (T4-T10), as
// scenario runners returning figures. The sim tests assert on them and
// sim_report prints them; both use these same definitions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "scenario.h"

namespace spray::sim::targets {

inline constexpr Nanos kUs = 1'000;
inline constexpr Nanos kMs = 1'000'000;
inline constexpr std::uint16_t kT6Path = 3;  // the path T6 black-holes

// 8 paths x 12.5 Gb/s, 2 us one way, one connection keeping 16 x 64 KB in flight.
PairOptions bulk(std::uint64_t messages);
// N senders -> 1 receiver, 100 Gb/s links, 1 us hops, optional ECN at the
// switch (K = 32 packets or 20 us sojourn, doc/protocol.md section 4).
IncastOptions incast(std::uint32_t senders, bool ecn);
// 2 leaves x 8 hosts, 4 spines, 25 Gb/s everywhere; 8 flows of 16 KB
// messages at 70% of the 100 Gb/s bisection (8.75 Gb/s each, Poisson) for
// 20 ms, spraying over `paths` (1 = single path: ECMP pins each flow to one
// spine, and two or three flows on one 25 Gb/s uplink collide).
FabricOptions fabric(std::uint16_t paths);

// Message goodput seen by the receiver, bit/s over the whole run.
double goodput_bps(PairScenario& s);
// Goodput over the whole 100 us windows between the one in which 10% of the
// bytes had arrived and the one in which 90% had: start-up and drain left out.
double steady_goodput_bps(PairScenario& s);

struct T4 {
  double ref_bps = 0;
  double loss[3] = {0.001, 0.01, 0.05};
  double want[3] = {0.97, 0.90, 0.70};
  double ratio[3] = {};
  srd::ConnCounters counters[3];
  bool completed = false;
};
T4 run_t4(std::uint64_t seed);

struct T5 {
  std::size_t samples = 0;
  std::uint64_t unrecovered = 0;
  Nanos srtt_ns = 0;
  Nanos p50_ns = 0, p99_ns = 0;
  Nanos tail_max_ns = 0;           // last-packet losses
  Nanos tail_srtt_ns = 0;
  std::size_t tail_samples = 0;
  srd::ConnCounters counters, tail_counters;
  bool completed = false;
};
T5 run_t5(std::uint64_t seed);

struct T6 {
  Nanos hole_ns = 2 * kMs, heal_ns = 8 * kMs;
  Nanos rto_at_hole_ns = 0;
  bool active_at_hole = false;          // the path was in service when it failed
  Nanos quarantined_after_ns = kNever;  // from the blackhole
  std::size_t collateral_quarantines = 0;  // of healthy paths while it was down
  Nanos recovered_after_ns = kNever;    // first 100 us window >= 85% of the 7/8 share
  double before_bps = 0, during_bps = 0;
  Nanos active_after_heal_ns = kNever;
  std::uint64_t sent = 0, received = 0, duplicates = 0, missing = 0;
  std::vector<PathTimeline::Change> timeline;
  std::vector<std::uint64_t> path_tx_pkts;  // per path link a -> b, whole run
  srd::ConnCounters counters;
};
T6 run_t6(std::uint64_t seed);

// A clean fabric: 8 paths, no impairment, a bulk transfer.
struct CleanStart {
  std::uint64_t path_quarantines = 0;
  std::uint64_t retx_pkts = 0;
  std::uint64_t spurious_retx = 0;
  std::uint64_t retx_same_path = 0;
  std::uint64_t tx_data_pkts = 0;
  bool completed = false;
};
// bulk(300) over `paths` clean paths with `window` messages in flight.
CleanStart run_clean(std::uint64_t seed, std::uint16_t paths = 8, std::uint32_t window = 16);

// What a run with host drops leaves behind: the receiver's ring drops and
// the ledger's and the sender's account.
struct HostRun {
  std::uint64_t ring_drops = 0;
  std::uint64_t sent = 0, received = 0, duplicates = 0, missing = 0;
  srd::ConnCounters counters;
  bool completed = false;
};

// A receiver slower than its link (host-side drops): host b spends
// rx_pkt_cost_ns on each packet, 60 Gb/s of 1,500 B packets behind a
// 100 Gb/s link, and drops what overflows its 128-packet rx ring, as a NIC
// ring or an AF_PACKET socket ring does; 20 us one way, so the window
// (BDP ~330 packets) can overrun the ring. The transport must treat those
// drops as congestion: no path quarantined, every message delivered once.
struct SlowReceiver : HostRun {
  Nanos pkt_cost_ns = 200;
  Nanos delay_ns = 20 * kUs;
  std::uint32_t ring_pkts = 128;
  double capacity_bps = 0;   // what the receiver can take, payload bytes
  double goodput_bps = 0;    // steady state, as T7 measures it
};
SlowReceiver run_slow_receiver(std::uint64_t seed);

// Hosts that stop at random (a descheduled worker): one host or the other
// pauses for 1-5 ms, every 10 ms on average (never two at once), while
// messages flow over 20 us paths; the receiver's 256-packet rx ring
// overflows during its pauses. No path may be quarantined, and no message
// may take longer than twice the longest pause.
struct HostPause : HostRun {
  Nanos min_pause_ns = 1 * kMs, max_pause_ns = 5 * kMs;
  Nanos mean_gap_ns = 10 * kMs;
  Nanos delay_ns = 20 * kUs;
  std::uint32_t ring_pkts = 256;
  Nanos run_ns = 200 * kMs;
  std::uint32_t pauses = 0;
  Nanos longest_pause_ns = 0;
  Nanos max_completion_ns = 0;   // slowest message, submit to delivered
  Nanos p50_completion_ns = 0;
};
HostPause run_host_pause(std::uint64_t seed);

struct T7 {
  double spurious_share = 0;
  double goodput_ratio = 0;       // steady state, skewed / flat
  double flat_bps = 0, skew_bps = 0;
  srd::ConnCounters counters;
  bool completed = false;
};
T7 run_t7(std::uint64_t seed);

struct T8 {
  double utilisation = 0;
  Nanos queue_p99_ns = 0;
  double target_delay_ns = 0;
  double drop_share = 0;
  double jain = 0;
  std::uint64_t received = 0, expected = 0;
  bool completed = false;
};
T8 run_t8(std::uint64_t seed);

struct T9 {
  std::size_t spray_samples = 0, single_samples = 0;
  Nanos spray_p50_ns = 0, spray_p999_ns = 0;
  Nanos single_p50_ns = 0, single_p999_ns = 0;
};
T9 run_t9(std::uint64_t seed);

struct T10 {
  double rate_100 = 0, rate_10k = 0;      // messages per virtual second
  double wall_ns_per_msg_100 = 0, wall_ns_per_msg_10k = 0;  // host CPU, informative
  std::size_t idle_state_bytes = 0;       // largest, over the 10,000
  bool completed = false;
};
T10 run_t10(std::uint64_t seed);

}  // namespace spray::sim::targets
