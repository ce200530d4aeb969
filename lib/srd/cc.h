// SPDX-License-Identifier: BSD-3-Clause
// Congestion control (doc/protocol.md section 4): a Swift-style delay-target
// window per connection, with the NSCC ECN quadrant and pacing.
//
//   target = base_rtt + max(target_min, target_base_factor x base_rtt)
//            + flow scaling (flow_scaling_ns at cwnd <= 1, falling as
//              1/sqrt(cwnd) to 0 at 64 packets)
//   delay < target, no ECN   additive increase, ai_pkts per RTT; below the
//                            slowest path's BDP with almost no queueing,
//                            one packet per packet acked (fast increase),
//                            unless a CE mark came in the last 16 RTTs
//   delay < target, ECN      no change; the caller penalises the path
//   delay >= target          multiplicative decrease
//                            max(1 - md_beta (d - t) / d, md_floor),
//                            at most once per RTT; below one packet only
//                            with ECN
//   at one packet, every     the delay over base is a step the window is
//   sample above target      not causing (a longer path, a slower hop):
//   for 16 RTTs, no ECN      the lowest excess of those RTTs lifts the
//                            base, and falls with any lower sample
//   RTO                      cwnd x 0.5; the third in a row at most 1 packet
//   losses shared by paths   cwnd x md_floor, at most once per RTT
//
// The window is in packets (fractional below 1: then one packet is paced
// every srtt / cwnd).
#pragma once

#include <cstdint>

#include "srd/config.h"
#include "srd/types.h"

namespace spray::srd {

class SwiftCc {
 public:
  enum class Verdict : std::uint8_t { kIncrease, kHold, kDecrease, kEcnHold };

  // `pkt_bytes`: wire bytes per full packet, for the BDP in packets.
  void init(const EndpointConfig& cfg, std::uint32_t pkt_bytes) noexcept;
  // One ACK covering `acked_pkts` new packets, with a delay sample (0 = no
  // sample) against the base RTT of the path it took.
  Verdict on_ack(Nanos now, Nanos delay_ns, Nanos base_rtt_ns, Nanos srtt_ns,
                 std::uint32_t acked_pkts, bool ece, const EndpointConfig& cfg) noexcept;
  // The handshake's round trip, before any data: the initial window becomes
  // min(BDP at that RTT but at least 10, initial_cwnd_cap_pkts) instead of the BDP at
  // initial_rtt_ns. The window cap keeps assuming initial_rtt_ns (or this
  // RTT if longer) until the other paths are measured.
  void on_handshake_rtt(Nanos rtt_ns, const EndpointConfig& cfg) noexcept;
  // `silent`: nothing sent after the timed-out packets was delivered on any
  // path (a stalled peer or host, or every path down): the window halves
  // but stays at one packet or more, and the timeout does not count towards
  // the minimum window, which is for timeouts that congestion causes.
  void on_rto(const EndpointConfig& cfg, bool silent = false) noexcept;
  // Packets lost in a burst over several paths (a receiver's ring, a
  // paused host): cwnd x md_floor, at most once per RTT like a delay
  // decrease. Returns whether the window was cut.
  bool on_shared_loss(Nanos now, Nanos srtt_ns, const EndpointConfig& cfg) noexcept;
  // Path base RTTs changed: the BDP (initial window, pacing bypass) follows
  // the fastest path; the window cap follows the slowest, since a sprayed
  // window is spread over every path and must cover the longest one.
  void set_base_rtt(Nanos min_base_rtt_ns, Nanos max_base_rtt_ns,
                    const EndpointConfig& cfg) noexcept;

  double cwnd_pkts() const noexcept { return cwnd_; }
  // What the base RTT is lifted by (0 unless a delay step held the window
  // at one packet, see above).
  Nanos base_lift_ns() const noexcept { return lift_ns_; }
  double bdp_pkts() const noexcept { return bdp_pkts_; }
  double max_cwnd_pkts() const noexcept { return max_cwnd_; }
  Nanos target_ns(Nanos base_rtt_ns, const EndpointConfig& cfg) const noexcept;
  // Spacing between packets at the current window: 0 when pacing is off
  // or bypassed (window at or above the BDP: the link paces for us).
  Nanos pacing_gap_ns(Nanos srtt_ns, const EndpointConfig& cfg) const noexcept;
  std::uint8_t consecutive_rtos() const noexcept { return consec_rtos_; }

 private:
  void clamp(const EndpointConfig& cfg) noexcept;

  double cwnd_ = 1;
  double bdp_pkts_ = 1;
  double wide_bdp_pkts_ = 1;
  double max_cwnd_ = 1;
  Nanos last_decrease_ns_ = 0;
  Nanos last_ece_ns_ = 0;
  bool ece_seen_ = false;
  bool decreased_ = false;
  std::uint32_t pkt_bytes_ = 1500;
  std::uint8_t consec_rtos_ = 0;
  // Both at most kMaxLiftNs (cc.cpp): 32 bits keep an idle connection small.
  std::uint32_t lift_ns_ = 0;
  std::uint32_t floor_min_excess_ns_ = 0;
  Nanos floor_since_ns_ = 0;   // at one packet, every sample above target since
};

}  // namespace spray::srd
