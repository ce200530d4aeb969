// SPDX-License-Identifier: BSD-3-Clause
// Connection lifecycle (doc/protocol.md section 3):
//
//   CLOSED -> CONNECTING (CONNECT, retried after connect_retry_ns, doubling,
//             connect_max_tries in all) -> ESTABLISHED -> CLOSING (drain,
//             CLOSE / CLOSE_ACK) -> CLOSED;  any -> FAILED
//
// The initiator picks a random nonce that every later control packet
// carries; a CONNECT with a new nonce from a known (address, id) means the
// peer restarted, and the old connection is reset. A handle dies when its
// connection closes or fails; its slot is reused under a new generation.
#include <algorithm>

#include "srd/endpoint_impl.h"

namespace spray::srd {

using wire::ResetReason;
using wire::SrdType;

namespace {

std::uint32_t nonzero(std::uint32_t v) noexcept { return v == 0 ? 1 : v; }

const char* reset_hint(ResetReason r) noexcept {
  switch (r) {
    case ResetReason::kUnknownConn:
      return "peer has no state for this connection (restarted or already closed)";
    case ResetReason::kBadNonce:
      return "peer saw a wrong connection nonce";
    case ResetReason::kAborted:
      return "peer aborted the connection";
    case ResetReason::kRefused:
      return "peer refused the connection (not listening or connection table full)";
  }
  return "reset by peer";
}

}  // namespace

Connection* EndpointImpl::alloc_conn() noexcept {
  if (free_slots.empty()) return nullptr;
  const std::uint32_t slot = free_slots.back();
  if (!conns[slot]) {
    // First use of this slot: the only allocation a connection makes
    // besides its path array.
    try {
      conns[slot] = std::make_unique<Connection>();
    } catch (...) {
      return nullptr;
    }
  } else {
    *conns[slot] = Connection{};
  }
  free_slots.pop_back();
  std::uint16_t& gen = generation[slot];
  gen = static_cast<std::uint16_t>((gen + 1) & 0xfff);
  if (gen == 0) gen = 1;
  Connection& c = *conns[slot];
  c.id = (std::uint32_t{gen} << kSlotBits) | slot;
  ++live_conns;
  return &c;
}

void EndpointImpl::setup_paths(Connection& c, std::uint16_t paths, std::uint16_t mtu,
                               Nanos now) noexcept {
  try {
    c.paths.init(paths, cfg, now);
  } catch (...) {
    c.paths.init(1, cfg, now);
  }
  c.mtu = mtu;
  c.payload = mtu - kIpUdpSrdDataHdrLen;
  c.cc.init(cfg, mtu);
}

void EndpointImpl::free_conn(Connection& c) noexcept {
  const std::uint32_t slot = slot_of(c);
  release_sender(c, FailReason::kClosed);
  release_receiver(c);
  if (c.remote_id != 0) {
    auto it = by_peer.find(PeerKey{c.peer.ip, c.peer.port, c.remote_id});
    if (it != by_peer.end() && it->second == c.id) by_peer.erase(it);
  }
  timers.set(slot, kNever);
  sched.remove(slot);
  c.state = ConnState::kClosed;
  c.paths = PathSet{};
  free_slots.push_back(slot);
  --live_conns;
}

ConnId EndpointImpl::connect(const PeerAddr& peer) noexcept {
  Connection* c = alloc_conn();
  if (c == nullptr) return kNoConn;
  c->state = ConnState::kConnecting;
  c->initiator = true;
  c->ordered = cfg.ordered;
  c->peer = peer;
  c->nonce = nonzero(rng.next32());
  c->next_psn = rng.next32();
  c->snd_una = c->next_psn;
  setup_paths(*c, cfg.paths, cfg.mtu, last_now);
  c->ctrl |= kSendConnect;
  kick(*c);
  return c->id;
}

void EndpointImpl::send_reset(const PeerAddr& to, std::uint16_t path_id, std::uint32_t dst_id,
                              std::uint32_t src_id, std::uint32_t nonce,
                              ResetReason r) noexcept {
  wire::SrdReset h;
  h.reason = r;
  h.path_id = path_id;
  h.dst_conn_id = dst_id;
  h.src_conn_id = src_id;
  h.nonce = nonce;
  std::array<std::uint8_t, wire::kSrdResetLen> b{};
  const std::size_t n = wire::encode_srd_reset(b, h, true);
  queue_orphan(to, path_id, std::span<const std::uint8_t>(b.data(), n));
  ++counters.c.resets_tx;
}

void EndpointImpl::fail(Connection& c, FailReason reason, const char* hint) noexcept {
  switch (reason) {
    case FailReason::kUnreachable: ++counters.c.conn_failed_unreachable; break;
    case FailReason::kUnresponsive: ++counters.c.conn_failed_unresponsive; break;
    case FailReason::kReset: ++counters.c.conn_failed_reset; break;
    default: break;
  }
  release_sender(c, reason);
  Event ev;
  ev.kind = EventKind::kConnectionFailed;
  ev.reason = reason;
  ev.conn = c.id;
  ev.peer = c.peer;
  ev.hint = hint;
  push_event(ev);
  free_conn(c);
}

void EndpointImpl::finish_close(Connection& c, FailReason msg_reason, const char* hint) noexcept {
  release_sender(c, msg_reason);
  ++counters.c.conns_closed;
  Event ev;
  ev.kind = EventKind::kClosed;
  ev.conn = c.id;
  ev.peer = c.peer;
  ev.hint = hint;
  push_event(ev);
  free_conn(c);
}

bool EndpointImpl::close(ConnId id) noexcept {
  Connection* c = lookup(id);
  if (c == nullptr) return false;
  if (c->state == ConnState::kConnecting) {
    finish_close(*c, FailReason::kClosed, "closed before the handshake completed");
    return true;
  }
  if (c->state != ConnState::kEstablished) return true;
  c->state = ConnState::kClosing;
  c->close_requested = true;
  c->hs_tries = 0;
  if (c->live_msgs == 0) {
    c->ctrl |= kSendClose;
    kick(*c);
  }
  rearm(*c);
  return true;
}

bool EndpointImpl::abort(ConnId id) noexcept {
  Connection* c = lookup(id);
  if (c == nullptr) return false;
  if (c->remote_id != 0)
    send_reset(c->peer, 0, c->remote_id, c->id, c->nonce, ResetReason::kAborted);
  release_sender(*c, FailReason::kClosed);
  free_conn(*c);
  return true;
}

void EndpointImpl::on_handshake(SrdType type, const wire::SrdHandshake& h, const RxMeta& meta,
                                Nanos now) noexcept {
  if (type == SrdType::kConnect) {
    const PeerKey key{meta.from.ip, meta.from.port, h.src_conn_id};
    if (auto it = by_peer.find(key); it != by_peer.end()) {
      Connection* old = lookup(it->second);
      if (old != nullptr && old->nonce == h.nonce) {
        // Our ACCEPT was lost: answer again, on the way this CONNECT came.
        old->hs_echo_ts = h.tx_ts;
        old->hs_path = static_cast<std::uint8_t>(meta.path_id);
        old->ctrl |= kSendAccept;
        kick(*old);
        return;
      }
      if (old != nullptr) fail(*old, FailReason::kReset, "peer reconnected with a new nonce (restarted)");
      by_peer.erase(key);
    }
    if (!listening) {
      ++counters.c.drop_not_listening;
      send_reset(meta.from, meta.path_id, h.src_conn_id, 0, h.nonce, ResetReason::kRefused);
      return;
    }
    Connection* c = alloc_conn();
    if (c == nullptr) {
      ++counters.c.drop_table_full;
      send_reset(meta.from, meta.path_id, h.src_conn_id, 0, h.nonce, ResetReason::kRefused);
      return;
    }
    c->state = ConnState::kEstablished;
    c->initiator = false;
    c->ordered = cfg.ordered;
    c->peer = meta.from;
    c->remote_id = h.src_conn_id;
    c->nonce = h.nonce;
    c->next_psn = rng.next32();
    c->snd_una = c->next_psn;
    c->peer_rwnd = h.rwnd_pkts;
    c->rx_psn.reset(h.initial_psn);
    c->rx_highest = h.initial_psn - 1;
    c->rx_msgs.reset(0);
    c->established_ns = now;
    c->last_ack_rx_ns = now;
    setup_paths(*c, std::min(cfg.paths, h.paths), std::min(cfg.mtu, h.mtu), now);
    c->hs_echo_ts = h.tx_ts;
    c->hs_path = static_cast<std::uint8_t>(meta.path_id);
    c->ctrl |= kSendAccept;
    by_peer.emplace(key, c->id);
    ++counters.c.conns_opened;
    Event ev;
    ev.kind = EventKind::kAccepted;
    ev.conn = c->id;
    ev.peer = c->peer;
    push_event(ev);
    kick(*c);
    rearm(*c);
    return;
  }
  // ACCEPT
  Connection* c = lookup(h.dst_conn_id);
  if (c == nullptr) {
    ++counters.c.drop_unknown_conn;
    return;
  }
  if (h.nonce != c->nonce) {
    ++counters.c.drop_bad_nonce;
    return;
  }
  if (c->state != ConnState::kConnecting) return;  // duplicate ACCEPT
  c->remote_id = h.src_conn_id;
  c->peer_rwnd = h.rwnd_pkts;
  c->rx_psn.reset(h.initial_psn);
  c->rx_highest = h.initial_psn - 1;
  c->rx_msgs.reset(0);
  const std::uint16_t paths = std::min(cfg.paths, h.paths);
  const std::uint16_t mtu = std::min(cfg.mtu, h.mtu);
  if (paths != c->paths.count() || mtu != c->mtu) setup_paths(*c, paths, mtu, now);
  c->state = ConnState::kEstablished;
  c->established_ns = now;
  c->last_ack_rx_ns = now;
  c->hs_deadline = kNever;
  c->hs_tries = 0;
  // The handshake round trip is the first RTT sample.
  const std::uint32_t rtt = static_cast<std::uint32_t>(now) - h.tx_ts;
  // A zero round trip is two reads of one clock tick, not a sample (as for
  // ACKs): it would size the first window at one packet.
  if (h.tx_ts != 0 && rtt != 0 && rtt < 1'000'000'000u) {
    c->srtt_ns = rtt;
    c->rttvar_ns = c->srtt_ns / 2;
    // The echoed CONNECT and its ACCEPT took the same path: a sample of
    // that path too, and the connection's first clean base RTT (data
    // samples may all come from a queue the first window built).
    const std::uint16_t hs_path = meta.path_id < c->paths.count() ? meta.path_id : 0;
    c->paths.on_rtt(hs_path, static_cast<std::uint32_t>(c->srtt_ns), c->srtt_ns, 0, now, cfg);
    c->cc.on_handshake_rtt(c->srtt_ns, cfg);
  }
  by_peer[PeerKey{c->peer.ip, c->peer.port, c->remote_id}] = c->id;
  ++counters.c.conns_opened;
  Event ev;
  ev.kind = EventKind::kConnected;
  ev.conn = c->id;
  ev.peer = c->peer;
  push_event(ev);
  kick(*c);
  rearm(*c);
}

void EndpointImpl::on_close_pkt(const wire::SrdClose& h, const RxMeta& meta, Nanos) noexcept {
  Connection* c = lookup(h.dst_conn_id);
  if (c == nullptr) {
    ++counters.c.drop_unknown_conn;
    if ((h.flags & wire::kCloseAck) == 0) {
      // We already closed and freed it (our CLOSE_ACK was lost): the RESET
      // tells the closer we are gone, which it takes as closed.
      send_reset(meta.from, meta.path_id, 0, h.dst_conn_id, h.nonce, ResetReason::kUnknownConn);
    }
    return;
  }
  if (h.nonce != c->nonce) {
    ++counters.c.drop_bad_nonce;
    return;
  }
  if (h.flags & wire::kCloseAck) {
    if (c->state == ConnState::kClosing) finish_close(*c, FailReason::kClosed, nullptr);
    return;
  }
  // The peer closes: confirm, then end our side. Our own unsent messages
  // fail with CLOSED (the peer will not receive them any more).
  wire::SrdClose a;
  a.flags = wire::kCloseAck;
  a.path_id = meta.path_id;
  a.dst_conn_id = c->remote_id;
  a.nonce = c->nonce;
  a.next_psn = c->next_psn;
  std::array<std::uint8_t, wire::kSrdCloseLen> b{};
  const std::size_t n = wire::encode_srd_close(b, a, true);
  queue_orphan(c->peer, meta.path_id, std::span<const std::uint8_t>(b.data(), n));
  finish_close(*c, FailReason::kClosed, "closed by peer");
}

void EndpointImpl::on_reset_pkt(const wire::SrdReset& h, const RxMeta& meta) noexcept {
  Connection* c = nullptr;
  const bool by_address = h.dst_conn_id == 0;
  if (!by_address) {
    c = lookup(h.dst_conn_id);
  } else if (auto it = by_peer.find(PeerKey{meta.from.ip, meta.from.port, h.src_conn_id});
             it != by_peer.end()) {
    c = lookup(it->second);
  }
  if (c == nullptr) {
    ++counters.c.drop_unknown_conn;
    return;
  }
  // A RESET for an id the peer does not know cannot carry our nonce; it names
  // the peer's id and comes from the peer's address (by_address). Any other
  // RESET must carry the nonce: one naming our id without it would let anyone
  // who guesses the id (generation and slot) tear the connection down.
  const bool peer_lost_state = by_address && h.nonce == 0 && h.reason == ResetReason::kUnknownConn;
  if (h.nonce != c->nonce && !peer_lost_state) {
    ++counters.c.drop_bad_nonce;
    return;
  }
  if (c->state == ConnState::kClosing) {
    finish_close(*c, FailReason::kClosed, "peer had already closed");
    return;
  }
  fail(*c, FailReason::kReset, reset_hint(h.reason));
}

void EndpointImpl::on_probe_pkt(SrdType type, const wire::SrdProbe& h, const RxMeta& meta,
                                Nanos now) noexcept {
  Connection* c = lookup(h.dst_conn_id);
  if (c == nullptr) {
    ++counters.c.drop_unknown_conn;
    send_reset(meta.from, meta.path_id, 0, h.dst_conn_id, 0, ResetReason::kUnknownConn);
    return;
  }
  if (h.nonce != c->nonce) {
    ++counters.c.drop_bad_nonce;
    return;
  }
  if (type == SrdType::kProbe) {
    // Beyond the queue a probe goes unanswered; the prober probes again.
    if (c->probe_ack_count < c->probe_acks.size()) {
      c->probe_acks[c->probe_ack_count++] = Connection::ProbeEcho{h.path_id, h.tx_ts};
      c->probe_ack_pending = true;
      kick(*c);
    }
    return;
  }
  if (h.path_id >= c->paths.count()) return;
  const PathState before = c->paths[h.path_id].state;
  if (before != PathState::kProbing && before != PathState::kSuspect) return;
  c->paths.on_probe_ack(h.path_id, h.tx_ts, static_cast<std::uint32_t>(now) - h.tx_ts, now, cfg);
  if (before == PathState::kProbing && c->paths[h.path_id].state == PathState::kActive) c->impaired = false;
  kick(*c);
  rearm(*c);
}

std::size_t EndpointImpl::emit_ctrl(Connection& c, std::span<std::uint8_t> buf, TxMeta& meta,
                                    Nanos now) noexcept {
  meta.to = c.peer;
  meta.path_id = 0;
  meta.ect = true;
  std::size_t n = 0;
  if (c.ctrl & (kSendConnect | kSendAccept)) {
    const bool connect = c.ctrl & kSendConnect;
    wire::SrdHandshake h;
    h.dst_conn_id = connect ? 0 : c.remote_id;
    h.src_conn_id = c.id;
    h.nonce = c.nonce;
    h.initial_psn = c.next_psn;
    if (!connect) h.initial_psn = c.snd_una;
    h.paths = connect ? cfg.paths : c.paths.count();
    h.mtu = connect ? cfg.mtu : c.mtu;
    h.caps = wire::kCapHdrCsum | (cfg.ordered ? wire::kCapOrdered : 0);
    h.rwnd_pkts = cfg.rwnd_pkts;
    // ACCEPT echoes the CONNECT's timestamp: the initiator's first RTT.
    // A CONNECT stamped 0 (a clock at 0 mod 2^32) would read as "no
    // timestamp" and leave the connection without its first RTT.
    h.tx_ts = connect ? std::max<std::uint32_t>(static_cast<std::uint32_t>(now), 1) : c.hs_echo_ts;
    n = wire::encode_srd_handshake(buf, connect ? SrdType::kConnect : SrdType::kAccept, h, true);
    if (n == 0) return 0;
    meta.path_id = connect ? static_cast<std::uint16_t>(c.hs_tries % cfg.paths) : c.hs_path;
    if (connect) {
      c.ctrl &= ~kSendConnect;
      ++c.hs_tries;
      c.hs_deadline = now + (cfg.connect_retry_ns << (c.hs_tries - 1));
    } else {
      c.ctrl &= ~kSendAccept;
    }
    return n;
  }
  if (c.ctrl & kSendClose) {
    wire::SrdClose h;
    h.dst_conn_id = c.remote_id;
    h.nonce = c.nonce;
    h.next_psn = c.next_psn;
    n = wire::encode_srd_close(buf, h, true);
    if (n == 0) return 0;
    c.ctrl &= ~kSendClose;
    ++c.hs_tries;
    c.hs_deadline = now + (std::max(rto_ns(c), cfg.rto_min_ns) << std::min(c.hs_tries - 1, 10));
    return n;
  }
  return 0;
}

void EndpointImpl::note_quarantines(Connection& c, unsigned n, Nanos now) noexcept {
  c.ctr.path_quarantines += n;
  if (!c.impaired && c.paths.usable(now) == 0) {
    c.impaired = true;
    ++c.ctr.all_paths_impaired;
    Event ev;
    ev.kind = EventKind::kAllPathsImpaired;
    ev.conn = c.id;
    ev.peer = c.peer;
    ev.hint = "every path is quarantined; sending on the least-bad one";
    push_event(ev);
  }
}

void EndpointImpl::conn_timers(Connection& c, Nanos now) noexcept {
  if (c.hs_deadline <= now) {
    c.hs_deadline = kNever;
    if (c.state == ConnState::kConnecting) {
      if (c.hs_tries >= cfg.connect_max_tries) {
        fail(c, FailReason::kUnreachable, "no answer to CONNECT (peer down, wrong address or port?)");
        return;
      }
      c.ctrl |= kSendConnect;
      kick(c);
    } else if (c.state == ConnState::kClosing) {
      if (c.hs_tries >= cfg.connect_max_tries) {
        finish_close(c, FailReason::kClosed, "peer did not confirm the close");
        return;
      }
      c.ctrl |= kSendClose;
      kick(c);
    }
  }
  if (c.ack_deadline <= now) {
    c.ack_deadline = kNever;
    if (c.ack_pending) {
      c.ack_now = true;
      kick(c);
    }
  }
  const Nanos probe_timeout = std::max(rto_ns(c), cfg.rto_min_ns);
  unsigned q = c.paths.on_timer(now, probe_timeout, cfg);
  // A SUSPECT path's probes are late, like data, after RACK's RTT and its
  // reordering wait.
  q += c.paths.judge_suspect_probes(now, c.rack_tx_seq != 0 ? c.rack_tx_ns : 0,
                                    std::max<Nanos>(c.rack_rtt_ns, c.srtt_ns) + reo_wnd_ns(c), cfg);
  if (q != 0) note_quarantines(c, q, now);
  if (c.paths.probes_due() != 0) kick(c);
  if (c.state == ConnState::kEstablished || c.state == ConnState::kClosing) sender_timers(c, now);
}

}  // namespace spray::srd
