// SPDX-License-Identifier: BSD-3-Clause
// Sender (doc/protocol.md section 3, sender per packet; section 5, timers):
// segmentation, in-flight records, ACK processing and the loss detection
// tiers, fastest first:
//
//  (a) NACK (gap / trimmed) from the receiver: lost at once;
//  (b) same path: a later transmission on the same path was acknowledged
//      and the packet is older than its expected RTT plus a small guard
//      (paths keep order, so this is nearly certain loss);
//      RACK: a later transmission on any path was acknowledged and the packet
//      is older than its expected RTT plus the connection's reo_wnd.
//      The expected RTT is the larger of its path's SRTT (paths may differ
//      by a fixed skew) and RACK.rtt, the time the newest delivered packet
//      took (queueing that built up since the SRTT was learned);
//  (c) TLP after 2 SRTT without an ACK, RTO after max(rto_min, SRTT +
//      4 RTTVAR), doubling per consecutive RTO.
//
// Lost packets queue for retransmission ahead of new data and go out on a
// different path than they last took, keeping their PSN.
#include <algorithm>
#include <array>
#include <bitset>

#include "srd/endpoint_impl.h"

namespace spray::srd {

namespace {

constexpr std::uint8_t kMaxReoMult = 64;
constexpr Nanos kMaxRttSampleNs = 1'000'000'000;

}  // namespace

// SRTT and RTTVAR leave out the receiver's hold time, which an ACK still
// waits for: the RTO adds the ACK jitter measured on the connection (an
// application that works through a large message before the ACK leaves),
// and never falls below the floor spurious timeouts taught it.
Nanos EndpointImpl::rto_ns(const Connection& c) const noexcept {
  const Nanos base = c.srtt_ns == 0 ? std::max<Nanos>(3 * cfg.initial_rtt_ns, cfg.rto_min_ns)
                                    : std::max<Nanos>({cfg.rto_min_ns, c.srtt_ns + 4 * c.rttvar_ns + c.ack_jitter_ns,
                                                       c.rto_slack_ns});
  const unsigned shift = std::min<unsigned>(c.rto_backoff, 20);
  return std::min<Nanos>(base << shift, cfg.rto_max_ns);
}

// A packet on a path without an RTT sample waits at least this long before
// its RTO: the path's delay is unknown and may be far above the others'.
static constexpr Nanos kUnsampledPathRtoNs = 1'000'000;

static Nanos rto_for(const EndpointImpl& ep, const Connection& c, std::uint16_t path) noexcept {
  const Nanos rto = ep.rto_ns(c);
  return c.paths[path].srtt_ns != 0 ? rto : std::max(rto, kUnsampledPathRtoNs);
}

Nanos EndpointImpl::reo_wnd_ns(const Connection& c) const noexcept {
  Nanos base = c.paths.min_rtt_any() / 4;
  if (base == 0) base = (c.srtt_ns ? c.srtt_ns : cfg.initial_rtt_ns) / 4;
  const Nanos cap = std::max<Nanos>(c.paths.max_srtt(), c.srtt_ns);
  return std::min<Nanos>(base * c.reo_mult, std::max(cap, base));
}

// Eighth-life steps of the tail probe's learned floor: 2^(-1/8) ~ 1 - 1/12.
static constexpr Nanos kTlpSlackStepNs = kTlpSlackHalfLifeNs / 8;

static void fade_tlp_slack(Connection& c, Nanos now) noexcept {
  if (c.tlp_slack_ns == 0 || now - c.tlp_slack_faded_ns < kTlpSlackStepNs) return;
  const Nanos steps = (now - c.tlp_slack_faded_ns) / kTlpSlackStepNs;
  c.tlp_slack_faded_ns += steps * kTlpSlackStepNs;
  for (Nanos i = 0; i < steps && c.tlp_slack_ns != 0; ++i) c.tlp_slack_ns -= (c.tlp_slack_ns + 11) / 12;
}

Nanos EndpointImpl::tlp_ns(const Connection& c) const noexcept {
  const Nanos srtt = c.srtt_ns ? c.srtt_ns : cfg.initial_rtt_ns;
  return std::max(2 * srtt + c.ack_jitter_ns, c.tlp_slack_ns);
}

// Whether losing `r` says something about its path. A packet lost together
// with the transmissions just before and just after it, both on other
// paths, went down with them: something every path shares dropped the
// burst (the receiver's rx ring, a paused host, a queue before the paths
// fan out). Blaming each path of the burst would quarantine healthy paths
// one after the other; the window answers it instead. A path that drops
// its own packets loses them between siblings' deliveries, so at least
// one neighbour in transmit order was acknowledged.
// Whether a transmission at `sent` may have been dropped by a host: it lies
// within kHostDropHoldNs of an episode of our own host's reports, or in the
// span the peer's HOST_DROP reports cover (Connection::peer_drop_from_ns).
static bool host_dropped(const EndpointImpl& ep, const Connection& c, Nanos sent) noexcept {
  if (ep.host_drop_ns != 0 && sent + kHostDropHoldNs >= ep.host_drop_from_ns &&
      sent <= ep.host_drop_ns + kHostDropHoldNs)
    return true;
  return c.peer_drop_ns != 0 && sent >= c.peer_drop_from_ns && sent <= c.peer_drop_ns;
}

// A neighbour counts as lost when it was declared lost just before, is
// found lost by the same detection pass, or the newest ACK described its
// PSN and it was not there; merely unacknowledged (its ACK may be on the
// way, or held by the receiver) it does not.
static bool path_evidence(const EndpointImpl& ep, const Connection& c, const TxRec& r) noexcept {
  if (r.tx_ns > c.dark_from_ns && r.tx_ns < c.dark_to_ns) return false;
  if (host_dropped(ep, c, r.tx_ns)) return false;
  const auto missing = [&](std::uint32_t ni, std::uint32_t tx_seq) {
    if (ni == kNil) return false;
    const TxRec& n = ep.recs[ni];
    if (n.tx_seq != tx_seq || n.path == r.path) return false;
    return n.lost_now || (c.sack_hi_valid && seq_lt(n.psn, c.sack_hi));
  };
  const bool before_lost =
      missing(r.prev, r.tx_seq - 1) ||
      (c.last_lost_tx_seq != 0 && c.last_lost_tx_seq + 1 == r.tx_seq && c.last_lost_path != r.path);
  return !(before_lost && missing(r.next, r.tx_seq + 1));
}

// ---------------------------------------------------------------------------
// Lists

namespace {

void list_append(Pool<TxRec>& recs, std::uint32_t& head, std::uint32_t& tail,
                 std::uint32_t i) noexcept {
  TxRec& r = recs[i];
  r.prev = tail;
  r.next = kNil;
  if (tail != kNil) recs[tail].next = i; else head = i;
  tail = i;
}

void list_unlink(Pool<TxRec>& recs, std::uint32_t& head, std::uint32_t& tail,
                 std::uint32_t i) noexcept {
  TxRec& r = recs[i];
  if (r.prev != kNil) recs[r.prev].next = r.next; else head = r.next;
  if (r.next != kNil) recs[r.next].prev = r.prev; else tail = r.prev;
  r.prev = r.next = kNil;
}

void copy_payload(const TxMsg& m, std::uint32_t off, std::uint8_t* dst, std::uint32_t len) noexcept {
  for (std::uint8_t k = 0; k < m.niov && len != 0; ++k) {
    const IoVec& v = m.iov[k];
    if (off >= v.len) {
      off -= static_cast<std::uint32_t>(v.len);
      continue;
    }
    const std::uint32_t n = std::min<std::uint32_t>(len, static_cast<std::uint32_t>(v.len - off));
    std::memcpy(dst, v.data + off, n);
    dst += n;
    len -= n;
    off = 0;
  }
}

}  // namespace

// ---------------------------------------------------------------------------
// Application side

SendStatus EndpointImpl::send(ConnId id, std::span<const IoVec> pieces,
                              std::uint64_t tag) noexcept {
  Connection* c = lookup(id);
  if (c == nullptr || c->state == ConnState::kFailed) return SendStatus::kNoConnection;
  if (c->state == ConnState::kClosing) return SendStatus::kClosing;
  if (pieces.size() > kMaxIov) return SendStatus::kTooManyIov;
  std::uint64_t total = 0;
  for (const IoVec& v : pieces) total += v.len;
  if (total == 0) return SendStatus::kEmpty;
  if (total > cfg.max_msg_bytes) return SendStatus::kTooLarge;
  const std::uint32_t mi = msgs.alloc();
  if (mi == kNil) return SendStatus::kQueueFull;
  TxMsg& m = msgs[mi];
  m.tag = tag;
  m.len = static_cast<std::uint32_t>(total);
  m.msg_id = c->next_msg_id++;
  m.sent_off = 0;
  m.acked_bytes = 0;
  m.niov = 0;
  for (const IoVec& v : pieces)
    if (v.len != 0) m.iov[m.niov++] = v;
  m.next = kNil;
  m.prev = c->msg_tail;
  if (c->msg_tail != kNil) msgs[c->msg_tail].next = mi; else c->msg_head = mi;
  c->msg_tail = mi;
  if (c->send_cursor == kNil) c->send_cursor = mi;
  ++c->live_msgs;
  ++c->ctr.tx_msgs;
  if (c->state == ConnState::kEstablished) {
    kick(*c);
  }
  return SendStatus::kOk;
}

// Removes a message from the live list (delivered or failed).
static void unlink_msg(Connection& c, Pool<TxMsg>& msgs, std::uint32_t mi) noexcept {
  TxMsg& m = msgs[mi];
  if (m.prev != kNil) msgs[m.prev].next = m.next; else c.msg_head = m.next;
  if (m.next != kNil) msgs[m.next].prev = m.prev; else c.msg_tail = m.prev;
  if (c.send_cursor == mi) c.send_cursor = m.next;
  --c.live_msgs;
  msgs.release(mi);
}

void EndpointImpl::release_sender(Connection& c, FailReason reason) noexcept {
  // Records first: they point at messages.
  for (std::uint32_t* head : {&c.fl_head, &c.rq_head}) {
    while (*head != kNil) {
      const std::uint32_t i = *head;
      *head = recs[i].next;
      rec_index.erase(rec_key(slot_of(c), recs[i].psn));
      recs[i].where = TxRec::kFree;
      recs.release(i);
    }
  }
  c.fl_tail = c.rq_tail = kNil;
  c.inflight = c.retx_queued = 0;
  c.inflight_bytes = 0;
  while (c.msg_head != kNil) {
    const std::uint32_t mi = c.msg_head;
    Event ev;
    ev.kind = EventKind::kSendFailed;
    ev.reason = reason;
    ev.conn = c.id;
    ev.peer = c.peer;
    ev.tag = msgs[mi].tag;
    push_event(ev);
    ++c.ctr.failed_msgs;
    unlink_msg(c, msgs, mi);
  }
  if (c.starved) {
    c.starved = false;
    std::erase(starved, slot_of(c));
  }
  // Freed records may unblock other connections.
  for (std::uint32_t s : starved) {
    if (conns[s]) conns[s]->starved = false;
    sched.make_ready(s);
  }
  starved.clear();
}

// ---------------------------------------------------------------------------
// Transmit

namespace {

// What a packet weighs in the window. A message that fits in one packet
// weighs its IP bytes: counted as full packets, 64 B requests would be held
// to a few in flight, a few hundred bytes on a link whose delay-bandwidth
// product is kilobytes. A segment of a longer message weighs a full packet
// even when it is the short last one, so bulk transfers keep the window
// they had when it counted packets.
inline std::uint32_t window_weight(const Connection& c, const TxMsg& m, const TxRec& r) noexcept {
  return m.len <= c.payload ? kIpUdpSrdDataHdrLen + r.len : c.mtu;
}

inline bool cwnd_allows(const Connection& c) noexcept {
  // Below one packet the window still lets one packet out; pacing spaces them.
  if (c.inflight == 0) return true;
  if (c.inflight >= c.peer_rwnd) return false;
  return static_cast<double>(c.inflight_bytes) < c.cc.cwnd_pkts() * c.mtu;
}

}  // namespace

bool EndpointImpl::sender_has_tx(Connection& c, Nanos now, Nanos& pace_at) noexcept {
  if (c.paths.probes_due() != 0) return true;
  if (c.state != ConnState::kEstablished && c.state != ConnState::kClosing) return false;
  if (c.tlp_pending && c.fl_tail != kNil) return true;
  if (!cwnd_allows(c)) return false;
  if (c.rq_head != kNil) return true;
  if (c.send_cursor == kNil) return false;
  const TxMsg& m = msgs[c.send_cursor];
  if (c.next_psn - c.snd_una >= std::min<std::uint32_t>(c.peer_rwnd, kMpr)) return false;
  if (c.msg_head != kNil && m.msg_id - msgs[c.msg_head].msg_id >= kMsgWindow) return false;
  if (recs.available() == 0) {
    if (!c.starved) {
      c.starved = true;
      starved.push_back(slot_of(c));
      ++counters.c.tx_no_record;
    }
    return false;
  }
  if (c.pace_next_ns > now) {
    pace_at = c.pace_next_ns;
    return false;
  }
  return true;
}

std::size_t EndpointImpl::sender_tx(Connection& c, std::span<std::uint8_t> buf, TxMeta& meta,
                                    Nanos now) noexcept {
  meta.to = c.peer;
  meta.ect = true;
  // Probes of quarantined and suspect paths.
  if (c.paths.probes_due() != 0) {
    for (std::uint16_t i = 0; i < c.paths.count(); ++i) {
      Path& p = c.paths[i];
      if (!p.probe_due) continue;
      wire::SrdProbe h;
      h.path_id = i;
      h.dst_conn_id = c.remote_id;
      h.nonce = c.nonce;
      h.tx_ts = static_cast<std::uint32_t>(now);
      const std::size_t n = wire::encode_srd_probe(buf, wire::SrdType::kProbe, h, true);
      if (n == 0) return 0;
      c.paths.probe_sent(i, now);
      meta.path_id = i;
      ++c.ctr.probes_tx;
      return n;
    }
  }
  if (c.state != ConnState::kEstablished && c.state != ConnState::kClosing) return 0;
  if (buf.size() < wire::kSrdDataHdrLen + c.payload) return 0;

  std::uint32_t ri = kNil;
  bool is_retx = false;
  bool is_tlp = false;
  if (c.tlp_pending) {
    c.tlp_pending = false;
    if (c.fl_tail != kNil) {
      ri = c.fl_tail;
      is_tlp = true;
      recs[ri].cause = RetxCause::kTlp;
      // A tail that went down as a burst over several paths (the packet
      // sent just before, on another path, is unacknowledged too) blames
      // none of them.
      const std::uint32_t before = recs[ri].prev;
      recs[ri].blame = !(before != kNil && recs[before].tx_seq + 1 == recs[ri].tx_seq &&
                         recs[before].path != recs[ri].path);
      list_unlink(recs, c.fl_head, c.fl_tail, ri);
      --c.inflight;
      c.inflight_bytes -= window_weight(c, msgs[recs[ri].msg], recs[ri]);
      c.paths.on_leave_flight(recs[ri].path);
    }
  }
  if (ri == kNil) {
    if (!cwnd_allows(c)) return 0;
    if (c.rq_head != kNil) {
      ri = c.rq_head;
      is_retx = true;
      list_unlink(recs, c.rq_head, c.rq_tail, ri);
      --c.retx_queued;
    }
  }
  bool impaired = false;
  wire::SrdDataHdr h;
  if (ri != kNil) {
    TxRec& r = recs[ri];
    if (r.attempt >= cfg.max_attempts) {
      // Give up on the whole connection: this message cannot be delivered.
      r.where = TxRec::kFree;
      rec_index.erase(rec_key(slot_of(c), r.psn));
      recs.release(ri);
      fail(c, FailReason::kUnresponsive, "a packet stayed unacknowledged after max_attempts transmissions");
      return 0;
    }
    const std::uint16_t old_path = r.path;
    r.prev_path = old_path;
    r.path = r.to_freshest ? c.paths.freshest(now, old_path, impaired) : c.paths.pick(now, old_path, impaired);
    r.to_freshest = false;
    if (r.path != old_path) ++c.ctr.path_changes;
    ++c.ctr.retx_pkts;
    ++retx_counter(c.ctr, is_tlp ? RetxCause::kTlp : r.cause);
    const TxMsg& m = msgs[r.msg];
    h.flags = static_cast<std::uint8_t>(wire::kDataRetx | wire::kDataAckReq |
                                        (r.msg_off == 0 ? wire::kDataSom : 0) |
                                        (r.msg_off + r.len == m.len ? wire::kDataEom : 0) |
                                        (c.ordered ? wire::kDataOrdered : 0));
    h.msg_id = m.msg_id;
    h.msg_len = m.len;
  } else {
    Nanos pace_at = kNever;
    if (!sender_has_tx(c, now, pace_at) || c.send_cursor == kNil) return 0;
    // Liveness is measured from when data became outstanding, not from
    // each retransmission.
    if (c.inflight == 0 && c.retx_queued == 0) c.outstanding_since_ns = now;
    ri = recs.alloc();
    const std::uint32_t mi = c.send_cursor;
    TxMsg& m = msgs[mi];
    TxRec& r = recs[ri];
    r.psn = c.next_psn++;
    r.msg = mi;
    r.msg_off = m.sent_off;
    r.len = static_cast<std::uint16_t>(std::min<std::uint32_t>(c.payload, m.len - m.sent_off));
    r.attempt = 0;
    r.blame = false;
    r.to_freshest = false;
    r.first_tx_lo = static_cast<std::uint32_t>(now);
    r.path = c.paths.pick(now, PathSet::kNone, impaired);
    m.sent_off += r.len;
    if (m.sent_off == m.len) c.send_cursor = m.next;
    rec_index.insert(rec_key(slot_of(c), r.psn), ri);
    const bool fills_window =
        static_cast<double>(c.inflight_bytes + window_weight(c, m, r)) >= c.cc.cwnd_pkts() * c.mtu;
    h.flags = static_cast<std::uint8_t>((r.msg_off == 0 ? wire::kDataSom : 0) |
                                        (m.sent_off == m.len ? wire::kDataEom | wire::kDataAckReq : 0) |
                                        (fills_window ? wire::kDataAckReq : 0) |
                                        (c.ordered ? wire::kDataOrdered : 0));
    h.msg_id = m.msg_id;
    h.msg_len = m.len;
    // The gap is a full packet's; a smaller one takes its share.
    const Nanos gap = c.cc.pacing_gap_ns(c.srtt_ns ? c.srtt_ns : cfg.initial_rtt_ns, cfg);
    c.pace_next_ns = gap == 0 ? 0 : std::max(c.pace_next_ns, now) + gap;
  }
  if (impaired && !c.impaired) note_quarantines(c, 0, now);  // raises the event

  TxRec& r = recs[ri];
  ++r.attempt;
  r.tx_ns = now;
  c.last_tx_ns = now;
  r.tx_seq = c.next_tx_seq++;
  r.where = TxRec::kInFlight;
  list_append(recs, c.fl_head, c.fl_tail, ri);
  ++c.inflight;
  c.inflight_bytes += window_weight(c, msgs[r.msg], r);
  c.paths.on_sent(r.path);
  Path& p = c.paths[r.path];

  h.path_id = r.path;
  h.dst_conn_id = c.remote_id;
  h.psn = r.psn;
  h.path_seq = p.next_path_seq++;
  h.msg_off = r.msg_off;
  h.tx_ts = static_cast<std::uint32_t>(now);
  wire::encode_srd_data(buf, h, true);
  copy_payload(msgs[r.msg], r.msg_off, buf.data() + wire::kSrdDataHdrLen, r.len);
  meta.path_id = r.path;
  ++c.ctr.tx_data_pkts;
  (void)is_retx;
  return wire::kSrdDataHdrLen + r.len;
}

// ---------------------------------------------------------------------------
// Acknowledgements

namespace {

struct AckScratch {
  std::uint32_t newly_acked = 0;
  bool any_retx_clean = false;
  // The ACK's trigger is this very transmission of a packet that asked for
  // an immediate ACK (a message's last segment or a retransmission).
  bool trigger_at_once = false;
};

}  // namespace

// One record acknowledged (cumulatively, by SACK or by ack_psn).
// `echo_ts` is the ACK's echoed timestamp when this record is the packet
// that triggered it (0 otherwise): it tells which transmission arrived.
// `needed`: the ACK says the receiver's own ACK of this packet was lost
// (ACK_LOST with DUP), so a retransmission the DUP answers was not spurious.
static void ack_record(EndpointImpl& ep, Connection& c, std::uint32_t ri, bool dup_flag, bool needed,
                       Nanos now, AckScratch& s, std::uint32_t echo_ts = 0) noexcept {
  TxRec& r = ep.recs[ri];
  if (r.where == TxRec::kInFlight) {
    list_unlink(ep.recs, c.fl_head, c.fl_tail, ri);
    --c.inflight;
    c.inflight_bytes -= window_weight(c, ep.msgs[r.msg], r);
    c.paths.on_leave_flight(r.path);
  } else if (r.where == TxRec::kRetxQueue) {
    list_unlink(ep.recs, c.rq_head, c.rq_tail, ri);
    --c.retx_queued;
  }
  c.paths.on_acked(r.path, now, ep.cfg);
  Path& p = c.paths[r.path];
  // A path's first RTT, from the first packet it delivered (an upper bound:
  // it includes the receiver's ACK delay) until an echoed sample refines it.
  if (p.srtt_ns == 0 && r.attempt == 1 && now > r.tx_ns)
    c.paths.seed_rtt(r.path, static_cast<std::uint32_t>(std::min<Nanos>(now - r.tx_ns, kMaxRttSampleNs)));
  // A retransmitted packet may have been delivered by an earlier
  // transmission on another path: unless the ACK echoes this transmission's
  // timestamp, its arrival says nothing about its path or its send time.
  const bool ambiguous = r.attempt > 1 && echo_ts != static_cast<std::uint32_t>(r.tx_ns);
  // Acked too soon for the latest transmission to have arrived: an earlier
  // one did, so the loss charged to its path was not one (Eifel-style undo).
  const bool earlier_copy = r.attempt > 1 && now - r.tx_ns < c.paths.min_rtt_any();
  if (earlier_copy && r.prev_path != r.path) c.paths.undo_loss(r.prev_path, now);
  // A timeout or a tail probe gave up on a packet that was only late (a
  // host held it, or its ACK): the RTO learns how long such a wait can be,
  // so the next one does not fire inside it (Eifel's response to a
  // spurious timeout; a probe's is the earlier warning of the same wait).
  if ((r.cause == RetxCause::kRto || r.cause == RetxCause::kTlp) && !needed &&
      (earlier_copy || dup_flag || (echo_ts != 0 && ambiguous))) {
    const Nanos first_tx = r.first_tx_ns();
    if (now > first_tx) {
      const Nanos waited = std::min<Nanos>(now - first_tx, ep.cfg.rto_max_ns);
      if (waited > c.rto_slack_ns) {
        c.rto_slack_ns = waited + waited / 4;
        ++c.ctr.spurious_rtos;
      }
      // Only a run of spurious probes raises the probe's floor: where real
      // tail losses come between them (a lossy link) it stays at zero. The
      // wait a spurious probe measured may be short of the stall (its DUP
      // can beat the late ACK back), so the floor also doubles: stalls of
      // any length stop drawing probes after a few.
      if (r.cause == RetxCause::kTlp && c.tlp_spurious_run < 255) ++c.tlp_spurious_run;
      if (r.cause == RetxCause::kTlp && c.tlp_spurious_run >= 2) {
        c.tlp_slack_ns = std::min<Nanos>(std::max(waited + waited / 4, 2 * c.tlp_slack_ns), ep.cfg.rto_max_ns);
        c.tlp_slack_faded_ns = now;
      }
    }
  }
  // This copy arrived and the receiver had not seen the packet before: the
  // previous copy was lost on its path. Charged here, not when the loss was
  // declared, since RACK and tail probes act on suspicion (a copy that is
  // only late, behind a deeper queue or a receiver's burst, would count
  // against a sound path); a probe's charge is also what takes a path that
  // only ever carries lone packets (an RPC's request) out of service.
  // Which copy arrived is certain when the ACK echoes one (this one, or an
  // earlier one: then not this); a copy acked as part of a SACK counts once
  // this copy has had a round trip to arrive (earlier, only the previous
  // copy can have earned it, and a late previous copy brings a DUP with
  // this one). A host drop reported since the loss
  // was declared clears the path too.
  const bool this_copy = !ambiguous || (echo_ts == 0 && now - r.tx_ns >= c.paths.min_rtt_any());
  // A silent timeout confirmed this way counts as a timeout of that path
  // (suspect at once, quarantined at the second), as one with evidence
  // does: a connection with a packet or two out sees few of them, and four
  // losses in a row on one path would take a dead path out of service
  // only after dozens of timeouts.
  if (r.blame && r.attempt > 1 && this_copy && !dup_flag && r.prev_path != r.path &&
      !host_dropped(ep, c, r.first_tx_ns()) &&
      (r.cause == RetxCause::kRto ? c.paths.on_rto(r.prev_path, r.first_tx_ns(), now, ep.cfg)
                                  : c.paths.on_lost(r.prev_path, now, ep.cfg)))
    ep.note_quarantines(c, 1, now);
  if (!ambiguous && (!p.any_acked || seq_lt(p.last_acked_tx_seq, r.tx_seq))) {
    p.last_acked_tx_seq = r.tx_seq;
    p.any_acked = true;
  }
  if (seq_lt(c.rack_tx_seq, r.tx_seq) && !ambiguous) {
    // Nothing sent over this long a span arrived, on any path: a blackout
    // of the peer or its host, not of a path (path_evidence).
    if (c.rack_tx_seq != 0 && r.tx_ns - c.rack_tx_ns > std::max<Nanos>(2 * c.srtt_ns, ep.cfg.rto_min_ns / 2)) {
      c.dark_from_ns = c.rack_tx_ns;
      c.dark_to_ns = r.tx_ns;
    }
    c.rack_tx_seq = r.tx_seq;
    c.rack_tx_ns = r.tx_ns;
    // RACK.rtt: how long the newest delivered packet took, queueing
    // included; packets sent before it get at least as long.
    c.rack_rtt_ns = now - r.tx_ns;
  }
  if (r.attempt > 1 && !dup_flag) s.any_retx_clean = true;
  // The probe found the packet missing: tail losses are real here.
  if (r.cause == RetxCause::kTlp && r.attempt > 1 && !dup_flag && !earlier_copy && this_copy) {
    c.tlp_slack_ns = 0;
    c.tlp_spurious_run = 0;
  }
  if (echo_ts != 0 && !ambiguous && (r.attempt > 1 || r.msg_off + r.len == ep.msgs[r.msg].len) &&
      echo_ts == static_cast<std::uint32_t>(r.tx_ns))
    s.trigger_at_once = true;
  if (r.attempt > 1) ep.hist.loss_recovery_ns.record(static_cast<std::uint32_t>(now) - r.first_tx_lo);
  ++s.newly_acked;

  const std::uint32_t mi = r.msg;
  TxMsg& m = ep.msgs[mi];
  m.acked_bytes += r.len;
  ep.rec_index.erase(rec_key(EndpointImpl::slot_of(c), r.psn));
  r.where = TxRec::kFree;
  ep.recs.release(ri);
  if (m.acked_bytes >= m.len && m.sent_off == m.len) {
    Event ev;
    ev.kind = EventKind::kDelivered;
    ev.conn = c.id;
    ev.peer = c.peer;
    ev.tag = m.tag;
    ep.push_event(ev);
    ++c.ctr.delivered_msgs;
    unlink_msg(c, ep.msgs, mi);
  }
}

// Queues a lost packet for retransmission. `evidence`: the loss will count
// against its path once the retransmission confirms it (ack_record);
// otherwise it is counted as shared and left to the window.
static void mark_lost(EndpointImpl& ep, Connection& c, std::uint32_t ri, RetxCause cause,
                      bool evidence = true) noexcept {
  TxRec& r = ep.recs[ri];
  c.last_lost_tx_seq = r.tx_seq;
  c.last_lost_path = r.path;
  list_unlink(ep.recs, c.fl_head, c.fl_tail, ri);
  --c.inflight;
  c.inflight_bytes -= window_weight(c, ep.msgs[r.msg], r);
  c.paths.on_leave_flight(r.path);
  r.where = TxRec::kRetxQueue;
  r.cause = cause;
  // A timeout with evidence has already judged the path (PathSet::on_rto).
  // One without (nothing sent later was delivered: a quiet peer, a stalled
  // host, or a connection with one packet out) leaves it to the
  // retransmission: sent on another path and acknowledged as new, not as a
  // duplicate, with no host drop reported, it shows the peer alive and
  // this path the one that lost the packet. Without that charge a path
  // that drops everything is never taken out of service while the
  // connection has only a packet or two in flight, and every timeout after
  // the first is as silent, backing off towards rto_max.
  r.blame = cause == RetxCause::kRto ? !evidence : evidence;
  list_append(ep.recs, c.rq_head, c.rq_tail, ri);
  ++c.retx_queued;
  if (!evidence) {
    c.paths.on_shared_loss(r.path);
    ++c.ctr.shared_losses;
  }
}

// Losses no path is blamed for still say the connection sent more than
// something on the way could take: the window answers, once per RTT.
static void on_shared_losses(Connection& c, Nanos now, const EndpointConfig& cfg) noexcept {
  if (c.cc.on_shared_loss(now, c.srtt_ns, cfg)) {
    ++c.ctr.shared_loss_events;
    ++c.ctr.cwnd_md_events;
  }
}

// RACK and same-path detection over the packets sent before the newest
// delivered one. Leaves c.rack_deadline at the earliest pending verdict.
static void detect_losses(EndpointImpl& ep, Connection& c, Nanos now) noexcept {
  c.rack_deadline = kNever;
  if (c.rack_tx_seq == 0) return;
  const Nanos reo = ep.reo_wnd_ns(c);
  // First the verdicts, then the losses: whether a loss blames its path
  // depends on whether its neighbours are lost too.
  std::uint32_t found = 0;
  for (std::uint32_t ri = c.fl_head; ri != kNil;) {
    TxRec& r = ep.recs[ri];
    const std::uint32_t next = r.next;
    if (!seq_lt(r.tx_seq, c.rack_tx_seq)) break;
    const Path& p = c.paths[r.path];
    if (p.srtt_ns == 0) {
      // No RTT known for this path yet: no basis for a time guard (paths
      // may differ by hundreds of microseconds). The RTO covers it.
      ri = next;
      continue;
    }
    const Nanos path_rtt = std::max<Nanos>(p.srtt_ns, c.rack_rtt_ns);
    // Same-path evidence needs the newest ACK to have described this PSN
    // as missing; otherwise it may only have been left out of a coalesced
    // ACK, and the RACK guard applies.
    const bool same_path = p.any_acked && seq_lt(r.tx_seq, p.last_acked_tx_seq) &&
                           c.sack_hi_valid && seq_lt(r.psn, c.sack_hi);
    // Within one path order holds, so the guard only absorbs jitter.
    const Nanos guard = same_path ? std::max<Nanos>(p.min_rtt_ns / 4, 1000) : reo;
    // Packets sent in the same instant as the newest delivered one are not
    // "before" it: their order on the wire is the paths' business.
    if (!same_path && r.tx_ns >= c.rack_tx_ns) {
      ri = next;
      continue;
    }
    const Nanos due = r.tx_ns + path_rtt + guard;
    if (now >= due) {
      r.lost_now = true;
      r.cause = same_path ? RetxCause::kSamePath : RetxCause::kRack;
      ++found;
    } else {
      c.rack_deadline = std::min(c.rack_deadline, due);
    }
    ri = next;
  }
  if (found == 0) return;
  bool shared = false;
  for (std::uint32_t ri = c.fl_head; ri != kNil && found != 0;) {
    TxRec& r = ep.recs[ri];
    const std::uint32_t next = r.next;
    if (r.lost_now) {
      const bool evidence = path_evidence(ep, c, r);
      r.lost_now = false;
      --found;
      shared |= !evidence;
      mark_lost(ep, c, ri, r.cause, evidence);
    }
    ri = next;
  }
  if (shared) on_shared_losses(c, now, ep.cfg);
}

// The lowest RTT any path returned within the last one to two windows
// (max(SRTT, 10 us)) before this sample, then this sample joins it; 0 when
// no sample came in that long. A path is slow only against that floor: a
// host that stalls or a receiver that falls behind delays every path's
// ACKs at once, and after a silence there is nothing to compare with.
static std::uint32_t sibling_rtt_floor(Connection& c, Nanos rtt, Nanos now) noexcept {
  constexpr Nanos kMinWindowNs = 10'000;
  const Nanos window = std::max<Nanos>(c.srtt_ns, kMinWindowNs);
  if (now - c.rtt_floor_since_ns >= window) {
    c.rtt_floor_prev_ns = now - c.rtt_floor_since_ns < 2 * window ? c.rtt_floor_cur_ns : 0;
    c.rtt_floor_cur_ns = 0;
    c.rtt_floor_since_ns = now;
  }
  std::uint32_t floor = c.rtt_floor_cur_ns;
  if (c.rtt_floor_prev_ns != 0 && (floor == 0 || c.rtt_floor_prev_ns < floor)) floor = c.rtt_floor_prev_ns;
  const auto sample = static_cast<std::uint32_t>(std::min<Nanos>(rtt, kMaxRttSampleNs));
  if (c.rtt_floor_cur_ns == 0 || sample < c.rtt_floor_cur_ns) c.rtt_floor_cur_ns = sample;
  return floor;
}

void EndpointImpl::on_ack_pkt(Connection& c, const wire::SrdAck& a, bool nack,
                              Nanos now) noexcept {
  ++c.ctr.acks_rx;
  const Nanos heard_before = c.last_ack_rx_ns;
  c.last_ack_rx_ns = now;
  c.peer_rwnd = std::max<std::uint32_t>(a.rwnd_pkts, 1);
  const bool dup = a.flags & wire::kAckDup;
  const bool ack_lost = dup && (a.flags & wire::kAckLost);
  const bool ece = a.flags & wire::kAckEce;
  if (a.flags & wire::kAckHostDrop) {
    // A new report (not the hold of the last one) covers what we sent since
    // we last heard from the peer.
    if (c.peer_drop_ns == 0 || now - c.peer_drop_ns > 2 * kHostDropHoldNs) {
      const Nanos heard = heard_before != 0 ? heard_before : now;
      const Nanos back = (c.srtt_ns ? c.srtt_ns : cfg.initial_rtt_ns) + kHostDropHoldNs;
      c.peer_drop_from_ns = heard > back ? heard - back : 0;
    }
    c.peer_drop_ns = now;
    ++c.ctr.host_drop_acks;
  }
  if (ece) ++c.ctr.ece_acks;

  // RTT sample from the echoed timestamp, less the receiver's hold time.
  Nanos rtt = 0;
  const bool path_ok = a.path_id < c.paths.count();
  if (!nack && path_ok) c.paths.on_round_trip(a.path_id, static_cast<std::uint32_t>(c.ctr.acks_rx));
  if (!nack) {
    const std::uint32_t raw = static_cast<std::uint32_t>(now) - a.echo_ts;
    // A hold time as long as the round trip itself means the clocks were
    // read at different points of a busy loop (a worker stamps a whole
    // iteration with one TSC read): no sample. Taking it as 1 ns would set
    // the path's minimum RTT near zero, after which every real sample looks
    // many times too slow and the path is suspected and quarantined.
    if (raw < kMaxRttSampleNs && raw > a.rx_delay_ns) rtt = raw - a.rx_delay_ns;
  }
  // A long sample while either host reports drops or a stall measures the
  // host, not the network: it would stretch SRTT, the RTO and the tail probe
  // to the stall's length, make a path look slow and cut the window.
  const bool host_noise = rtt != 0 && c.srtt_ns != 0 && rtt > c.srtt_ns &&
                          ((a.flags & wire::kAckHostDrop) || host_dropped(*this, c, now));
  if (host_noise) ++c.ctr.host_rtt_samples;
  if (rtt != 0 && path_ok && !host_noise) {
    // The slack a spurious timeout added fades over ~8,000 clean samples
    // (about a hundred 1 MiB messages): a host that stalled once stalls
    // again, and the tail probe still answers a real tail loss early.
    c.rto_slack_ns -= c.rto_slack_ns / 8192;
    fade_tlp_slack(c, now);
    if (c.srtt_ns == 0) {
      c.srtt_ns = rtt;
      c.rttvar_ns = rtt / 2;
    } else {
      const Nanos err = rtt > c.srtt_ns ? rtt - c.srtt_ns : c.srtt_ns - rtt;
      c.rttvar_ns = c.rttvar_ns - c.rttvar_ns / 4 + err / 4;
      c.srtt_ns = c.srtt_ns - c.srtt_ns / 8 + rtt / 8;
    }
    c.paths.on_rtt(a.path_id, static_cast<std::uint32_t>(rtt), c.srtt_ns, sibling_rtt_floor(c, rtt, now),
                   now, cfg);
    hist.path_rtt_ns[a.path_id].record(rtt);
    const Nanos base = c.paths.min_rtt_any();
    const Nanos wide = c.paths.max_min_rtt();
    if (base != 0 && (base != c.base_rtt_ns || wide != c.wide_rtt_ns)) {
      c.base_rtt_ns = base;
      c.wide_rtt_ns = wide;
      c.cc.set_base_rtt(base, wide, cfg);
    }
  }

  {
    const std::uint32_t hi = a.cum_psn + a.sack_off + 64;
    if (!c.sack_hi_valid || seq_lt(c.sack_hi, hi)) c.sack_hi = hi;
    c.sack_hi_valid = true;
  }
  AckScratch s;
  // The packet that triggered the ACK tells which transmission arrived,
  // however the ACK covers it (cumulatively, by SACK or on its own).
  const std::uint32_t trigger = nack ? c.next_psn : a.ack_psn;
  // Cumulative part.
  if (seq_lt(c.snd_una, a.cum_psn) && seq_le(a.cum_psn, c.next_psn)) {
    for (std::uint32_t psn = c.snd_una; psn != a.cum_psn; ++psn) {
      const std::uint32_t ri = rec_index.find(rec_key(slot_of(c), psn));
      if (ri != FlatIndex::kNone) ack_record(*this, c, ri, dup, ack_lost, now, s, psn == trigger ? a.echo_ts : 0);
    }
    c.snd_una = a.cum_psn;
  }
  // SACK bitmap just above cum_psn.
  for (std::uint64_t bits = a.sack_bits; bits != 0; bits &= bits - 1) {
    const std::uint32_t psn = a.cum_psn + a.sack_off + static_cast<std::uint32_t>(std::countr_zero(bits));
    if (seq_lt(psn, c.snd_una) || !seq_lt(psn, c.next_psn)) continue;
    const std::uint32_t ri = rec_index.find(rec_key(slot_of(c), psn));
    if (ri != FlatIndex::kNone) ack_record(*this, c, ri, dup, ack_lost, now, s, psn == trigger ? a.echo_ts : 0);
  }
  // The packet that triggered the ACK (may lie beyond the bitmap).
  if (!nack && !seq_lt(a.ack_psn, c.snd_una) && seq_lt(a.ack_psn, c.next_psn)) {
    const std::uint32_t ri = rec_index.find(rec_key(slot_of(c), a.ack_psn));
    if (ri != FlatIndex::kNone) ack_record(*this, c, ri, dup, ack_lost, now, s, a.echo_ts);
  }

  // The whole wait for an ACK beyond SRTT, the receiver's hold time and
  // both hosts' scheduling included, learned from ACKs the receiver sends at
  // once (of a message's last packet or a retransmission, which ask for
  // one), the kind a tail probe waits for; a delayed ACK's hold is
  // deliberate. Rises at once, decays by 1/16 per sample.
  if (rtt != 0 && path_ok && !host_noise && s.trigger_at_once) {
    const Nanos raw = rtt + a.rx_delay_ns;
    const Nanos extra = raw > c.srtt_ns ? raw - c.srtt_ns : 0;
    c.ack_jitter_ns = extra >= c.ack_jitter_ns ? extra : c.ack_jitter_ns - (c.ack_jitter_ns - extra) / 16;
  }

  if (dup && !ack_lost) {
    // A retransmission (or TLP) that was not needed: widen the reorder
    // window so the same skew does not fire again.
    ++c.ctr.spurious_retx;
    c.reo_mult = static_cast<std::uint8_t>(std::min<unsigned>(c.reo_mult * 2u, kMaxReoMult));
    c.clean_recoveries = 0;
  } else if (s.any_retx_clean && c.reo_mult > 1 &&
             ++c.clean_recoveries >= cfg.reo_decay_recoveries) {
    c.reo_mult = static_cast<std::uint8_t>(c.reo_mult / 2);
    c.clean_recoveries = 0;
  }

  if (nack) {
    const auto reason = wire::nack_reason(a);
    if (reason == wire::NackReason::kNoBuffer) {
      ++c.ctr.rnr_nacks;  // not loss: the RTO resends once the receiver has room
    } else if (!seq_lt(a.ack_psn, c.snd_una) && seq_lt(a.ack_psn, c.next_psn)) {
      const std::uint32_t ri = rec_index.find(rec_key(slot_of(c), a.ack_psn));
      if (ri != FlatIndex::kNone && recs[ri].where == TxRec::kInFlight)
        mark_lost(*this, c, ri, RetxCause::kNack);
    }
  }

  if (s.newly_acked != 0 || rtt != 0) {
    Nanos base = path_ok ? c.paths[a.path_id].min_rtt_ns : 0;
    // A CE mark says the queue is real: judge the delay against the
    // connection's lowest RTT, since this path's own minimum may have been
    // measured through that same queue (its first samples, in an incast).
    if (ece && base != 0) base = std::min<Nanos>(base, c.paths.min_rtt_any());
    // A sample taken across a host's drops or stall is no queue of the
    // network's: the window hears the losses (shared, cut once per RTT), not
    // a delay that would shrink it RTT after RTT to the minimum.
    const auto v = c.cc.on_ack(now, host_noise ? 0 : rtt, base, c.srtt_ns, s.newly_acked, ece, cfg);
    if (v == SwiftCc::Verdict::kDecrease) ++c.ctr.cwnd_md_events;
    if (ece && path_ok && v == SwiftCc::Verdict::kEcnHold) c.paths.on_ece(a.path_id, now, c.srtt_ns, cfg);
  }
  if (s.newly_acked != 0) {
    c.tlp_out = false;
    c.rto_backoff = 0;
    // The gap ahead was set at the window of the last send, which after
    // timeouts may be a hundredth of a packet over an RTT the stall
    // inflated: the window this ACK reopened sets it now.
    if (c.pace_next_ns > now) {
      const Nanos gap = c.cc.pacing_gap_ns(c.srtt_ns ? c.srtt_ns : cfg.initial_rtt_ns, cfg);
      c.pace_next_ns = std::min(c.pace_next_ns, now + gap);
    }
    if (!starved.empty()) {
      for (std::uint32_t sl : starved) {
        if (conns[sl]) conns[sl]->starved = false;
        sched.make_ready(sl);
      }
      starved.clear();
    }
  }
  detect_losses(*this, c, now);
  if (c.state == ConnState::kClosing && c.live_msgs == 0 && c.hs_tries == 0 &&
      (c.ctrl & kSendClose) == 0)
    c.ctrl |= kSendClose;
  // Only a connection with something to send goes to the transmit loop: for
  // one with nothing queued (most ACKs of request/response traffic) poll_tx
  // would learn that through sender_tx, sender_has_tx and a re-arm.
  if (owes_ctrl_or_ack(c) || c.send_cursor != kNil || c.rq_head != kNil || c.tlp_pending ||
      c.paths.probes_due() != 0)
    kick(c);
}

// ---------------------------------------------------------------------------
// Timers

Nanos EndpointImpl::sender_deadline(const Connection& c) const noexcept {
  if (c.state != ConnState::kEstablished && c.state != ConnState::kClosing) return kNever;
  Nanos t = c.rack_deadline;
  if (c.fl_head != kNil) {
    t = std::min(t, recs[c.fl_head].tx_ns + rto_for(*this, c, recs[c.fl_head].path));
    if (cfg.tlp && !c.tlp_out && !c.tlp_pending) t = std::min(t, c.last_tx_ns + tlp_ns(c));
  }
  if (c.fl_head != kNil || c.rq_head != kNil)
    t = std::min(t, std::max(c.last_ack_rx_ns, c.outstanding_since_ns) + cfg.conn_timeout_ns);
  return t;
}

void EndpointImpl::sender_timers(Connection& c, Nanos now) noexcept {
  if (c.fl_head != kNil || c.rq_head != kNil) {
    if (now >= std::max(c.last_ack_rx_ns, c.outstanding_since_ns) + cfg.conn_timeout_ns) {
      fail(c, FailReason::kUnresponsive, "no acknowledgement for conn_timeout with data outstanding");
      return;
    }
  }
  if (c.rack_deadline <= now) detect_losses(*this, c, now);
  if (c.fl_head != kNil) {
    if (now >= recs[c.fl_head].tx_ns + rto_for(*this, c, recs[c.fl_head].path)) {
      // Everything whose own timeout has passed goes, not just the oldest.
      // A path is blamed only with its siblings' word: something sent after
      // the lost packet was delivered (on another path, or the RTO would
      // not be needed) and the loss was not a burst across paths. When
      // nothing later arrived on any path, the peer, its host or every path
      // went quiet at once, and no single path is at fault.
      std::bitset<256> hit;
      std::array<Nanos, 256> newest_sent{};
      bool any_evidence = false;
      for (std::uint32_t ri = c.fl_head; ri != kNil; ri = recs[ri].next)
        recs[ri].lost_now = now >= recs[ri].tx_ns + rto_for(*this, c, recs[ri].path);
      // The oldest packet's resend goes where a round trip completed last,
      // and the path the timed-out copy took leaves that ranking: when the
      // freshest paths are dead too (a spine cut under the paths that last
      // completed one), successive resends walk down the ranking instead of
      // swinging between two dead paths at rto_max.
      recs[c.fl_head].to_freshest = true;
      c.paths.round_trip_failed(recs[c.fl_head].path);
      for (std::uint32_t ri = c.fl_head; ri != kNil;) {
        TxRec& r = recs[ri];
        const std::uint32_t next = r.next;
        if (r.lost_now) {
          const bool evidence = c.rack_tx_seq != 0 && seq_lt(r.tx_seq, c.rack_tx_seq) &&
                                path_evidence(*this, c, r);
          r.lost_now = false;
          if (evidence) {
            hit.set(r.path);
            newest_sent[r.path] = std::max(newest_sent[r.path], r.tx_ns);
            any_evidence = true;
          }
          mark_lost(*this, c, ri, RetxCause::kRto, evidence);
        }
        ri = next;
      }
      ++c.ctr.rto_events;
      if (!any_evidence) ++c.ctr.silent_rtos;
      c.cc.on_rto(cfg, !any_evidence);
      if (c.rto_backoff < 20) ++c.rto_backoff;
      unsigned q = 0;
      for (std::uint16_t i = 0; i < c.paths.count(); ++i)
        if (hit.test(i)) q += c.paths.on_rto(i, newest_sent[i], now, cfg);
      if (q != 0) note_quarantines(c, q, now);
      // No loss probe while recovering from a timeout: the next ACK re-arms it.
      c.tlp_out = true;
      kick(c);
    } else if (cfg.tlp && !c.tlp_out && !c.tlp_pending) {
      if (now >= c.last_tx_ns + tlp_ns(c)) {
        c.tlp_out = true;
        c.tlp_pending = true;
        kick(c);
      }
    }
  }
  if (c.rq_head != kNil) kick(c);
}

}  // namespace spray::srd
