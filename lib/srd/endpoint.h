// SPDX-License-Identifier: BSD-3-Clause
// spray::srd::Endpoint — the SRD transport of one worker, as a pure state
// machine with an injected clock (no I/O, no clock reads, no rand()).
//
// Thread affinity: every member is called by the one thread that owns the
// endpoint (the worker). Nothing blocks; nothing on the packet path throws
// or allocates once pools are warm. Copies of the statistics may be handed
// to other threads by that owner.
//
// Driver loop (DPDK dataplane or simulator):
//
//   for each received SRD packet:  ep.on_packet(bytes, rx_meta, now);
//   if (now >= ep.next_expiry())    ep.on_expiry(now);
//   while (n = ep.poll_tx(buf, tx_meta, now)) transmit(buf[0..n), tx_meta);
//   sleep / advance to min(ep.next_expiry(), next arrival);
//
// Application use (see doc/transport.md for a complete example):
//
//   Endpoint ep(cfg);
//   ConnId c = ep.connect(peer);                 // or ep.listen(true)
//   ep.send(c, bytes, /*tag=*/42);               // bytes stay valid until
//                                                // kDelivered / kSendFailed
//   Event ev;
//   while (ep.poll_event(ev)) {
//     if (ev.kind == EventKind::kMessage) { use(ev.msg.data); ep.release(ev.msg); }
//   }
//
// Buffer ownership: send() does not copy. The application keeps the bytes it
// passed alive and unchanged until the message's kDelivered or kSendFailed
// event (retransmissions read them again); poll_tx copies each segment once
// into the packet buffer. On receive, each payload byte is copied once into a
// pooled reassembly buffer that the application gets as Message::data and
// returns with release().
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "srd/config.h"
#include "srd/counters.h"
#include "srd/histograms.h"
#include "srd/types.h"
#include "wire/srd.h"

namespace spray::srd {

// One piece of a scattered message (the application's memory).
struct IoVec {
  const std::uint8_t* data = nullptr;
  std::size_t len = 0;
};
inline constexpr std::size_t kMaxIov = 4;

enum class SendStatus : std::uint8_t {
  kOk = 0,
  kNoConnection,   // unknown, failed or closed handle
  kClosing,        // close() was called on this connection
  kEmpty,          // zero-length messages are not sent
  kTooLarge,       // larger than max_msg_bytes
  kTooManyIov,     // more than kMaxIov pieces
  kQueueFull,      // max_send_msgs messages already queued or in flight
};
const char* to_string(SendStatus s) noexcept;

// Snapshot of one path of one connection.
struct PathStats {
  PathState state = PathState::kActive;
  Nanos srtt_ns = 0;
  Nanos min_rtt_ns = 0;        // 0 = no sample yet
  std::uint32_t inflight_pkts = 0;
  std::uint64_t tx_pkts = 0;   // DATA first transmissions + retransmissions
  std::uint64_t acked_pkts = 0;
  std::uint64_t lost_pkts = 0;  // declared lost (any tier)
  std::uint64_t ce_pkts = 0;    // acks with ECE
  std::uint64_t rto_events = 0;
  std::uint64_t quarantines = 0;
};

// Snapshot of one connection.
struct ConnStats {
  ConnState state = ConnState::kClosed;
  FailReason fail_reason = FailReason::kNone;
  PeerAddr peer;
  std::uint16_t paths = 0;
  double cwnd_pkts = 0;
  Nanos srtt_ns = 0;
  Nanos rto_ns = 0;
  Nanos reo_wnd_ns = 0;
  std::uint32_t inflight_pkts = 0;
  std::uint32_t queued_msgs = 0;
  std::uint32_t cum_psn_rx = 0;   // receiver side: all PSN below received
  ConnCounters counters;
};

struct EndpointCounters {
  EndpointCounterFields c;
  std::array<std::uint64_t, wire::kSrdErrorCount> malformed{};  // by SrdError
};

class EndpointImpl;

class Endpoint {
 public:
  // Throws std::invalid_argument (bad config) or std::bad_alloc; sizes every
  // pool from the config.
  explicit Endpoint(const EndpointConfig& cfg);
  ~Endpoint();
  Endpoint(const Endpoint&) = delete;
  Endpoint& operator=(const Endpoint&) = delete;

