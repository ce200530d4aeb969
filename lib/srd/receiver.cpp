// SPDX-License-Identifier: BSD-3-Clause
// Receiver (doc/protocol.md section 3, receiver per connection and ACK policy):
//
// - PSN window of kMpr packets, one bit each: a PSN below cum_psn or with
//   its bit set is a duplicate (ACKed with DUP, dropped, counted); beyond the
//   window it is dropped.
// - Reassembly: the first segment to arrive allocates msg_len bytes from the
//   buffer pool; each payload byte is copied once, to its offset. Segments
//   must be canonical (offset a multiple of the negotiated payload size,
//   length exactly what the sender's segmentation gives, PSN = the
//   message's first PSN + segment index), so a segment can only be counted
//   once and a message completes only when every byte is written.
// - Completed msg_ids are remembered in a window, so no message is
//   delivered twice even if a peer reuses a msg_id under fresh PSNs.
// - Delivery: at completion, or, for ORDERED messages, once every earlier
//   msg_id was delivered; completions beyond ordered_window are counted as
//   reorder_overflow and held (never fatal).
// - ACKs: immediately on out-of-order, RETX, CE, ACK_REQ, duplicate, 16 KB
//   or ack_burst_pkts packets since the last ACK; otherwise after
//   delayed_ack_ns. The ACK describes the latest packet (ack_psn, echo_ts,
//   rx_delay_ns), cum_psn and the 64 PSNs above it.
// - A duplicate of a packet the last ACK covered, arriving well after it,
//   means that ACK was lost: the ACK of the duplicate says so (ACK_LOST) and
//   the path the lost ACK took is charged with a loss.
#include <algorithm>

#include "srd/endpoint_impl.h"

