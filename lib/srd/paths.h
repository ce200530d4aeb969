// SPDX-License-Identifier: BSD-3-Clause
// Per-connection path set (doc/protocol.md sections 1.2 and 3): the health
// state machine of each path, per-path RTT, and weighted round-robin
// spraying over healthy paths. Pure logic; the connection feeds it outcomes.
//
//   ACTIVE -> SUSPECT      an RTO on the path, 2 losses in a row on it, or
//                          an RTT above suspect_rtt_factor x its min RTT (and
//                          2 x the connection's SRTT and 2 x the lowest RTT
//                          any path returned lately, with the path's SRTT
//                          above 2 x that of most paths in service, so
//                          congestion or a stall felt on every path does not
//                          look like a path fault).
//                          Only losses with evidence against the path count
//                          (the sender decides: a burst lost over several
//                          paths at once, or an RTO while no path delivered
//                          anything later, blames none)
//   SUSPECT -> ACTIVE      2 clean RTT samples of packets sent on it, or 8
//                          of its packets delivered with no loss between
//                          (A path turning SUSPECT is probed at once with
//                          two PROBEs, two suspicions at a time: each
//                          PROBE_ACK counts as a delivery, each probe still
//                          unanswered when a packet sent after it on another
//                          path was delivered, and a RACK wait has passed,
//                          as a loss. A dead path so reaches four losses in
//                          a row within a round trip of the suspicion,
//                          however little data the window still sends it,
//                          and a sound one is cleared as fast.)
//   SUSPECT -> QUARANTINED 2 RTOs in a row, 4 losses in a row, or still
//                          SUSPECT after suspect_rtts x SRTT with another
//                          slow sample since, or two losses since and no
//                          delivery (one loss among deliveries is what a
//                          path that delivers 99% shows now and then), or
//                          both of its probes lost (below)
//   QUARANTINED -> PROBING after the backoff (1 ms, x2 per failed probe,
//                          capped at 100 ms); a PROBE goes out on the path
//   PROBING -> ACTIVE      on PROBE_ACK; back to QUARANTINED (backoff x2)
//                          if none comes within the probe timeout
//
// Weights: ACTIVE 4, ACTIVE but penalised (ECN at low delay within the last
// ecn_penalty_rtts, or RTT > penalty_rtt_factor x min) 1, SUSPECT 1, others
// 0. When no path has weight the least-bad path is used (never zero paths).
#pragma once

#include <cstdint>
#include <memory>

#include "srd/config.h"
#include "srd/types.h"

namespace spray::srd {

struct Path {
  Nanos min_rtt_stamp_ns = 0;
  Nanos state_since_ns = 0;
  Nanos ecn_penalty_until_ns = 0;
  Nanos last_rto_ns = 0;        // when the path last took a timeout (0: never)
  Nanos timer_at_ns = 0;        // SUSPECT: quarantine if still suspect; QUARANTINED:
                                // when to probe; PROBING: probe deadline
  std::uint32_t last_acked_tx_seq = 0;  // newest transmission acked on this path
  // Which of the connection's ACKs (by arrival count, wrapping; 0: none)
  // last came back for data sent on this path.
  std::uint32_t round_trip_seq = 0;
  std::uint32_t srtt_ns = 0;    // 0 = no sample
  std::uint32_t min_rtt_ns = 0;
  std::uint32_t last_rtt_ns = 0;
  std::uint32_t backoff_ns = 0;
  std::uint32_t inflight = 0;
  std::uint32_t probe_tx_ts = 0;  // low bits of when the (first) probe went out
  std::int32_t wrr_current = 0;
  std::uint16_t next_path_seq = 0;
  PathState state = PathState::kActive;
  std::uint8_t consec_losses = 0;
  std::uint8_t consec_rtos = 0;
  std::uint8_t good_acks = 0;
  // Since the path last became SUSPECT: a slow RTT sample came, losses
  // charged to it (saturating), a packet or probe of it was delivered. Then
  // its probes still to send and sent but unanswered. One byte: the idle
  // connection's state stays within its budget.
  std::uint8_t slowed_since_suspect : 1 = 0;
  std::uint8_t delivered_since_suspect : 1 = 0;
  std::uint8_t lost_since_suspect : 2 = 0;
  std::uint8_t suspect_probes_unsent : 2 = 0;
  std::uint8_t suspect_probes_out : 2 = 0;
  bool probe_due = false;       // a PROBE is to be sent
  bool special = false;         // not plain ACTIVE (state, or RTT penalty)
  bool any_acked = false;       // last_acked_tx_seq is valid
  std::uint32_t tx_pkts = 0, acked_pkts = 0, lost_pkts = 0, ce_pkts = 0, rto_events = 0,
                quarantines = 0;
};

class PathSet {
 public:
  static constexpr std::uint16_t kNone = 0xffff;