  // ---- I/O contract -------------------------------------------------------
  // Consumes one received SRD packet (the UDP payload). Malformed packets are
  // counted by reason and dropped.
  void on_packet(std::span<const std::uint8_t> srd, const RxMeta& meta, Nanos now) noexcept;
  // Writes at most one packet into buf; returns its length (0 = nothing to
  // send at `now`). `buf` must hold mtu - 28 bytes for DATA; a smaller buffer
  // only gets control packets.
  std::size_t poll_tx(std::span<std::uint8_t> buf, TxMeta& meta, Nanos now) noexcept;
  // Earliest time timers or paced transmission need a call; a time <= the
  // last `now` seen when poll_tx has something to send immediately; kNever
  // if nothing is pending.
  Nanos next_expiry() const noexcept;
  // Runs due timers (RTO, TLP, RACK, delayed ACK, handshake retry, probes,
  // connection timeout).
  void on_expiry(Nanos now) noexcept;
  // The driver saw this host drop packets at about `now`: its rx ring
  // overflowed (a NIC's imissed, a socket ring's drops) or a transmit queue
  // was full. Losses around then blame no path and cut the window instead;
  // for kHostDropHoldNs every ACK tells the peers so (ACK flag HOST_DROP).
  void note_host_drops(Nanos now) noexcept;

  // ---- application API ----------------------------------------------------
  // Starts a handshake with `peer`; returns the new handle, or kNoConn when
  // the connection table is full. kConnected or kConnectionFailed follows.
  ConnId connect(const PeerAddr& peer) noexcept;
  // Accept incoming connections (kAccepted events). Off by default.
  void listen(bool on) noexcept;
  // Queues a message; the bytes are not copied (see ownership above). `tag`
  // comes back in kDelivered / kSendFailed. Messages sent while CONNECTING
  // leave after the handshake.
  SendStatus send(ConnId conn, std::span<const std::uint8_t> data, std::uint64_t tag) noexcept;
  SendStatus send(ConnId conn, std::span<const IoVec> pieces, std::uint64_t tag) noexcept;
  // Graceful close: stop accepting sends, drain what is queued and in
  // flight, then exchange CLOSE; kClosed follows. Returns false if unknown.
  bool close(ConnId conn) noexcept;
  // Immediate teardown: RESET to the peer, pending messages fail (kClosed
  // reason), the handle dies now. Returns false if unknown.
  bool abort(ConnId conn) noexcept;
  // Next event, in the order they happened; false when none.
  bool poll_event(Event& ev) noexcept;
  // Returns a received message's buffer to the pool. Each message once.
  void release(const Message& msg) noexcept;

  // ---- observability ------------------------------------------------------
  ConnState state(ConnId conn) const noexcept;  // kClosed for unknown handles
  bool conn_stats(ConnId conn, ConnStats& out) const noexcept;
  bool path_stats(ConnId conn, std::uint16_t path_id, PathStats& out) const noexcept;
  const EndpointCounters& counters() const noexcept;
  // Per-path packet RTT, loss-recovery latency and reorder depth over every
  // connection this endpoint has had (srd/histograms.h says what each one
  // records). Owner thread only, like counters(): to publish them, the owner
  // copies them out (dp::summarize_transport does, every 100 ms).
  const TransportHistograms& histograms() const noexcept;
  std::size_t connection_count() const noexcept;
  // Bytes of per-connection state a connection holds right now (0 if
  // unknown): the connection object plus pooled state it currently owns.
  std::size_t state_bytes(ConnId conn) const noexcept;
  // Human-readable state dump (connections, cum_psn, in flight per path,
  // path states, oldest unacked age, overflow lists).
  std::string dump(Nanos now) const;
  const EndpointConfig& config() const noexcept;

 private:
  std::unique_ptr<EndpointImpl> impl_;
};

}  // namespace spray::srd
