// SPDX-License-Identifier: BSD-3-Clause
// Vocabulary shared by the SRD transport and whatever drives it (the DPDK
// dataplane, the simulator, tests).
//
// The transport produces and consumes SRD packets (SRD header + payload =
// the UDP payload). The driver adds/removes Ethernet/IPv4/UDP, maps
// `path_id` to the UDP source port (`base + path_id`), sets ECT(0) on
// transmit when `TxMeta::ect` is set and reports CE on receive.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace spray::srd {

using Nanos = std::uint64_t;  // virtual or TSC-derived time, ns
inline constexpr Nanos kNever = ~Nanos{0};

struct PeerAddr {  // where a connection's packets go
  std::uint32_t ip = 0;    // IPv4, host order
  std::uint16_t port = 0;  // UDP destination port of the peer endpoint
  friend bool operator==(const PeerAddr&, const PeerAddr&) = default;
};

struct RxMeta {
  PeerAddr from;
  std::uint16_t path_id = 0;
  bool ce = false;
};
struct TxMeta {
  PeerAddr to;
  std::uint16_t path_id = 0;
  bool ect = true;
};

// Local handle of a connection. Never 0 for a live connection; a handle is
// not reused for a later connection in the same slot (generation bits).
using ConnId = std::uint32_t;
inline constexpr ConnId kNoConn = 0;

enum class ConnState : std::uint8_t {
  kClosed = 0,
  kConnecting,   // CONNECT sent, waiting for ACCEPT
  kEstablished,
  kClosing,      // close() called: draining in-flight data, then CLOSE
  kFailed,
};
const char* to_string(ConnState s) noexcept;

// Why a connection (or a message on it) failed. Mirrors EFA's split between
// "nobody answered" and "answers stopped".
enum class FailReason : std::uint8_t {
  kNone = 0,
  kUnreachable,   // no response at all to CONNECT (all retries used)
  kUnresponsive,  // responses stopped for conn_timeout, or max_attempts used
  kReset,         // the peer lost its state or presented a wrong nonce
  kClosed,        // the application closed or aborted the connection
};
const char* to_string(FailReason r) noexcept;
// "UNRESPONSIVE: <hint>", or the reason alone when there is no hint (an
// Event's `hint`), for an application's report of a failed connection.
std::string failure_text(FailReason r, const char* hint);

enum class PathState : std::uint8_t {
  kActive = 0,
  kSuspect,
  kQuarantined,
  kProbing,
};
const char* to_string(PathState s) noexcept;

// RetxCause, why a packet was retransmitted, is declared with its counters
// from one list in counters.h.

// A complete received message. `data` stays valid until the application
// passes the message back to Endpoint::release(); the bytes were copied once,
// from the packets into this reassembly buffer.
struct Message {
  ConnId conn = kNoConn;
  std::uint32_t msg_id = 0;
  std::uint32_t handle = 0;  // reassembly slot; opaque to the application
  std::span<const std::uint8_t> data;
};

enum class EventKind : std::uint8_t {
  kConnected = 0,     // connect() completed (ACCEPT received)
  kAccepted,          // a peer connected to us (listen(true))
  kConnectionFailed,  // reason + hint; the handle is dead afterwards
  kClosed,            // graceful close finished (either side); handle dead
  kDelivered,         // every byte of the message with `tag` was acknowledged
  kSendFailed,        // the message with `tag` will never be delivered (reason)
  kMessage,           // `msg` holds a complete received message
  kAllPathsImpaired,  // every path of the connection is quarantined
};
const char* to_string(EventKind k) noexcept;

struct Event {
  EventKind kind = EventKind::kConnected;
  FailReason reason = FailReason::kNone;
  ConnId conn = kNoConn;
  PeerAddr peer;
  std::uint64_t tag = 0;        // kDelivered / kSendFailed
  const char* hint = nullptr;   // static string, set on failures
  Message msg;                  // kMessage
};

// Order of 32-bit sequence numbers (PSNs, transmit sequence), across a wrap.
inline bool seq_lt(std::uint32_t a, std::uint32_t b) noexcept {
  return static_cast<std::int32_t>(a - b) < 0;
}
inline bool seq_le(std::uint32_t a, std::uint32_t b) noexcept {
  return static_cast<std::int32_t>(a - b) <= 0;
}

}  // namespace spray::srd
