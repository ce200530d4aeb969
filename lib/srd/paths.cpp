// SPDX-License-Identifier: BSD-3-Clause
// Path health and spraying (doc/protocol.md sections 1.2 and 3). The transitions are listed
// in paths.h; this file keeps them in one place.
#include "srd/paths.h"

#include <algorithm>

namespace spray::srd {

namespace {
constexpr int kWeightHealthy = 4;
constexpr int kWeightPenalised = 1;
constexpr std::uint8_t kLossesToSuspect = 2;
constexpr std::uint8_t kLossesToQuarantine = 4;
constexpr std::uint8_t kRtosToQuarantine = 2;
constexpr std::uint8_t kGoodAcksToClear = 2;
constexpr std::uint8_t kDeliveriesToClear = 8;
constexpr std::uint8_t kCleanAcksToResetBackoff = 64;
// Two, so that a dead path reaches kLossesToQuarantine with the two losses
// that made it SUSPECT.
constexpr std::uint8_t kSuspectProbes = 2;
constexpr unsigned kMaxSuspectsProbed = 2;
}  // namespace

void PathSet::init(std::uint16_t count, const EndpointConfig& cfg, Nanos now) {
  paths_ = std::make_unique<Path[]>(count);
  count_ = count;
  special_count_ = 0;
  probes_due_ = 0;
  probe_judge_at_ = kNever;
  min_rtt_any_ = max_srtt_ = max_min_rtt_ = 0;
  ecn_penalty_until_ns_ = 0;
  rr_cursor_ = static_cast<std::uint16_t>(count - 1);
  penalty_rtt_factor_ = cfg.penalty_rtt_factor;
  penalty_min_queue_ns_ = static_cast<std::uint32_t>(cfg.penalty_min_queue_ns);
  for (std::uint16_t i = 0; i < count; ++i) {
    paths_[i].state_since_ns = now;
    paths_[i].backoff_ns = static_cast<std::uint32_t>(cfg.quarantine_min_ns);
  }
}

int PathSet::weight(const Path& p, Nanos now) const noexcept {
  switch (p.state) {
    case PathState::kActive: {
      const bool ecn = p.ecn_penalty_until_ns > now;
      return (ecn || slow(p)) ? kWeightPenalised : kWeightHealthy;
    }
    case PathState::kSuspect:
      return kWeightPenalised;
    case PathState::kQuarantined:
    case PathState::kProbing:
      return 0;
  }
  return 0;
}

std::uint16_t PathSet::pick(Nanos now, std::uint16_t avoid, bool& impaired) noexcept {
  impaired = false;
  // Common case: every path plain ACTIVE, no penalty running: round-robin.
  if (special_count_ == 0 && now >= ecn_penalty_until_ns_) {
    std::uint16_t i = rr_cursor_;
    if (++i >= count_) i = 0;
    if (i == avoid && count_ > 1 && ++i >= count_) i = 0;
    rr_cursor_ = i;
    return i;
  }
  // Smooth weighted round-robin (each pick adds every weight, takes the
  // largest accumulator and charges it the total): spreads consecutive
  // packets over paths in proportion to their weights.
  for (int pass = 0; pass < 2; ++pass) {
    int total = 0;
    std::uint16_t best = kNone;
    for (std::uint16_t i = 0; i < count_; ++i) {
      if (pass == 0 && i == avoid) continue;
      const int w = weight(paths_[i], now);
      if (w == 0) continue;
      paths_[i].wrr_current += w;
      total += w;
      if (best == kNone || paths_[i].wrr_current > paths_[best].wrr_current) best = i;
    }
    if (best != kNone) {
      paths_[best].wrr_current -= total;
      return best;
    }
  }
  // Every path is quarantined or probing: keep going on the least bad one,
  // the one with the fewest losses in a row, then the lowest RTT.
  impaired = true;
  std::uint16_t best = 0;
  for (std::uint16_t i = 1; i < count_; ++i) {
    const Path& a = paths_[i];
    const Path& b = paths_[best];
    if (a.consec_losses < b.consec_losses ||
        (a.consec_losses == b.consec_losses && a.srtt_ns < b.srtt_ns))
      best = i;
  }
  return best;
}

std::uint16_t PathSet::freshest(Nanos now, std::uint16_t avoid, bool& impaired) noexcept {
  impaired = false;
  for (const PathState want : {PathState::kActive, PathState::kSuspect}) {
    std::uint16_t best = kNone;
    for (std::uint16_t i = 0; i < count_; ++i) {
      const Path& p = paths_[i];
      if (i == avoid || p.state != want || p.round_trip_seq == 0) continue;
      if (best == kNone || seq_lt(paths_[best].round_trip_seq, p.round_trip_seq)) best = i;
    }
    if (best != kNone) return best;
  }
  return pick(now, avoid, impaired);
}

void PathSet::on_acked(std::uint16_t i, Nanos now, const EndpointConfig& cfg) noexcept {
  Path& p = paths_[i];
  ++p.acked_pkts;
  p.consec_losses = 0;
  p.consec_rtos = 0;
  // A suspect path that keeps delivering is cleared by its deliveries too,
  // not only by RTT samples (one ACK in ~12 packets carries one, for one
  // path of 16): on a link that loses 1%, two losses in a row make a path
  // SUSPECT now and then, and a third loss before two samples came would
  // quarantine a path that delivers 99%.
  if (p.state == PathState::kSuspect) p.delivered_since_suspect = 1;
  if (p.state == PathState::kSuspect && ++p.good_acks >= kDeliveriesToClear) {
    p.good_acks = 0;
    set_state(p, PathState::kActive, now);
    return;
  }
  // A path that has carried traffic cleanly for a while earns its short
  // quarantine backoff back.
  if (p.state == PathState::kActive && p.backoff_ns > cfg.quarantine_min_ns &&
      ++p.good_acks >= kCleanAcksToResetBackoff) {
    p.good_acks = 0;
    p.backoff_ns = static_cast<std::uint32_t>(cfg.quarantine_min_ns);
  }
}

void PathSet::on_rtt(std::uint16_t i, std::uint32_t rtt_ns, Nanos conn_srtt_ns,
                     std::uint32_t sibling_floor_ns, Nanos now, const EndpointConfig& cfg) noexcept {
  Path& p = paths_[i];
  if (rtt_ns == 0) rtt_ns = 1;
  p.last_rtt_ns = rtt_ns;
  const std::uint32_t old_srtt = p.srtt_ns;
  p.srtt_ns = p.srtt_ns == 0 ? rtt_ns : p.srtt_ns - p.srtt_ns / 8 + rtt_ns / 8;
  // Base RTT only goes down, except that a stale minimum (route change) is
  // replaced after base_rtt_refresh_ns.
  if (p.min_rtt_ns == 0 || rtt_ns <= p.min_rtt_ns ||
      now - p.min_rtt_stamp_ns > cfg.base_rtt_refresh_ns) {
    const bool raised = p.min_rtt_ns != 0 && rtt_ns > p.min_rtt_ns;
    p.min_rtt_ns = rtt_ns;
    p.min_rtt_stamp_ns = now;
    if (raised) {
      refresh_rtt_summary();
    } else {
      if (min_rtt_any_ == 0 || rtt_ns < min_rtt_any_) min_rtt_any_ = rtt_ns;
      max_min_rtt_ = std::max(max_min_rtt_, rtt_ns);
    }
  }
  update_special(p);
  if (p.srtt_ns >= max_srtt_)
    max_srtt_ = p.srtt_ns;
  else if (old_srtt == max_srtt_)
    refresh_rtt_summary();  // the slowest path got faster
  // Slow against its own past and against what its siblings return at the
  // same time: a delay every path shows (a stalled host, a receiver
  // falling behind, a shared queue) is not this path's fault.
  const bool slow = rtt_ns > cfg.suspect_rtt_factor * static_cast<double>(p.min_rtt_ns) &&
                    conn_srtt_ns != 0 && rtt_ns > 2 * conn_srtt_ns && sibling_floor_ns != 0 &&
                    rtt_ns > 2 * Nanos{sibling_floor_ns} && slower_than_most(i);
  if (slow) {
    if (p.state == PathState::kActive) suspect(p, now, cfg);
    else if (p.state == PathState::kSuspect) p.slowed_since_suspect = 1;
    p.good_acks = 0;
  } else if (p.state == PathState::kSuspect && p.consec_losses == 0) {
    if (++p.good_acks >= kGoodAcksToClear) {
      p.good_acks = 0;
      set_state(p, PathState::kActive, now);
    }
  }
}

bool PathSet::slower_than_most(std::uint16_t i) const noexcept {
  const std::uint32_t mine = paths_[i].srtt_ns;
  unsigned siblings = 0, faster = 0;
  for (std::uint16_t j = 0; j < count_; ++j) {
    const Path& q = paths_[j];
    if (j == i || q.srtt_ns == 0 || (q.state != PathState::kActive && q.state != PathState::kSuspect)) continue;
    ++siblings;
    faster += 2 * std::uint64_t{q.srtt_ns} < mine;
  }
  return siblings != 0 && 2 * faster > siblings;
}

void PathSet::on_ece(std::uint16_t i, Nanos now, Nanos srtt_ns,
                     const EndpointConfig& cfg) noexcept {
  Path& p = paths_[i];
  ++p.ce_pkts;
  p.ecn_penalty_until_ns = now + cfg.ecn_penalty_rtts * std::max<Nanos>(srtt_ns, 1000);
  ecn_penalty_until_ns_ = std::max(ecn_penalty_until_ns_, p.ecn_penalty_until_ns);
}

void PathSet::suspect(Path& p, Nanos now, const EndpointConfig& cfg) noexcept {
  set_state(p, PathState::kSuspect, now);
  p.slowed_since_suspect = p.delivered_since_suspect = p.lost_since_suspect = 0;
  const Nanos rtt = p.srtt_ns ? p.srtt_ns : cfg.initial_rtt_ns;
  p.timer_at_ns = now + cfg.suspect_rtts * rtt;
  p.suspect_probes_out = 0;
  // A peer answers 8 probes per burst and drops the rest, which would read
  // as losses: only so many suspicions are probed at a time, and the rest
  // (a timeout that suspects many paths at once) are judged by their data
  // and the timer.
  unsigned probing = 0;
  for (std::uint16_t i = 0; i < count_; ++i)
    probing += paths_[i].suspect_probes_unsent != 0 || paths_[i].suspect_probes_out != 0;
  p.suspect_probes_unsent = probing < kMaxSuspectsProbed ? kSuspectProbes : 0;
  set_probe_due(p, p.suspect_probes_unsent != 0);
}

void PathSet::probe_sent(std::uint16_t i, Nanos now) noexcept {
  Path& p = paths_[i];
  if (!p.probe_due) return;
  if (p.state == PathState::kSuspect && p.suspect_probes_unsent != 0) {
    // The first probe's time: either answer is matched against it.
    if (p.suspect_probes_out++ == 0) p.probe_tx_ts = static_cast<std::uint32_t>(now);
    if (--p.suspect_probes_unsent != 0) return;
    probe_judge_at_ = std::min(probe_judge_at_, suspect_probe_ns(p) + std::max<Nanos>(p.srtt_ns, probe_late_ns_));
    dirty_ = true;
  } else {
    p.probe_tx_ts = static_cast<std::uint32_t>(now);
  }
  set_probe_due(p, false);
}

void PathSet::on_probe_ack(std::uint16_t i, std::uint32_t tx_ts, std::uint32_t rtt_ns, Nanos now,
                           const EndpointConfig& cfg) noexcept {
  Path& p = paths_[i];
  if (p.state == PathState::kSuspect) {
    // Either of this suspicion's probes (older ones were judged already).
    const auto since = static_cast<std::uint32_t>(tx_ts - p.probe_tx_ts);
    if (p.suspect_probes_out == 0 || since >= 1u << 31) return;
    --p.suspect_probes_out;
    dirty_ = true;
    ++p.acked_pkts;
    p.consec_losses = 0;
    p.consec_rtos = 0;
    p.delivered_since_suspect = 1;
    // A probe that came back at about the path's usual round trip is a
    // clean sample; two clear the suspicion, as data samples do.
    const bool clean = p.min_rtt_ns == 0 || rtt_ns <= cfg.suspect_rtt_factor * static_cast<double>(p.min_rtt_ns);
    if (clean && ++p.good_acks >= kGoodAcksToClear) {
      p.good_acks = 0;
      set_state(p, PathState::kActive, now);
    }
    return;
  }
  if (p.state != PathState::kProbing || p.probe_tx_ts != tx_ts) return;
  set_state(p, PathState::kActive, now);
  p.consec_losses = 0;
  p.consec_rtos = 0;
  p.last_rtt_ns = rtt_ns;
  p.wrr_current = 0;
  update_special(p);
}

unsigned PathSet::judge_suspect_probes(Nanos now, Nanos delivered_sent_ns, Nanos late_ns,
                                       const EndpointConfig& cfg) noexcept {
  probe_late_ns_ = late_ns;
  if (now < probe_judge_at_) return 0;
  // Called on every connection timer: the one compare above is all it
  // costs until a verdict is due.
  probe_judge_at_ = kNever;
  dirty_ = true;
  unsigned quarantined = 0;
  for (std::uint16_t i = 0; i < count_; ++i) {
    Path& p = paths_[i];
    if (p.state != PathState::kSuspect || p.suspect_probes_out == 0) continue;
    const Nanos due = suspect_probe_ns(p) + std::max<Nanos>(p.srtt_ns, late_ns);
    if (now < due) {
      probe_judge_at_ = std::min(probe_judge_at_, due);
      continue;
    }
    const std::uint8_t out = p.suspect_probes_out;
    p.suspect_probes_out = 0;
    // Without a later packet delivered elsewhere the silence may be the
    // peer's or our host's: no charge.
    if (delivered_sent_ns <= suspect_probe_ns(p)) continue;
    for (std::uint8_t k = 0; k < out && p.state == PathState::kSuspect; ++k)
      if (on_lost(i, now, cfg)) ++quarantined;
    // Both lost: the round trip through the path is broken, even where
    // data sent on it is known delivered (its way back is what died, and
    // every ACK the peer sends on it is lost). A path that delivers 99%
    // loses both once in ten thousand suspicions.
    if (out == kSuspectProbes && p.state == PathState::kSuspect) {
      quarantine(p, now, cfg);
      ++quarantined;
    }
  }
  return quarantined;
}

void PathSet::quarantine(Path& p, Nanos now, const EndpointConfig& cfg) noexcept {
  set_state(p, PathState::kQuarantined, now);
  ++p.quarantines;
  p.timer_at_ns = now + p.backoff_ns;
  p.good_acks = 0;
  (void)cfg;
}

bool PathSet::on_lost(std::uint16_t i, Nanos now, const EndpointConfig& cfg) noexcept {
  Path& p = paths_[i];
  ++p.lost_pkts;
  if (p.consec_losses < 255) ++p.consec_losses;
  p.good_acks = 0;
  if (p.state == PathState::kSuspect && p.lost_since_suspect < 3) ++p.lost_since_suspect;
  if (p.state == PathState::kActive && p.consec_losses >= kLossesToSuspect)
    suspect(p, now, cfg);
  if (p.state == PathState::kSuspect && p.consec_losses >= kLossesToQuarantine) {
    quarantine(p, now, cfg);
    return true;
  }
  return false;
}

bool PathSet::on_rto(std::uint16_t i, Nanos sent_ns, Nanos now, const EndpointConfig& cfg) noexcept {
  Path& p = paths_[i];
  // Packets the path carried before its last timeout belong to that same
  // episode: a stall seen through several records is one timeout, not
  // several in a row.
  if (p.last_rto_ns != 0 && sent_ns <= p.last_rto_ns) return false;
  p.last_rto_ns = now;
  ++p.rto_events;
  if (p.consec_rtos < 255) ++p.consec_rtos;
  p.good_acks = 0;
  if (p.state == PathState::kActive) {
    suspect(p, now, cfg);
  } else if (p.state == PathState::kSuspect && p.consec_rtos >= kRtosToQuarantine) {
    quarantine(p, now, cfg);
    return true;
  }
  return false;
}

unsigned PathSet::on_timer(Nanos now, Nanos probe_timeout_ns,
                           const EndpointConfig& cfg) noexcept {
  unsigned quarantined = 0;
  if (next_deadline() > now) return 0;
  for (std::uint16_t i = 0; i < count_; ++i) {
    Path& p = paths_[i];
    if (p.state == PathState::kActive || now < p.timer_at_ns) continue;
    switch (p.state) {
      case PathState::kSuspect:
        // Quarantine only a path whose trouble persisted: one slow sample
        // (a preempted host delays every path alike) with nothing bad after
        // it leaves the path SUSPECT for another period, in which good ACKs
        // clear it. A path that carries few packets would otherwise be
        // quarantined for lack of ACKs, not for evidence. Losses quarantine
        // here only when two came and nothing arrived between: a path
        // sprayed with a few packets per suspect_rtts on a link that loses
        // 1% shows two losses in a row about once a second and a third
        // soon after about once in twenty, so fewer would take a path that
        // delivers 99% out of service every run; a dead path meets this
        // (or the four in a row of on_lost) a loss later.
        if (!p.slowed_since_suspect && (p.lost_since_suspect < 2 || p.delivered_since_suspect)) {
          p.slowed_since_suspect = p.delivered_since_suspect = p.lost_since_suspect = 0;
          p.timer_at_ns = now + cfg.suspect_rtts * (p.srtt_ns ? p.srtt_ns : cfg.initial_rtt_ns);
          dirty_ = true;
          break;
        }
        quarantine(p, now, cfg);
        ++quarantined;
        break;
      case PathState::kQuarantined:
        set_state(p, PathState::kProbing, now);
        set_probe_due(p, true);
        p.timer_at_ns = now + probe_timeout_ns;
        break;
      case PathState::kProbing:
        // No PROBE_ACK in time: longer backoff, back to quarantine.
        p.backoff_ns = static_cast<std::uint32_t>(
            std::min<Nanos>(Nanos{p.backoff_ns} * 2, cfg.quarantine_max_ns));
        set_state(p, PathState::kQuarantined, now);
        p.timer_at_ns = now + p.backoff_ns;
        break;
      case PathState::kActive:
        break;
    }
  }
  return quarantined;
}

Nanos PathSet::next_deadline() const noexcept {
  if (!dirty_) return cached_deadline_;
  Nanos t = kNever;
  for (std::uint16_t i = 0; i < count_; ++i)
    if (paths_[i].state != PathState::kActive) t = std::min(t, paths_[i].timer_at_ns);
  t = std::min(t, probe_judge_at_);
  cached_deadline_ = t;
  dirty_ = false;
  return t;
}


void PathSet::on_shared_loss(std::uint16_t i) noexcept { ++paths_[i].lost_pkts; }

void PathSet::undo_loss(std::uint16_t i, Nanos now) noexcept {
  Path& p = paths_[i];
  if (p.lost_pkts) --p.lost_pkts;
  if (p.consec_losses) --p.consec_losses;
  const Nanos rtt = p.srtt_ns ? p.srtt_ns : 1000;
  if ((p.state == PathState::kQuarantined || p.state == PathState::kSuspect) &&
      p.consec_rtos == 0 && now - p.state_since_ns < 4 * rtt) {
    p.consec_losses = 0;
    set_state(p, PathState::kActive, now);
  }
}

void PathSet::seed_rtt(std::uint16_t i, std::uint32_t rtt_ns) noexcept {
  Path& p = paths_[i];
  if (p.srtt_ns != 0) return;
  p.srtt_ns = std::max<std::uint32_t>(rtt_ns, 1);
  max_srtt_ = std::max(max_srtt_, p.srtt_ns);
}

void PathSet::refresh_rtt_summary() noexcept {
  std::uint32_t mn = 0, mx = 0, ms = 0;
  for (std::uint16_t i = 0; i < count_; ++i) {
    const Path& p = paths_[i];
    if (p.min_rtt_ns && (mn == 0 || p.min_rtt_ns < mn)) mn = p.min_rtt_ns;
    mx = std::max(mx, p.min_rtt_ns);
    ms = std::max(ms, p.srtt_ns);
  }
  min_rtt_any_ = mn;
  max_min_rtt_ = mx;
  max_srtt_ = ms;
}

unsigned PathSet::usable(Nanos now) const noexcept {
  unsigned n = 0;
  for (std::uint16_t i = 0; i < count_; ++i) n += weight(paths_[i], now) > 0;
  return n;
}




}  // namespace spray::srd
