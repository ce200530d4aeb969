// SPDX-License-Identifier: BSD-3-Clause
// Two endpoints wired back to back through a tiny in-test network: fixed
// one-way delay (optionally per path), packets delivered in send order per
// path, and a hook that may drop or duplicate chosen packets. Not the
// simulator: just enough to drive protocol behaviours deterministically.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "srd/endpoint.h"
#include "wire/srd.h"

namespace spray::srd::test {

inline constexpr PeerAddr kAddrA{0x0a000001, 4792};
inline constexpr PeerAddr kAddrB{0x0a000002, 4792};

// What the hook sees of each packet on the wire.
struct WirePkt {
  bool from_a = true;
  TxMeta meta;
  std::vector<std::uint8_t> bytes;
  wire::SrdType type() const { return static_cast<wire::SrdType>(bytes[0] & 0x0f); }
  // DATA fields (valid when type() == kData).
  wire::SrdDataHdr data() const {
    wire::SrdDataHdr h;
    std::span<const std::uint8_t> payload;
    wire::decode_srd_data(bytes, h, payload);
    return h;
  }
};

enum class Verdict { kPass, kDrop, kDuplicate };

struct Received {
  ConnId conn;
  std::uint32_t msg_id;
  std::vector<std::uint8_t> data;
};

struct Side {
  std::unique_ptr<Endpoint> ep;
  std::vector<Event> events;       // every event, in order (kMessage data not kept)
  std::vector<Received> messages;  // copies of received messages (released at once)

  std::size_t count(EventKind k) const {
    std::size_t n = 0;
    for (const Event& e : events) n += e.kind == k;
    return n;
  }
  const Event* first(EventKind k) const {
    for (const Event& e : events)
      if (e.kind == k) return &e;
    return nullptr;
  }
};

inline EndpointConfig default_config(PeerAddr local, std::uint64_t seed) {
  EndpointConfig c;
  c.local = local;
  c.seed = seed;
  c.link_rate_bps = 10'000'000'000ULL;
  c.max_connections = 64;
  c.max_inflight_pkts = 4096;
  c.max_send_msgs = 1024;
  c.max_rx_msgs = 1024;
  c.rx_buffer_bytes = 64u << 20;
  return c;
}

class Pair {
 public:
  explicit Pair(EndpointConfig ca = default_config(kAddrA, 1),
                EndpointConfig cb = default_config(kAddrB, 2)) {
    a.ep = std::make_unique<Endpoint>(ca);
    b.ep = std::make_unique<Endpoint>(cb);
    b.ep->listen(true);
  }

  Side a, b;
  Nanos now = 1'000'000;                       // start away from 0
  std::function<Nanos(const WirePkt&)> delay = [](const WirePkt&) { return Nanos{5'000}; };
  std::function<Verdict(const WirePkt&)> hook = [](const WirePkt&) { return Verdict::kPass; };
  // Runs after each batch of arrivals and before either side transmits:
  // an application that handles its receive burst before the next poll_tx.
  std::function<void()> after_rx;
  std::vector<WirePkt> sent;                   // everything either side transmitted
  bool keep_sent = true;

  // send() does not copy: the bytes must live until the message completes,
  // so the pair keeps every message it was asked to send.
  SendStatus send(Side& s, ConnId c, std::vector<std::uint8_t> data, std::uint64_t tag) {
    keep_.push_back(std::move(data));
    return s.ep->send(c, keep_.back(), tag);
  }

  // Replaces b by a fresh endpoint (the peer lost all state).
  void restart_b(EndpointConfig cb) {
    b.ep = std::make_unique<Endpoint>(cb);
    b.ep->listen(true);
  }

  // Advances virtual time until `until` or until `done()` holds.
  bool run(Nanos duration, const std::function<bool()>& done = nullptr) {
    const Nanos end = now + duration;
    for (std::uint64_t guard = 0; guard < 50'000'000; ++guard) {
      deliver_due();
      if (after_rx) after_rx();
      for (Side* s : {&a, &b})
        if (s->ep->next_expiry() <= now) s->ep->on_expiry(now);
      transmit(a, true);
      transmit(b, false);
      drain_events(a);
      drain_events(b);
      if (done && done()) return true;
      Nanos next = std::min(a.ep->next_expiry(), b.ep->next_expiry());
      if (!wire_.empty()) next = std::min(next, wire_.begin()->first);
      if (next <= now) next = now + 1;  // a time in the past means "now": progress anyway
      if (next == kNever || next > end) {
        now = end;
        deliver_due();
        drain_events(a);
        drain_events(b);
        return done ? done() : true;
      }
      now = next;
    }
    return false;
  }

  // Connects a to b and runs the handshake; returns a's handle.
  ConnId connect() {
    const ConnId c = a.ep->connect(kAddrB);
    run(1'000'000, [&] { return a.count(EventKind::kConnected) > 0; });
    return c;
  }

  // Moves s's pending events into s.events (and messages into s.messages).
  void drain_events(Side& s) {
    Event ev;
    while (s.ep->poll_event(ev)) {
      if (ev.kind == EventKind::kMessage) {
        s.messages.push_back(Received{ev.msg.conn, ev.msg.msg_id,
                                      std::vector<std::uint8_t>(ev.msg.data.begin(), ev.msg.data.end())});
        s.ep->release(ev.msg);
        ev.msg.data = {};
      }
      s.events.push_back(ev);
    }
  }

  ConnId b_conn() const {
    const Event* e = b.first(EventKind::kAccepted);
    return e ? e->conn : kNoConn;
  }

 private:
  struct Queued {
    bool to_b;
    RxMeta meta;
    std::vector<std::uint8_t> bytes;
  };

  void transmit(Side& s, bool from_a) {
    std::uint8_t buf[9216];
    for (;;) {
      TxMeta meta;
      const std::size_t n = s.ep->poll_tx(buf, meta, now);
      if (n == 0) return;
      WirePkt p{from_a, meta, std::vector<std::uint8_t>(buf, buf + n)};
      const Verdict v = hook(p);
      const Nanos at = now + delay(p);
      if (v != Verdict::kDrop) push(at, p);
      if (v == Verdict::kDuplicate) push(at + 1, p);
      if (keep_sent) sent.push_back(std::move(p));
    }
  }

  void push(Nanos at, const WirePkt& p) {
    RxMeta m;
    m.from = p.from_a ? kAddrA : kAddrB;
    m.path_id = p.meta.path_id;
    // Per-path FIFO: never deliver before an earlier packet of the same path.
    const std::uint32_t key = (p.from_a ? 0x10000u : 0) | p.meta.path_id;
    Nanos& last = last_arrival_[key];
    at = std::max(at, last);
    last = at;
    wire_.emplace(at, Queued{p.from_a, m, p.bytes});
  }

  void deliver_due() {
    while (!wire_.empty() && wire_.begin()->first <= now) {
      Queued q = std::move(wire_.begin()->second);
      wire_.erase(wire_.begin());
      (q.to_b ? b : a).ep->on_packet(q.bytes, q.meta, now);
    }
  }

  std::deque<std::vector<std::uint8_t>> keep_;
  std::multimap<Nanos, Queued> wire_;
  std::map<std::uint32_t, Nanos> last_arrival_;
};

// Deterministic message content: byte i of message `seed`.
inline std::vector<std::uint8_t> pattern(std::size_t len, std::uint32_t seed) {
  std::vector<std::uint8_t> v(len);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : v) {
    x = x * 1103515245u + 12345u;
    b = static_cast<std::uint8_t>(x >> 16);
  }
  return v;
}

}  // namespace spray::srd::test
