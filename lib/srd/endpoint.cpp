// SPDX-License-Identifier: BSD-3-Clause
// Endpoint: packet dispatch, transmit scheduling (ready list + pacing
// wheel), timers, events, the application API and statistics. The protocol
// logic lives in connection.cpp, sender.cpp and receiver.cpp.
#include "srd/endpoint.h"

#include <algorithm>
#include <cstdio>
#include <new>
#include <stdexcept>
#include <string>

#include "srd/endpoint_impl.h"

namespace spray::srd {

using wire::SrdError;
using wire::SrdType;

// ---------------------------------------------------------------------------
// Configuration

namespace {

template <typename T>
[[noreturn]] void bad(const char* field, T value, const char* accepted) {
  throw std::invalid_argument(std::string("srd endpoint config: ") + field + " = " +
                              std::to_string(value) + " is invalid; accepted: " + accepted);
}

}  // namespace

void EndpointConfig::validate() const {
  if (mtu < 61 + 28 || mtu > 9216) bad("mtu", mtu, "89..9216 (IP MTU; payload = mtu - 60)");
  if (paths == 0 || paths > 256) bad("paths", paths, "1..256");
  if (link_rate_bps < 1'000'000) bad("link_rate_bps", link_rate_bps, ">= 1e6");
  if (max_connections == 0 || max_connections > (1u << kSlotBits))
    bad("max_connections", max_connections, "1..1048576");
  if (max_inflight_pkts == 0 || max_inflight_pkts > (1u << 26))
    bad("max_inflight_pkts", max_inflight_pkts, "1..67108864");
  if (max_send_msgs == 0 || max_send_msgs > (1u << 26))
    bad("max_send_msgs", max_send_msgs, "1..67108864");
  if (max_rx_msgs == 0 || max_rx_msgs > (1u << 26)) bad("max_rx_msgs", max_rx_msgs, "1..67108864");
  if (max_msg_bytes == 0 || max_msg_bytes > (1u << 30))
    bad("max_msg_bytes", max_msg_bytes, "1..1073741824");
  if (rwnd_pkts == 0 || rwnd_pkts > kMpr) bad("rwnd_pkts", rwnd_pkts, "1..4096 (the PSN window)");
  if (ordered_window == 0 || ordered_window > kMsgWindow)
    bad("ordered_window", ordered_window, "1..4096");
  if (connect_retry_ns == 0) bad("connect_retry_ns", connect_retry_ns, "> 0");
  if (connect_max_tries == 0) bad("connect_max_tries", connect_max_tries, ">= 1");
  if (conn_timeout_ns == 0) bad("conn_timeout_ns", conn_timeout_ns, "> 0");
  if (max_attempts == 0) bad("max_attempts", max_attempts, ">= 1");
  if (rto_min_ns < 20'000 || rto_min_ns > 10'000'000)
    bad("rto_min_ns", rto_min_ns, "20000..10000000 (20 us .. 10 ms)");
  if (rto_max_ns < rto_min_ns) bad("rto_max_ns", rto_max_ns, ">= rto_min_ns");
  if (initial_rtt_ns == 0 || initial_rtt_ns > 1'000'000'000)
    bad("initial_rtt_ns", initial_rtt_ns, "1..1e9");
  if (delayed_ack_ns == 0) bad("delayed_ack_ns", delayed_ack_ns, "> 0");
  if (ack_burst_pkts == 0) bad("ack_burst_pkts", ack_burst_pkts, ">= 1");
  if (quarantine_min_ns == 0 || quarantine_max_ns < quarantine_min_ns ||
      quarantine_max_ns > 4'000'000'000ULL)
    bad("quarantine_min_ns", quarantine_min_ns, "> 0, <= quarantine_max_ns <= 4 s");
  if (suspect_rtts == 0) bad("suspect_rtts", suspect_rtts, ">= 1");
  if (!(suspect_rtt_factor > 1.0)) bad("suspect_rtt_factor", suspect_rtt_factor, "> 1");
  if (!(penalty_rtt_factor > 1.0)) bad("penalty_rtt_factor", penalty_rtt_factor, "> 1");
  if (penalty_min_queue_ns > 1'000'000'000)
    bad("penalty_min_queue_ns", penalty_min_queue_ns, "0..1e9");
  if (!(max_cwnd_bdp > 0)) bad("max_cwnd_bdp", max_cwnd_bdp, "> 0");
  if (!(min_cwnd_pkts > 0) || min_cwnd_pkts > 1) bad("min_cwnd_pkts", min_cwnd_pkts, "(0, 1]");
  if (!(ai_pkts > 0)) bad("ai_pkts", ai_pkts, "> 0");
  if (!(md_beta > 0) || md_beta > 1) bad("md_beta", md_beta, "(0, 1]");
  if (!(md_floor > 0) || md_floor >= 1) bad("md_floor", md_floor, "(0, 1)");
  if (!(target_base_factor >= 0)) bad("target_base_factor", target_base_factor, ">= 0");
  if (initial_cwnd_cap_pkts == 0) bad("initial_cwnd_cap_pkts", initial_cwnd_cap_pkts, ">= 1");
  if (wheel_slot_ns == 0) bad("wheel_slot_ns", wheel_slot_ns, "> 0");
  if (wheel_slots < 64 || wheel_slots * wheel_slot_ns < 1'000'000)
    bad("wheel_slots", wheel_slots, ">= 64 and a horizon (slots x slot_ns) >= 1 ms");
}

// ---------------------------------------------------------------------------
// Reassembly buffers

BufferPool::~BufferPool() {
  for (auto& list : free_)
    for (std::uint8_t* p : list) delete[] p;
}

bool BufferPool::trim(std::uint64_t need) noexcept {
  // Give cached buffers of any class back to the allocator until `need`
  // fits under the limit.
  for (unsigned c = kClasses; c-- > 0 && allocated_ + need > limit_;) {
    while (!free_[c].empty() && allocated_ + need > limit_) {
      delete[] free_[c].back();
      free_[c].pop_back();
      allocated_ -= class_bytes(c);
    }
  }
  return allocated_ + need <= limit_;
}

std::uint8_t* BufferPool::get(std::uint32_t bytes, std::uint32_t& cls) noexcept {
  std::uint32_t c = 0;
  while (class_bytes(c) < bytes) ++c;
  cls = c;
  if (!free_[c].empty()) {
    std::uint8_t* p = free_[c].back();
    free_[c].pop_back();
    return p;
  }
  const std::uint64_t need = class_bytes(c);
  if (allocated_ + need > limit_ && !trim(need)) return nullptr;
  auto* p = new (std::nothrow) std::uint8_t[need];
  if (p == nullptr) return nullptr;
  allocated_ += need;
  return p;
}

void BufferPool::put(std::uint8_t* p, std::uint32_t cls) noexcept {
  // push_back only allocates when this class holds more buffers than ever.
  try {
    free_[cls].push_back(p);
  } catch (...) {
    delete[] p;
    allocated_ -= class_bytes(cls);
  }
}

// ---------------------------------------------------------------------------
// EndpointImpl core

EndpointImpl::EndpointImpl(const EndpointConfig& c)
    : cfg(c),
      rng(c.seed),
      conns(c.max_connections),
      generation(c.max_connections, 0),
      recs(c.max_inflight_pkts),
      rec_index(c.max_inflight_pkts),
      msgs(c.max_send_msgs),
      rxmsgs(c.max_rx_msgs),
      rx_index(c.max_rx_msgs),
      bufs(c.rx_buffer_bytes),
      timers(c.max_connections),
      sched(c.max_connections, c.wheel_slots, c.wheel_slot_ns),
      events(256),
      hist(c.paths) {
  free_slots.reserve(c.max_connections);
  for (std::uint32_t i = c.max_connections; i-- > 0;) free_slots.push_back(i);
  starved.reserve(64);
}

EndpointImpl::~EndpointImpl() {
  // Reassembly buffers still held (partial, held for order, or never
  // released by the application) go back before the pool frees them all.
  for (std::uint32_t i = 0; i < rxmsgs.capacity(); ++i) {
    RxMsg& m = rxmsgs[i];
    if (m.buf != nullptr) bufs.put(m.buf, m.cap_class);
    m.buf = nullptr;
  }
}

void EndpointImpl::push_event(const Event& ev) noexcept {
  if (ev_count == events.size()) {
    // Grow by doubling: rare, and never fatal (an event is not dropped).
    try {
      std::vector<Event> bigger(events.size() * 2);
      for (std::size_t i = 0; i < ev_count; ++i)
        bigger[i] = events[(ev_head + i) % events.size()];
      events.swap(bigger);
      ev_head = 0;
      ++counters.c.event_queue_grow;
    } catch (...) {
      return;
    }
  }
  events[(ev_head + ev_count) % events.size()] = ev;
  ++ev_count;
}

bool EndpointImpl::pop_event(Event& ev) noexcept {
  if (ev_count == 0) return false;
  ev = events[ev_head];
  ev_head = (ev_head + 1) % events.size();
  --ev_count;
  return true;
}

void EndpointImpl::queue_orphan(const PeerAddr& to, std::uint16_t path_id,
                                std::span<const std::uint8_t> bytes) noexcept {
  if (orph_count == orphans.size() || bytes.size() > wire::kSrdMaxCtrlLen) return;
  OrphanPkt& o = orphans[(orph_head + orph_count) % orphans.size()];
  o.to = to;
  o.path_id = path_id;
  o.len = static_cast<std::uint8_t>(bytes.size());
  std::memcpy(o.bytes.data(), bytes.data(), bytes.size());
  ++orph_count;
}

void EndpointImpl::rearm(Connection& c) noexcept {
  Nanos t = std::min(c.hs_deadline, sender_deadline(c));
  t = std::min(t, c.ack_deadline);
  t = std::min(t, c.paths.next_deadline());
  timers.set(slot_of(c), t);
}

namespace {

// DATA and ACK carry no nonce (they are the per-packet types): what ties one
// to its connection besides the id is the sender's address. Only the IP is
// compared: the UDP source port carries the path, so a driver cannot report
// the peer's own port.
bool from_peer(const Connection& c, const RxMeta& meta) noexcept { return meta.from.ip == c.peer.ip; }

}  // namespace

void EndpointImpl::on_packet(std::span<const std::uint8_t> pkt, const RxMeta& meta,
                             Nanos now) noexcept {
  last_now = now;
  SrdType type{};
  SrdError err = wire::srd_peek_type(pkt, type);
  if (err != SrdError::k_ok) {
    ++counters.malformed[static_cast<std::size_t>(err)];
    return;
  }
  if (type == SrdType::kData) {
    wire::SrdDataHdr h;
    std::span<const std::uint8_t> payload;
    err = wire::decode_srd_data(pkt, h, payload);
    if (err != SrdError::k_ok) {
      ++counters.malformed[static_cast<std::size_t>(err)];
      return;
    }
    Connection* c = lookup(h.dst_conn_id);
    if (c == nullptr) {
      ++counters.c.drop_unknown_conn;
      send_reset(meta.from, meta.path_id, 0, h.dst_conn_id, 0, wire::ResetReason::kUnknownConn);
      return;
    }
    if (!from_peer(*c, meta)) {
      ++counters.c.drop_wrong_peer;
      return;
    }
    on_data_pkt(*c, h, payload, meta, now);
    rearm(*c);
    return;
  }
  if (type == SrdType::kAck || type == SrdType::kNack) {
    wire::SrdAck a;
    bool nack = false;
    err = wire::decode_srd_ack(pkt, a, nack);
    if (err != SrdError::k_ok) {
      ++counters.malformed[static_cast<std::size_t>(err)];
      return;
    }
    Connection* c = lookup(a.dst_conn_id);
    if (c == nullptr) {
      ++counters.c.drop_unknown_conn;
      send_reset(meta.from, meta.path_id, 0, a.dst_conn_id, 0, wire::ResetReason::kUnknownConn);
      return;
    }
    if (!from_peer(*c, meta)) {
      ++counters.c.drop_wrong_peer;
      return;
    }
    if (c->state != ConnState::kEstablished && c->state != ConnState::kClosing) {
      ++counters.c.drop_wrong_state;
      return;
    }
    // The receiver's cumulative point cannot pass what we sent: such an ACK
    // is forged or corrupt, and its window and timestamps would mislead us.
    if (seq_lt(c->next_psn, a.cum_psn)) {
      ++counters.c.drop_bad_ack;
      return;
    }
    ++c->ctr.rx_pkts;
    c->ctr.rx_bytes += pkt.size();
    on_ack_pkt(*c, a, nack, now);
    // on_ack_pkt may have failed (and freed) the connection.
    if (Connection* live = lookup(a.dst_conn_id)) rearm(*live);
    return;
  }
  wire::SrdPacket p;
  err = wire::decode_srd(pkt, p);
  if (err != SrdError::k_ok) {
    ++counters.malformed[static_cast<std::size_t>(err)];
    return;
  }
  switch (type) {
    case SrdType::kConnect:
    case SrdType::kAccept:
      on_handshake(type, p.hs, meta, now);
      break;
    case SrdType::kProbe:
    case SrdType::kProbeAck:
      on_probe_pkt(type, p.probe, meta, now);
      break;
    case SrdType::kClose:
      on_close_pkt(p.close, meta, now);
      break;
    case SrdType::kReset:
      on_reset_pkt(p.reset, meta);
      break;
    default:
      break;
  }
}

std::size_t EndpointImpl::poll_tx(std::span<std::uint8_t> buf, TxMeta& meta,
                                  Nanos now) noexcept {
  last_now = now;
  if (orph_count != 0) {
    const OrphanPkt& o = orphans[orph_head];
    if (buf.size() < o.len) return 0;
    std::memcpy(buf.data(), o.bytes.data(), o.len);
    meta.to = o.to;
    meta.path_id = o.path_id;
    meta.ect = true;
    orph_head = (orph_head + 1) % orphans.size();
    --orph_count;
    return o.len;
  }
  sched.advance(now);
  for (;;) {
    const std::uint32_t slot = sched.pop_ready();
    if (slot == kNil) return 0;
    Connection* c = conns[slot].get();
    if (c == nullptr || c->state == ConnState::kClosed) continue;
    std::size_t n = 0;
    bool data_behind_data = false;
    // The peer frees its side when our CLOSE arrives: an ACK still owed
    // (delayed, or due but not yet sent) goes first, or the peer's last
    // segments stay unacknowledged and the late ACK finds no connection.
    const bool close_owes_ack = (c->ctrl & kSendClose) && (c->ack_now || c->ack_deadline != kNever);
    if (close_owes_ack) c->ack_now = true;
    if (c->ctrl != 0 && !close_owes_ack) {
      n = emit_ctrl(*c, buf, meta, now);
    } else if (c->ack_now || c->nack_pending || c->probe_ack_pending) {
      n = emit_ack(*c, buf, meta, now);
    } else {
      const bool was_in_flight = c->fl_head != kNil;
      n = sender_tx(*c, buf, meta, now);
      data_behind_data = n != 0 && was_in_flight;
    }
    // The connection may have failed while producing (max attempts).
    c = conns[slot].get();
    if (c->state == ConnState::kClosed) {
      if (n != 0) return n;
      continue;
    }
    Nanos pace_at = kNever;
    const bool more = owes_ctrl_or_ack(*c) || sender_has_tx(*c, now, pace_at);
    if (more && n != 0) {
      sched.make_ready(slot);
    } else if (pace_at != kNever) {
      sched.schedule(slot, pace_at, now);
    }
    // Another DATA packet behind ones already in flight only moves the
    // connection's deadlines later (the tail probe follows the last
    // transmission), so the armed timer stays: when it fires early,
    // conn_timers finds nothing due and re-arms. Saves a heap update per
    // packet while streaming.
    if (!data_behind_data || timers.deadline(slot) == kNever) rearm(*c);
    if (n != 0) {
      ++c->ctr.tx_pkts;
      c->ctr.tx_bytes += n;
      return n;
    }
  }
}

Nanos EndpointImpl::next_expiry() const noexcept {
  if (orph_count != 0 || !sched.ready_empty()) return last_now;
  return std::min(timers.top_deadline(), sched.next_due());
}

void EndpointImpl::on_expiry(Nanos now) noexcept {
  last_now = now;
  sched.advance(now);
  while (!timers.empty() && timers.top_deadline() <= now) {
    const std::uint32_t slot = timers.top_slot();
    Connection* c = conns[slot].get();
    if (c == nullptr || c->state == ConnState::kClosed) {
      timers.set(slot, kNever);
      continue;
    }
    // A timer found this late means the host itself stopped (a descheduled
    // worker, a paused VM): what arrived meanwhile still sits unread in the
    // rx ring, and judging losses before reading it would blame the paths
    // for the host's pause. Such a timer waits once more, while the driver
    // drains its ring; on time then, it fires.
    if (now - timers.top_deadline() >= cfg.rto_min_ns) {
      ++counters.c.late_timers;
      note_host_drops(now);
      timers.set(slot, now + std::max<Nanos>(c->srtt_ns, cfg.rto_min_ns / 4));
      continue;
    }
    const ConnId id = c->id;
    conn_timers(*c, now);
    c = lookup(id);
    if (c == nullptr) {
      timers.set(slot, kNever);
      continue;
    }
    rearm(*c);
    // Every timer handler moves its deadline past `now`; this guards the
    // loop against a handler that did not.
    if (timers.deadline(slot) <= now) timers.set(slot, now + 1);
  }
}

std::string EndpointImpl::dump(Nanos now) const {
  std::string out;
  char line[512];
  std::snprintf(line, sizeof line,
                "srd endpoint %u.%u.%u.%u:%u connections=%zu inflight_records=%zu/%zu "
                "rx_slots=%zu/%zu rx_buffer_bytes=%llu listening=%d\n",
                cfg.local.ip >> 24, (cfg.local.ip >> 16) & 255, (cfg.local.ip >> 8) & 255,
                cfg.local.ip & 255, cfg.local.port, live_conns,
                recs.capacity() - recs.available(), recs.capacity(),
                rxmsgs.capacity() - rxmsgs.available(), rxmsgs.capacity(),
                static_cast<unsigned long long>(bufs.allocated_bytes()), listening ? 1 : 0);
  out += line;
  for (const auto& cp : conns) {
    if (!cp || cp->state == ConnState::kClosed) continue;
    const Connection& c = *cp;
    const Nanos oldest = c.fl_head != kNil ? now - recs[c.fl_head].tx_ns : 0;
    std::snprintf(line, sizeof line,
                  " conn %08x peer %u.%u.%u.%u:%u remote %08x %s cwnd=%.2f srtt_ns=%llu "
                  "rto_ns=%llu inflight=%u retx_queued=%u msgs=%u snd_una=%u next_psn=%u "
                  "cum_psn=%u rx_held=%u oldest_unacked_ns=%llu\n",
                  c.id, c.peer.ip >> 24, (c.peer.ip >> 16) & 255, (c.peer.ip >> 8) & 255,
                  c.peer.ip & 255, c.peer.port, c.remote_id, to_string(c.state),
                  c.cc.cwnd_pkts(), static_cast<unsigned long long>(c.srtt_ns),
                  static_cast<unsigned long long>(rto_ns(c)), c.inflight, c.retx_queued,
                  c.live_msgs, c.snd_una, c.next_psn, c.rx_psn.base(), c.rx_held,
                  static_cast<unsigned long long>(oldest));
    out += line;
    for (std::uint16_t i = 0; i < c.paths.count(); ++i) {
      const Path& p = c.paths[i];
      if (p.state == PathState::kActive && p.inflight == 0 && p.lost_pkts == 0) continue;
      std::snprintf(line, sizeof line,
                    "  path %u %s inflight=%u srtt_ns=%u min_rtt_ns=%u lost=%u quarantines=%u\n",
                    i, to_string(p.state), p.inflight, p.srtt_ns, p.min_rtt_ns, p.lost_pkts,
                    p.quarantines);
      out += line;
    }
  }
  return out;
}

// ---------------------------------------------------------------------------
// Endpoint facade

Endpoint::Endpoint(const EndpointConfig& cfg) {
  cfg.validate();
  impl_ = std::make_unique<EndpointImpl>(cfg);
}
Endpoint::~Endpoint() = default;

void Endpoint::on_packet(std::span<const std::uint8_t> srd, const RxMeta& meta,
                         Nanos now) noexcept {
  impl_->on_packet(srd, meta, now);
}
std::size_t Endpoint::poll_tx(std::span<std::uint8_t> buf, TxMeta& meta, Nanos now) noexcept {
  return impl_->poll_tx(buf, meta, now);
}
Nanos Endpoint::next_expiry() const noexcept { return impl_->next_expiry(); }
void Endpoint::on_expiry(Nanos now) noexcept { impl_->on_expiry(now); }
void Endpoint::note_host_drops(Nanos now) noexcept {
  impl_->note_host_drops(now);
  ++impl_->counters.c.host_drop_reports;
}
ConnId Endpoint::connect(const PeerAddr& peer) noexcept { return impl_->connect(peer); }
void Endpoint::listen(bool on) noexcept { impl_->listening = on; }
SendStatus Endpoint::send(ConnId conn, std::span<const std::uint8_t> data,
                          std::uint64_t tag) noexcept {
  const IoVec one{data.data(), data.size()};
  return impl_->send(conn, std::span<const IoVec>(&one, 1), tag);
}
SendStatus Endpoint::send(ConnId conn, std::span<const IoVec> pieces, std::uint64_t tag) noexcept {
  return impl_->send(conn, pieces, tag);
}
bool Endpoint::close(ConnId conn) noexcept { return impl_->close(conn); }
bool Endpoint::abort(ConnId conn) noexcept { return impl_->abort(conn); }
bool Endpoint::poll_event(Event& ev) noexcept { return impl_->pop_event(ev); }
void Endpoint::release(const Message& msg) noexcept { impl_->release_msg(msg); }

ConnState Endpoint::state(ConnId conn) const noexcept {
  const Connection* c = impl_->lookup(conn);
  return c ? c->state : ConnState::kClosed;
}

bool Endpoint::conn_stats(ConnId conn, ConnStats& out) const noexcept {
  const Connection* c = impl_->lookup(conn);
  if (c == nullptr) return false;
  out.state = c->state;
  out.fail_reason = FailReason::kNone;
  out.peer = c->peer;
  out.paths = c->paths.count();
  out.cwnd_pkts = c->cc.cwnd_pkts();
  out.srtt_ns = c->srtt_ns;
  out.rto_ns = impl_->rto_ns(*c);
  out.reo_wnd_ns = impl_->reo_wnd_ns(*c);
  out.inflight_pkts = c->inflight;
  out.queued_msgs = c->live_msgs;
  out.cum_psn_rx = c->rx_psn.base();
  out.counters = c->ctr;
  return true;
}

bool Endpoint::path_stats(ConnId conn, std::uint16_t path_id, PathStats& out) const noexcept {
  const Connection* c = impl_->lookup(conn);
  if (c == nullptr || path_id >= c->paths.count()) return false;
  const Path& p = c->paths[path_id];
  out.state = p.state;
  out.srtt_ns = p.srtt_ns;
  out.min_rtt_ns = p.min_rtt_ns;
  out.inflight_pkts = p.inflight;
  out.tx_pkts = p.tx_pkts;
  out.acked_pkts = p.acked_pkts;
  out.lost_pkts = p.lost_pkts;
  out.ce_pkts = p.ce_pkts;
  out.rto_events = p.rto_events;
  out.quarantines = p.quarantines;
  return true;
}

const EndpointCounters& Endpoint::counters() const noexcept { return impl_->counters; }
const TransportHistograms& Endpoint::histograms() const noexcept { return impl_->hist; }
std::size_t Endpoint::connection_count() const noexcept { return impl_->live_conns; }

std::size_t Endpoint::state_bytes(ConnId conn) const noexcept {
  const Connection* c = impl_->lookup(conn);
  if (c == nullptr) return 0;
  std::size_t rx = 0;
  for (std::uint32_t i = c->rx_head; i != kNil; i = impl_->rxmsgs[i].next) ++rx;
  return c->state_bytes() + (c->inflight + c->retx_queued) * sizeof(TxRec) +
         c->live_msgs * sizeof(TxMsg) + rx * sizeof(RxMsg);
}

std::string Endpoint::dump(Nanos now) const { return impl_->dump(now); }
const EndpointConfig& Endpoint::config() const noexcept { return impl_->cfg; }

}  // namespace spray::srd
