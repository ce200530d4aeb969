// SPDX-License-Identifier: BSD-3-Clause
// Swift-style delay-target window with the NSCC ECN quadrant (cc.h).
#include "srd/cc.h"

#include <algorithm>
#include <cmath>

namespace spray::srd {

namespace {
constexpr double kScalingZeroAtPkts = 64.0;
constexpr std::uint8_t kRtosToMinWindow = 3;
constexpr double kMinInitialWindow = 10;  // packets, as TCP's IW10
// Fast increase fills an empty pipe; a CE mark this recently says the pipe
// has been full, and doubling into it only builds the next queue (in an
// incast the windows overshoot together, and the cut below idles the link).
constexpr Nanos kQuietRttsAfterEcn = 16;
// Round trips at one packet, every delay sample above target, before the
// excess is taken for a step in the path's delay rather than a queue.
constexpr Nanos kFloorRttsToLift = 16;
constexpr Nanos kMaxLiftNs = 10'000'000;  // a step longer than this is an outage, not a path
}  // namespace

void SwiftCc::init(const EndpointConfig& cfg, std::uint32_t pkt_bytes) noexcept {
  pkt_bytes_ = pkt_bytes;
  set_base_rtt(cfg.initial_rtt_ns, cfg.initial_rtt_ns, cfg);
  cwnd_ = std::min(bdp_pkts_, static_cast<double>(cfg.initial_cwnd_cap_pkts));
  clamp(cfg);
}

void SwiftCc::on_handshake_rtt(Nanos rtt_ns, const EndpointConfig& cfg) noexcept {
  if (rtt_ns == 0) return;
  set_base_rtt(rtt_ns, std::max(rtt_ns, cfg.initial_rtt_ns), cfg);
  // Never below kMinInitialWindow: a handshake between two loopback or
  // same-host endpoints measures a round trip far shorter than any path's.
  cwnd_ = std::min(std::max(bdp_pkts_, kMinInitialWindow), static_cast<double>(cfg.initial_cwnd_cap_pkts));
  clamp(cfg);
}

void SwiftCc::set_base_rtt(Nanos min_base_rtt_ns, Nanos max_base_rtt_ns,
                           const EndpointConfig& cfg) noexcept {
  const double bytes_per_ns = static_cast<double>(cfg.link_rate_bps) / 8.0 * 1e-9;
  bdp_pkts_ = std::max(1.0, bytes_per_ns * static_cast<double>(min_base_rtt_ns) / pkt_bytes_);
  const double wide_bdp =
      std::max(1.0, bytes_per_ns * static_cast<double>(max_base_rtt_ns) / pkt_bytes_);
  wide_bdp_pkts_ = wide_bdp;
  max_cwnd_ = std::max(1.0, std::min(cfg.max_cwnd_bdp * wide_bdp,
                                      static_cast<double>(cfg.rwnd_pkts)));
  clamp(cfg);
}

Nanos SwiftCc::target_ns(Nanos base_rtt_ns, const EndpointConfig& cfg) const noexcept {
  const double headroom = std::max(static_cast<double>(cfg.target_min_ns),
                                   cfg.target_base_factor * static_cast<double>(base_rtt_ns));
  // Flow scaling: small windows (many competing flows) get more slack so
  // the aggregate queue stays near the target instead of growing with N.
  double scale = 0;
  if (cwnd_ < kScalingZeroAtPkts) {
    const double c = std::max(cwnd_, 1.0);
    const double lo = 1.0 / std::sqrt(kScalingZeroAtPkts);
    scale = (1.0 / std::sqrt(c) - lo) / (1.0 - lo);
  }
  return base_rtt_ns + static_cast<Nanos>(headroom + scale * static_cast<double>(cfg.flow_scaling_ns));
}

SwiftCc::Verdict SwiftCc::on_ack(Nanos now, Nanos delay_ns, Nanos base_rtt_ns, Nanos srtt_ns,
                                 std::uint32_t acked_pkts, bool ece,
                                 const EndpointConfig& cfg) noexcept {
  consec_rtos_ = 0;
  if (ece) {
    ece_seen_ = true;
    last_ece_ns_ = now;
  }
  if (delay_ns == 0 || base_rtt_ns == 0) {
    return Verdict::kHold;
  }
  // The base is the path's lowest RTT over base_rtt_refresh_ns, so a step
  // in the path's own delay (a longer route, a slower hop, a hypervisor
  // that started queueing) reads as a standing queue for seconds: the
  // window would sit at one packet per RTT while it lasts, and an
  // application's backlog grows without bound. A window of one packet
  // cannot be causing a queue that stays above target for many round
  // trips; when no switch marks it, that excess is taken as the path's and
  // lifts the base. Any lower sample lowers the lift, so it leaves with
  // the step.
  const auto excess = static_cast<std::uint32_t>(
      std::min<Nanos>(delay_ns > base_rtt_ns ? delay_ns - base_rtt_ns : 0, kMaxLiftNs));
  if (excess < lift_ns_) lift_ns_ = excess;
  const Nanos base = base_rtt_ns + lift_ns_;
  const Nanos target = target_ns(base, cfg);
  const bool marked_lately = ece_seen_ && now - last_ece_ns_ < kQuietRttsAfterEcn * std::max<Nanos>(srtt_ns, 1);
  if (delay_ns >= target && cwnd_ <= 1.0 && !marked_lately) {  // marked_lately covers this ACK's CE
    floor_min_excess_ns_ = floor_since_ns_ == 0 ? excess : std::min(floor_min_excess_ns_, excess);
    if (floor_since_ns_ == 0) floor_since_ns_ = std::max<Nanos>(now, 1);
    if (now - floor_since_ns_ >= kFloorRttsToLift * std::max<Nanos>(srtt_ns, 1)) {
      lift_ns_ = floor_min_excess_ns_;
      floor_since_ns_ = 0;
      return Verdict::kHold;
    }
  } else {
    floor_since_ns_ = 0;
  }
  if (delay_ns < target) {
    if (ece) return Verdict::kEcnHold;
    const double n = static_cast<double>(acked_pkts);
    // Fast increase (NSCC): below the BDP of the slowest path, with the
    // delay in the lowest quarter of the headroom (no queue to speak of),
    // the window may double per RTT instead of growing by ai_pkts; this is
    // what fills a pipe far wider than the start window (skewed paths).
    const Nanos quiet = base + (target - base) / 4;
    if (delay_ns <= quiet && cwnd_ >= 1.0 && cwnd_ < wide_bdp_pkts_ && !marked_lately)
      cwnd_ += n;
    else
      cwnd_ += cwnd_ >= 1.0 ? cfg.ai_pkts * n / cwnd_ : cfg.ai_pkts * n;
    clamp(cfg);
    return Verdict::kIncrease;
  }
  // High delay, with or without ECN: decrease, once per RTT.
  if (decreased_ && now - last_decrease_ns_ < std::max<Nanos>(srtt_ns, 1)) return Verdict::kHold;
  const double d = static_cast<double>(delay_ns);
  const double t = static_cast<double>(target);
  const double factor = std::max(1.0 - cfg.md_beta * (d - t) / d, cfg.md_floor);
  // Below one packet only with a switch's word (ECN): delay alone on a real
  // host is noisy (a descheduled peer, a kernel path), and a window of a
  // hundredth of a packet, paced at SRTT / cwnd over an RTT that noise
  // inflated, sends a packet every few milliseconds for seconds.
  const double floor = ece ? cfg.min_cwnd_pkts : std::min(cwnd_, 1.0);
  cwnd_ = std::max(cwnd_ * factor, floor);
  clamp(cfg);
  last_decrease_ns_ = now;
  decreased_ = true;
  return Verdict::kDecrease;
}

void SwiftCc::on_rto(const EndpointConfig& cfg, bool silent) noexcept {
  if (silent) {
    cwnd_ = std::max(cwnd_ * 0.5, std::min(cwnd_, 1.0));
    clamp(cfg);
    return;
  }
  if (consec_rtos_ < 255) ++consec_rtos_;
  // One packet, not min_cwnd_pkts: below one packet the window is paced at
  // SRTT / cwnd, and after timeouts (on real hosts mostly a stalled peer)
  // a hundredth of a packet would send one packet per hundred RTTs for as
  // long as no ACK grows it back. The delay signal still takes the window
  // below one packet where many flows share a queue (the incast).
  cwnd_ = consec_rtos_ >= kRtosToMinWindow ? std::min(cwnd_ * 0.5, 1.0) : cwnd_ * 0.5;
  clamp(cfg);
}

Nanos SwiftCc::pacing_gap_ns(Nanos srtt_ns, const EndpointConfig& cfg) const noexcept {
  if (!cfg.pacing || cwnd_ >= bdp_pkts_ || srtt_ns == 0) return 0;
  // Never longer than the longest RTO: a minimum window over an RTT that a
  // stall inflated would otherwise space packets seconds apart.
  return std::min<Nanos>(static_cast<Nanos>(static_cast<double>(srtt_ns) / cwnd_), cfg.rto_max_ns);
}

bool SwiftCc::on_shared_loss(Nanos now, Nanos srtt_ns, const EndpointConfig& cfg) noexcept {
  if (decreased_ && now - last_decrease_ns_ < std::max<Nanos>(srtt_ns, 1)) return false;
  cwnd_ *= cfg.md_floor;
  clamp(cfg);
  last_decrease_ns_ = now;
  decreased_ = true;
  return true;
}

void SwiftCc::clamp(const EndpointConfig& cfg) noexcept {
  cwnd_ = std::clamp(cwnd_, cfg.min_cwnd_pkts, std::max(max_cwnd_, cfg.min_cwnd_pkts));
}

}  // namespace spray::srd
