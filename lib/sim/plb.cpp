// SPDX-License-Identifier: BSD-3-Clause
#include "plb.h"

#include <algorithm>

#include "wire/srd.h"

namespace spray::sim {

void Plb::on_rx(const srd::Endpoint& ep, std::span<const std::uint8_t> pkt, Nanos now) noexcept {
  wire::SrdType t{};
  // Every type carries the receiver's connection id at offset 4: a
  // connection whose ACKs all die is known from its handshake's ACCEPT.
  if (wire::srd_peek_type(pkt, t) != wire::SrdError::k_ok || pkt.size() < 8) return;
  const srd::ConnId id = wire::load_be32(pkt.data() + 4);
  const auto it = index_.find(id);
  if (it == index_.end()) {
    srd::ConnStats cs;
    if (id == srd::kNoConn || !ep.conn_stats(id, cs)) return;
    index_.emplace(id, static_cast<std::uint32_t>(conns_.size()));
    // The round starts now, with the counters as they are.
    conns_.push_back({id, cs.peer.ip, now + std::max(cs.srtt_ns, cfg_.min_round_ns), cs.counters.acks_rx,
                      cs.counters.ece_acks, cs.counters.rto_events, cs.counters.dup_pkts, 0, 0, now});
    next_due_ = std::min(next_due_, conns_.back().round_end);
    return;
  }
  Conn& c = conns_[it->second];
  const Nanos last = c.last_rx;
  c.last_rx = now;
  if (c.id == srd::kNoConn) return;
  // A peer that probes our single path, or resends after a silence (it
  // timed out), is not hearing from us: our ACKs die on the way back.
  const bool timed_out = (t == wire::SrdType::kData && (pkt[1] & wire::kDataRetx) && now - last >= cfg_.silence_ns) ||
                         t == wire::SrdType::kProbe;
  if (timed_out && cfg_.on_timeout && now >= c.quiet_until) {
    ++stats_.ack_repaths;
    c.quiet_until = now + cfg_.min_round_ns;
    repath(c);
  }
  if (now >= c.round_end) end_round(ep, c, now);
}

void Plb::after_expiry(const srd::Endpoint& ep, Nanos now) noexcept {
  // A stalled connection gets no ACK to end its round: its timers do.
  if (now < next_due_) return;
  Nanos next = kNever;
  for (Conn& c : conns_) {
    if (c.id != srd::kNoConn && now >= c.round_end) end_round(ep, c, now);
    if (c.id != srd::kNoConn) next = std::min(next, c.round_end);
  }
  next_due_ = next;
}

void Plb::end_round(const srd::Endpoint& ep, Conn& c, Nanos now) noexcept {
  srd::ConnStats cs;
  if (!ep.conn_stats(c.id, cs) || cs.state == srd::ConnState::kClosed) {
    c.id = srd::kNoConn;  // gone: never judged again
    return;
  }
  const std::uint64_t acks = cs.counters.acks_rx - c.acks;
  const std::uint64_t ece = cs.counters.ece_acks - c.ece;
  const std::uint64_t rtos = cs.counters.rto_events - c.rtos;
  const std::uint64_t dups = cs.counters.dup_pkts - c.dups;
  c.acks = cs.counters.acks_rx;
  c.ece = cs.counters.ece_acks;
  c.rtos = cs.counters.rto_events;
  c.dups = cs.counters.dup_pkts;
  c.round_end = now + std::max(cs.srtt_ns, cfg_.min_round_ns);
  if ((rtos || dups) && cfg_.on_timeout) {
    ++(rtos ? stats_.timeout_repaths : stats_.ack_repaths);
    c.congested = 0;
    return repath(c);
  }
  if (acks == 0) return;  // idle: not a round to judge
  ++stats_.rounds;
  if (static_cast<double>(ece) <= cfg_.ce_share * static_cast<double>(acks)) {
    c.congested = 0;
    return;
  }
  ++stats_.congested_rounds;
  if (++c.congested < cfg_.rounds) return;
  ++stats_.congestion_repaths;
  c.congested = 0;
  repath(c);
}

void Plb::repath(const Conn& c) noexcept {
  std::uint16_t& e = entropy_[c.peer_ip];
  // Another value than the current one; the switches' hash decides whether
  // it is another path (with P uplinks, 1 - 1/P of the time at each tier).
  const auto next = static_cast<std::uint16_t>(1 + rng_.below(16'383));
  e = next == e ? static_cast<std::uint16_t>(next % 16'383 + 1) : next;
}

}  // namespace spray::sim