  void init(std::uint16_t count, const EndpointConfig& cfg, Nanos now);
  std::uint16_t count() const noexcept { return count_; }
  Path& operator[](std::uint16_t i) noexcept { return paths_[i]; }
  const Path& operator[](std::uint16_t i) const noexcept { return paths_[i]; }

  // Next path for a packet, avoiding `avoid` when another usable path
  // exists. Sets `impaired` when no path is healthy (least-bad fallback).
  std::uint16_t pick(Nanos now, std::uint16_t avoid, bool& impaired) noexcept;
  // The path in service (ACTIVE, else SUSPECT) other than `avoid` whose
  // round trip completed last: its data arrived and the ACK the peer sent
  // for it came back, so both ways worked. A path whose data is only known
  // delivered from a SACK on another path's ACK does not count: its way
  // back may be dead, and a resend there would be delivered and its ACK
  // lost again, timeout after timeout. pick() when no such path exists.
  std::uint16_t freshest(Nanos now, std::uint16_t avoid, bool& impaired) noexcept;

  // The connection's ACK number `ack_seq` (non-zero) came back for data
  // sent on `p` (Path::round_trip_seq).
  void on_round_trip(std::uint16_t p, std::uint32_t ack_seq) noexcept { paths_[p].round_trip_seq = ack_seq; }
  // A copy sent on `p` timed out: whatever round trip the path completed
  // before, it no longer answers, and freshest() turns to the next path.
  void round_trip_failed(std::uint16_t p) noexcept { paths_[p].round_trip_seq = 0; }

  // Outcomes. Each returns true when the path just entered QUARANTINED.
  void on_sent(std::uint16_t p) noexcept {
    ++paths_[p].inflight;
    ++paths_[p].tx_pkts;
  }
  void on_leave_flight(std::uint16_t p) noexcept {
    if (paths_[p].inflight) --paths_[p].inflight;
  }
  // A packet sent on `p` was acknowledged.
  void on_acked(std::uint16_t p, Nanos now, const EndpointConfig& cfg) noexcept;
  // An RTT sample (already without receiver delay) for path p.
  // `sibling_floor_ns`: the lowest sample any path returned just before
  // (0: none lately); the path is only judged slow against it.
  void on_rtt(std::uint16_t p, std::uint32_t rtt_ns, Nanos conn_srtt_ns, std::uint32_t sibling_floor_ns,
              Nanos now, const EndpointConfig& cfg) noexcept;
  // A packet declared lost on `p` turned out to have been delivered: the
  // loss streak shrinks, and a path taken out of service by that streak
  // just now comes back.
  void undo_loss(std::uint16_t p, Nanos now) noexcept;
  // A first, rough RTT for a path that has no sample yet.
  void seed_rtt(std::uint16_t p, std::uint32_t rtt_ns) noexcept;
  void on_ece(std::uint16_t p, Nanos now, Nanos srtt_ns, const EndpointConfig& cfg) noexcept;
  bool on_lost(std::uint16_t p, Nanos now, const EndpointConfig& cfg) noexcept;
  // A packet on `p` was lost in a burst every path shared: counted in the
  // path's losses, no step towards SUSPECT.
  void on_shared_loss(std::uint16_t p) noexcept;
  // A timeout of a packet sent on `p` at sent_ns; ignored when that packet
  // left before the path's previous timeout (the same episode).
  bool on_rto(std::uint16_t p, Nanos sent_ns, Nanos now, const EndpointConfig& cfg) noexcept;
  // Runs path timers due at `now` (suspect persistence, probe scheduling and
  // probe timeouts). Returns the number of paths that became QUARANTINED.
  unsigned on_timer(Nanos now, Nanos probe_timeout_ns, const EndpointConfig& cfg) noexcept;
  // Judges the SUSPECT paths' probes: `delivered_sent_ns` is when the newest
  // packet known delivered was sent (0: none), `late_ns` how long a packet
  // may take before its absence is a loss (RACK's RTT and reordering wait).
  // Returns the number of paths that became QUARANTINED.
  unsigned judge_suspect_probes(Nanos now, Nanos delivered_sent_ns, Nanos late_ns,
                                const EndpointConfig& cfg) noexcept;
  // A PROBE_ACK came back on `p` for a probe sent at (the low bits of)
  // `tx_ts`.
  void on_probe_ack(std::uint16_t p, std::uint32_t tx_ts, std::uint32_t rtt_ns, Nanos now,
                    const EndpointConfig& cfg) noexcept;
  // Earliest path timer, kNever if none.
  Nanos next_deadline() const noexcept;
  unsigned probes_due() const noexcept { return probes_due_; }
  void probe_sent(std::uint16_t i, Nanos now) noexcept;