namespace spray::srd {

namespace {

void rx_unlink(Connection& c, Pool<RxMsg>& rx, std::uint32_t i) noexcept {
  RxMsg& m = rx[i];
  if (m.prev != kNil) rx[m.prev].next = m.next; else c.rx_head = m.next;
  if (m.next != kNil) rx[m.next].prev = m.prev; else c.rx_tail = m.prev;
  m.prev = m.next = kNil;
}

void rx_append(Connection& c, Pool<RxMsg>& rx, std::uint32_t i) noexcept {
  RxMsg& m = rx[i];
  m.next = kNil;
  m.prev = c.rx_tail;
  if (c.rx_tail != kNil) rx[c.rx_tail].next = i; else c.rx_head = i;
  c.rx_tail = i;
}

}  // namespace

// Hands a complete message to the application.
static void deliver(EndpointImpl& ep, Connection& c, std::uint32_t i) noexcept {
  RxMsg& m = ep.rxmsgs[i];
  if (m.indexed) {
    ep.rx_index.erase(rec_key(EndpointImpl::slot_of(c), m.msg_id));
    rx_unlink(c, ep.rxmsgs, i);
  }
  if (m.state == RxMsg::kHeld) --c.rx_held;
  m.state = RxMsg::kWithApp;
  ++c.ctr.rx_msgs;
  Event ev;
  ev.kind = EventKind::kMessage;
  ev.conn = c.id;
  ev.peer = c.peer;
  ev.msg.conn = c.id;
  ev.msg.msg_id = m.msg_id;
  ev.msg.handle = i;
  ev.msg.data = std::span<const std::uint8_t>(m.buf, m.len);
  ep.push_event(ev);
}

static void on_complete(EndpointImpl& ep, Connection& c, std::uint32_t i) noexcept {
  RxMsg& m = ep.rxmsgs[i];
  const std::uint32_t id = m.msg_id;
  const std::uint32_t base = c.rx_msgs.base();
  c.rx_msgs.set(id);
  if (m.ordered && id != base) {
    // Waits for earlier messages. Beyond the window it is still held, only
    // counted: an overflow is an operational signal, not an error.
    m.state = RxMsg::kHeld;
    ++c.rx_held;
    if (id - base >= ep.cfg.ordered_window) ++c.ctr.reorder_overflow;
    return;
  }
  deliver(ep, c, i);
  // Slide the completed-msg window; ordered messages held just above it
  // become deliverable, in msg_id order.
  const std::uint32_t slid = c.rx_msgs.advance();
  if (c.rx_held == 0) return;
  for (std::uint32_t k = base + 1; k - base < slid; ++k) {
    const std::uint32_t h = ep.rx_index.find(rec_key(EndpointImpl::slot_of(c), k));
    if (h != FlatIndex::kNone && ep.rxmsgs[h].state == RxMsg::kHeld) deliver(ep, c, h);
  }
}

// Whether the resent duplicate `psn` shows our last ACK lost: that ACK
// covered the packet, and the copy came longer after it than two round
// trips at their bound (SRTT + 4 RTTVAR) and half the least RTO, so the
// sender cannot have heard it before it resent. A late ACK makes the
// sender resend just as well, but its copy comes within about a round trip
// of it. Our own host dropping packets lately may have taken the ACK: no
// path is blamed then.
static bool ack_was_lost(const EndpointImpl& ep, Connection& c, std::uint32_t psn, Nanos now) noexcept {
  Connection::SentAck& l = c.last_ack;
  if (l.ns == 0 || l.charged) return false;
  const std::uint32_t above = psn - l.cum_psn - 1;  // SACK bit of psn (sack_off 1)
  const bool covered = seq_lt(psn, l.cum_psn) || psn == l.psn || (above < 64 && ((l.sack_bits >> above) & 1));
  if (!covered) return false;
  // Twice the connection's RTT bound, not the slowest path's RTT: a dead
  // path's last samples would hold the guard above every timeout. Where
  // queues swing (RTTVAR large), an ACK late by a queue is not told from a
  // lost one, and the guard grows out of the way: there the sender learns
  // from the duplicate as from any spurious timeout.
  const Nanos rtt = c.srtt_ns ? c.srtt_ns + 4 * c.rttvar_ns : ep.cfg.initial_rtt_ns;
  const Nanos guard = std::max<Nanos>(ep.cfg.rto_min_ns / 2, 2 * rtt);
  if (now - l.ns < guard) return false;
  if (ep.host_drop_ns != 0 && now - ep.host_drop_ns < guard + kHostDropHoldNs) return false;
  l.charged = true;
  return true;
}

void EndpointImpl::on_data_pkt(Connection& c, const wire::SrdDataHdr& h,
                               std::span<const std::uint8_t> payload, const RxMeta& meta,
                               Nanos now) noexcept {
  if (c.state != ConnState::kEstablished && c.state != ConnState::kClosing) {
    ++counters.c.drop_wrong_state;
    return;
  }
  ++c.ctr.rx_pkts;
  c.ctr.rx_bytes += wire::kSrdDataHdrLen + payload.size();
  const auto len = static_cast<std::uint32_t>(payload.size());

  const SeqWindow::Mark mark = c.rx_psn.classify(h.psn);
  if (mark == SeqWindow::Mark::kBeyond) {
    // The sender overran the window it was given: drop, but tell it where
    // we are.
    ++c.ctr.out_of_window_pkts;
    c.ack_now = true;
    c.ack_pending = true;
    kick(c);
    return;
  }
  const bool dup = mark != SeqWindow::Mark::kNew;
  if (!dup) {
    // Canonical segmentation (see the file comment).
    const std::uint32_t pp = c.payload;
    const std::uint32_t seg = h.msg_off / pp;
    const bool canonical = h.msg_off % pp == 0 && len == std::min(pp, h.msg_len - h.msg_off) &&
                           h.msg_len <= cfg.max_msg_bytes;
    const SeqWindow::Mark mmark = c.rx_msgs.classify(h.msg_id);
    if (!canonical || mmark != SeqWindow::Mark::kNew) {
      ++counters.c.drop_bad_segment;
      return;
    }
    const std::uint32_t slot = slot_of(c);
    // A message in one unordered packet completes here: no other segment
    // will look it up and nothing holds it back, so it skips the
    // reassembly index and the receive list (a find, an insert, an erase
    // and two list updates per small message).
    const bool lone = len == h.msg_len && !(h.flags & wire::kDataOrdered);
    std::uint32_t mi = lone ? FlatIndex::kNone : rx_index.find(rec_key(slot, h.msg_id));
    if (mi == FlatIndex::kNone) {
      mi = rxmsgs.alloc();
      std::uint32_t cls = 0;
      std::uint8_t* buf = mi == kNil ? nullptr : bufs.get(h.msg_len, cls);
      if (buf == nullptr) {
        if (mi != kNil) rxmsgs.release(mi);
        ++counters.c.drop_no_buffer;
        ++c.ctr.rnr_nacks;
        c.nack_pending = true;
        c.nack_psn = h.psn;
        kick(c);
        return;
      }
      RxMsg& m = rxmsgs[mi];
      m.buf = buf;
      m.cap_class = cls;
      m.len = h.msg_len;
      m.received = 0;
      m.msg_id = h.msg_id;
      m.first_psn = h.psn - seg;
      m.conn = c.id;
      m.state = RxMsg::kAssembling;
      m.ordered = h.flags & wire::kDataOrdered;
      m.indexed = !lone;
      if (!lone) {
        rx_index.insert(rec_key(slot, h.msg_id), mi);
        rx_append(c, rxmsgs, mi);
      }
    }
    RxMsg& m = rxmsgs[mi];
    if (m.state != RxMsg::kAssembling || m.len != h.msg_len || m.first_psn != h.psn - seg) {
      ++counters.c.drop_bad_segment;
      return;
    }
    std::memcpy(m.buf + h.msg_off, payload.data(), len);
    m.received += len;
    if (!(h.flags & wire::kDataRetx))
      hist.reorder_depth_pkts.record(seq_lt(h.psn, c.rx_highest) ? c.rx_highest - h.psn : 0);
    const bool in_order = h.psn == c.rx_psn.base();
    c.rx_psn.set(h.psn);
    if (seq_lt(c.rx_highest, h.psn)) c.rx_highest = h.psn;
    if (in_order) c.rx_psn.advance();
    if (meta.ce) ++c.ctr.ce_pkts;
    if (m.received == m.len) on_complete(*this, c, mi);
    // A hole below the highest PSN means reordering or loss: ACK now so the
    // sender's loss detection sees it.
    const bool ooo = !in_order || seq_le(c.rx_psn.base(), c.rx_highest);
    c.ack_unacked_bytes += len;
    ++c.ack_unacked_pkts;
    if (ooo || (h.flags & (wire::kDataRetx | wire::kDataAckReq)) || meta.ce ||
        c.ack_unacked_bytes >= cfg.ack_every_bytes || c.ack_unacked_pkts >= cfg.ack_burst_pkts)
      c.ack_now = true;
  } else {
    ++c.ctr.dup_pkts;
    c.ack_flags |= wire::kAckDup;
    c.ack_now = true;
    // Our ACK died on its way back: that is the path's fault (its return
    // way, which is ours), and the sender must not take its needed
    // retransmission for a spurious one, or its RTO would climb to the
    // maximum while a path that returns nothing stays in service.
    // Only a resent copy tells: a late original behind its resend is a
    // duplicate too, and says nothing about our ACKs.
    if ((h.flags & wire::kDataRetx) && ack_was_lost(*this, c, h.psn, now)) {
      c.ack_flags |= wire::kAckLost;
      ++c.ctr.acks_lost;
      if (c.paths.on_lost(c.last_ack.path, now, cfg)) note_quarantines(c, 1, now);
    }
  }
  // A pending trigger beyond the SACK bitmap would be lost by coalescing:
  // keep it for an ACK of its own, so every packet is reported at least once.
  if (c.ack_pending && c.ack_psn - c.rx_psn.base() > 64 && seq_lt(c.rx_psn.base(), c.ack_psn) &&
      c.ack_extra_count < c.ack_extra.size()) {
    c.ack_extra[c.ack_extra_count++] =
        Connection::AckTrigger{c.ack_rx_ns, c.ack_psn, c.ack_echo_ts, c.ack_path};
    c.ack_now = true;
  }
  c.ack_psn = h.psn;
  c.ack_echo_ts = h.tx_ts;
  c.ack_path = h.path_id;
  c.ack_rx_ns = now;
  if (h.flags & wire::kDataRetx) c.ack_flags |= wire::kAckRetxSeen;
  if (meta.ce) {
    c.ack_flags |= wire::kAckEce;
    ++c.ack_ce_count;
  }
  c.ack_pending = true;
  if (c.ack_now) {
    kick(c);
  } else if (c.ack_deadline == kNever) {
    c.ack_deadline = now + cfg.delayed_ack_ns;
  }
}

std::size_t EndpointImpl::emit_ack(Connection& c, std::span<std::uint8_t> buf, TxMeta& meta,
                                   Nanos now) noexcept {
  meta.to = c.peer;
  meta.ect = true;
  if (c.probe_ack_pending) {
    const Connection::ProbeEcho e = c.probe_acks[--c.probe_ack_count];
    c.probe_ack_pending = c.probe_ack_count != 0;
    wire::SrdProbe p;
    p.path_id = e.path;
    p.dst_conn_id = c.remote_id;
    p.nonce = c.nonce;
    p.tx_ts = e.ts;
    const std::size_t n = wire::encode_srd_probe(buf, wire::SrdType::kProbeAck, p, true);
    if (n == 0) return 0;
    // The answer goes back on the probed path.
    meta.path_id = e.path < c.paths.count() ? e.path : 0;
    return n;
  }
  wire::SrdAck a;
  a.dst_conn_id = c.remote_id;
  a.cum_psn = c.rx_psn.base();
  a.sack_off = 1;
  a.sack_bits = c.rx_psn.bits_from(1);
  // The window is counted from cum_psn: the sender keeps its PSNs below
  // cum_psn + rwnd_pkts (and so inside the PSN window).
  a.rwnd_pkts = cfg.rwnd_pkts;
  const bool nack = c.nack_pending && !c.ack_now;
  if (nack) {
    a.flags = static_cast<std::uint8_t>(static_cast<std::uint8_t>(wire::NackReason::kNoBuffer)
                                        << wire::kNackReasonShift);
    a.ack_psn = c.nack_psn;
    a.path_id = 0;
    c.nack_pending = false;
  } else if (c.ack_extra_count != 0) {
    // An earlier trigger first (see on_data_pkt); the latest ACK follows.
    const Connection::AckTrigger t = c.ack_extra[--c.ack_extra_count];
    a.path_id = t.path;
    a.ack_psn = t.psn;
    a.echo_ts = t.echo_ts;
    const Nanos held = now - t.rx_ns;
    a.rx_delay_ns = held > 0xffffffffULL ? 0xffffffffu : static_cast<std::uint32_t>(held);
  } else {
    a.flags = c.ack_flags;
    a.path_id = c.ack_path;
    a.ack_psn = c.ack_psn;
    a.echo_ts = c.ack_echo_ts;
    const Nanos held = now - c.ack_rx_ns;
    a.rx_delay_ns = held > 0xffffffffULL ? 0xffffffffu : static_cast<std::uint32_t>(held);
    a.ce_count = c.ack_ce_count;
    c.ack_flags = 0;
    c.ack_ce_count = 0;
    c.ack_unacked_bytes = 0;
    c.ack_unacked_pkts = 0;
    c.ack_pending = false;
    c.ack_now = false;
    c.ack_deadline = kNever;
  }
  if (host_drop_ns != 0 && now - host_drop_ns < kHostDropHoldNs) a.flags |= wire::kAckHostDrop;
  const std::size_t n = wire::encode_srd_ack(buf, a, nack, true);
  if (n == 0) return 0;
  meta.path_id = c.paths.ack_path(a.path_id);
  // A resent duplicate showed our last ACK lost (ack_was_lost), and its
  // way back may be dead (a failed switch on the return way only): the
  // answer goes on the next path in service, so that resends on a path
  // whose ACKs die still get heard. A duplicate that only shows an ACK
  // late keeps its path (its RTT sample then describes that path).
  if ((a.flags & wire::kAckLost) && meta.path_id == c.last_ack.path)
    meta.path_id = c.paths.ack_path(static_cast<std::uint16_t>((meta.path_id + 1) % c.paths.count()));
  ++c.ctr.acks_tx;
  if (!nack) c.last_ack = Connection::SentAck{now, a.sack_bits, a.cum_psn, a.ack_psn, meta.path_id, false};
  return n;
}

void EndpointImpl::release_msg(const Message& msg) noexcept {
  if (msg.handle >= rxmsgs.capacity()) return;
  RxMsg& m = rxmsgs[msg.handle];
  if (m.state != RxMsg::kWithApp || m.conn != msg.conn || m.msg_id != msg.msg_id) return;
  bufs.put(m.buf, m.cap_class);
  m.buf = nullptr;
  m.state = RxMsg::kFree;
  rxmsgs.release(msg.handle);
}

void EndpointImpl::release_receiver(Connection& c) noexcept {
  const std::uint32_t slot = slot_of(c);
  while (c.rx_head != kNil) {
    const std::uint32_t i = c.rx_head;
    RxMsg& m = rxmsgs[i];
    rx_index.erase(rec_key(slot, m.msg_id));
    rx_unlink(c, rxmsgs, i);
    bufs.put(m.buf, m.cap_class);
    m.buf = nullptr;
    m.state = RxMsg::kFree;
    rxmsgs.release(i);
  }
  c.rx_held = 0;
}

}  // namespace spray::srd
