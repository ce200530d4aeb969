// SPDX-License-Identifier: BSD-3-Clause
// A repathing baseline beside spraying: PLB (protective load balancing, as
// in Linux TCP's tcp_plb) on a single-path connection, done by the
// simulated host, not the transport.
//
// The transport sends every packet of a connection on path 0; the host
// chooses the ECMP entropy the switches hash (HostStack::tx_entropy), one
// per peer, starting at 0 (the path ECMP would give it). At the end of each
// round (one smoothed RTT of the connection, read from the endpoint), the
// share of the round's ACKs that echoed CE decides whether the round was
// congested; after `rounds` congested rounds in a row, or after any
// retransmission timeout, the peer gets a new random entropy: the
// connection moves to another path through the fabric, and the transport
// sees only a changed RTT. The receiving side moves its ACKs the same way
// when duplicate DATA, a path probe or a retransmission after a silence
// arrives (the peer timed out: our ACKs may be what is lost; Linux
// rethinks a socket's hash on a spurious retransmission for the same
// reason), or a
// sender repathed around a dead link would wait forever for ACKs that take
// the dead link back. lib/srd is unchanged: what PLB reads is the
// endpoint's per-connection counters (acks_rx, ece_acks, rto_events,
// dup_pkts).
#pragma once

#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "rng.h"
#include "srd/endpoint.h"

namespace spray::sim {

using srd::kNever;
using srd::Nanos;

struct PlbConfig {
  double ce_share = 0.5;      // a round is congested when more than this share of its ACKs echo CE
  std::uint32_t rounds = 3;   // congested rounds in a row before a repath
  bool on_timeout = true;     // a retransmission timeout (or duplicate DATA) repaths at once
  Nanos min_round_ns = 10'000; // before the connection has an RTT sample (a receiver has none)
  // A retransmission from the peer after this long without its packets:
  // the peer timed out (above any fabric RTT, below the transport's rto_min).
  Nanos silence_ns = 50'000;
};

struct PlbStats {
  std::uint64_t congestion_repaths = 0;
  std::uint64_t timeout_repaths = 0;
  std::uint64_t ack_repaths = 0;        // by the receiving side: duplicate DATA, probes, resends after a silence
  std::uint64_t rounds = 0;            // rounds judged, every connection
  std::uint64_t congested_rounds = 0;
};

class Plb {
 public:
  Plb(const PlbConfig& cfg, std::uint64_t seed) : cfg_(cfg), rng_(seed) {}

  // Every packet the host receives, after the endpoint: each names our
  // connection, which is how connections become known to PLB.
  void on_rx(const srd::Endpoint& ep, std::span<const std::uint8_t> pkt, Nanos now) noexcept;
  // After the endpoint's timers ran: a timeout repaths before the
  // retransmission leaves.
  void after_expiry(const srd::Endpoint& ep, Nanos now) noexcept;
  std::uint16_t entropy(std::uint32_t peer_ip) const noexcept {
    if (entropy_.empty()) return 0;
    const auto it = entropy_.find(peer_ip);
    return it == entropy_.end() ? 0 : it->second;
  }
  const PlbStats& stats() const noexcept { return stats_; }

 private:
  struct Conn {
    srd::ConnId id = srd::kNoConn;
    std::uint32_t peer_ip = 0;
    Nanos round_end = 0;
    std::uint64_t acks = 0, ece = 0, rtos = 0, dups = 0;  // counters at the round's start
    std::uint32_t congested = 0;                // rounds in a row
    Nanos quiet_until = 0;                      // one ACK repath per round
    Nanos last_rx = 0;
  };
  void end_round(const srd::Endpoint& ep, Conn& c, Nanos now) noexcept;
  void repath(const Conn& c) noexcept;

  PlbConfig cfg_;
  Rng rng_;
  std::vector<Conn> conns_;
  std::unordered_map<srd::ConnId, std::uint32_t> index_;      // into conns_
  std::unordered_map<std::uint32_t, std::uint16_t> entropy_;  // peer ip -> entropy
  // No connection's round ends before this: until then a timer pass has
  // nothing to check (a host of an all-to-all has thousands of connections).
  Nanos next_due_ = 0;
  PlbStats stats_;
};

}  // namespace spray::sim