  // The path to send an ACK on for data that came on `p`: `p` itself (its
  // RTT sample then describes that path both ways), unless our own traffic
  // has taken `p` out of service, i.e. its way from us is dead; then the
  // next path that is in service. An ACK lost on a dead way back would make
  // the peer's sound way out look lost too.
  std::uint16_t ack_path(std::uint16_t p) const noexcept {
    if (p >= count_) return 0;
    for (std::uint16_t k = 0, i = p; k < count_; ++k, i = i + 1 == count_ ? 0 : i + 1) {
      const PathState st = paths_[i].state;
      if (st == PathState::kActive || st == PathState::kSuspect) return i;
    }
    return p;
  }
  // Paths healthy enough to spray on (weight > 0).
  unsigned usable(Nanos now) const noexcept;
  // Cached over all paths, refreshed as RTT samples come in.
  std::uint32_t min_rtt_any() const noexcept { return min_rtt_any_; }  // 0 if none
  std::uint32_t max_srtt() const noexcept { return max_srtt_; }
  std::uint32_t max_min_rtt() const noexcept { return max_min_rtt_; }  // skewed paths
  std::size_t state_bytes() const noexcept { return count_ * sizeof(Path); }

 private:
  int weight(const Path& p, Nanos now) const noexcept;
  void quarantine(Path& p, Nanos now, const EndpointConfig& cfg) noexcept;
  // A PROBE due belongs to the state that asked for it: every change drops
  // it, and the states that probe (SUSPECT, PROBING) ask again on entry.
  void set_state(Path& p, PathState s, Nanos now) noexcept {
    if (p.state == PathState::kSuspect && s != PathState::kSuspect)
      p.suspect_probes_unsent = p.suspect_probes_out = 0;
    set_probe_due(p, false);
    p.state = s;
    p.state_since_ns = now;
    dirty_ = true;
    update_special(p);
  }
  // Keeps the count of paths that break plain round-robin.
  void update_special(Path& p) noexcept {
    const bool sp = p.state != PathState::kActive || slow(p);
    if (sp != p.special) {
      p.special = sp;
      special_count_ += sp ? 1 : -1;
    }
  }
  void suspect(Path& p, Nanos now, const EndpointConfig& cfg) noexcept;
  // When the SUSPECT probes went out (probe_tx_ts widened).
  static Nanos suspect_probe_ns(const Path& p) noexcept {
    return p.state_since_ns + static_cast<std::uint32_t>(p.probe_tx_ts - static_cast<std::uint32_t>(p.state_since_ns));
  }
  void set_probe_due(Path& p, bool due) noexcept {
    if (due != p.probe_due) probes_due_ += due ? 1 : -1;
    p.probe_due = due;
  }
  // The path's smoothed RTT is more than twice that of most paths in
  // service: a queue every path shares (a receiver's ring) moves them all,
  // and one slow sample on top of it is no verdict.
  bool slower_than_most(std::uint16_t i) const noexcept;
  // RTT above penalty_rtt_factor x the path's minimum and by more than
  // penalty_min_queue_ns: on a 4 us path the factor alone would penalise a
  // queue of two packets, which a 100 us path would not even show, and
  // traffic would pile onto the long paths.
  bool slow(const Path& p) const noexcept {
    return p.min_rtt_ns != 0 &&
           p.last_rtt_ns > penalty_rtt_factor_ * static_cast<double>(p.min_rtt_ns) &&
           p.last_rtt_ns - p.min_rtt_ns > penalty_min_queue_ns_;
  }

  std::unique_ptr<Path[]> paths_;
  std::uint16_t count_ = 0;
  double penalty_rtt_factor_ = 2.0;
  std::uint32_t penalty_min_queue_ns_ = 0;
  void refresh_rtt_summary() noexcept;
  int special_count_ = 0;
  unsigned probes_due_ = 0;
  Nanos probe_late_ns_ = 0;  // the late_ns judge_suspect_probes last had
  Nanos probe_judge_at_ = kNever;  // when a SUSPECT probe may next be judged late
  std::uint32_t min_rtt_any_ = 0, max_srtt_ = 0, max_min_rtt_ = 0;
  Nanos ecn_penalty_until_ns_ = 0;  // latest ECN penalty of any path
  std::uint16_t rr_cursor_ = 0;
  mutable Nanos cached_deadline_ = kNever;
  mutable bool dirty_ = false;
};

}  // namespace spray::srd
