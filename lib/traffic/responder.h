// SPDX-License-Identifier: BSD-3-Clause
// The responder's logic, sans I/O: accepts connections on an srd::Endpoint,
// answers every request with a reply, and verifies what it receives:
// integrity (header and pattern), exactly-once (per connection, by sequence
// number) and nothing missing when the connection closes.
//
// Reply size: what the request asks for; for requests that leave it to the
// responder, `reply_size` (kEcho: the request's size). With reply_size 0
// ("ack only") such requests get a 16-byte header-only reply, so the
// generator still sees each request answered; requests that ask for 0 get
// only the transport's acknowledgement.
//
// One thread (the endpoint's worker) drives it; counters are single-writer.
#pragma once

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "srd/endpoint.h"
#include "telemetry/counter.h"
#include "traffic/pattern.h"

namespace spray::traffic {

using srd::Nanos;

inline constexpr std::uint32_t kEcho = 0xffffffff;

struct RespondConfig {
  std::uint32_t reply_size = kEcho;
  std::uint32_t max_reply_bytes = 1u << 24;  // requests asking for more are violations
};

#define SPRAY_RESPOND_COUNTERS(X)                                                   \
  X(requests, "requests received")                                                  \
  X(request_bytes, "request bytes received")                                        \
  X(replies, "replies sent")                                                        \
  X(reply_bytes, "reply bytes sent")                                                \
  X(conns_accepted, "connections accepted")                                         \
  X(conns_closed, "connections closed by the peer")                                 \
  X(conns_failed, "connections failed (reset, unresponsive)")                       \
  X(conns_failed_unresponsive, "connections that failed: the peer stopped acknowledging") \
  X(conns_failed_reset, "connections that failed: the peer reset them (lost its state)") \
  X(reply_backlog, "replies the transport queue refused for a while (retried)")

// Verification failures, each a reason a run is not clean.
#define SPRAY_RESPOND_VIOLATIONS(X)                                                 \
  X(bad_header, "request shorter than 16 bytes or with a wrong magic")              \
  X(bad_pattern, "request bytes differ from the pattern its header announces")      \
  X(duplicate, "request delivered twice (same connection and sequence number)")     \
  X(missing, "requests never received before their connection closed")             \
  X(bad_reply_size, "request asking for a reply larger than the maximum")

struct RespondCounters {
#define X(name, help) telemetry::SingleWriterCounter name;
  SPRAY_RESPOND_COUNTERS(X)
#undef X
};

struct RespondViolations {
#define X(name, help) telemetry::SingleWriterCounter name;
  SPRAY_RESPOND_VIOLATIONS(X)
#undef X
  std::uint64_t total() const noexcept {
    std::uint64_t n = 0;
#define X(name, help) n += name.read();
    SPRAY_RESPOND_VIOLATIONS(X)
#undef X
    return n;
  }
};

class Responder {
 public:
  Responder(const RespondConfig& cfg, srd::Endpoint& ep);
  ~Responder();

  void on_event(const srd::Event& ev, Nanos now);
  // Retries replies the transport could not take yet; returns replies sent.
  unsigned poll(Nanos now);

  const RespondCounters& counters() const noexcept { return c_; }
  const RespondViolations& violations() const noexcept { return v_; }
  std::size_t open_connections() const noexcept { return conns_.size(); }
  // The reason and hint of the last connection failure ("" when none).
  const std::string& last_failure() const noexcept { return last_failure_; }

 private:
  struct Conn;
  struct Reply;
  void on_request(Conn& c, const srd::Event& ev);
  bool send_reply(std::uint32_t reply_index);
  void close_conn(srd::ConnId id, bool closed_by_peer);

  RespondConfig cfg_;
  srd::Endpoint& ep_;
  RespondCounters c_;
  RespondViolations v_;
  std::unordered_map<srd::ConnId, Conn> conns_;
  std::vector<Reply> replies_;           // reply buffers, reused
  std::vector<std::uint32_t> free_replies_;
  std::vector<std::uint32_t> backlog_;   // replies waiting for transport room
  std::string last_failure_;
};

}  // namespace spray::traffic
